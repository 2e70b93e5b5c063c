"""`ctiserver replay --ami FILE [--count]`, run as the real command."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import TRACES

CAPTURE = TRACES / "04-queue-answered" / "ami.raw"


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctiserver", "replay", *args], capture_output=True, text=True, timeout=120
    )


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


def test_json_lines_with_repeated_headers_as_lists(tmp_path: Path) -> None:
    capture = tmp_path / "c.raw.gz"
    with gzip.open(capture, "wb") as fh:
        fh.write(
            "Event: VarSet\r\nChanVariable: A=1\r\nChanVariable: B=2\r\nCallerIDName: Łukasz Żółć\r\n\r\n"
            "Response: Success\r\nActionID: 1\r\n\r\nEvent: Partial".encode()
        )
    res = replay("--ami", str(capture))
    assert res.returncode == 0
    first, second = (json.loads(line) for line in res.stdout.splitlines())
    assert first == {
        "event": "VarSet",
        "headers": {"Event": "VarSet", "ChanVariable": ["A=1", "B=2"], "CallerIDName": "Łukasz Żółć"},
    }
    assert second["response"] == "Success" and second["headers"]["ActionID"] == "1"
    assert "unterminated frame" in res.stderr


def test_every_event_of_a_trace_is_printed() -> None:
    res = replay("--ami", str(TRACES / "09-originate-outbound" / "ami.raw"))
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    assert sum(1 for o in objs if "event" in o) == 122
    assert sum(1 for o in objs if "response" in o) == 3


def test_missing_file_is_a_clear_error() -> None:
    res = replay("--ami", "/nonexistent/ami.raw", "--count")
    assert res.returncode == 2 and "no such file" in res.stderr
