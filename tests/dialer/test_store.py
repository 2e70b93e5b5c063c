"""The two ``DialerStore``s behave alike: the in-memory one and the SQL one on a migrated SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from ctiserver.clock import ManualClock
from ctiserver.dialer.model import AttemptRecord, Contact, ContactStatus, Outcome
from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.dialer.store import DialerStore
from ctiserver.dialer.tables import CampaignRow, DncRow
from tests.dialer.sql_store import memory_or_sqlite
from tests.store.migrated import migrated


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DialerStore]:
    async with memory_or_sqlite(request.param, tmp_path) as s:
        yield s


def _c(i: int, **kw: object) -> Contact:
    return Contact(f"k{i}", "c1", f"+4930{1000000 + i}", "Europe/Berlin", name=f"N{i}", fields={"x": str(i)}, **kw)  # type: ignore[arg-type]


async def test_has_open_while_a_contact_is_left_or_being_dialled(store: DialerStore) -> None:
    assert not await store.has_open("c1")
    await store.add_contacts([_c(1, status=ContactStatus.DONE), _c(2, status=ContactStatus.EXHAUSTED)])
    await store.add_contacts([replace(_c(9), campaign="c2")])  # another campaign's pending contact
    assert not await store.has_open("c1") and await store.has_open("c2")
    for status in (ContactStatus.PENDING, ContactStatus.CALLBACK, ContactStatus.DIALLING):
        await store.save_contact(_c(3, status=status))
        assert await store.has_open("c1"), status
    for status in (ContactStatus.DNC, ContactStatus.DONE):
        await store.save_contact(_c(3, status=status))
        assert not await store.has_open("c1"), status


async def test_counts_by_status_and_outcome(store: DialerStore) -> None:
    assert await store.counts("c1") == ({}, {})
    await store.add_contacts([_c(1), _c(2), _c(3, status=ContactStatus.DONE), replace(_c(4), campaign="c2")])
    for i, outcome in enumerate([Outcome.HUMAN, Outcome.HUMAN, Outcome.BUSY]):
        await store.record_attempt(AttemptRecord(f"a{i}", "c1", "k1", "+4930", 1.0 + i, outcome, 2.0 + i))
    await store.record_attempt(AttemptRecord("b", "c2", "k4", "+4930", 1.0, Outcome.MACHINE, 2.0))
    assert await store.counts("c1") == ({"pending": 2, "done": 1}, {"human": 2, "busy": 1})
    assert await store.counts("c2") == ({"pending": 1}, {"machine": 1})


async def test_due_order_and_updates(store: DialerStore) -> None:
    await store.add_contacts(
        [
            _c(1, next_at=50.0),
            _c(2, next_at=10.0),
            _c(3, priority=2, next_at=90.0),
            _c(4, next_at=500.0),
            _c(5, status=ContactStatus.DONE),
        ]
    )
    due = await store.due("c1", 100.0, 10)
    assert [c.id for c in due] == ["k3", "k2", "k1"]
    assert due[0].fields == {"x": "3"}
    await store.save_contact(replace(due[0], status=ContactStatus.EXHAUSTED, attempts=3, last_outcome=Outcome.NOANSWER))
    got = await store.get_contact("c1", "k3")
    assert got is not None and got.status is ContactStatus.EXHAUSTED and got.last_outcome is Outcome.NOANSWER
    assert [c.id for c in await store.due("c1", 100.0, 1)] == ["k2"]
    assert len(await store.contacts("c1")) == 5
    assert await store.get_contact("c1", "nope") is None


async def test_attempts_and_dnc(store: DialerStore) -> None:
    rec = AttemptRecord(
        "a1",
        "c1",
        "k1",
        "+49301000001",
        1.0,
        Outcome.MACHINE,
        9.0,
        "ch",
        None,
        "MACHINE",
        "TOOLONG",
        "predictive",
    )
    await store.record_attempt(rec)
    assert await store.attempts("c1") == [rec]
    assert await store.attempts("other") == []
    assert await store.dnc_add(["+1", "+2"]) == 2
    assert await store.dnc_add(["+2", "+3"], campaign="c1", reason="asked") == 2
    assert await store.dnc_add(["+1"]) == 0
    assert await store.dnc_contains("+1", "c1") and await store.dnc_contains("+3", "c1")
    assert not await store.dnc_contains("+3", "c2")
    assert await store.dnc_list() == ["+1", "+2"]
    assert await store.dnc_page("", None, 1) == ["+1"] and await store.dnc_page("", "+1", 5) == ["+2"]
    assert await store.dnc_page("c1", "+3", 5) == []
    many = [f"+4930{i:07d}" for i in range(1200)]  # more than one chunk of the SQL store, half listed already
    assert await store.dnc_add(many[::2], campaign="big") == 600
    assert await store.dnc_add(many + many[:10], campaign="big") == 600  # each new number once
    assert len(await store.dnc_list("big")) == 1200 and await store.dnc_page("big", many[1100], 500) == many[1101:]
    assert await store.dnc_remove("+1") and not await store.dnc_remove("+1")
    assert not await store.dnc_contains("+1", "c1")
    await store.save_campaign("c1", {"name": "c1", "mode": "predictive"}, "running")
    assert await store.campaigns() == [("c1", {"name": "c1", "mode": "predictive"}, "running")]


async def test_delete_campaign_keeps_other_campaigns_and_the_attempts(store: DialerStore) -> None:
    await store.add_contacts([_c(1), _c(2), replace(_c(3), campaign="c2")])
    await store.save_campaign("c1", {"name": "c1"}, "stopped")
    await store.save_campaign("c2", {"name": "c2"}, "draft")
    await store.record_attempt(AttemptRecord("a1", "c1", "k1", "+49301000001", 1.0, Outcome.BUSY, 2.0))
    await store.delete_campaign("c1")
    assert await store.contacts("c1") == [] and await store.get_contact("c1", "k1") is None
    assert [c.id for c in await store.contacts("c2")] == ["k3"]
    assert [name for name, _, _ in await store.campaigns()] == ["c2"]
    assert [a.id for a in await store.attempts("c1")] == ["a1"]  # the legs' history stays


async def test_contact_ids_by_number_and_dropping_known_numbers(store: DialerStore) -> None:
    from ctiserver.dialer.store import drop_known_numbers

    await store.add_contacts([_c(1), _c(2), replace(_c(3), campaign="other")])
    assert await store.contact_ids_by_number("c1", {_c(1).number, _c(3).number, "+1"}) == {_c(1).number: "k1"}
    fresh = [replace(_c(1), id="new"), _c(2), _c(3), _c(4)]  # k1's number under a new id; k2 itself again
    kept, dropped = await drop_known_numbers(store, "c1", fresh)
    assert [c.id for c in kept] == ["k2", "k3", "k4"] and dropped == 1


async def test_the_rows_are_stamped_by_the_injected_clock(tmp_path: Path) -> None:
    """A DNC entry's ``added`` and a campaign's ``updated`` come from the daemon's clock, not the wall clock."""
    async with migrated(f"sqlite+aiosqlite:///{tmp_path / 'dialer.sqlite'}") as sessions:
        store = SqlDialerStore(sessions, ManualClock(start=1_000.0))
        await store.dnc_add(["+15550100"], reason="asked")
        await store.save_campaign("spring", {}, "draft")
        async with sessions() as s:
            added = (await s.scalars(select(DncRow.added))).all()
            updated = (await s.scalars(select(CampaignRow.updated))).all()
    assert added == [1_000.0] and updated == [1_000.0]
