"""Checkpoints of calls in progress in the database (``live_calls``): saved and refreshed by ``live`` facts, all
stamped alive by ``live_seen``, deleted by the call's end — in one batch or spread over several, and through the
spool when the database was down (the order kept)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ctiserver.store.repository import CallRepository
from ctiserver.store.spool import Spool
from ctiserver.store.writer import DurableWriter
from tests.store.migrated import migrated


def _call(call_id: str) -> dict[str, Any]:
    leg = {"uniqueid": call_id, "linkedid": call_id, "channel": f"PJSIP/c-{call_id}", "created": 1.0}
    return {"call_id": call_id, "state": "queued", "started": 1.0, "legs": [leg], "queues": [], "data": {"k": "v"}}


def _end(call_id: str) -> dict[str, Any]:
    return {"kind": "call", "data": {"call_id": call_id, "state": "ended", "started": 1.0, "ended": 16.0}}


def _live(call_id: str, seen: float, **extra: Any) -> dict[str, Any]:
    return {"kind": "live", "data": _call(call_id) | extra, "seen": seen}


@asynccontextmanager
async def _repository(url: str) -> AsyncIterator[CallRepository]:
    async with migrated(url) as sessions:
        yield CallRepository(sessions)


async def test_checkpoints_are_saved_refreshed_and_deleted_when_the_call_ends(db_url: str) -> None:
    async with _repository(db_url) as repo:
        await repo.apply([_live("old", 5.0), _live("a", 10.0), _live("b", 10.0), _live("c", 10.0)])
        stamp = {"kind": "live_seen", "seen": 15.0, "calls": ["a", "b", "c"]}
        await repo.apply([stamp, _live("b", 15.0, disposition="sale")])
        await repo.apply([_live("a", 20.0), _end("c")])
        rows = {snap["call_id"]: (snap, seen) for snap, seen in await repo.live_calls()}
        assert set(rows) == {"old", "a", "b"}
        assert rows["a"][1] == 20.0 and rows["b"][1] == 15.0  # b: stamped alive with the others
        assert rows["old"][1] == 5.0  # an earlier run's call not seen by this one keeps its last-seen time
        assert rows["b"][0]["disposition"] == "sale" and rows["b"][0]["data"] == {"k": "v"}
        # a checkpoint and the end of its call in one batch: the end wins
        await repo.apply([_live("b", 21.0), _end("b")])
        assert sorted(snap["call_id"] for snap, _ in await repo.live_calls()) == ["a", "old"]


async def test_through_the_spool_the_end_of_a_call_still_deletes_its_checkpoint(tmp_path: Path) -> None:
    async with _repository(f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite") as repo:
        spool = Spool(tmp_path / "spool" / "calls.jsonl")
        await spool.append([_live("a", 1.0), _live("b", 1.0)])  # what a run wrote while the database was down
        await spool.append([_end("a"), {"kind": "live_seen", "seen": 9.0, "calls": ["b"]}])
        writer = DurableWriter(repo, spool)
        assert await writer.drain()
        assert await repo.live_calls() == [(_call("b"), 9.0)]
