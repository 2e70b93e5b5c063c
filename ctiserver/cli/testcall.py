"""``ctiserver testcall``: after an edit, check a real PBX end to end with a real SIP call.

Places one call with PJSUA2 (register or call as an endpoint), dials a DID, sends DTMF at the given times
(RFC 4733 or SIP INFO), hangs up after N seconds, then reads back from the ctiserver API what the daemon
recorded for that call: the IVR path, the queue, the legs. The call is found by its caller name, a unique tag
(``testcall-<random>`` unless ``--tag``). ``--skip-call`` only reads back an earlier tagged call.

    ctiserver testcall --pbx 192.0.2.10:5060 --to 100 --dtmf 3:1,6:2 --hangup-after 20 \\
        --api http://127.0.0.1:8080 --token-file ~/.ctiserver-admin-token
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from ctiserver.cli.testcall_readback import ReadBackError, find_call, summarise

_DIGITS = re.compile(r"^[0-9*#A-Da-d]+$")


class UsageError(ValueError):
    pass


def parse_dtmf(text: str) -> list[tuple[float, str]]:
    """``"3:1,6.5:2#"`` → ``[(3.0, "1"), (6.5, "2#")]`` (seconds after answer : digits), in time order."""
    out: list[tuple[float, str]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        at, sep, digits = part.partition(":")
        if not sep:
            raise UsageError(f"--dtmf: {part!r} is not SECONDS:DIGITS")
        try:
            when = float(at)
        except ValueError:
            raise UsageError(f"--dtmf: {at!r} is not a number of seconds") from None
        if when < 0 or when != when:
            raise UsageError(f"--dtmf: {at!r} must be >= 0")
        if not _DIGITS.match(digits):
            raise UsageError(f"--dtmf: {digits!r} may hold only 0-9 * # A-D")
        out.append((when, digits.upper()))
    return sorted(out)


def parse_pbx(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "5060"
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--pbx: {text!r} is not HOST[:PORT]")
    return host.strip("[]"), int(port)


def _token(args: argparse.Namespace) -> str:
    if args.token_file:
        try:
            return Path(args.token_file).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"--token-file: {exc.strerror}") from None
    return os.environ.get("CTISERVER_TOKEN", "")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "testcall",
        help="a real SIP test call, then what ctiserver recorded for it",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pbx", default="127.0.0.1:5060", help="Asterisk's SIP address HOST[:PORT]")
    p.add_argument("--to", help="the DID / extension to dial (e.g. 100)")
    p.add_argument("--user", default="testcall", help="SIP user (From, and auth user with --password)")
    p.add_argument("--password-file", help="file holding the SIP password (never on the command line)")
    p.add_argument("--register", action="store_true", help="REGISTER as --user before calling")
    p.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    p.add_argument("--dtmf", default="", help="SECONDS:DIGITS,... after answer, e.g. 3:1,6:2")
    p.add_argument("--dtmf-method", choices=("rfc4733", "info"), default="rfc4733")
    p.add_argument("--hangup-after", type=float, default=15.0, help="seconds after answer (default 15)")
    p.add_argument("--answer-timeout", type=float, default=30.0)
    p.add_argument("--tag", help="caller name used to find the call again (default testcall-<random>)")
    p.add_argument("--api", default="http://127.0.0.1:8080", help="ctiserver API base URL")
    p.add_argument("--token-file", help="file with an API token (default: $CTISERVER_TOKEN)")
    p.add_argument("--read-back-timeout", type=float, default=15.0)
    p.add_argument("--skip-call", action="store_true", help="only read back the call tagged --tag")
    p.add_argument("--since", type=float, help="with --skip-call: look at calls since this epoch time")
    p.add_argument("--no-read-back", action="store_true", help="only place the call (no API needed)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--sip-log", type=int, default=0, help="PJSIP log level 0-6")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        return _main(args)
    except UsageError as exc:
        print(f"ctiserver testcall: {exc}", file=sys.stderr)
        return 2
    except ReadBackError as exc:
        print(f"ctiserver testcall: read-back failed: {exc}", file=sys.stderr)
        return 3


def _main(args: argparse.Namespace) -> int:
    dtmf = parse_dtmf(args.dtmf)
    if args.hangup_after <= 0:
        raise UsageError("--hangup-after must be > 0")
    late = [d for at, d in dtmf if at >= args.hangup_after]
    if late:
        raise UsageError(f"--dtmf {','.join(late)} would be sent after --hangup-after {args.hangup_after:g}")
    if args.skip_call and not args.tag:
        raise UsageError("--skip-call needs --tag (the caller name of the call to read back)")
    if not args.skip_call and not args.to:
        raise UsageError("--to is required (the DID to dial)")
    token = "" if args.no_read_back else _token(args)
    if not token and not args.no_read_back:
        raise UsageError("no API token: use --token-file or set CTISERVER_TOKEN")
    tag = args.tag or f"testcall-{secrets.token_hex(4)}"
    started = args.since if args.since is not None else time.time() - (3600 if args.skip_call else 5)
    result: dict[str, Any] = {"tag": tag}
    if not args.skip_call:
        result["sip"] = _call(args, tag, dtmf)
    if not args.no_read_back:
        call = find_call(args.api, token, tag, since=started, timeout=args.read_back_timeout)
        result["call"] = summarise(call)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print(result)
    return 0 if result.get("sip", {}).get("answered", True) else 1


def _call(args: argparse.Namespace, tag: str, dtmf: list[tuple[float, str]]) -> dict[str, Any]:
    try:
        from ctiserver.cli.testcall_sip import SipError, SipTarget, place_call
    except ImportError as exc:  # pragma: no cover - depends on the platform wheel
        raise UsageError(f"PJSUA2 is not installed (pip install pjsua2-python): {exc}") from None
    host, port = parse_pbx(args.pbx)
    password = None
    if args.password_file:
        try:
            password = Path(args.password_file).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"--password-file: {exc.strerror}") from None
    target = SipTarget(host, port, args.to, args.user, password, args.register, tag, args.transport)
    try:
        report = place_call(
            target, dtmf, args.dtmf_method, args.hangup_after, args.answer_timeout, args.sip_log
        )
    except SipError as exc:
        raise UsageError(str(exc)) from None
    return {
        "sip_call_id": report.sip_call_id,
        "answered": report.answered,
        "answered_after": report.answered_after,
        "duration": report.duration,
        "status": report.last_status,
        "reason": report.last_reason,
        "dtmf_sent": report.dtmf_sent,
        "registered": report.registered,
    }


def _print(result: dict[str, Any]) -> None:
    sip = result.get("sip")
    if sip:
        state = (
            f"answered after {sip['answered_after']} s, {sip['duration']} s"
            if sip["answered"]
            else "NOT answered"
        )
        print(f"SIP call {sip['sip_call_id']}: {state}; last status {sip['status']} {sip['reason']}")
        for at, digits in sip["dtmf_sent"]:
            print(f"  DTMF {digits} at +{at} s")
    call = result.get("call")
    if call is None:
        return
    print(f"ctiserver call {call['id']} (caller {call['caller']}, tag {result['tag']})")
    print(f"  IVR path: {' → '.join(call['ivr_path']) or '—'}")
    print(
        f"  queue:    {call['queue'] or '—'}   agent: {call['agent'] or '—'}"
        f"   outcome: {call['outcome'] or '—'}"
    )
    print(f"  legs ({len(call['legs'])}):")
    for leg in call["legs"]:
        print(
            f"    {leg['channel']:<40} {leg['role']:<8} answered={leg['answered']!s:<5} "
            f"cause={leg['hangup_cause']}"
        )
