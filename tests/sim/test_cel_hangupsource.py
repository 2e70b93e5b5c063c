"""The CEL ``HANGUP`` record over the wire: ``hangupsource`` as Asterisk 22 sets it and the end records' order.

``ast_set_hangupsource()`` (main/channel.c) writes the source on the channel and on its two-party bridge peer,
each only while empty; chan_pjsip names the channel whose far end hung up (``chan_pjsip_session_end``), the
``Hangup()`` application says ``dialplan/builtin`` (``pbx_builtin_hangup``), a soft hang-up names nobody (traces
02, 03, 04, 07, 09, 11, 12). ``dialstatus`` is CEL's own ``save_dialstatus`` (a ``Queue()`` caller: ANSWER,
trace 04). ``Simulator.cel_after_hangup`` sends each channel's CEL end records after its AMI ``Hangup`` and
after the Hangups its own sets off, as CEL's stasis subscriber may deliver them (trace 13)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from ctiserver.sim.config import QueueConfig, SimConfig, Step
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, Headers, get

PLAN = {
    "t-in": {
        "300": (Step(app="Dial", data="PJSIP/1001,30"),),
        "301": (Step(app="Answer"), Step(app="Wait", data="0.3"), Step(app="Hangup")),
        "302": (Step(app="Answer"), Step(app="Queue", data="support"), Step(app="Hangup")),
        "303": (Step(app="Dial", data="PJSIP/4930100@trunk,30"), Step(app="Wait", data="10")),
    }
}


def _config() -> SimConfig:
    base = SimConfig()
    return base.model_copy(
        update={
            "dialplan": {**base.dialplan, **PLAN},
            "queues": (QueueConfig(name="support", strategy="ringall", timeout=15, retry=0.2),),
        }
    )


@dataclass
class Run:
    events: list[Headers]

    def cel_hangup(self) -> dict[str, tuple[str, str]]:
        """Channel name → (hangupsource, dialstatus) of its CEL ``HANGUP`` record."""
        out = {}
        for e in self.events:
            if get(e, "Event") == "CEL" and get(e, "EventName") == "HANGUP":
                extra = json.loads(get(e, "Extra") or "{}")
                out[get(e, "Channel") or ""] = (extra["hangupsource"], extra["dialstatus"])
        return out

    def index(self, event: str, channel: str, name: str | None = None) -> int:
        [i] = [
            i
            for i, e in enumerate(self.events)
            if get(e, "Event") == event
            and get(e, "Channel") == channel
            and (name is None or get(e, "EventName") == name)
        ]
        return i


Scenario = Callable[[Simulator, AmiProbe], Awaitable[None]]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(_config()) as s:
        yield s


async def _run(sim: Simulator, scenario: Scenario, *, late: bool = False) -> Run:
    sim.cel_after_hangup = late
    ami = AmiProbe()
    try:
        await ami.connect(sim.ami_port)
        await scenario(sim, ami)
        await ami.wait_event("CEL", EventName="LINKEDID_END")
        await ami.action("Ping")  # anything still on its way is ahead of the response
        return Run(list(ami.messages))
    finally:
        await ami.close()


async def _caller_hangs_up(sim: Simulator, ami: AmiProbe) -> None:
    sim.agent("1001", answer_after=0.2)
    sim.place_call(from_number="5550100", to="300", context="t-in", hangup_after=1.0)


async def _agent_hangs_up(sim: Simulator, ami: AmiProbe) -> None:
    sim.agent("1001", answer_after=0.2, hangup_after=0.5)
    await ami.action("QueueAdd", [("Queue", "support"), ("Interface", "PJSIP/1001")])
    sim.place_call(from_number="5550100", to="302", context="t-in")


async def _dialplan_hangup(sim: Simulator, ami: AmiProbe) -> None:
    sim.place_call(from_number="5550100", to="301", context="t-in")


async def _ami_hangup_action(sim: Simulator, ami: AmiProbe) -> None:
    sim.agent("1001", answer_after=0.2)
    sim.place_call(from_number="5550100", to="300", context="t-in")
    bridged = await ami.wait_event("BridgeEnter", BridgeNumChannels="2")
    await ami.action("Hangup", [("Channel", get(bridged, "Channel") or "")])


async def _carrier_busy(sim: Simulator, ami: AmiProbe) -> None:
    sim.customer("4930100", reject=486)
    call = sim.place_call(from_number="5550100", to="303", context="t-in")
    await ami.wait_event("DialEnd", DialStatus="BUSY")
    await call.placed.wait()
    await ami.action("Hangup", [("Channel", call.name)])


def _names(run: Run) -> tuple[str, str | None]:
    """The caller's channel and the other one (if any)."""
    names = list(run.cel_hangup())
    caller = next(n for n in names if n.startswith("PJSIP/caller-"))
    others = [n for n in names if n != caller]
    return caller, (others[0] if others else None)


async def test_the_caller_hangs_up_a_bridged_call(sim: Simulator) -> None:
    run = await _run(sim, _caller_hangs_up)
    caller, agent = _names(run)
    assert agent is not None and agent.startswith("PJSIP/1001-")
    # chan_pjsip names the caller, on itself and on its two-party peer; app_dial saved ANSWER for the caller
    assert run.cel_hangup() == {caller: (caller, "ANSWER"), agent: (caller, "")}


async def test_the_agent_hangs_up_a_queue_call(sim: Simulator) -> None:
    run = await _run(sim, _agent_hangs_up)
    caller, agent = _names(run)
    assert agent is not None and agent.startswith("PJSIP/1001-")
    assert run.cel_hangup() == {caller: (agent, "ANSWER"), agent: (agent, "")}  # trace 04


async def test_hangup_in_the_dialplan(sim: Simulator) -> None:
    run = await _run(sim, _dialplan_hangup)
    caller, _ = _names(run)
    assert run.cel_hangup() == {caller: ("dialplan/builtin", "")}


async def test_an_ami_hangup_names_nobody(sim: Simulator) -> None:
    run = await _run(sim, _ami_hangup_action)
    caller, agent = _names(run)
    assert agent is not None
    assert run.cel_hangup() == {caller: ("", "ANSWER"), agent: ("", "")}


async def test_a_failure_answer_names_the_callee(sim: Simulator) -> None:
    run = await _run(sim, _carrier_busy)
    caller, trunk = _names(run)
    assert trunk is not None and trunk.startswith("PJSIP/trunk-")
    # the 486 ends the trunk channel's session (its own name); the caller is hung up by AMI (soft): nobody
    assert run.cel_hangup() == {caller: ("", "BUSY"), trunk: (trunk, "")}


SCENARIOS = [_caller_hangs_up, _agent_hangs_up, _ami_hangup_action]


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_cel_end_records_before_the_hangup_by_default(sim: Simulator, scenario: Scenario) -> None:
    run = await _run(sim, scenario)
    for name in run.cel_hangup():
        assert run.index("CEL", name, "HANGUP") < run.index("CEL", name, "CHAN_END") < run.index("Hangup", name)


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_cel_end_records_after_the_hangups_when_asked(sim: Simulator, scenario: Scenario) -> None:
    before = await _run(sim, scenario)
    after = await _run(sim, scenario, late=True)
    assert after.cel_hangup() == {
        _rename(before, after, name): (_rename(before, after, src) if src.startswith("PJSIP/") else src, status)
        for name, (src, status) in before.cel_hangup().items()
    }  # the same records, only later
    names = list(after.cel_hangup())
    last_hangup = max(after.index("Hangup", name) for name in names)
    for name in names:
        hangup, chan_end = after.index("CEL", name, "HANGUP"), after.index("CEL", name, "CHAN_END")
        assert last_hangup < hangup < chan_end  # after the call's last Hangup: one hang-up ends both
    [linkedid_end] = [i for i, e in enumerate(after.events) if get(e, "EventName") == "LINKEDID_END"]
    assert linkedid_end > max(after.index("CEL", name, "CHAN_END") for name in names)


def _rename(before: Run, after: Run, name: str) -> str:
    """The channel of the second run in the place ``name`` had in the first (same endpoint)."""
    prefix = name.rsplit("-", 1)[0]
    return next(n for n in after.cel_hangup() if n.rsplit("-", 1)[0] == prefix)
