"""After a restart the live windows start from today's stored calls (``kpi/warm.py``): a wallboard's "today",
"60 min" and "15 min" figures are those the uninterrupted live feed had, not zeros. Every call of a real
Asterisk's trace, tracked and stored as the calls component stores it; windows warmed from that database equal
windows fed the same calls live. Events of a call already counted from the database are not counted again; the
calls still going on add the queue stays they already left (their checkpoints)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.calls.restore import checkpoint_of
from ctiserver.calls.tracker import Tracker
from ctiserver.clock import ManualClock
from ctiserver.events.envelope import DomainEvent
from ctiserver.kpi.component import consume
from ctiserver.kpi.live import LiveKpis
from ctiserver.kpi.warm import stored_facts
from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.store.repository import CallRepository
from tests.conftest import TRACES
from tests.store.migrated import migrated


def _tracked(scenario: str, clock: ManualClock) -> tuple[Tracker, list[DomainEvent]]:
    tracker = Tracker(clock)
    events: list[DomainEvent] = []
    for msg in AmiDecoder().feed((TRACES / scenario / "ami.raw").read_bytes()):
        if isinstance(msg, AmiEvent):
            events += tracker.feed(msg)
    return tracker, events


class _Feed:
    def __init__(self, events: list[DomainEvent]) -> None:
        self.events = list(events)

    async def get(self) -> DomainEvent:
        if not self.events:
            raise EOFError
        return self.events.pop(0)


@pytest.mark.parametrize("scenario", ["13-load-queue", "05-queue-abandoned"])
async def test_windows_warmed_from_the_database_equal_the_live_ones(scenario: str, tmp_path: Path) -> None:
    clock = ManualClock(start=0.0)
    tracker, events = _tracked(scenario, clock)
    end = max(e.time for e in events)
    clock._now = end + 60.0
    fed = LiveKpis(clock)
    for ev in events:
        fed.on_event(ev)
    async with migrated(f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite") as sessions:
        await CallRepository(sessions).apply([{"kind": "call", "data": c.snapshot()} for c in tracker.all_calls()])
        facts, calls = await stored_facts(sessions, fed.day_start())
    assert calls == {c.call_id for c in tracker.all_calls() if c.queues}
    warmed = LiveKpis(clock)
    warmed.warm(facts)
    # the calls' events, buffered while the database was read, are skipped: counted once
    with pytest.raises(EOFError):
        await consume(warmed, _Feed([e for e in events if e.type != "agent.state"]), frozenset(calls))
    got, want = warmed.snapshot(), fed.snapshot()
    assert got["queues"] == want["queues"]
    assert {a: w["today"]["handled"] for a, w in got["agents"].items()} == {
        a: w["today"]["handled"] for a, w in want["agents"].items()
    }
    k = warmed.queue(next(iter(got["queues"])), "today")
    assert k.offered > 0


async def test_the_calls_still_going_on_add_the_queue_stays_they_left(tmp_path: Path) -> None:
    clock = ManualClock(start=0.0)
    _, events = _tracked("04-queue-answered", clock)
    connect = next(i for i, e in enumerate(events) if e.type == "agent.answered")
    live = Tracker(clock)  # the run stopped right after the answer: the call goes on
    for msg in AmiDecoder().feed((TRACES / "04-queue-answered" / "ami.raw").read_bytes()):
        if isinstance(msg, AmiEvent):
            out = live.feed(msg)
            if any(e.type == "agent.answered" for e in out):
                break
    [call] = live.calls.values()
    clock._now = events[connect].time + 10.0
    async with migrated(f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite") as sessions:
        await CallRepository(sessions).apply([{"kind": "live", "data": checkpoint_of(call), "seen": clock.now()}])
        warmed = LiveKpis(clock)
        facts, calls = await stored_facts(sessions, warmed.day_start())
    assert not calls  # nothing ended
    warmed.warm(facts)
    [queue] = {s.queue for s in call.queues}
    k = warmed.queue(queue, "15m")
    assert (k.offered, k.answered, k.aht) == (1, 1, None)  # handled when its call.ended comes


async def test_a_dialler_call_counts_for_its_agent_and_not_for_its_queue_after_a_restart(tmp_path: Path) -> None:
    """A dialler's call the ACD gave to an agent (``outbound`` segment): warmed, it is the agent's handled call
    and not an offered call of the queue — as the live feed counted it (docs/kpi.md, "Dialler calls"); the
    same holds for one still going on (its checkpoint)."""
    clock = ManualClock(start=0.0)
    tracker, events = _tracked("04-queue-answered", clock)
    [call] = [c for c in tracker.all_calls() if c.queues]
    for seg in call.queues:
        seg.outbound = True
    [agent] = {s.agent for s in call.queues if s.agent}
    clock._now = max(e.time for e in events) + 60.0
    going_on = checkpoint_of(call) | {"call_id": "going-on"}
    async with migrated(f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite") as sessions:
        repo = CallRepository(sessions)
        await repo.apply([{"kind": "call", "data": call.snapshot()}])
        await repo.apply([{"kind": "live", "data": going_on, "seen": clock.now()}])
        warmed = LiveKpis(clock)
        facts, calls = await stored_facts(sessions, warmed.day_start())
    assert calls == {call.call_id}
    warmed.warm(facts)
    [queue] = {s.queue for s in call.queues}
    assert warmed.queue(queue, "today").offered == 0
    mine = warmed.agent(agent, "today")
    assert (mine["answered"], mine["handled"]) == (2, 1)  # the ended call's handle time; the other's comes later
    assert mine["aht"] is not None and mine["aht"] > 0
