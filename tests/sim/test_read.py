"""The simulator's ``Read()`` and ``UserEvent()`` over the wire, fed by a callee's keys behind the trunk: the digit
is read by the trunk channel, written to ``;2`` across ``Dial``'s bridge and read by ``;1``, which runs the
dialplan (the dialler's abandon message with its opt-out key)."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.sim.config import SimConfig, Step
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, get

OUT = {"_X.": (Step(app="Dial", data="PJSIP/${EXTEN}@trunk,20"), Step(app="Hangup"))}
ASK = {
    "s": (
        Step(app="Read", data="CHOICE,${PROMPTS},${MAX},,${TRIES},${WAIT}"),
        Step(app="GotoIf", data='$["${CHOICE}" = "9"]?out'),
        Step(app="Hangup"),
        Step(app="UserEvent", data="OptedOut,Attempt: ${UNIQUEID},Odd,Key:  ${CHOICE} ", label="out"),
        Step(app="Hangup"),
    )
}


def _config(sounds: dict[str, float]) -> SimConfig:
    base = SimConfig()
    return base.model_copy(
        update={"dialplan": {**base.dialplan, "t-out": OUT, "t-ask": ASK}, "sounds": {**base.sounds, **sounds}}
    )


async def _run(
    keys: tuple[tuple[float, str], ...], prompts: str, maximum: str = "1", tries: str = "1", wait: str = "2"
) -> list[Any]:
    async with Simulator(_config({"msg-a": 2.0, "msg-b": 1.0})) as sim:
        sim.customer("4930100", answer_after=0.2, hangup_after=30.0, dtmf=keys)
        ami = AmiProbe()
        try:
            await ami.connect(sim.ami_port)
            await ami.action(
                "Originate",
                [
                    ("Channel", "Local/4930100@t-out/n"),
                    ("Context", "t-ask"),
                    ("Exten", "s"),
                    ("Priority", "1"),
                    ("Async", "true"),
                    ("ChannelId", "att-1"),
                    ("Variable", f"PROMPTS={prompts}"),
                    ("Variable", f"MAX={maximum}"),
                    ("Variable", f"TRIES={tries}"),
                    ("Variable", f"WAIT={wait}"),
                ],
            )
            await ami.wait(lambda m: get(m, "Event") == "Hangup" and get(m, "Uniqueid") == "att-1", limit=20)
            return list(ami.messages)
        finally:
            await ami.close()


def _of(events: list[Any], name: str, **fields: str) -> list[Any]:
    return [e for e in events if get(e, "Event") == name and all(get(e, k) == v for k, v in fields.items())]


def _vars(events: list[Any], name: str) -> list[str | None]:
    return [get(e, "Value") for e in _of(events, "VarSet", Uniqueid="att-1", Variable=name)]


async def test_a_key_during_the_prompt_reaches_read_through_the_trunk_and_the_local_pair() -> None:
    events = await _run(((1.0, "9"),), "msg-a&msg-b")
    [trunk_end] = [
        e for e in _of(events, "DTMFEnd", Direction="Received") if (get(e, "Channel") or "").startswith("PJSIP/trunk")
    ]
    [sent] = _of(events, "DTMFEnd", Uniqueid="att-1;2", Direction="Sent")
    [read] = _of(events, "DTMFEnd", Uniqueid="att-1", Direction="Received")
    assert events.index(trunk_end) < events.index(sent) < events.index(read)
    assert _of(events, "DTMFBegin", Uniqueid="att-1", Direction="Received", Digit="9")
    assert _vars(events, "READSTATUS") == ["ERROR", "OK"] and _vars(events, "CHOICE") == ["9"]
    [user] = _of(events, "UserEvent")
    assert (get(user, "UserEvent"), get(user, "Uniqueid"), get(user, "Attempt"), get(user, "Key")) == (
        "OptedOut",
        "att-1",
        "att-1",
        "9",
    )
    assert get(user, "Odd") is None  # an argument without ':' is left out, as app_userevent does
    # the key cut the first prompt short: no second prompt played (its CEL stream never began)
    assert not [e for e in _of(events, "CEL", EventName="STREAM_BEGIN") if "msg-b" in (get(e, "Extra") or "")]


async def test_no_key_times_out_after_the_last_prompt_and_another_key_is_no_opt_out() -> None:
    events = await _run((), "msg-b", wait="1.5")
    assert _vars(events, "READSTATUS") == ["ERROR", "TIMEOUT"] and _vars(events, "CHOICE") == [""]
    assert not _of(events, "UserEvent")
    [start] = _of(events, "Newexten", Uniqueid="att-1", Application="Read")
    [status] = [
        e for e in _of(events, "VarSet", Uniqueid="att-1", Variable="READSTATUS") if get(e, "Value") == "TIMEOUT"
    ]
    # the prompt (1 s) then the 1.5-s wait for the first digit
    assert float(get(status, "Timestamp") or 0) - float(get(start, "Timestamp") or 0) == pytest.approx(2.5, abs=0.3)
    other = await _run(((1.5, "5"),), "msg-b")
    assert _vars(other, "CHOICE") == ["5"] and not _of(other, "UserEvent")


async def test_several_digits_until_the_terminator_and_a_second_try() -> None:
    events = await _run(((3.3, "1"), (3.6, "2"), (3.9, "#")), "msg-b", maximum="5", tries="2", wait="1")
    # the first try times out (nothing within 1 s of the prompt), the second gets 12 ended by #
    assert _vars(events, "CHOICE") == ["", "12"] and _vars(events, "READSTATUS") == ["ERROR", "OK"]
