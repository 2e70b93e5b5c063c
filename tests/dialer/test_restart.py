"""A daemon restart mid-day: the campaign's runner built again on the same store picks up what the old one knew —
the abandonment ledger of the regulatory window and the pacer's statistics of the last hours (answer rate,
answer / no-answer delays, talk times, the rolling abandonment rate) — so a predictive campaign goes on
predictive at once instead of measuring again (progressive meanwhile). Statistics older than the warm horizon
are not used; the ledger keeps its whole window. Run on the in-memory store and on SQLite."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from ctiserver.calls.tracker import Tracker
from ctiserver.clock import ManualClock
from ctiserver.dialer.history import WARM_HORIZON, warm_stats
from ctiserver.dialer.left_in_flight import fate_from
from ctiserver.dialer.model import (
    AttemptRecord,
    CampaignSettings,
    Contact,
    ContactStatus,
    Outcome,
    PacingMode,
    RetryPolicy,
)
from ctiserver.dialer.pacing import Predictive, PredictiveSettings
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.stats import DialStats
from ctiserver.dialer.store import DialerStore, MemoryDialerStore
from ctiserver.dialer.windows import CallingWindows
from ctiserver.events import InMemoryBus
from tests.calls.test_tracker_rules import chan
from tests.dialer.fakes import Behaviour, FakeDesk, FakeLines
from tests.dialer.sql_store import memory_or_sqlite

ALWAYS = CallingWindows(days={d: ("00:00-24:00",) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
SETTINGS = CampaignSettings(
    name="c1", mode=PacingMode.PREDICTIVE, windows=ALWAYS, retry=RetryPolicy(max_attempts=1), agent_wait=2.0
)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DialerStore]:
    async with memory_or_sqlite(request.param, tmp_path) as s:
        yield s


def _script(n: int) -> dict[str, list[Behaviour]]:
    """A third answer live after 4–6 s, the others ring out, are busy or reach a machine."""
    plan: dict[str, list[Behaviour]] = {}
    for i in range(n):
        if i % 3 == 0:
            b = Behaviour(Outcome.HUMAN, 4.0 + (i % 5) * 0.5)
        elif i % 3 == 1:
            b = Behaviour(Outcome.NOANSWER, 25.0)
        else:
            b = Behaviour(Outcome.BUSY, 2.0) if i % 2 else Behaviour(Outcome.MACHINE, 6.0)
        plan[f"+4930{1000000 + i}"] = [b]
    return plan


def _samples(stats: DialStats) -> dict[str, object]:
    """What the pacer reads, order-free (the stored order is by end, the live one by when each was measured)."""
    return {
        "outcomes": sorted(stats.outcomes),
        "answer_delay": sorted(stats.answer_delay._values),
        "fail_delay": sorted(stats.fail_delay._values),
        "talk": sorted(stats.talk._values),
        "recent_live": sorted(stats.recent_live),
    }


async def _until(clock: ManualClock, cond: object, limit: float = 3600.0, settle: float = 0.0) -> None:
    """Advance the clock second by second until ``cond()``; ``settle``: real seconds for the store's I/O to
    keep up after each step (a database answers in real time, not in the manual clock's)."""
    waited = 0.0
    while not cond() and waited < limit:  # type: ignore[operator]
        await clock.advance(1.0)
        waited += 1.0
        await asyncio.sleep(settle)
    assert cond(), f"not reached within {limit} s"  # type: ignore[operator]


async def _restarted(store: DialerStore, clock: ManualClock) -> CampaignRunner:
    runner = CampaignRunner(SETTINGS, store, FakeLines(clock), FakeDesk.with_agents(clock, 10), InMemoryBus(), clock)
    await runner.load_history()
    return runner


def _mode(runner: CampaignRunner) -> str:
    assert isinstance(runner.pacer, Predictive)
    runner.pacer.decide(runner.snapshot(), runner.clock.now())  # ten agents ready, nothing in flight
    return runner.pacer.last_mode


async def test_a_runner_built_after_a_restart_goes_on_predictive_with_the_same_ledger(store: DialerStore) -> None:
    clock = ManualClock()
    await store.add_contacts(
        [Contact(f"k{i}", "c1", f"+4930{1000000 + i}", "Europe/Berlin", name=f"K{i}") for i in range(600)]
    )
    desk = FakeDesk.with_agents(clock, 10, talk=40.0, wrap=5.0)
    before = CampaignRunner(SETTINGS, store, FakeLines(clock, _script(600)), desk, InMemoryBus(), clock)
    await before.load_history()
    assert _mode(before) == "progressive"  # nothing measured yet
    await before.start()
    try:
        settle = 0.0 if isinstance(store, MemoryDialerStore) else 0.004
        await _until(clock, lambda: before.counters["predictive_decisions"] >= 3, settle=settle)
        await before.pause()  # the daemon stops: what was in flight ends, then nothing more
        await _until(clock, lambda: before.in_flight == 0, limit=300.0, settle=settle)
    finally:
        await before.close()
    await asyncio.sleep(0)
    assert isinstance(before.pacer, Predictive) and before.pacer.last_mode == "predictive"
    live, abandoned = before.ledger.totals(clock.now())
    assert live >= 36 and before.stats.talk._values  # what the old runner had measured

    # the stored attempts carry what the statistics need
    stored = await store.attempts("c1")
    humans = [a for a in stored if a.outcome is Outcome.HUMAN]
    assert humans and all(a.answered is not None and a.talk_seconds == 40.0 for a in humans)
    assert all(a.answered is None and a.talk_seconds is None for a in stored if a.outcome is Outcome.NOANSWER)

    await clock.advance(60.0)  # the daemon is back a minute later
    after = await _restarted(store, clock)
    assert after.ledger.totals(clock.now()) == (live, abandoned)
    assert _mode(after) == "predictive"
    assert _samples(after.stats) == _samples(before.stats)
    assert after.stats.answer_rate == pytest.approx(before.stats.answer_rate)
    assert after.stats.live_count == 0  # the history is not news to the outer loop: θ did not move
    assert isinstance(after.pacer, Predictive) and after.pacer.theta == PredictiveSettings().theta

    fresh = await _restarted(MemoryDialerStore(), clock)  # the same campaign without its history
    assert _mode(fresh) == "progressive"

    # the next morning: the statistics are stale (measured again, progressive meanwhile); the ledger is not
    await clock.advance(WARM_HORIZON + 60.0)
    later = await _restarted(store, clock)
    assert len(later.stats.outcomes) == 0 and len(later.stats.talk) == 0
    assert later.ledger.totals(clock.now()) == (live, abandoned)
    assert _mode(later) == "progressive"


async def test_the_warm_start_takes_the_latest_attempts_up_to_the_sizes_kept_within_the_horizon() -> None:
    """The statistics keep the last ``window`` attempts (answer rate, no-answer delays) and the last ``window``
    live answers (answer delays, talk times, abandons), the oldest first; attempts that ended before the horizon
    are left out however few the recent ones are."""
    store, now = MemoryDialerStore(), 1_800_000_000.0
    records = []
    for i in range(60):  # one a minute over the last hour, every other one live (every tenth of those abandoned)
        ended = now - (60 - i) * 60.0
        if i % 2:
            abandoned = i % 10 == 1
            outcome = Outcome.ABANDONED if abandoned else Outcome.HUMAN
            started = ended - (20.0 if abandoned else 100.0 + i)
            rec = AttemptRecord(f"a{i:02d}", "c1", f"k{i}", "+4930", started, outcome, ended, answered=started + i / 10)
            records.append(rec if abandoned else replace(rec, talk_seconds=float(i)))
        else:
            records.append(
                AttemptRecord(f"a{i:02d}", "c1", f"k{i}", "+4930", ended - 30.0 - i, Outcome.NOANSWER, ended)
            )
    stale = now - WARM_HORIZON - 1.0  # before the horizon: never used
    records.append(AttemptRecord("old", "c1", "k0", "+4930", stale - 9.0, Outcome.HUMAN, stale, answered=stale - 8.0))
    for rec in random.Random(1).sample(records, len(records)):  # stored in any order
        await store.record_attempt(rec)

    stats = DialStats(window=10)
    assert await warm_stats(store, "c1", stats, now) == 10
    last10 = records[50:60]  # a50 … a59
    assert list(stats.outcomes) == [r.outcome is not Outcome.NOANSWER for r in last10]
    assert sorted(stats.fail_delay._values) == pytest.approx([30.0 + i for i in range(50, 60, 2)])
    live10 = [r for r in records[:60] if r.outcome is not Outcome.NOANSWER][-10:]  # a41 … a59: further back
    assert sorted(stats.answer_delay._values) == pytest.approx([i / 10 for i in range(41, 60, 2)])
    assert sorted(stats.talk._values) == sorted(r.talk_seconds for r in live10 if r.talk_seconds is not None)
    assert list(stats.recent_live) == [r.outcome is Outcome.ABANDONED for r in live10] and any(stats.recent_live)

    wide = DialStats()  # room for all: still nothing from before the horizon
    assert await warm_stats(store, "c1", wide, now) == 60 and len(wide.answer_delay) == 30
    assert await warm_stats(store, "c1", DialStats(), now, horizon=WARM_HORIZON + 60.0) == 61


async def test_contacts_a_killed_run_left_dialling_become_attempts_of_unknown_fate(store: DialerStore) -> None:
    """A daemon that dies with calls in flight leaves their contacts ``dialling`` (written before each dial). The
    next run counts each as an ``unknown`` attempt, as after an AMI link loss, and dials it again only after
    the ``failed`` delay (the call may have reached the callee) — not never, and not at once."""
    clock = ManualClock()
    settings = SETTINGS.model_copy(update={"retry": RetryPolicy(max_attempts=2, failed=600.0)})
    await store.save_campaign("c1", settings.model_dump(mode="json"), "paused")
    dialling = ContactStatus.DIALLING
    await store.add_contacts(
        [
            Contact("first", "c1", "+49301000001", "Europe/Berlin", status=dialling),
            Contact("last", "c1", "+49301000002", "Europe/Berlin", attempts=1, status=dialling),
            Contact("due", "c1", "+49301000003", "Europe/Berlin"),
        ]
    )
    bus = InMemoryBus()
    seen = bus.subscribe("dialer.attempt")
    service = DialerService(store, FakeLines(clock), FakeDesk.with_agents(clock, 1, talk=10.0, wrap=2.0), bus, clock)
    await service.load()
    assert await service.settle_left_in_flight() == 0  # no fate known (no call tracker): unknown
    try:
        first, last, due = [await store.get_contact("c1", c) for c in ("first", "last", "due")]
        assert first is not None and last is not None and due is not None
        assert (first.status, first.attempts, first.last_outcome) == (ContactStatus.PENDING, 1, Outcome.UNKNOWN)
        assert first.next_at == clock.now() + 600.0
        assert (last.status, last.attempts) == (ContactStatus.EXHAUSTED, 2)
        assert (due.status, due.attempts) == (ContactStatus.PENDING, 0)
        assert sorted(a.contact_id for a in await store.attempts("c1") if a.outcome is Outcome.UNKNOWN) == [
            "first",
            "last",
        ]
        assert len([await seen.get() for _ in range(2)]) == 2  # dialer.attempt for each
    finally:
        await service.close()


async def test_the_call_tracker_tells_what_became_of_each_call_left_in_flight(store: DialerStore) -> None:
    """With the attempt id on the contact (the call's id in the tracker): a call that reached an agent makes
    the contact done (a customer who talked is not dialled again), one that ended without it is of unknown
    fate, one still going on is judged once it ends."""
    clock = ManualClock()
    await store.save_campaign("c1", SETTINGS.model_dump(mode="json"), "paused")
    dialling = ContactStatus.DIALLING
    await store.add_contacts(
        [
            Contact(f"k{i}", "c1", f"+4930100000{i}", "Europe/Berlin", status=dialling, attempt=f"att-{i}")
            for i in range(3)
        ]
    )
    fates: dict[str, Outcome | None] = {"att-0": Outcome.HUMAN, "att-1": None, "att-2": Outcome.UNKNOWN}
    desk = FakeDesk.with_agents(clock, 1, talk=10.0, wrap=2.0)
    service = DialerService(store, FakeLines(clock), desk, InMemoryBus(), clock)
    await service.load()
    try:
        assert await service.settle_left_in_flight(fates.get) == 1  # att-1 goes on
        talked, going, gone = [await store.get_contact("c1", f"k{i}") for i in range(3)]
        assert talked is not None and going is not None and gone is not None
        assert (talked.status, talked.last_outcome, talked.attempt) == (ContactStatus.DONE, Outcome.HUMAN, None)
        assert (going.status, going.attempt) == (ContactStatus.DIALLING, "att-1")
        assert (gone.status, gone.last_outcome) == (ContactStatus.EXHAUSTED, Outcome.UNKNOWN)  # max_attempts 1
        fates["att-1"] = Outcome.UNKNOWN  # it ended without an agent
        assert await service.settle_left_in_flight(fates.get) == 0
        going = await store.get_contact("c1", "k1")
        assert going is not None and going.status is ContactStatus.EXHAUSTED
        ids = {a.id: a.outcome for a in await store.attempts("c1")}
        assert ids == {"att-0": Outcome.HUMAN, "att-1": Outcome.UNKNOWN, "att-2": Outcome.UNKNOWN}
    finally:
        await service.close()


def test_the_fate_of_an_attempt_is_the_fate_of_its_call() -> None:
    tracker = Tracker()
    events = [
        chan("Newchannel", 0, "PJSIP/trunk-1", "talked", "talked", "6"),
        chan("Newchannel", 1, "PJSIP/1001-2", "agent", "talked", "6"),
        chan("BridgeEnter", 2, "PJSIP/trunk-1", "talked", "talked", "6", BridgeUniqueid="b"),
        chan("BridgeEnter", 2, "PJSIP/1001-2", "agent", "talked", "6", BridgeUniqueid="b"),
        chan("Hangup", 9, "PJSIP/trunk-1", "talked", "talked", "6"),
        chan("Hangup", 9, "PJSIP/1001-2", "agent", "talked", "6"),
        chan("Newchannel", 3, "PJSIP/trunk-3", "rang", "rang", "5"),
        chan("Hangup", 20, "PJSIP/trunk-3", "rang", "rang", "5"),
        chan("Newchannel", 4, "PJSIP/trunk-4", "going", "going", "6"),
    ]
    for e in events:
        tracker.feed(e)
    fate = fate_from(tracker)
    assert fate("talked") is Outcome.HUMAN
    assert fate("rang") is Outcome.UNKNOWN
    assert fate("going") is None
    assert fate("never-seen") is Outcome.UNKNOWN
