"""Agent state in the database: one row per change (occupancy/adherence reports), the current snapshot per
agent (restart), and skills edited at run time; the call-backs owed (restart). Tables of the ``acd`` migration
branch."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from ctiserver.acd.agent_state import AgentState, AgentStatus
from ctiserver.acd.persist import PendingCallback
from ctiserver.store.base import Base
from ctiserver.store.group import GroupCommit, resolve
from ctiserver.store.upsert import upsert


class AgentStateRow(Base):
    __tablename__ = "acd_agent_states"
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[float] = mapped_column(Float)
    until: Mapped[float | None] = mapped_column(Float)
    call_id: Mapped[str | None] = mapped_column(String(80))


class AgentEventRow(Base):
    __tablename__ = "acd_agent_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))
    prev_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float, index=True)
    until: Mapped[float | None] = mapped_column(Float)
    call_id: Mapped[str | None] = mapped_column(String(80))


class AgentSkillRow(Base):
    __tablename__ = "acd_agent_skills"
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)


class CallbackRow(Base):
    __tablename__ = "acd_callbacks"
    call_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    attached: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[int | None] = mapped_column(Integer)
    only_agent: Mapped[str | None] = mapped_column(String(64))
    requested: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer)
    retry_at: Mapped[float | None] = mapped_column(Float)


_Change = tuple[AgentStatus, AgentStatus, asyncio.Future[None]]  # new, previous, its waiter


class SqlAgentStore:
    """Each ``record`` returns once its row is committed. The rows go through the shared group commit
    (``ctiserver.store.group``): the changes recorded while a transaction is under way are committed together
    in the next one, in the order they were recorded, with the other stores' rows."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], group: GroupCommit | None = None) -> None:
        self._sessions = sessions
        self._group = group or GroupCommit(sessions)
        self._pending: list[_Change] = []

    async def record(self, new: AgentStatus, prev: AgentStatus) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((new, prev, done))
        self._group.wake(self)
        await done

    # ---- the group commit's part ---------------------------------------------------------------------
    def take(self) -> list[_Change] | None:
        batch, self._pending = self._pending, []
        return batch or None

    def settle(self, batch: list[_Change], error: BaseException | None) -> None:
        resolve((done for *_, done in batch), error)

    async def write(self, s: AsyncSession, batch: list[_Change]) -> None:
        latest = {new.agent_id: new for new, _, _ in batch}
        events = [
            {
                "agent_id": new.agent_id,
                "state": new.state.value,
                "prev_state": prev.state.value,
                "reason": new.reason,
                "at": new.since,
                "until": new.until,
                "call_id": new.call_id,
            }
            for new, prev, _ in batch
        ]
        await s.execute(insert(AgentEventRow), events)  # ORM bulk insert: one statement
        rows = [
            {
                "agent_id": n.agent_id,
                "state": n.state.value,
                "reason": n.reason,
                "since": n.since,
                "until": n.until,
                "call_id": n.call_id,
            }
            for n in latest.values()
        ]
        await upsert(s, AgentStateRow, rows)

    async def load(self) -> Mapping[str, AgentStatus]:
        async with self._sessions() as s:
            rows = (await s.execute(select(AgentStateRow))).scalars().all()
        return {
            r.agent_id: AgentStatus(r.agent_id, AgentState(r.state), r.reason, r.since, r.until, r.call_id)
            for r in rows
        }

    async def events(self, agent_id: str) -> list[tuple[str, str | None, float]]:
        async with self._sessions() as s:
            q = select(AgentEventRow).where(AgentEventRow.agent_id == agent_id).order_by(AgentEventRow.id)
            return [(r.state, r.reason, r.at) for r in (await s.execute(q)).scalars()]

    async def load_skills(self) -> Mapping[str, Mapping[str, int]]:
        out: dict[str, dict[str, int]] = {}
        async with self._sessions() as s:
            for r in (await s.execute(select(AgentSkillRow))).scalars():
                out.setdefault(r.agent_id, {})[r.skill] = r.level
        return out

    async def save_skills(self, agent_id: str, skills: Mapping[str, int]) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(delete(AgentSkillRow).where(AgentSkillRow.agent_id == agent_id))
            s.add_all(AgentSkillRow(agent_id=agent_id, skill=k, level=v) for k, v in skills.items())

    async def save_callback(self, callback: PendingCallback) -> None:
        row = {
            "call_id": callback.call_id,
            "queue": callback.queue,
            "number": callback.number,
            "name": callback.name[:128],
            "attached": dict(callback.attached),
            "priority": callback.priority,
            "only_agent": callback.only_agent,
            "requested": callback.requested,
            "attempts": callback.attempts,
            "retry_at": callback.retry_at,
        }
        async with self._sessions() as s, s.begin():
            await upsert(s, CallbackRow, [row])

    async def drop_callback(self, call_id: str) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(delete(CallbackRow).where(CallbackRow.call_id == call_id))

    async def load_callbacks(self) -> list[PendingCallback]:
        async with self._sessions() as s:
            rows = (await s.execute(select(CallbackRow).order_by(CallbackRow.requested))).scalars().all()
        return [
            PendingCallback(
                r.call_id,
                r.queue,
                r.number,
                r.requested,
                r.name,
                r.attached,
                r.priority,
                r.only_agent,
                r.attempts,
                r.retry_at,
            )
            for r in rows
        ]
