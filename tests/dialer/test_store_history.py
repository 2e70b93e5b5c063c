"""The store queries behind a restart's warm start, an agent's disposition and ``GET /api/callbacks``: the SQL
store (SQLite, PostgreSQL with a locale collation) answers as the in-memory one for the same data —
``attempts_since`` (ended since a time, newest first, by outcome, limited), ``live_answer_counts`` (the ledger
per bucket), ``contact_attempts``, ``callbacks`` (filter, order by time then campaign then id by code point,
limit) — the attempts' ``answered``/``talk_seconds`` round-trip, and on SQLite each query runs on an index."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ctiserver.dialer.model import AttemptRecord, Contact, ContactStatus, Outcome
from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.dialer.store import LIVE, MemoryDialerStore
from tests.dialer.sql_store import database_url, migrated_store
from tests.store.plans import query_plans

T0 = 1_800_000_000.0
TRICKY = ["a-2", "a1", "A1", "a_1", "B", "b", "k10", "k9", "Z", "é", "e", "f", "a 1", "a.1", "~"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def sql(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlDialerStore]:
    async with migrated_store(database_url(request, tmp_path)) as store:
        yield store


def _attempts(seed: int = 3) -> list[AttemptRecord]:
    rnd = random.Random(seed)
    out = []
    for n in range(300):
        outcome = rnd.choice(list(Outcome))
        started = T0 + rnd.randrange(3 * 24 * 12) * 300.0  # three days, 5-min steps: ties on `ended`
        answered = started + rnd.choice((4.0, 6.5)) if outcome in (*LIVE, Outcome.MACHINE) else None
        talk = rnd.choice((30.0, 95.5)) if outcome is Outcome.HUMAN else None
        ended = started + (talk or 0.0) + rnd.choice((10.0, 400.0))  # some end in the next bucket
        out.append(
            AttemptRecord(
                f"{rnd.choice(TRICKY)}-{n}" if n % 3 else rnd.choice(TRICKY) + str(n % 7),
                rnd.choice(("c1", "c1", "c2")),
                f"k{n % 40}",
                f"+4930{1000000 + n % 40}",
                started,
                outcome,
                ended,
                mode="predictive",
                answered=answered,
                talk_seconds=talk,
                connected=answered + 1.0 if talk is not None and answered is not None and n % 4 else None,
                late=talk is not None and n % 4 != 0 and n % 7 == 0,
                amd_audit=("pending", "person", "machine")[n % 3] if outcome in LIVE and n % 5 == 0 else None,
            )
        )
    unique = {a.id: a for a in out}  # ids are the primary key
    return list(unique.values())


def _contacts(seed: int = 5) -> list[Contact]:
    rnd = random.Random(seed)
    return [
        Contact(
            cid,
            camp,
            f"+4930{2000000 + n}",
            "Europe/Berlin",
            status=rnd.choice((ContactStatus.CALLBACK, ContactStatus.CALLBACK, ContactStatus.PENDING)),
            agent=rnd.choice((None, "a1", "a2")),
            next_at=T0 + rnd.randrange(6) * 60.0,  # many ties: campaign, then id decide
        )
        for n, cid in enumerate([*TRICKY, *(f"k{i}" for i in range(11, 51))])  # no id twice in a campaign
        for camp in ("c1", "c2", "c3")
        if rnd.random() < 0.7
    ]


async def _both(sql: SqlDialerStore) -> tuple[MemoryDialerStore, list[AttemptRecord], list[Contact]]:
    memory = MemoryDialerStore()
    attempts, contacts = _attempts(), _contacts()
    for store in (memory, sql):
        await store.add_contacts(contacts)
        for rec in attempts:
            await store.record_attempt(rec)
    return memory, attempts, contacts


async def test_history_queries_in_sql_are_the_memory_ones(sql: SqlDialerStore) -> None:
    memory, attempts, contacts = await _both(sql)
    by_id = sorted(await memory.attempts("c1"), key=lambda a: a.id)
    assert sorted(await sql.attempts("c1"), key=lambda a: a.id) == by_id != []  # answered/talk_seconds round-trip
    tie = sorted(a.ended for a in attempts)[len(attempts) // 2]
    for camp in ("c1", "c2", "none"):
        for since in (0.0, T0 + 86400.0, tie, T0 + 2.5 * 86400.0, T0 + 9 * 86400.0):
            for outcomes in (None, LIVE, (Outcome.NOANSWER,), ()):
                for limit in (None, 1, 7, 500):
                    want = await memory.attempts_since(camp, since, outcomes=outcomes, limit=limit)
                    got = await sql.attempts_since(camp, since, outcomes=outcomes, limit=limit)
                    assert got == want, (camp, since, outcomes, limit)
            assert await sql.amd_audit_counts(camp, since) == await memory.amd_audit_counts(camp, since)
            for until in (since + 86400.0, since + 10 * 86400.0, since):
                want_days = await memory.day_outcomes(camp, since, until)
                assert await sql.day_outcomes(camp, since, until) == want_days, (camp, since, until)
            for bucket in (900.0, 3600.0, 86400.0):
                assert await sql.live_answer_counts(camp, since, bucket) == await memory.live_answer_counts(
                    camp, since, bucket
                ), (camp, since, bucket)
    for cid in [f"k{i}" for i in range(40)] + ["nobody"]:
        for camp in ("c1", "c2"):
            assert await sql.contact_attempts(camp, cid) == await memory.contact_attempts(camp, cid)
    for campaigns in (["c1"], ["c1", "c2", "c3"], ["c3", "c2"], [], ["zz"]):
        for agent in (None, "a1", "a2", "zz"):
            for limit in (1, 5, 1000):
                want_cb = await memory.callbacks(campaigns, agent, limit)
                assert await sql.callbacks(campaigns, agent, limit) == want_cb, (campaigns, agent, limit)

    pending = [a for a in attempts if a.amd_audit == "pending"]
    assert len(pending) > 2 and sum(a.amd_audit == "machine" for a in attempts) > 2
    for store in (memory, sql):
        await store.set_amd_audit(pending[0].id, "machine")
        await store.set_amd_audit(pending[1].id, "person")
        await store.set_amd_audit(next(a.id for a in attempts if a.amd_audit == "person"), "machine")  # not pending
    by_id = sorted(await memory.attempts("c1"), key=lambda a: a.id)
    assert sorted(await sql.attempts("c1"), key=lambda a: a.id) == by_id
    assert await sql.live_answer_counts("c1", T0, 3600.0) == await memory.live_answer_counts("c1", T0, 3600.0)
    assert await sql.amd_audit_counts("c1", T0) == await memory.amd_audit_counts("c1", T0) != (0, 0)

    # the answers themselves, not only "alike"
    since = T0 + 86400.0
    mine = [a for a in attempts if a.campaign == "c1" and a.ended >= since]
    newest = await sql.attempts_since("c1", since)
    assert newest == sorted(mine, key=lambda a: (-a.ended, a.id)) and len({a.ended for a in newest}) < len(newest)
    live = await sql.attempts_since("c1", since, outcomes=LIVE, limit=10)
    assert live == [a for a in newest if a.outcome in LIVE][:10]
    assert all(a.answered is not None for a in live) and any(a.talk_seconds for a in live)
    counts = await sql.live_answer_counts("c1", since, 3600.0)
    # an audited MACHINE verdict an agent found a machine is no live answer
    assert sum(c.live for c in counts) == len([a for a in mine if a.outcome in LIVE and a.amd_audit != "machine"])
    abandoned = [a for a in mine if a.outcome is Outcome.ABANDONED and a.amd_audit != "machine"]
    assert sum(c.abandoned for c in counts) == len(abandoned) > 0
    assert sum(c.machines for c in counts) == len([a for a in mine if a.outcome is Outcome.MACHINE]) > 0
    starts = [c.start for c in counts]
    assert all(start % 3600.0 == 0.0 for start in starts) and starts == sorted(set(starts))
    k1 = await sql.contact_attempts("c1", "k1")
    assert k1 == sorted((a for a in attempts if (a.campaign, a.contact_id) == ("c1", "k1")), key=lambda a: a.started)
    assert len(k1) > 1
    callbacks = await sql.callbacks(["c1", "c2"], "a1", 1000)
    a1s = [c for c in contacts if c.campaign in ("c1", "c2") and c.agent == "a1"]
    a1s = [c for c in a1s if c.status is ContactStatus.CALLBACK]
    assert callbacks == sorted(a1s, key=lambda c: (c.next_at, c.campaign, c.id)) and len(callbacks) > 5
    assert (await sql.callbacks(["c1", "c2"], "a1", 3)) == callbacks[:3]


async def test_the_history_queries_run_on_indexes(tmp_path: Path) -> None:
    """SQLite's plan for each query searches one of the indexes meant for it (migration dialer_0003; the
    call-backs: the contacts' (campaign, status, …) ones) instead of scanning the table."""
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path / 'plan.sqlite'}") as sql:
        await _both(sql)
        engine = sql._sessions.kw["bind"]  # the test reaches into its own database
        calls = {
            "since": sql.attempts_since("c1", T0 + 86400.0, limit=500),
            "since_live": sql.attempts_since("c1", T0 + 86400.0, outcomes=LIVE, limit=500),
            "ledger": sql.live_answer_counts("c1", T0, 3600.0),
            "contact": sql.contact_attempts("c1", "k1"),
            "callbacks": sql.callbacks(["c1", "c2"], "a1", 200),
            "number": sql.number_attempts("+4930100001", T0),  # the repeat rule's, at every dial
            "known": sql.contact_ids_by_number("c1", ["+4930100001", "+4930100002"]),  # an import's
        }
        plans: dict[str, str] = {}
        for name, coro in calls.items():
            [plans[name]] = await query_plans(engine, coro)
    for name, plan in plans.items():
        assert "INDEX ix_dialer_" in plan and "SCAN " not in plan, (name, plan)  # a search, not a scan
    assert "ix_dialer_attempts_ended" in plans["since"]
    assert "COVERING INDEX ix_dialer_attempts_live" in plans["ledger"]
    assert "ix_dialer_attempts_contact" in plans["contact"]
    assert "ix_dialer_contacts_" in plans["callbacks"]
    assert "ix_dialer_attempts_number" in plans["number"]
    assert "ix_dialer_contacts_number" in plans["known"], plans["known"]
