from __future__ import annotations

import asyncio
from pathlib import Path

from ctiserver.recording.config import RecordingConfig
from ctiserver.recording.meta import Pause, RecordingMeta, RecState
from ctiserver.recording.purge import DAY, purge
from ctiserver.recording.sql import SqlRecordingStore
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory
from ctiserver.store.sqlite_reads import SqliteReads


async def test_metadata_round_trip_and_purge_in_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    try:
        store = SqlRecordingStore(session_factory(engine))
        now = 1_800_000_000.0
        meta = RecordingMeta(
            "c1-1",
            "c1",
            "sales",
            "a1",
            "bridge:b",
            str(tmp_path / "c1-1.wav"),
            "wav",
            now - 40 * DAY,
            RecState.DONE,
            now - 40 * DAY + 30,
            25.0,
            400_044,
            (Pause("agent:a1", now - 40 * DAY + 3, now - 40 * DAY + 8, "agent:a1"),),
        )
        await store.save(meta)
        await store.save(
            meta.with_(name="c2-1", call_id="c2", started_at=now - DAY, path=str(tmp_path / "c2-1.wav"))
        )
        assert await store.get("c1-1") == meta
        assert [m.name for m in await store.for_call("c1")] == ["c1-1"]
        report = await purge(store, RecordingConfig(retention_days=30), now)
        assert report.missing == ("c1-1",) and report.removed == ()
        got = await store.get("c1-1")
        assert got is not None and got.state is RecState.PURGED
        c2 = await store.get("c2-1")
        assert c2 is not None and c2.state is RecState.DONE
    finally:
        await engine.dispose()


async def test_the_count_for_a_new_recording_number_is_the_same_on_both_read_paths(tmp_path: Path) -> None:
    path = tmp_path / "cti.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    reads = SqliteReads(str(path))
    try:
        orm = SqlRecordingStore(session_factory(engine))
        fast = SqlRecordingStore(session_factory(engine), fast=reads)
        for i, call in enumerate(["c1", "c1", "c2", "c1"]):
            n = await orm.count_for_call(call) + 1
            await orm.save(
                RecordingMeta(f"{call}-{n}", call, "q", "a1", "bridge:b", f"/r/{call}-{n}.wav", "wav", float(i))
            )
        for call, count in (("c1", 3), ("c2", 1), ("c3", 0)):
            assert await orm.count_for_call(call) == count
            assert await fast.count_for_call(call) == count
    finally:
        reads.close()
        await engine.dispose()
