"""ARI models: every event of every trace parses to its typed class; fields agree with Asterisk's swagger;
odd JSON never raises."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctiserver.pbx.ari import models
from ctiserver.pbx.ari.models import (
    EVENT_TYPES,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    StasisStart,
    UnknownEvent,
    parse_event,
    parse_event_text,
)
from tests.conftest import ASTERISK_API, TRACES


def _trace_files() -> list[Path]:
    return sorted(
        p for p in TRACES.glob("*/ari-events*.jsonl*") if p.stat().st_size > 0 and not p.name.endswith(".raw")
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["msg"] for line in fh if line.strip()]


@pytest.mark.parametrize("path", _trace_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_trace_event_parses_typed(path: Path) -> None:
    msgs = _lines(path)
    assert msgs
    for raw in msgs:
        ev = parse_event(raw)
        assert not isinstance(ev, UnknownEvent), (raw["type"], getattr(ev, "reason", ""))
        assert type(ev).__name__ == raw["type"] == ev.type
        assert ev.application == raw["application"] and ev.timestamp == raw["timestamp"]
        if "channel" in raw:
            channel = ev.channel  # type: ignore[attr-defined]
            assert channel.id == raw["channel"]["id"] and channel.name == raw["channel"]["name"]
            assert channel.caller.name == raw["channel"]["caller"]["name"]
            assert channel.dialplan.priority == raw["channel"]["dialplan"]["priority"]


def test_specific_fields_from_the_traces() -> None:
    events = [parse_event(m) for m in _lines(TRACES / "01-stasis-answer-play-dtmf" / "ari-events.jsonl")]
    start = next(e for e in events if isinstance(e, StasisStart))
    assert start.args == ("did", "100") and start.channel.caller.number == "5550100"
    digits = [e.digit for e in events if isinstance(e, ChannelDtmfReceived)]
    assert digits == ["1", "2"]
    events = [parse_event(m) for m in _lines(TRACES / "03-stasis-agent-no-answer" / "ari-events.jsonl")]
    destroyed = [e for e in events if isinstance(e, ChannelDestroyed)]
    assert any(e.cause == 19 for e in destroyed)
    events = [parse_event(m) for m in _lines(TRACES / "02-stasis-bridge-agent-record" / "ari-events.jsonl")]
    soft = [e for e in events if isinstance(e, ChannelHangupRequest) and e.soft]
    assert soft and all(e.cause == 32 for e in soft)


def _swagger_models() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in (ASTERISK_API / "ari-api-docs").glob("*.json"):
        out.update(json.loads(f.read_text()).get("models", {}))
    return out


def test_event_fields_match_the_swagger() -> None:
    swagger = _swagger_models()
    base = {f.name for f in dataclasses.fields(models.AriEvent)}
    for name, cls in EVENT_TYPES.items():
        props = swagger[name]["properties"]
        ours = {f.name for f in dataclasses.fields(cls)} - base
        assert ours <= set(props), (name, ours - set(props))
        required = {k for k, v in props.items() if v.get("required")}
        assert required <= ours, (name, required - ours)


@pytest.mark.parametrize(
    "cls", [models.Channel, models.Bridge, models.Playback, models.LiveRecording, models.Endpoint,
            models.DeviceState, models.CallerID, models.DialplanCEP, models.StoredRecording]
)  # fmt: skip
def test_resource_fields_match_the_swagger(cls: type[Any]) -> None:
    props = _swagger_models()[cls.__name__]["properties"]
    ours = {f.name for f in dataclasses.fields(cls)}
    assert ours <= set(props), ours - set(props)
    skipped = {"bridgevars"}  # not used by the engine
    assert {k for k, v in props.items() if v.get("required")} - skipped <= ours


def test_odd_json_becomes_unknown_event() -> None:
    assert isinstance(parse_event([1, 2]), UnknownEvent)
    unknown = parse_event({"type": "SomethingNew", "application": "a", "x": 1})
    assert isinstance(unknown, UnknownEvent) and unknown.type == "SomethingNew" and unknown.raw["x"] == 1
    broken = parse_event({"type": "StasisStart", "channel": "not an object"})
    assert isinstance(broken, UnknownEvent) and "Channel" in broken.reason
    missing = parse_event({"type": "ChannelDestroyed", "channel": {"name": "no id"}})
    assert isinstance(missing, UnknownEvent) and "id" in missing.reason
    assert isinstance(parse_event_text("{not json"), UnknownEvent)
    ok = parse_event({"type": "ChannelVarset", "variable": "X", "value": 5})
    assert isinstance(ok, models.ChannelVarset) and ok.value == "5" and ok.channel is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(sorted(EVENT_TYPES)),
    st.dictionaries(
        st.sampled_from(["channel", "bridge", "playback", "recording", "args", "cause", "digit", "peer",
                         "endpoint", "device_state", "soft", "userevent", "id", "name"]),
        _json,
        max_size=6,
    ),
)  # fmt: skip
def test_fuzz_parse_event_never_raises(kind: str, body: dict[str, Any]) -> None:
    ev = parse_event({"type": kind, **body})
    assert ev.type == kind
