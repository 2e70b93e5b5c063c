"""A number the dialler abandoned is called again only with an agent held for it, over the wire.

Ofcom's persistent-misuse policy: after an abandoned call, a repeat call to the number within 72 h only with the
guaranteed presence of a live operator. The number was abandoned an hour ago by another campaign; every agent
is busy; the campaign's pacer dials ahead of its agents, as predictive does. The number is left alone (a fresh
one is dialled instead) until an agent is free; then that agent is held first and the number dialled: the
callee reaches it. With the rule off (``repeat_with_agent.abandoned: 0``) the number is dialled ahead of the
agents like any other and is abandoned a second time."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.dialer.model import (
    AttemptRecord,
    CampaignSettings,
    Contact,
    Outcome,
    PacingMode,
    RepeatRules,
    RetryPolicy,
)
from ctiserver.dialer.pacing import PacingSnapshot
from ctiserver.dialer.service import DialerService
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, Callee, number, window_around_now, wire

pytestmark = pytest.mark.slow


class DialsAhead:
    """One call whenever none is in flight, whatever the agents do (predictive dials ahead of wrap-ups)."""

    name = "predictive"

    def decide(self, snap: PacingSnapshot) -> int:
        return 0 if snap.ringing or snap.waiting_live else 1


def _campaign(name: str, attempts: int = 3, **kw: Any) -> tuple[dict[str, Callee], list[Contact], CampaignSettings]:
    """Two live answerers (numbers 0 and 1), a contact each, and a progressive campaign open now."""
    callees = {number(i): Callee(reachable=True, answers=True, machine=False, ring=0.5, talk=4.0) for i in (0, 1)}
    contacts = [Contact(f"c{i}", name, number(i), "Europe/Berlin") for i in (0, 1)]
    retry = RetryPolicy(max_attempts=attempts)
    window = window_around_now()
    settings = CampaignSettings(
        name=name, mode=PacingMode.PROGRESSIVE, windows=window, ring_timeout=15.0, retry=retry, **kw
    )
    return callees, contacts, settings


@pytest.mark.parametrize("rule", [True, False])
async def test_a_number_abandoned_lately_is_dialled_only_with_an_agent_held(rule: bool) -> None:
    rules = RepeatRules(abandoned=72 * 3600.0 if rule else 0.0)
    callees, contacts, settings = _campaign("again", repeat_with_agent=rules)
    async with wire(settings, contacts, callees) as w:
        now = w.runner.clock.now()
        earlier = AttemptRecord("x1", "earlier", "e1", number(0), now - 3620.0, Outcome.ABANDONED, now - 3600.0)
        await w.store.record_attempt(earlier)  # another campaign abandoned the number an hour ago
        reserved: list[tuple[float, str | None, str]] = []
        reserve = w.desk.reserve

        async def spy(*args: Any, call_id: str, **kw: Any) -> str | None:
            agent = await reserve(*args, call_id=call_id, **kw)
            reserved.append((w.runner.clock.now(), agent, call_id))
            return agent

        w.desk.reserve = spy  # type: ignore[method-assign]
        taken = [await w.desk.reserve(settings, 0.0, call_id=f"other-{i}") for i in range(len(AGENTS))]
        assert None not in taken  # every agent busy
        w.runner.pacer = DialsAhead()
        await w.runner.start()
        assert await until(lambda: len(w.store._attempts) >= 2, 20.0)  # the earlier one and this run's first
        first = (await w.store.attempts("again"))[0]
        assert first.outcome is Outcome.ABANDONED  # no agent: the message
        assert w.originated[0][2] == first.id
        if not rule:
            assert first.number == number(0)  # dialled ahead of the agents: abandoned again
            return
        assert first.number == number(1) and not w.originates_of(number(0))
        freed = taken[0]
        assert freed is not None
        await w.desk.release(freed)
        assert await until(lambda: w.originates_of(number(0)), 30.0)
        assert await until(lambda: len(w.store._attempts) >= 3, 20.0)
        attempts = {a.number: a for a in await w.store.attempts("again")}
    again = attempts[number(0)]
    assert (again.outcome, again.agent) == (Outcome.HUMAN, freed)
    held = [r for r in reserved if r[2] == again.id]
    # the agent was held for the attempt before the PBX was asked to dial it
    assert held and held[0][1] == freed and held[0][0] <= w.originates_of(number(0))[0][0]
    assert w.originates_of(number(0))[0][2] == again.id


async def test_the_days_calls_to_a_number_are_capped_over_every_campaign() -> None:
    """``max_calls_per_day: 2``: another campaign called the number twice in the last 24 hours; it is not dialled
    (the PBX gets no Originate for it) and waits until the older call is a day old, while a fresh number is."""
    callees, contacts, settings = _campaign("capped", max_calls_per_day=2)
    async with wire(settings, contacts, callees) as w:
        now = w.runner.clock.now()
        for i, ago in enumerate((20 * 3600.0, 600.0)):
            earlier = AttemptRecord(f"x{i}", "earlier", "e1", number(0), now - ago, Outcome.NOANSWER, now - ago + 25)
            await w.store.record_attempt(earlier)
        await w.runner.start()
        assert await until(lambda: len(w.store._attempts) >= 3, 20.0)
        capped = w.store._contacts[("capped", "c0")]
        assert [o[1] for o in w.originated] == [number(1)]
        assert capped.attempts == 0 and capped.next_at == pytest.approx(now - 20 * 3600.0 + 86400.0)
        assert w.runner.counters["day_cap"] >= 1


async def test_a_number_is_never_rung_twice_at_once() -> None:
    """The same number in two running campaigns (and twice in one, imported twice): while one attempt calls it,
    no other is placed — on the PBX's side, each Originate to it comes after the previous attempt on it ended."""
    callees = {number(0): Callee(reachable=True, answers=False, machine=False, ring=0.0, talk=1.0)}
    _, _, one = _campaign("one", attempts=1)
    two = one.model_copy(update={"name": "two"})
    contacts = [Contact("a", "one", number(0), "Europe/Berlin"), Contact("b", "one", number(0), "Europe/Berlin")]
    async with wire(one, contacts, callees, factor=8.0) as w:
        service = w.ctx.require(DialerService)
        await w.store.add_contacts([Contact("c", "two", number(0), "Europe/Berlin")])
        second = await service.create(two)
        await w.runner.start()
        await second.start()
        assert await until(lambda: len(w.store._attempts) >= 3, 60.0), w.runner.live_stats()
        attempts = sorted(w.store._attempts, key=lambda a: a.started)
        placed = [t for t, num, _ in w.originated if num == number(0)]
    assert [a.outcome for a in attempts] == [Outcome.NOANSWER] * 3 and len(placed) == 3
    for earlier, t in zip(attempts, placed[1:], strict=False):
        assert t >= earlier.ended - 0.01, (t, earlier)  # placed only once the one before had ended
    assert w.runner.counters["number_in_flight"] + second.counters["number_in_flight"] >= 2
