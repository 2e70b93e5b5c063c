"""The campaign runner's logic on the in-memory fakes and a manual clock: dial-time DNC and window checks,
retries per outcome, legs and screen-pops, pause/stop, abandonment accounting."""

from __future__ import annotations

import asyncio
import itertools

from ctiserver.clock import ManualClock
from ctiserver.dialer.campaign_state import CampaignState
from ctiserver.dialer.model import (
    CampaignSettings,
    Contact,
    ContactStatus,
    Outcome,
    PacingMode,
    RetryPolicy,
)
from ctiserver.dialer.pacing import AgentPhase
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.store import MemoryDialerStore
from ctiserver.dialer.windows import CallingWindows
from ctiserver.events import InMemoryBus
from tests.dialer.fakes import Behaviour, FakeDesk, FakeLines

ALWAYS = CallingWindows(days={d: ("00:00-24:00",) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
# the manual clock starts on Friday 2027-01-15 08:00 UTC: 09:00 in Berlin, 03:00 in New York


def berlin(i: int) -> str:
    return f"+4930{1000000 + i}"


async def _run_until(clock: ManualClock, cond: object, limit: float = 3600.0, step: float = 1.0) -> None:
    waited = 0.0
    while not cond() and waited < limit:  # type: ignore[operator]
        await clock.advance(step)
        waited += step
    await asyncio.sleep(0)


def _contacts(n: int, campaign: str = "c1") -> list[Contact]:
    return [
        Contact(
            f"k{i}",
            campaign,
            berlin(i),
            "Europe/Berlin",
            name=f"Kunde {i}",
            fields={"plan": "gold" if i % 2 else "basic"},
        )
        for i in range(n)
    ]


async def test_progressive_campaign_dials_calls_pops_and_retries() -> None:
    clock = ManualClock()
    store, bus = MemoryDialerStore(), InMemoryBus()
    attempts_sub = bus.subscribe("dialer.attempt")
    settings = CampaignSettings(
        name="c1",
        mode=PacingMode.PROGRESSIVE,
        windows=ALWAYS,
        retry=RetryPolicy(max_attempts=3, busy=60, noanswer=120),
    )
    contacts = _contacts(12)
    await store.add_contacts(contacts)
    await store.add_contacts([Contact("us1", "c1", "+12125550123", "America/New_York")])
    await store.dnc_add([berlin(3)])  # global
    await store.dnc_add([berlin(4)], campaign="c1")
    busy_then_answer = [Behaviour(Outcome.BUSY, 2.0), Behaviour(Outcome.HUMAN, 4.0)]
    never = [Behaviour(Outcome.NOANSWER, 25.0)]
    lines = FakeLines(clock, {berlin(5): busy_then_answer, berlin(6): never})
    desk = FakeDesk.with_agents(clock, 3, talk=20.0, wrap=5.0)
    # the US contact is outside its window (03:00 in New York) with the default windows
    runner = CampaignRunner(settings.model_copy(update={"windows": CallingWindows()}), store, lines, desk, bus, clock)
    await runner.start()
    try:

        def settled() -> bool:
            return all(
                c.status not in (ContactStatus.PENDING, ContactStatus.DIALLING) or c.id == "us1"
                for c in store._contacts.values()
            )

        await _run_until(clock, settled, limit=2000)
    finally:
        await runner.close()
    placed = [n for _, n, _ in lines.placed]
    assert berlin(3) not in placed and berlin(4) not in placed  # DNC checked at dial time
    assert "+12125550123" not in placed  # outside the callee's window
    us = await store.get_contact("c1", "us1")
    assert us is not None and us.status is ContactStatus.PENDING and us.next_at == 1_800_000_000 + 6 * 3600  # 09:00 EST
    # busy → retried after >= 60 s, then answered
    times = [t for t, n, _ in lines.placed if n == berlin(5)]
    assert len(times) == 2 and times[1] - times[0] >= 60
    # no answer → 3 attempts, 120 s apart, then exhausted
    times6 = [t for t, n, _ in lines.placed if n == berlin(6)]
    assert len(times6) == 3 and all(b - a >= 120 for a, b in itertools.pairwise(times6))
    c6 = await store.get_contact("c1", "k6")
    assert c6 is not None and c6.status is ContactStatus.EXHAUSTED
    # every attempt is a leg with an outcome, stored and published
    records = await store.attempts("c1")
    assert len(records) == len(lines.placed)
    assert attempts_sub.queue.qsize() == len(lines.placed)
    # every live answer popped to its agent with the contact's data; progressive never abandons
    humans = [r for r in records if r.outcome is Outcome.HUMAN]
    assert len(humans) == len(desk.pops) == 9  # 12 - 2 DNC - 1 never answering
    assert {p["number"] for _, p in desk.pops} == {r.number for r in humans}
    assert all(p["fields"]["plan"] in ("gold", "basic") for _, p in desk.pops)
    assert runner.counters["abandoned"] == 0 and runner.counters["dnc_blocked"] == 2


async def test_paused_campaign_dials_nothing_more_and_resumes() -> None:
    clock = ManualClock()
    store, bus = MemoryDialerStore(), InMemoryBus()
    await store.add_contacts(_contacts(40))
    lines = FakeLines(clock, default=Behaviour(Outcome.NOANSWER, 10.0))
    desk = FakeDesk.with_agents(clock, 4)
    runner = CampaignRunner(CampaignSettings(name="c1", windows=ALWAYS), store, lines, desk, bus, clock)
    await runner.start()
    try:
        await _run_until(clock, lambda: len(lines.placed) >= 4)
        await runner.pause()
        assert runner.state is CampaignState.PAUSED
        before = len(lines.placed)
        await _run_until(clock, lambda: False, limit=120)
        assert len(lines.placed) == before
        await runner.resume()
        await _run_until(clock, lambda: len(lines.placed) > before, limit=30)
        assert len(lines.placed) > before
    finally:
        await runner.close()


async def test_no_agent_within_two_seconds_abandons_with_message() -> None:
    clock = ManualClock()
    store, bus = MemoryDialerStore(), InMemoryBus()
    await store.add_contacts(_contacts(1))
    lines = FakeLines(clock, default=Behaviour(Outcome.HUMAN, 3.0))
    desk = FakeDesk.with_agents(clock, 1)
    runner = CampaignRunner(CampaignSettings(name="c1", windows=ALWAYS), store, lines, desk, bus, clock)
    desk.agents[0].phase = AgentPhase.TALKING  # busy while the call is answered
    await runner.dial_contact("k0")
    await _run_until(clock, lambda: bool(lines.abandoned), limit=30, step=0.25)
    await runner.close()
    assert len(lines.abandoned) == 1
    assert runner.ledger.totals(clock.now()) == (1, 1)
    [rec] = await store.attempts("c1")
    assert rec.outcome is Outcome.ABANDONED


async def test_a_conversation_the_agent_never_took_counts_as_abandoned() -> None:
    """The desk found an agent, but the agent never took the call (the customer left first): not connected,
    abandoned in the ledger and the attempt, the message played if the customer is still there."""
    clock = ManualClock()
    store, bus = MemoryDialerStore(), InMemoryBus()
    await store.add_contacts(_contacts(1))
    lines = FakeLines(clock, default=Behaviour(Outcome.HUMAN, 3.0))
    desk = FakeDesk.with_agents(clock, 1)

    async def never_taken(*_: object) -> float | None:
        return None

    desk.converse = never_taken  # type: ignore[method-assign]
    runner = CampaignRunner(CampaignSettings(name="c1", windows=ALWAYS), store, lines, desk, bus, clock)
    await runner.dial_contact("k0")
    await _run_until(clock, lambda: bool(lines.abandoned), limit=30, step=0.25)
    await runner.close()
    assert runner.ledger.totals(clock.now()) == (1, 1) and list(runner.stats.recent_live) == [True]
    assert runner.counters["connected"] == 0 and runner.counters["abandoned"] == 1
    [rec] = await store.attempts("c1")
    assert rec.outcome is Outcome.ABANDONED and rec.agent is None
