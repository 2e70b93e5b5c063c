"""The SIP side of ``ctiserver testcall``: one real call with the PJSUA2 bindings (PyPI ``pjsua2-python``).

PJSUA2 runs single-threaded here (``threadCnt = 0``, ``mainThreadOnly``): the caller polls
``libHandleEvents`` in a loop, so the script is a plain timeline — call, wait for answer, DTMF at the given
offsets (RFC 4733 or SIP INFO), hang up after N seconds or when the far end does. No sound device is needed
(null audio device). This module is imported only when a call is really placed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SipTarget:
    host: str
    port: int
    to: str  # the DID / extension dialled
    user: str = "testcall"  # From user (and auth user when a password is given)
    password: str | None = None
    register: bool = False
    display_name: str = ""
    transport: str = "udp"


@dataclass
class CallReport:
    sip_call_id: str = ""
    answered: bool = False
    answered_after: float | None = None
    duration: float = 0.0
    last_status: int = 0
    last_reason: str = ""
    dtmf_sent: list[tuple[float, str]] = field(default_factory=list)
    registered: bool | None = None


class SipError(RuntimeError):
    pass


def place_call(
    target: SipTarget,
    dtmf: list[tuple[float, str]],
    dtmf_method: str,
    hangup_after: float,
    answer_timeout: float = 30.0,
    log_level: int = 0,
) -> CallReport:
    import pjsua2 as pj  # type: ignore[import-untyped]  # the binary wheel; imported lazily so the CLI works without it for --help

    report = CallReport()
    ep = pj.Endpoint()
    with _stdout_to_stderr():  # pjlib prints its banner before the log level can be set
        ep.libCreate()
    try:
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.userAgent = "ctiserver-testcall"
        cfg.logConfig.level = log_level
        cfg.logConfig.consoleLevel = log_level
        cfg.medConfig.sndAutoCloseTime = -1  # keep the (null) sound clock running: RTP and RFC 4733 flow
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = 0
        kind = pj.PJSIP_TRANSPORT_TCP if target.transport == "tcp" else pj.PJSIP_TRANSPORT_UDP
        ep.transportCreate(kind, tcfg)
        ep.audDevManager().setNullDev()
        ep.libStart()
        return _run(pj, ep, target, dtmf, dtmf_method, hangup_after, answer_timeout, report)
    finally:
        ep.libDestroy()


def _run(
    pj: Any,
    ep: Any,
    target: SipTarget,
    dtmf: list[tuple[float, str]],
    dtmf_method: str,
    hangup_after: float,
    answer_timeout: float,
    report: CallReport,
) -> CallReport:
    server = f"{target.host}:{target.port}"
    suffix = ";transport=tcp" if target.transport == "tcp" else ""
    acfg = pj.AccountConfig()
    uri = f"sip:{target.user}@{target.host}"
    acfg.idUri = f'"{target.display_name}" <{uri}>' if target.display_name else uri
    if target.password:
        acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", target.user, 0, target.password))
    if target.register:
        acfg.regConfig.registrarUri = f"sip:{server}{suffix}"
    else:
        acfg.regConfig.registrarUri = ""

    state: dict[str, Any] = {"confirmed": None, "disconnected": False, "reg": None}

    class Account(pj.Account):  # type: ignore[misc]
        def onRegState(self, prm: Any) -> None:
            state["reg"] = int(prm.code)

    class Call(pj.Call):  # type: ignore[misc]
        def onCallState(self, prm: Any) -> None:
            info = self.getInfo()
            report.sip_call_id = info.callIdString
            report.last_status = int(info.lastStatusCode)
            report.last_reason = str(info.lastReason)
            if info.state == pj.PJSIP_INV_STATE_CONFIRMED and state["confirmed"] is None:
                state["confirmed"] = time.monotonic()
            if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                state["disconnected"] = True

    acc = Account()
    acc.create(acfg)
    start = time.monotonic()
    if target.register:
        while state["reg"] is None and time.monotonic() - start < 10:
            ep.libHandleEvents(20)
        report.registered = state["reg"] is not None and 200 <= state["reg"] < 300
        if not report.registered:
            raise SipError(f"registration to {server} failed (status {state['reg']})")
    call = Call(acc)
    prm = pj.CallOpParam(True)
    called_at = time.monotonic()
    call.makeCall(f"sip:{target.to}@{server}{suffix}", prm)
    while state["confirmed"] is None and not state["disconnected"]:
        if time.monotonic() - called_at > answer_timeout:
            call.hangup(pj.CallOpParam())
            break
        ep.libHandleEvents(20)
    if state["confirmed"] is not None:
        report.answered = True
        report.answered_after = round(state["confirmed"] - called_at, 3)
        pending = sorted(dtmf)
        while not state["disconnected"]:
            elapsed = time.monotonic() - state["confirmed"]
            while pending and pending[0][0] <= elapsed:
                digits = pending.pop(0)[1]
                _send_dtmf(pj, call, digits, dtmf_method)
                report.dtmf_sent.append((round(elapsed, 3), digits))
            if elapsed >= hangup_after:
                call.hangup(pj.CallOpParam())
                break
            ep.libHandleEvents(20)
        report.duration = round(time.monotonic() - state["confirmed"], 3)
    end = time.monotonic() + (5 if report.answered else 1)  # BYE answered / CANCEL of an unanswered call
    while not state["disconnected"] and time.monotonic() < end:
        ep.libHandleEvents(20)
    return report


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _send_dtmf(pj: Any, call: Any, digits: str, method: str) -> None:
    if method == "info":
        p = pj.CallSendDtmfParam()
        p.digits = digits
        p.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
        p.duration = 250
        call.sendDtmf(p)
    else:
        call.dialDtmf(digits)
