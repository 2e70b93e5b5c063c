"""Observer mode on the recorded AMI streams of real Asterisk 22 (queue scenarios 04, 05, 07, 11)."""

from __future__ import annotations

import pytest

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.observer import QueueObserver, path_to
from ctiserver.acd.persist import MemoryAgentStore
from ctiserver.clock import ManualClock
from ctiserver.events import DomainEvent, InMemoryBus
from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent
from tests.conftest import TRACES


async def observe(scenario: str) -> tuple[QueueObserver, list[DomainEvent], MemoryAgentStore]:
    clock = ManualClock()
    bus = InMemoryBus()
    seen: list[DomainEvent] = []
    bus.listeners.append(seen.append)
    store = MemoryAgentStore()
    obs = QueueObserver(clock, bus, store, agent_ids={"PJSIP/1001": "agent-1001"})
    raw = (TRACES / scenario / "ami.raw").read_bytes()
    for msg in AmiDecoder().feed(raw):
        if isinstance(msg, AmiEvent):
            obs.feed(msg)
    await obs.flush()
    return obs, seen, store


def states(seen: list[DomainEvent], agent: str = "agent-1001") -> list[str]:
    out = []
    for e in seen:
        if e.type == "agent.state" and e.subject == agent:
            label = str(e.data["state"]) + (f"({e.data['reason']})" if e.data.get("reason") else "")
            if not out or out[-1] != label:
                out.append(label)
    return out


async def test_04_answered() -> None:
    obs, seen, store = await observe("04-queue-answered")
    assert states(seen) == ["ready", "reserved", "ringing", "on_call", "ready", "logged_out"]
    q = obs.queues["support"]
    assert (q.entered, q.answered, q.abandoned, len(q.waiting)) == (1, 1, 0, 0)
    assert q.hold_times == [2.0]
    ringing = [e for e in seen if e.type == "agent.ringing"]
    assert ringing[0].subject == "cti-test-1795370102.8" and ringing[0].data["caller_number"] == "5550100"
    assert [s.state for s, _ in store.events][-1] is AgentState.LOGGED_OUT


async def test_05_paused_with_reason_and_abandoned() -> None:
    obs, seen, _ = await observe("05-queue-abandoned")
    assert states(seen) == ["ready", "not_ready(lunch)", "ready", "logged_out"]
    q = obs.queues["support"]
    assert (q.entered, q.answered, q.abandoned) == (1, 0, 1)
    assert q.abandon_waits == [4.0]
    assert not [e for e in seen if e.type.startswith("queue.")]  # the tracker's, from the same AMI events


@pytest.mark.parametrize("scenario", ["07-blind-transfer", "11-mixmonitor-mute"])
async def test_07_11_calls_complete_and_member_logs_out(scenario: str) -> None:
    obs, seen, _ = await observe(scenario)
    got = states(seen)
    assert got[-1] == "logged_out"
    assert "ringing" in got and "on_call" in got
    assert got.index("ringing") < got.index("on_call")
    q = obs.queues["support"]
    assert q.answered >= 1 and q.abandoned == 0 and not q.waiting


def test_paths_follow_the_transition_table() -> None:
    assert path_to(AgentState.READY, AgentState.RINGING) == [AgentState.RESERVED, AgentState.RINGING]
    assert path_to(AgentState.ON_CALL, AgentState.LOGGED_OUT) == [AgentState.READY, AgentState.LOGGED_OUT]


def ev(name: str, **headers: str) -> AmiEvent:
    return AmiEvent([("Event", name), *headers.items()])


async def test_app_queue_wrapup_time_is_mirrored() -> None:
    clock = ManualClock()
    bus = InMemoryBus()
    obs = QueueObserver(clock, bus)
    member = {"Queue": "q", "Interface": "PJSIP/1001", "MemberName": "A", "Wrapuptime": "5", "Status": "1"}
    call = {"Queue": "q", "Interface": "PJSIP/1001", "Uniqueid": "u1", "Linkedid": "u1"}
    obs.feed(ev("QueueMemberAdded", **member, Paused="0"))
    for name in ("AgentCalled", "AgentConnect", "AgentComplete"):
        obs.feed(ev(name, **call))
    agent = obs.agents["pjsip/1001"]
    assert agent.status.state is AgentState.WRAP_UP
    await clock.advance(4.9)
    obs.end_wrapups()
    assert agent.status.state is AgentState.WRAP_UP
    await clock.advance(0.2)
    obs.end_wrapups()
    assert agent.status.state is AgentState.READY
    obs.feed(ev("QueueMemberStatus", **(member | {"Paused": "0", "Status": "5"})))
    assert not agent.registered
