"""``ctiserver testcall``: argument handling, and a real SIP call (PJSUA2) with DTMF to a local UAS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ctiserver.cli import main
from ctiserver.cli.testcall import UsageError, parse_dtmf, parse_pbx
from tests.conftest import ROOT

HERE = Path(__file__).parent
CLI = [sys.executable, "-m", "ctiserver"]


def test_parse_dtmf() -> None:
    assert parse_dtmf("") == []
    assert parse_dtmf("6:2, 3:1 ,7.5:*#a") == [(3.0, "1"), (6.0, "2"), (7.5, "*#A")]


@pytest.mark.parametrize("text", ["3", "x:1", "-1:2", "3:12x", "3:", "nan:1"])
def test_parse_dtmf_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--dtmf"):
        parse_dtmf(text)


def test_parse_pbx() -> None:
    assert parse_pbx("pbx.example") == ("pbx.example", 5060)
    assert parse_pbx("10.0.0.5:5080") == ("10.0.0.5", 5080)
    assert parse_pbx("[::1]:5060") == ("::1", 5060)
    for bad in ("host:0", "host:99999", ":5060", "host:x"):
        with pytest.raises(UsageError):
            parse_pbx(bad)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dtmf", "1:9", "--hangup-after", "1", "--to", "100", "--no-read-back"], "after --hangup-after"),
        (["--no-read-back"], "--to is required"),
        (["--skip-call"], "--skip-call needs --tag"),
        (["--to", "100"], "no API token"),
        (["--to", "100", "--token-file", "/nonexistent/token"], "--token-file"),
        (["--to", "100", "--hangup-after", "0", "--no-read-back"], "--hangup-after must be > 0"),
        (["--to", "100", "--dtmf", "2:Z", "--no-read-back"], "may hold only"),
    ],
)
def test_bad_arguments_are_clear_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CTISERVER_TOKEN", raising=False)
    assert main(["testcall", *argv]) == 2
    assert message in capsys.readouterr().err


class Uas:
    """tests/deploy/sip_uas.py in a subprocess: a SIP endpoint that answers and reports DTMF as JSON lines."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "sip_uas.py")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        self.port = int(self._next("port")["port"])

    def _next(self, key: str) -> dict[str, object]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # blocks; the UAS exits by itself after 60 s
            if line.startswith("{"):
                obj = json.loads(line)
                if key in obj:
                    return dict(obj)
        raise AssertionError(f"UAS ended before {key!r}")

    def events(self) -> list[dict[str, object]]:
        out, _ = self.proc.communicate(timeout=60)
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("method", ["rfc4733", "info"])
def test_real_sip_call_with_dtmf(method: str) -> None:
    uas = Uas()
    try:
        run = subprocess.run(
            [
                *CLI,
                "testcall",
                "--pbx",
                f"127.0.0.1:{uas.port}",
                "--to",
                "100",
                "--tag",
                "testcall-e2e",
                "--dtmf",
                "0.4:1,0.9:2#",
                "--dtmf-method",
                method,
                "--hangup-after",
                "2",
                "--no-read-back",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert run.returncode == 0, run.stderr
        result = json.loads(run.stdout)  # stdout is only the JSON document
        events = uas.events()
    finally:
        uas.proc.kill()
    assert result["sip"]["answered"] is True and result["sip"]["status"] == 200
    assert [d for _, d in result["sip"]["dtmf_sent"]] == ["1", "2#"]
    call = next(e for e in events if e.get("event") == "call")
    assert '"testcall-e2e"' in str(call["remote"]) and "sip:100@" in str(call["local"])
    digits = [e for e in events if e.get("event") == "dtmf"]
    assert "".join(str(e["digit"]) for e in digits) == "12#"
    assert {e["method"] for e in digits} == {method}
    assert events[-1] == {"event": "disconnected"}


def test_unanswered_call_exits_1() -> None:
    # nothing listens on this port: no answer within the timeout
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        run = subprocess.run(
            [
                *CLI,
                "testcall",
                "--pbx",
                f"127.0.0.1:{port}",
                "--to",
                "100",
                "--answer-timeout",
                "1.5",
                "--no-read-back",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["sip"]["answered"] is False
