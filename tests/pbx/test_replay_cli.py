"""`ctiserver replay --ami FILE [--count]`, run as the real command."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ctiserver.cli import main
from tests.conftest import TRACES

CAPTURE = TRACES / "04-queue-answered" / "ami.raw"


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "ctiserver", "replay", *args], capture_output=True, text=True, timeout=120
    )


def replay_here(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same command line through ``ctiserver.cli.main`` in this process (fast)."""
    code = main(["replay", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _grep_counts(data: bytes) -> Counter[str]:
    """Independent of the codec: count 'Event: X' lines that open a block."""
    return Counter(m.decode() for m in re.findall(rb"(?:^|\r\n\r\n)Event: ([^\r\n]+)", data))


def test_count_matches_the_bytes() -> None:
    res = replay("--ami", str(CAPTURE), "--count")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    expected = _grep_counts(CAPTURE.read_bytes())
    assert lines[-1] == f"total: {sum(expected.values())}" == "total: 170"
    assert lines[-2] == "responses: 3"
    got = dict(line.split(": ") for line in lines[:-2])
    assert {k: int(v) for k, v in got.items()} == dict(expected)


def test_json_lines_with_repeated_headers_as_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "c.raw.gz"
    with gzip.open(capture, "wb") as fh:
        fh.write(
            "Event: VarSet\r\nChanVariable: A=1\r\nChanVariable: B=2\r\nCallerIDName: Łukasz Żółć\r\n\r\n"
            "Response: Success\r\nActionID: 1\r\n\r\nEvent: Partial".encode()
        )
    code, out, err = replay_here(capsys, "--ami", str(capture))
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {
        "event": "VarSet",
        "headers": {"Event": "VarSet", "ChanVariable": ["A=1", "B=2"], "CallerIDName": "Łukasz Żółć"},
    }
    assert second["response"] == "Success" and second["headers"]["ActionID"] == "1"
    assert "unterminated frame" in err


def test_every_event_of_a_trace_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = replay_here(capsys, "--ami", str(TRACES / "09-originate-outbound" / "ami.raw"))
    assert code == 0
    objs = [json.loads(line) for line in out.splitlines()]
    assert sum(1 for o in objs if "event" in o) == 122
    assert sum(1 for o in objs if "response" in o) == 3


def test_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = replay_here(capsys, "--ami", "/nonexistent/ami.raw", "--count")
    assert code == 2 and "no such file" in err
