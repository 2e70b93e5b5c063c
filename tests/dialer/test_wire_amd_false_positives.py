"""AMD's false positives in the abandonment rate, over the wire: a person taken for a machine is hung up on, an
abandoned call the law counts (Ofcom: "a reasoned estimate of AMD false positives"; the FTC: every call a
person answered and no agent took). The simulator's ``AMD()`` in the rendered dialplan says MACHINE for the
answering machines; with ``amd_false_positive_rate: 0.25`` each verdict counts a quarter of an abandoned live
answer — in the live ledger, in the stats the API serves, in the ledger a restart rebuilds from the stored
attempts and in the abandonment record of the period."""

from __future__ import annotations

import pytest

from ctiserver.dialer.compliance import abandonment_record
from ctiserver.dialer.history import rebuild_ledger
from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode, RetryPolicy
from ctiserver.dialer.stats import AbandonLedger
from tests.dialer.waits import until
from tests.dialer.wire import Callee, number, window_around_now, wire

pytestmark = pytest.mark.slow

N = 10
RATE = 0.25


async def test_machine_verdicts_count_their_estimated_people_as_abandoned() -> None:
    callees = {number(i): Callee(reachable=True, answers=True, machine=i < 6, ring=0.5, talk=2.0) for i in range(N)}
    settings = CampaignSettings(
        name="fp",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=1),
        abandon_window="24h",
        amd_false_positive_rate=RATE,
    )
    contacts = [Contact(f"c{i}", "fp", number(i), "Europe/Berlin") for i in range(N)]
    async with wire(settings, contacts, callees, rendered=True) as w:
        await w.runner.start()
        done = (ContactStatus.PENDING, ContactStatus.DIALLING)
        assert await until(
            lambda: w.runner.counters["dialled"] >= N and all(c.status not in done for c in w.store._contacts.values()),
            60.0,
        ), w.runner.live_stats()
        assert await until(lambda: not w.runner._tasks, 30.0)
        now = w.runner.clock.now()
        stats = w.runner.live_stats()
        attempts = await w.store.attempts("fp")
        rebuilt = AbandonLedger(settings.abandon_cap, settings.abandon_window_seconds, false_positive_rate=RATE)
        await rebuild_ledger(w.store, "fp", rebuilt, now)
        record = await abandonment_record(w.store, settings, now - 3600.0, now + 1.0)
    machines = [a for a in attempts if a.outcome is Outcome.MACHINE]
    live = [a for a in attempts if a.outcome in (Outcome.HUMAN, Outcome.ABANDONED)]
    assert len(machines) == 6 and len(live) == 4, [(a.number, a.outcome) for a in attempts]
    abandoned = sum(a.abandoned for a in live)
    law = (abandoned + 6 * RATE) / (4 + 6 * RATE)  # 1.5 estimated people among 6 machine verdicts
    assert stats["amd_false_positives"] == pytest.approx(1.5)
    assert stats["abandon_rate_window"] == pytest.approx(law, abs=1e-4) and law > 0.25
    assert w.runner.ledger.totals(now) == pytest.approx((4 + 1.5, abandoned + 1.5))
    assert rebuilt.totals(now) == pytest.approx(w.runner.ledger.totals(now))  # a restart counts them again
    [day] = record.days
    assert (day.live, day.abandoned, day.machines, day.false_positives) == (4, abandoned, 6, 1.5)
    assert day.rate == pytest.approx(law) and record.worst is not None and record.worst.rate == pytest.approx(law)
    assert record.hours_over_cap >= 1  # 1.5 of 5.5 live answers: far over 3 %
