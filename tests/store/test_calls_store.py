from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory
from ctiserver.store.models import CallRow, LegRow, QueueSegmentRow
from ctiserver.store.repository import CallRepository
from ctiserver.store.spool import Spool
from ctiserver.store.writer import DurableWriter
from tests.conftest import TRACES
from tests.servers.postgres import PostgresServer

CALLS = 40  # the first 40 calls of the load capture (240 would only make the test slower)


@cache
def _facts(scenario: str = "13-load-queue") -> tuple[dict[str, Any], ...]:
    """The facts the calls component persists (leg.ended, call.ended), in the order the tracker produced
    them, up to the ``CALLS``-th finished call."""
    from ctiserver.calls.tracker import Tracker
    from ctiserver.pbx.ami.codec import AmiDecoder
    from ctiserver.pbx.ami.messages import AmiEvent

    tracker = Tracker()
    out: list[dict[str, Any]] = []
    for msg in AmiDecoder().feed((TRACES / scenario / "ami.raw").read_bytes()):
        if isinstance(msg, AmiEvent):
            for ev in tracker.feed(msg):
                if ev.type == "leg.ended":
                    out.append({"kind": "leg", "data": dict(ev.data)})
                elif ev.type == "call.ended":
                    out.append({"kind": "call", "data": dict(ev.data)})
                    if sum(f["kind"] == "call" for f in out) == CALLS:
                        return tuple(out)
    return tuple(out)


def _expected_counts() -> tuple[int, int, int]:
    calls = [f["data"] for f in _facts() if f["kind"] == "call"]
    legs = {
        leg["uniqueid"]
        for f in _facts()
        for leg in ([f["data"]] if f["kind"] == "leg" else f["data"]["legs"])
    }
    assert len(calls) == CALLS
    return CALLS, len(legs), sum(len(c["queues"]) for c in calls)


async def _counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            calls = (await conn.execute(select(func.count()).select_from(CallRow))).scalar_one()
            legs = (await conn.execute(select(func.count()).select_from(LegRow))).scalar_one()
            segs = (await conn.execute(select(func.count()).select_from(QueueSegmentRow))).scalar_one()
            return calls, legs, segs
    finally:
        await engine.dispose()


async def test_replayed_facts_never_duplicate(db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url)
    engine = make_engine(db_url)
    repo = CallRepository(session_factory(engine))
    facts = list(_facts())
    try:
        await repo.apply(facts)
        await repo.apply(facts[:100])  # a replay of the first facts
        async with session_factory(engine)() as s:
            row = await s.get(CallRow, "cti-test-1795370239.0")
            assert row is not None and row.state == "ended" and row.caller_num == "loadcaller"
            seg = await s.get(QueueSegmentRow, ("cti-test-1795370239.0", 0))
            assert seg is not None and seg.outcome == "answered" and seg.agent == "Load Agent 2001"
            assert seg.talk_seconds == 3.0
    finally:
        await engine.dispose()
    assert await _counts(db_url) == _expected_counts()


class FlakySink:
    def __init__(self) -> None:
        self.down = False
        self.applied: list[dict[str, Any]] = []

    async def apply(self, facts: Any) -> None:
        if self.down:
            raise ConnectionRefusedError("db down")
        self.applied.extend(facts)


async def test_writer_spools_in_order_and_replays(tmp_path: Path) -> None:
    sink = FlakySink()
    writer = DurableWriter(sink, Spool(tmp_path / "spool.jsonl"))
    facts = [{"kind": "leg", "data": {"n": i}} for i in range(30)]
    assert await writer.write(facts[:10])
    sink.down = True
    for f in facts[10:20]:
        assert not await writer.write([f])
    sink.down = False
    # the DB is back, but the spool is not drained yet: new facts queue behind it to keep order
    assert not await writer.write(facts[20:25])
    assert await writer.drain()
    assert await writer.write(facts[25:])
    assert [f["data"]["n"] for f in sink.applied] == list(range(30))
    assert not writer.spool.pending()


async def test_spool_skips_a_torn_last_line(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    await spool.append([{"a": 1}, {"a": 2}])
    with (tmp_path / "s.jsonl").open("ab") as f:
        f.write(b'{"a": 3')
    records, size = await spool.read_all()
    assert records == [{"a": 1}, {"a": 2}]
    assert size == (tmp_path / "s.jsonl").stat().st_size


@pytest.mark.postgres
async def test_nothing_lost_when_postgres_stops_mid_stream(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.url(postgres_server.create_database())
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    spool = Spool(tmp_path / "spool" / "calls.jsonl")
    writer = DurableWriter(
        CallRepository(session_factory(engine)), spool, write_timeout=10, retry_interval=0.2
    )
    facts = list(_facts())
    third = len(facts) // 3
    drainer: asyncio.Task[None] | None = None
    try:
        for f in facts[:third]:
            assert await writer.write([f])
        await asyncio.to_thread(postgres_server.stop)
        try:
            results = [await writer.write([f]) for f in facts[third : 2 * third]]
            assert not any(results)
            assert spool.pending() and writer.spooled == third
            drainer = asyncio.create_task(writer.run())  # the store component's background task
            await asyncio.sleep(0.5)
            assert spool.pending()  # still down: nothing replayed, nothing lost
        finally:
            await asyncio.to_thread(postgres_server.start)
        async with asyncio.timeout(60):
            await writer.drained.wait()
        assert not spool.pending()
        for f in facts[2 * third :]:
            assert await writer.write([f])
    finally:
        if drainer is not None:
            drainer.cancel()
        await engine.dispose()
    assert await _counts(url) == _expected_counts()
    assert writer.replayed == third


@pytest.mark.postgres
async def test_database_down_at_start_migrates_and_replays_when_it_returns(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    from pydantic import SecretStr

    from ctiserver.config import DatabaseConfig
    from ctiserver.store.database import Database

    url = postgres_server.url(postgres_server.create_database())
    await asyncio.to_thread(postgres_server.stop)
    db = Database(DatabaseConfig(url=SecretStr(url), spool_dir=str(tmp_path / "spool")), retry_interval=0.2)
    task: asyncio.Task[None] | None = None
    try:
        try:
            assert not await db.try_migrate()
            facts = list(_facts())
            for f in facts:
                assert not await db.writer.write([f])  # spooled: no schema, no server
            task = asyncio.create_task(db.maintain())
        finally:
            await asyncio.to_thread(postgres_server.start)
        async with asyncio.timeout(90):
            await db.writer.drained.wait()
        assert db.migrated and not db.spool.pending()
    finally:
        if task is not None:
            task.cancel()
        await db.close()
    assert await _counts(url) == _expected_counts()
