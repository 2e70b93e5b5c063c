"""Agent state in the database: one row per change (occupancy/adherence reports), the current snapshot per
agent (restart), and skills edited at run time. Tables of the ``acd`` migration branch."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy import Float, Integer, String, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from ctiserver.acd.agent_state import AgentState, AgentStatus
from ctiserver.store.base import Base
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


class SqlAgentStore:
    """Group commit: changes recorded while a write is in flight are committed together in the next
    transaction (in the order they were recorded); each ``record`` returns once its own row is committed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[tuple[AgentStatus, AgentStatus, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0

    async def record(self, new: AgentStatus, prev: AgentStatus) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((new, prev, done))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_pending(), name="cti:acd-agent-states")
        await done

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._write([(new, prev) for new, prev, _ in batch])
            except Exception as exc:
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for *_, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _write(self, changes: list[tuple[AgentStatus, AgentStatus]]) -> None:
        latest = {new.agent_id: new for new, _ in changes}
        async with self._sessions() as s, s.begin():
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
                for new, prev in changes
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
        self.transactions += 1

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
