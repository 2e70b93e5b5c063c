"""Recording metadata in the database (table ``recordings``, migration branch ``recording``)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from ctiserver.recording.meta import Pause, RecordingMeta, RecState
from ctiserver.store.base import Base
from ctiserver.store.group import GroupCommit, resolve
from ctiserver.store.sqlite_reads import SqliteReads
from ctiserver.store.upsert import upsert


class RecordingRow(Base):
    __tablename__ = "recordings"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(80), index=True)
    queue: Mapped[str | None] = mapped_column(String(64), index=True)
    agent: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512))
    format: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[float] = mapped_column(Float, index=True)
    ended_at: Mapped[float | None] = mapped_column(Float)
    duration: Mapped[float | None] = mapped_column(Float)
    size: Mapped[int | None] = mapped_column(Integer)
    pauses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


def _values(m: RecordingMeta) -> dict[str, Any]:
    return {
        "name": m.name,
        "call_id": m.call_id,
        "queue": m.queue,
        "agent": m.agent,
        "target": m.target,
        "path": m.path,
        "format": m.format,
        "state": m.state.value,
        "started_at": m.started_at,
        "ended_at": m.ended_at,
        "duration": m.duration,
        "size": m.size,
        "pauses": m.to_json()["pauses"],
    }


def _meta(r: RecordingRow) -> RecordingMeta:
    return RecordingMeta(
        r.name,
        r.call_id,
        r.queue,
        r.agent,
        r.target,
        r.path,
        r.format,
        r.started_at,
        RecState(r.state),
        r.ended_at,
        r.duration,
        r.size,
        tuple(Pause(p["by"], p["at"], p.get("resumed_at"), p.get("resumed_by")) for p in r.pauses or []),
    )


def _count(call_id: str, conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM recordings WHERE call_id = ?", (call_id,)).fetchone()[0])


_Save = tuple[dict[str, Any], list[asyncio.Future[None]]]  # the row's newest values, who waits for it


class SqlRecordingStore:
    """Each ``save`` returns once its row is committed; the rows go through the shared group commit
    (``ctiserver.store.group``: with the other stores' rows, at most one transaction per 25 ms under load).
    ``readers`` (SQLite: their own connections, reading beside the writer thanks to WAL) serve the per-call
    read."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession] | None = None,
        group: GroupCommit | None = None,
        fast: SqliteReads | None = None,
    ) -> None:
        self._sessions = sessions
        self._readers = readers or sessions
        self._fast = fast  # SQLite: the per-call count in one thread hop (store/sqlite_reads.py)
        self._group = group or GroupCommit(sessions)
        self._pending: dict[str, _Save] = {}

    async def save(self, meta: RecordingMeta) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        _, waiters = self._pending.get(meta.name, ({}, []))
        self._pending[meta.name] = (_values(meta), [*waiters, done])  # the newest state of a name wins
        self._group.wake(self)
        await done

    # ---- the group commit's part ---------------------------------------------------------------------
    def take(self) -> dict[str, _Save] | None:
        batch, self._pending = self._pending, {}
        return batch or None

    async def write(self, s: AsyncSession, batch: dict[str, _Save]) -> None:
        await upsert(s, RecordingRow, [row for row, _ in batch.values()])  # not ORM merge (a read, then a write)

    def settle(self, batch: dict[str, _Save], error: BaseException | None) -> None:
        resolve((w for _, waiters in batch.values() for w in waiters), error)

    async def get(self, name: str) -> RecordingMeta | None:
        async with self._sessions() as s:
            row = await s.get(RecordingRow, name)
            return _meta(row) if row is not None else None

    async def for_call(self, call_id: str) -> Sequence[RecordingMeta]:
        async with self._readers() as s:
            q = select(RecordingRow).where(RecordingRow.call_id == call_id).order_by(RecordingRow.started_at)
            return [_meta(r) for r in (await s.execute(q)).scalars()]

    async def count_for_call(self, call_id: str) -> int:
        if self._fast is not None:
            return await self._fast.run(partial(_count, call_id))
        async with self._readers() as s:
            q = select(func.count()).select_from(RecordingRow).where(RecordingRow.call_id == call_id)
            return int(await s.scalar(q) or 0)

    async def older_than(self, started_before: float, queue: str | None) -> Sequence[RecordingMeta]:
        q = select(RecordingRow).where(
            RecordingRow.started_at < started_before, RecordingRow.state != RecState.PURGED.value
        )
        q = q.where(RecordingRow.queue.is_(None) if queue is None else RecordingRow.queue == queue)
        async with self._sessions() as s:
            return [_meta(r) for r in (await s.execute(q)).scalars()]

    async def queues(self) -> Sequence[str | None]:
        async with self._sessions() as s:
            rows = (await s.execute(select(RecordingRow.queue).distinct())).scalars().all()
        return sorted(rows, key=lambda q: q or "")

    async def live(self) -> Sequence[RecordingMeta]:
        running = (RecState.RECORDING.value, RecState.PAUSED.value)
        async with self._sessions() as s:
            q = select(RecordingRow).where(RecordingRow.state.in_(running)).order_by(RecordingRow.started_at)
            return [_meta(r) for r in (await s.execute(q)).scalars()]
