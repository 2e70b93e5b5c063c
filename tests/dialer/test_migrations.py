"""The dialer's migration branch: dialer_0003 and dialer_0004 on a database at dialer_0002 that holds attempts
already — the rows stay, the new columns are empty (``late`` false) for them, the new queries and indexes work;
and back down to dialer_0002."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ctiserver.dialer.model import AttemptRecord, LedgerCounts, Outcome
from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory
from tests.dialer.sql_store import database_url

INSERT = (
    "INSERT INTO dialer_attempts (id, campaign, contact_id, number, started, ended, outcome, channel, agent,"
    " amd_status, amd_cause, mode) VALUES (:id, 'c1', :contact, '+4930100', :started, :ended, :outcome, NULL,"
    " :agent, NULL, NULL, 'predictive')"
)
OLD = [  # written before dialer_0003: (id, contact, started, ended, outcome, agent)
    ("a1", "k1", 100.0, 160.0, "human", "a7"),
    ("a2", "k2", 110.0, 135.0, "noanswer", None),
    ("a3", "k1", 200.0, 205.0, "abandoned", None),
]
NEW_INDEXES = {"ix_dialer_attempts_ended", "ix_dialer_attempts_live", "ix_dialer_attempts_contact"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, tmp_path)


async def _shape(url: str) -> tuple[set[str], set[str], int]:
    """(the attempts' columns, their indexes, how many rows)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def read(c: object) -> tuple[set[str], set[str]]:
                insp = inspect(c)
                cols = {col["name"] for col in insp.get_columns("dialer_attempts")}
                return cols, {str(ix["name"]) for ix in insp.get_indexes("dialer_attempts")}

            cols, indexes = await conn.run_sync(read)
            rows = (await conn.execute(text("SELECT count(*) FROM dialer_attempts"))).scalar_one()
            return cols, indexes, int(rows)
    finally:
        await engine.dispose()


async def test_dialer_0003_0004_upgrade_a_database_with_attempts_and_back(db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url, "dialer_0002")
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            for id_, contact, started, ended, outcome, agent in OLD:
                await conn.execute(
                    text(INSERT),
                    {
                        "id": id_,
                        "contact": contact,
                        "started": started,
                        "ended": ended,
                        "outcome": outcome,
                        "agent": agent,
                    },
                )
        cols, indexes, _ = await _shape(db_url)
        assert "answered" not in cols and not NEW_INDEXES & indexes

        await asyncio.to_thread(migrate.upgrade, db_url)
        assert "dialer_0008" in await asyncio.to_thread(migrate.current, db_url)
        cols, indexes, rows = await _shape(db_url)
        assert {"answered", "talk_seconds", "connected", "late", "amd_audit"} <= cols and NEW_INDEXES <= indexes
        assert rows == 3
        store = SqlDialerStore(session_factory(engine))
        old = await store.attempts("c1")
        assert [(a.id, a.outcome, a.answered, a.talk_seconds, a.connected, a.late) for a in old] == [
            ("a1", Outcome.HUMAN, None, None, None, False),
            ("a2", Outcome.NOANSWER, None, None, None, False),
            ("a3", Outcome.ABANDONED, None, None, None, False),
        ]
        assert [a.id for a in await store.attempts_since("c1", 150.0)] == ["a3", "a1"]
        assert [a.id for a in await store.contact_attempts("c1", "k1")] == ["a1", "a3"]
        assert await store.live_answer_counts("c1", 0.0, 3600.0) == [LedgerCounts(0.0, 2, 1)]
        new = AttemptRecord(
            "a4", "c1", "k3", "+4930100", 300.0, Outcome.HUMAN, 400.0, answered=305.0, talk_seconds=90.0
        )
        await store.record_attempt(new)
        assert await store.attempts_since("c1", 350.0) == [new]
        # served, but its agent's phone answered past the two seconds: the law's abandoned call, in the ledger
        late = AttemptRecord(
            "a5", "c1", "k4", "+4930101", 300.0, Outcome.HUMAN, 410.0, answered=305.0, talk_seconds=80.0,
            connected=308.5, late=True,
        )  # fmt: skip
        await store.record_attempt(late)
        assert await store.attempts_since("c1", 405.0) == [late]
        assert await store.live_answer_counts("c1", 0.0, 3600.0) == [LedgerCounts(0.0, 4, 2)]
    finally:
        await engine.dispose()

    await asyncio.to_thread(migrate.downgrade, db_url, "dialer_0002")
    cols, indexes, rows = await _shape(db_url)
    assert not {"answered", "talk_seconds", "connected", "late"} & cols and not NEW_INDEXES & indexes and rows == 5
    assert {"ix_dialer_attempts_page", "ix_dialer_attempts_outcome"} <= indexes  # dialer_0002's stay
