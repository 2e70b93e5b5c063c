"""The simulator's SIP trunk over the wire: ``Dial(PJSIP/<number>@trunk)`` reaches the parties at the carrier.
What Asterisk does with the carrier's answers (chan_pjsip's causes, app_dial's ``DialEnd`` / ``DIALSTATUS``,
the Local pair passing the cause on, ``OriginateResponse`` Reason 0 for any failure of a Local channel)."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.sim.config import SimConfig, Step
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, get

OUT = {
    "_X.": (
        Step(app="Dial", data="PJSIP/${EXTEN}@trunk&PJSIP/1002,20"),
        Step(app="Set", data="CTI_DIALSTATUS=${DIALSTATUS}"),
        Step(app="Hangup"),
    )
}


def _config() -> SimConfig:
    base = SimConfig()
    return base.model_copy(update={"dialplan": {**base.dialplan, "t-out": OUT}})


async def _originate(ami: AmiProbe, number: str, uid: str) -> None:
    await ami.action(
        "Originate",
        [
            ("Channel", f"Local/{number}@t-out/n"),
            ("Application", "Wait"),
            ("Data", "5"),
            ("Async", "true"),
            ("ChannelId", uid),
            ("Timeout", "15000"),
        ],
    )


def _of(events: list[Any], name: str, **fields: str) -> list[Any]:
    return [e for e in events if get(e, "Event") == name and all(get(e, k) == v for k, v in fields.items())]


@pytest.mark.parametrize(
    ("reject", "cause", "dial_end", "dialstatus"),
    [(486, "17", "BUSY", "BUSY"), (404, "1", "NOANSWER", "CHANUNAVAIL"), (503, "34", "CONGESTION", "CONGESTION")],
)
async def test_the_carrier_refuses(reject: int, cause: str, dial_end: str, dialstatus: str) -> None:
    async with Simulator(_config()) as sim:
        sim.agent("1002", registered=False)  # the second target cannot be reached: only the trunk rings
        sim.customer("4930100", reject=reject)
        ami = AmiProbe()
        try:
            await ami.connect(sim.ami_port)
            await _originate(ami, "4930100", "att-1")
            response = await ami.wait_event("OriginateResponse")
            await ami.wait_event("Hangup", Uniqueid="att-1")
            events = list(ami.messages)
        finally:
            await ami.close()
    assert (get(response, "Response"), get(response, "Reason")) == ("Failure", "0")
    # fast_originate: no channel comes back on failure — the requested channel and the ChannelId asked for
    assert (get(response, "Channel"), get(response, "Uniqueid")) == ("Local/4930100@t-out/n", "att-1")
    assert (get(response, "Application"), get(response, "Data"), get(response, "Context")) == ("Wait", "5", None)
    [begin] = _of(events, "DialBegin", DialString="4930100@trunk")
    trunk = get(begin, "DestUniqueid")
    assert (get(begin, "DestChannel") or "").startswith("PJSIP/trunk-") and get(begin, "Uniqueid") == "att-1;2"
    [gone] = _of(events, "Hangup", Uniqueid=trunk)
    assert (get(gone, "Cause"), get(gone, "TechCause")) == (cause, str(reject))
    assert _of(events, "HangupRequest", Uniqueid=trunk, Cause=cause)  # ast_queue_hangup_with_cause
    assert [get(e, "DialStatus") for e in _of(events, "DialEnd", DestUniqueid=trunk)] == [dial_end]
    assert _of(events, "VarSet", Uniqueid="att-1;2", Variable="CTI_DIALSTATUS", Value=dialstatus)
    # the callee's cause on ;2 (Hangup() without one), passed to ;1 by the Local pair; both Hangups after the
    # response, which the originate thread writes to the sessions while they go through stasis' router
    [two] = _of(events, "Hangup", Uniqueid="att-1;2")
    [one] = _of(events, "Hangup", Uniqueid="att-1")
    assert get(two, "Cause") == get(one, "Cause") == cause
    assert events.index(response) < min(events.index(one), events.index(two))


async def test_a_party_answers_and_a_number_nobody_has_gets_404() -> None:
    async with Simulator(_config()) as sim:
        sim.agent("1002", registered=False)
        sim.customer("4930200", answer_after=0.2, hangup_after=0.3)
        ami = AmiProbe()
        try:
            await ami.connect(sim.ami_port)
            await _originate(ami, "4930200", "att-2")
            answered = await ami.wait_event("OriginateResponse")
            await ami.wait(lambda m: get(m, "Event") == "Hangup" and get(m, "Uniqueid") == "att-2")
            await _originate(ami, "4930999", "att-3")
            unknown = await ami.wait(
                lambda m: get(m, "Event") == "OriginateResponse" and get(m, "Response") == "Failure"
            )
            events = list(ami.messages)
        finally:
            await ami.close()
    assert (get(answered, "Response"), get(answered, "Reason"), get(answered, "Uniqueid")) == ("Success", "4", "att-2")
    [begin] = _of(events, "DialBegin", DialString="4930200@trunk")
    assert [get(e, "DialStatus") for e in _of(events, "DialEnd", DestUniqueid=get(begin, "DestUniqueid"))] == ["ANSWER"]
    assert get(unknown, "Reason") == "0"
    [begin404] = _of(events, "DialBegin", DialString="4930999@trunk")
    [gone] = _of(events, "Hangup", Uniqueid=get(begin404, "DestUniqueid"))
    assert (get(gone, "Cause"), get(gone, "TechCause")) == ("1", "404")
