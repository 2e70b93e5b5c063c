"""Contacts and attempts pages from the database: the SQL store (SQLite, PostgreSQL) gives the same pages as the
in-memory store for the same data — filters, order (ids by code point, attempts newest first with ties broken
by id), the last partial page, an offset past the end, another campaign's rows left out."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from ctiserver.dialer.model import AttemptRecord, Contact, ContactStatus, Outcome
from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.dialer.store import MemoryDialerStore
from tests.dialer.sql_store import database_url, migrated_store
from tests.store.plans import query_plans

# ids whose order differs between code points and a locale's collation (case, punctuation, digits, accents)
TRICKY = ["a-2", "a1", "A1", "a_1", "B", "b", "k10", "k9", "Z", "é", "e", "f", "a 1", "a.1", "~"]
STATUSES = [ContactStatus.PENDING, ContactStatus.DONE, ContactStatus.EXHAUSTED, ContactStatus.CALLBACK]
OUTCOMES = [Outcome.NOANSWER, Outcome.MACHINE, Outcome.BUSY, Outcome.HUMAN]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def sql(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlDialerStore]:
    async with migrated_store(database_url(request, tmp_path)) as store:
        yield store


def _data(seed: int = 7) -> tuple[list[Contact], list[AttemptRecord]]:
    rnd = random.Random(seed)
    ids = TRICKY + [f"k{i}" for i in range(11, 241)]  # no id twice in a campaign
    rnd.shuffle(ids)
    contacts = [
        Contact(
            cid,
            camp,
            f"+4930{1000000 + n}",
            "Europe/Berlin",
            name=f"N{n}",
            fields={"n": str(n)},
            status=rnd.choice(STATUSES),
            attempts=n % 4,
            next_at=float(n),
        )
        for n, cid in enumerate(ids)
        for camp in (("c1", "c2") if n % 5 == 0 else ("c1",))  # some ids in two campaigns
    ]
    attempts = [
        AttemptRecord(
            f"a{n}",
            rnd.choice(["c1", "c1", "c1", "c2"]),
            f"k{n}",
            f"+4930{1000000 + n}",
            1000.0 + rnd.randrange(40) * 0.5,  # many ties on `started`: the id breaks them
            rnd.choice(OUTCOMES),
            2000.0 + n,
            mode="predictive",
        )
        for n in range(260)
    ]
    return contacts, attempts


async def _compare(memory: MemoryDialerStore, sql: SqlDialerStore) -> tuple[int, int]:
    """Every page of every filter alike in both stores; (partial pages, offsets past the end) seen."""
    windows = [(0, 1000), (0, 10), (10, 10), (240, 10), (230, 50), (7, 3), (245, 1000), (400, 10), (10**6, 5)]
    partial = past_end = 0
    for camp in ("c1", "c2", "none"):
        for status in (None, *STATUSES, ContactStatus.DNC):
            for offset, limit in windows:
                want = await memory.contacts_page(camp, offset, limit, status)
                assert await sql.contacts_page(camp, offset, limit, status) == want, (camp, status, offset, limit)
                partial += 0 < len(want[1]) < limit
                past_end += want[0] > 0 and offset >= want[0]
        for outcome in (None, *OUTCOMES, Outcome.UNKNOWN):
            for offset, limit in windows:
                got = await memory.attempts_page(camp, offset, limit, outcome)
                assert await sql.attempts_page(camp, offset, limit, outcome) == got, (camp, outcome, offset, limit)
    return partial, past_end


async def test_sql_pages_are_the_memory_pages(sql: SqlDialerStore) -> None:
    memory = MemoryDialerStore()
    contacts, attempts = _data()
    for store in (memory, sql):
        await store.add_contacts(contacts)
        for rec in attempts:
            await store.record_attempt(rec)
    checked_partial, checked_past_end = await _compare(memory, sql)
    assert checked_partial > 10 and checked_past_end > 10  # the windows did reach the edges
    # the order is the query's, not an index's: the same pages with the paging indexes gone
    async with sql._sessions() as s, s.begin():  # the test reaches into its own database
        for ix in ("ix_dialer_contacts_status", "ix_dialer_attempts_page", "ix_dialer_attempts_outcome"):
            await s.execute(text(f"DROP INDEX {ix}"))
    await _compare(memory, sql)

    # the pages themselves (not only "alike"): ids by code point, all of one campaign, every row once
    total, page = await sql.contacts_page("c1", 0, 1000)
    assert total == len([c for c in contacts if c.campaign == "c1"]) == len(page)
    assert [c.id for c in page] == sorted(c.id for c in contacts if c.campaign == "c1")
    assert page[0] == next(c for c in contacts if c.campaign == "c1" and c.id == page[0].id)  # whole contacts
    total, done = await sql.contacts_page("c1", 0, 1000, ContactStatus.DONE)
    assert 0 < total < len(page) and {c.status for c in done} == {ContactStatus.DONE}
    total, recs = await sql.attempts_page("c1", 0, 1000)
    mine = [a for a in attempts if a.campaign == "c1"]
    assert total == len(mine) and recs == sorted(mine, key=lambda a: (-a.started, a.id))
    assert len({a.started for a in recs}) < len(recs)  # ties were there to break
    total, machine = await sql.attempts_page("c1", 2, 5, Outcome.MACHINE)
    assert total == len([a for a in mine if a.outcome is Outcome.MACHINE])
    assert machine == [a for a in recs if a.outcome is Outcome.MACHINE][2:7]

    # a status change moves the contact between the filtered pages at once
    first = page[0]
    await sql.save_contact(replace(first, status=ContactStatus.DNC))
    total, dnc = await sql.contacts_page("c1", 0, 10, ContactStatus.DNC)
    assert total == 1 and dnc[0].id == first.id


async def test_a_contact_keeps_every_zone_its_number_may_be_in(sql: SqlDialerStore) -> None:
    """A US toll-free number may be in 42 zones: all of them are kept (PostgreSQL refused the row before
    migration dialer_0006 widened the column from 64 characters)."""
    from ctiserver.dialer.numbers import timezone_of

    zones = timezone_of("+18005550100")
    assert len(zones) > 64 and zones.count(",") > 30
    await sql.add_contacts([Contact("k1", "c1", "+18005550100", zones)])
    got = await sql.get_contact("c1", "k1")
    assert got is not None and got.timezone == zones


async def test_dnc_pages_are_the_memory_stores_and_list_every_number_once(sql: SqlDialerStore) -> None:
    """Keyset pages of a do-not-call list (``after`` = the previous page's last number) on SQLite and on PostgreSQL
    with an ICU collation: the memory store's pages, whatever the page size; every number once, none skipped."""
    numbers = [f"+{cc}{n:07d}" for cc in ("1", "44", "7", "380") for n in range(0, 700, 7)] + ["+12", "+1", "+9"]
    memory = MemoryDialerStore()
    for store in (sql, memory):
        assert await store.dnc_add(numbers, "c1") == len(numbers)
        await store.dnc_add(["+5550000000"], "c2")  # another list: left out
    for limit in (1, 37, 500):
        pages: list[list[str]] = []
        after = None
        while page := await sql.dnc_page("c1", after, limit):
            assert page == await memory.dnc_page("c1", after, limit)
            pages.append(page)
            after = page[-1]
        assert [n for p in pages for n in p] == sorted(numbers)


@pytest.mark.parametrize("due_now", [40, 1500])  # few due (sorted), many due (read in order, status by status)
async def test_due_is_the_memory_stores_with_few_or_many_due(sql: SqlDialerStore, due_now: int) -> None:
    rnd = random.Random(due_now)
    ids = TRICKY + [f"n{i}" for i in range(2000)]
    contacts = [
        Contact(
            cid,
            "c1",
            f"+4930{n:07d}",
            "Europe/Berlin",
            status=ContactStatus.CALLBACK if n % 3 == 0 else ContactStatus.PENDING,
            priority=rnd.choice([0, 0, 1, 5]),
            next_at=float(rnd.randrange(20)) if n < due_now else 500.0 + n,  # ties on next_at: the id decides
        )
        for n, cid in enumerate(ids)
    ] + [Contact("x", "c2", "+1", "UTC"), Contact("done", "c1", "+2", "UTC", status=ContactStatus.DONE)]
    memory = MemoryDialerStore()
    await memory.add_contacts(contacts)
    await sql.add_contacts(contacts)
    for limit in (1, 60, 700):
        expected = [c.id for c in await memory.due("c1", 100.0, limit)]
        assert [c.id for c in await sql.due("c1", 100.0, limit)] == expected, limit
        assert len(expected) == min(limit, due_now)


async def test_many_due_are_read_in_order_not_sorted(tmp_path: Path) -> None:
    """SQLite's plans for ``due`` with many due: the count searches the due index alone, and each status is read
    on ``ix_dialer_contacts_order`` with no sort of its own (a sort of every due row was 105 ms at 200,000)."""
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path / 'plan.sqlite'}") as sql:
        await sql.add_contacts(Contact(f"k{i}", "c1", f"+4930{i:07d}", "UTC", next_at=i % 50) for i in range(1200))
        engine = sql._sessions.kw["bind"]  # the test reaches into its own database
        due: list[Contact] = []

        async def read() -> None:
            due.extend(await sql.due("c1", 100.0, 60))

        plans = await query_plans(engine, read())
    assert len(due) == 60
    count, *reads = plans
    assert "COVERING INDEX ix_dialer_contacts_due" in count, count
    assert len(reads) == 2 and all("ix_dialer_contacts_order" in p and "TEMP B-TREE" not in p for p in reads), reads
