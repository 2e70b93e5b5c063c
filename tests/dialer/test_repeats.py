"""The repeat rule's arithmetic (``dialer/repeats.py``) on both stores: which earlier attempts on a number make
a new call to it wait for an agent held for it, and for how long."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ctiserver.dialer.model import AttemptRecord, CampaignSettings, Outcome, RepeatRules
from ctiserver.dialer.repeats import repeat_rules
from ctiserver.dialer.store import DialerStore
from tests.dialer.sql_store import memory_or_sqlite

NOW = 1_800_000_000.0
HOUR = 3600.0
US = CampaignSettings(name="us")
UK = CampaignSettings(name="uk", abandon_window="24h")


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DialerStore]:
    async with memory_or_sqlite(request.param, tmp_path) as s:
        yield s


async def agent_must_be_held(store: DialerStore, settings: CampaignSettings, number: str, now: float) -> bool:
    return (await repeat_rules(store, settings, number, now)).hold_agent


def _attempt(n: int, number: str, outcome: Outcome, hours_ago: float, late: bool = False) -> AttemptRecord:
    ended = NOW - hours_ago * HOUR
    return AttemptRecord(f"a{n}", "other", f"k{n}", number, ended - 20.0, outcome, ended, late=late)


async def test_abandoned_numbers_wait_72_hours_for_a_held_agent(store: DialerStore) -> None:
    await store.record_attempt(_attempt(1, "+1", Outcome.ABANDONED, 71.9))
    await store.record_attempt(_attempt(2, "+2", Outcome.ABANDONED, 72.1))
    await store.record_attempt(_attempt(3, "+3", Outcome.HUMAN, 1.0, late=True))  # an agent took it too late
    await store.record_attempt(_attempt(4, "+4", Outcome.HUMAN, 1.0))
    await store.record_attempt(_attempt(5, "+5", Outcome.NOANSWER, 1.0))
    held = {n: await agent_must_be_held(store, US, n, NOW) for n in ("+1", "+2", "+3", "+4", "+5", "+6")}
    assert held == {"+1": True, "+2": False, "+3": True, "+4": False, "+5": False, "+6": False}
    off = CampaignSettings(name="off", repeat_with_agent=RepeatRules(abandoned=0))
    assert not await agent_must_be_held(store, off, "+1", NOW)


async def test_machine_verdicts_wait_24_hours_under_the_24_hour_regime(store: DialerStore) -> None:
    await store.record_attempt(_attempt(1, "+1", Outcome.MACHINE, 23.0))
    await store.record_attempt(_attempt(2, "+2", Outcome.MACHINE, 25.0))
    assert await agent_must_be_held(store, UK, "+1", NOW)
    assert not await agent_must_be_held(store, UK, "+2", NOW)
    assert not await agent_must_be_held(store, US, "+1", NOW)  # the US rules say nothing of machines
    us_too = CampaignSettings(name="us2", repeat_with_agent=RepeatRules(machine=48 * HOUR))
    assert await agent_must_be_held(store, us_too, "+2", NOW)
    assert UK.machine_repeat_seconds == 24 * HOUR and US.machine_repeat_seconds == 0.0


async def test_number_attempts_cover_every_campaign_from_a_time(store: DialerStore) -> None:
    await store.record_attempt(_attempt(1, "+1", Outcome.BUSY, 2.0))
    await store.record_attempt(AttemptRecord("b", "mine", "k9", "+1", NOW - 60.0, Outcome.HUMAN, NOW - 30.0))
    await store.record_attempt(_attempt(3, "+2", Outcome.BUSY, 0.5))
    assert sorted(a.id for a in await store.number_attempts("+1", NOW - 3 * HOUR)) == ["a1", "b"]
    assert [a.id for a in await store.number_attempts("+1", NOW - HOUR)] == ["b"]


async def test_at_most_n_calls_a_day_to_a_number_over_every_campaign(store: DialerStore) -> None:
    capped = CampaignSettings(name="fl", max_calls_per_day=3)
    for n, hours_ago in enumerate((23.0, 10.0, 1.0, 30.0)):
        await store.record_attempt(_attempt(n, "+1", Outcome.NOANSWER, hours_ago))
    await store.record_attempt(_attempt(9, "+2", Outcome.BUSY, 2.0))
    verdict = await repeat_rules(store, capped, "+1", NOW)
    # three in the last 24 h: the next once the oldest of them (started 23 h ago + 20 s) is a day old
    assert verdict.not_before == pytest.approx(NOW - 23.0 * HOUR - 20.0 + 24 * HOUR)
    assert (await repeat_rules(store, capped, "+2", NOW)).not_before is None
    assert (await repeat_rules(store, US, "+1", NOW)).not_before is None  # no cap by default
    one = CampaignSettings(name="one", max_calls_per_day=1)
    assert (await repeat_rules(store, one, "+1", NOW)).not_before == pytest.approx(NOW - HOUR - 20.0 + 24 * HOUR)
