"""A tiny SIP user agent server for the testcall tests: answers every INVITE, prints events as JSON.

Run as ``python sip_uas.py`` ; prints ``{"port": N}`` once listening on 127.0.0.1, then
``{"event": "call", "from": ...}``, ``{"event": "dtmf", "digit": "1", "method": ...}``,
``{"event": "disconnected"}``. Exits after one call or 60 s.
"""

from __future__ import annotations

import json
import sys
import time

import pjsua2 as pj  # type: ignore[import-untyped]


def emit(**obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    cfg.medConfig.sndAutoCloseTime = -1
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = 0
    tcfg.boundAddress = "127.0.0.1"
    tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.audDevManager().setNullDev()
    ep.libStart()
    port = ep.transportGetInfo(tid).localName.rsplit(":", 1)[1]
    state = {"done": False}
    calls = []

    class Call(pj.Call):  # type: ignore[misc]
        def onCallState(self, prm: object) -> None:
            if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
                emit(event="disconnected")
                state["done"] = True

        def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
            method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc4733"
            emit(event="dtmf", digit=prm.digit, method=method)

    class Account(pj.Account):  # type: ignore[misc]
        def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
            call = Call(self, prm.callId)
            info = call.getInfo()
            emit(event="call", remote=info.remoteUri, local=info.localUri)
            op = pj.CallOpParam()
            op.statusCode = 200
            call.answer(op)
            calls.append(call)

    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:uas@127.0.0.1:{port}"
    acc = Account()
    acc.create(acfg)
    emit(port=int(port))
    end = time.monotonic() + 60
    while not state["done"] and time.monotonic() < end:
        ep.libHandleEvents(20)
    calls.clear()
    ep.libDestroy()


if __name__ == "__main__":
    main()
