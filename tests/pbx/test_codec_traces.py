"""Every trace's ami.raw parses completely (whole and in the recorded recv() chunks) as the README counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctiserver.pbx.ami.codec import AmiDecoder, decode_all
from ctiserver.pbx.ami.messages import AmiEvent, AmiResponse
from tests.conftest import TRACES

# (AMI events, AMI responses): the README table of shared/asterisk-traces
README_COUNTS = {
    "01-stasis-answer-play-dtmf": (33, 1),
    "01b-stasis-dtmf-rfc4733": (35, 1),
    "02-stasis-bridge-agent-record": (88, 1),
    "03-stasis-agent-no-answer": (55, 1),
    "04-queue-answered": (170, 3),
    "05-queue-abandoned": (87, 5),
    "07-blind-transfer": (230, 4),
    "09-originate-outbound": (122, 3),
    "11-mixmonitor-mute": (180, 7),
    "12-asterisk-restart": (159, 1),
    "13-load-queue": (35626, 49),
}
RAW = sorted(p.parent.name for p in TRACES.glob("*/ami.raw"))


def _counts(messages: list[object]) -> tuple[int, int]:
    events = sum(1 for m in messages if isinstance(m, AmiEvent))
    responses = sum(1 for m in messages if isinstance(m, AmiResponse))
    return events, responses


def _raw_frames(data: bytes) -> int:
    """Independent count of frames: blocks separated by blank lines (CRLF kept in the traces)."""
    return sum(1 for block in data.split(b"\r\n\r\n") if block.strip())


@pytest.mark.parametrize("scenario", RAW)
def test_trace_parses_completely(scenario: str) -> None:
    data = (TRACES / scenario / "ami.raw").read_bytes()
    messages = decode_all(data)
    assert len(messages) == _raw_frames(data)
    if scenario in README_COUNTS:
        assert _counts(messages) == README_COUNTS[scenario]
    assert isinstance(messages[0], AmiEvent) and messages[0].name == "FullyBooted"
    last = messages[-1]
    if scenario == "12-asterisk-restart":  # Asterisk restarted: the link ends with Shutdown, no Logoff
        assert isinstance(last, AmiEvent) and last.name == "Shutdown" and last["Restart"] == "True"
    else:
        assert isinstance(last, AmiResponse) and last.response == "Goodbye"
    for m in messages:
        if isinstance(m, AmiEvent):
            assert m.name and m.name == m["Event"]
            assert all(k and ":" not in k for k, _ in m.headers)


@pytest.mark.parametrize("scenario", [s for s in RAW if s != "13-load-queue"])
def test_trace_in_recorded_chunks_equals_whole(scenario: str) -> None:
    folder = TRACES / scenario
    data = (folder / "ami.raw").read_bytes()
    decoder = AmiDecoder()
    out = []
    for line in (folder / "ami-chunks.jsonl").read_text().splitlines():
        chunk = json.loads(line)
        out += decoder.feed(data[chunk["offset"] : chunk["offset"] + chunk["len"]])
    assert out == decode_all(data)
    assert decoder.buffered == 0


def test_restart_after_capture() -> None:
    data = (TRACES / "12-asterisk-restart" / "ami-after.raw").read_bytes()
    events, _ = _counts(decode_all(data))
    assert events == 34


def test_load_trace_in_tiny_chunks_matches_whole() -> None:
    data = (TRACES / "13-load-queue" / "ami.raw").read_bytes()[:400_000]
    whole = decode_all(data)
    decoder = AmiDecoder()
    parts = []
    for i in range(0, len(data), 97):
        parts += decoder.feed(data[i : i + 97])
    assert parts == whole and len(whole) > 500


def test_utf8_caller_names_in_traces(tmp_path: Path) -> None:
    names = set()
    for scenario in [s for s in RAW if s != "13-load-queue"]:  # 13 is covered above, and big
        for m in decode_all((TRACES / scenario / "ami.raw").read_bytes()):
            if isinstance(m, AmiEvent) and m.get("CallerIDName"):
                names.add(m["CallerIDName"])
    assert all("\ufffd" not in n for n in names)
