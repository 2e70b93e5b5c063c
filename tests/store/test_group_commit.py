"""The shared group commit over real SQLite and the real migrations: agent states and recordings recorded
together share transactions, at most one per ``spacing`` under load; a store whose rows fail fails only its own
callers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.acd.agent_state import AgentState, AgentStatus
from ctiserver.acd.sql import AgentEventRow, SqlAgentStore
from ctiserver.recording.meta import RecordingMeta, RecState
from ctiserver.recording.sql import RecordingRow, SqlRecordingStore
from ctiserver.store.group import GroupCommit
from tests.store.migrated import migrated

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    async with migrated(f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}") as made:
        yield made


def _status(agent: str, state: AgentState, at: float) -> AgentStatus:
    return AgentStatus(agent, state, None, at, None, None)


def _recording(name: str, at: float) -> RecordingMeta:
    return RecordingMeta(
        name, name.split("-")[0], "q", "a1", "bridge:b", f"/r/{name}.wav", "wav", at, RecState.RECORDING
    )


async def test_two_stores_share_spaced_transactions(sessions: Sessions) -> None:
    group = GroupCommit(sessions, spacing=0.05)
    agents, recordings = SqlAgentStore(sessions, group), SqlRecordingStore(sessions, group=group)
    ready, paused = _status("a1", AgentState.READY, 1.0), _status("a1", AgentState.NOT_READY, 2.0)
    await agents.record(ready, _status("a1", AgentState.LOGGED_OUT, 0.0))  # alone: at once
    assert group.transactions == 1
    # 60 callers over ~120 ms, from both stores: a few spaced transactions, not 60. The bound is counted from
    # the time the callers really took (a loaded CI machine stretches the 4 ms sleeps): the first transaction
    # goes at once, then at most one per spacing
    loop = asyncio.get_running_loop()
    began = loop.time()
    waiting = []
    for i in range(30):
        waiting.append(asyncio.ensure_future(agents.record(paused if i % 2 else ready, ready if i % 2 else paused)))
        waiting.append(asyncio.ensure_future(recordings.save(_recording(f"c{i}-1", float(i)))))
        await asyncio.sleep(0.004)
    await asyncio.gather(*waiting)
    took = loop.time() - began
    assert 2 <= group.transactions - 1 <= 1 + took / group.spacing
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(AgentEventRow)) == 31
        assert await s.scalar(select(func.count()).select_from(RecordingRow)) == 30
    expected = ["ready"] + ["not_ready" if i % 2 else "ready" for i in range(30)]
    assert [state for state, _, _ in await agents.events("a1")] == expected  # in the order recorded


async def test_a_failing_store_fails_only_its_own_callers(sessions: Sessions) -> None:
    group = GroupCommit(sessions, spacing=0.05)
    agents, recordings = SqlAgentStore(sessions, group), SqlRecordingStore(sessions, group=group)
    await agents.record(_status("a1", AgentState.READY, 1.0), _status("a1", AgentState.LOGGED_OUT, 0.0))
    bad = _recording("c1-1", 1.0).with_(path=None)  # NOT NULL column
    results = await asyncio.gather(
        agents.record(_status("a1", AgentState.NOT_READY, 2.0), _status("a1", AgentState.READY, 1.0)),
        recordings.save(bad),
        recordings.save(_recording("c2-1", 2.0)),  # same batch as the bad row: fails with it
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], Exception) and isinstance(results[2], Exception)
    assert [s for s, _, _ in await agents.events("a1")] == ["ready", "not_ready"]
    await recordings.save(_recording("c3-1", 3.0))  # the store goes on after a failure
    assert await recordings.get("c3-1") is not None and await recordings.get("c2-1") is None


@pytest.mark.parametrize("spacing", [0.0, 0.05])
async def test_rows_recorded_during_a_transaction_go_in_the_next(sessions: Sessions, spacing: float) -> None:
    group = GroupCommit(sessions, spacing=spacing)
    agents = SqlAgentStore(sessions, group)
    first = asyncio.ensure_future(
        agents.record(_status("a1", AgentState.READY, 1.0), _status("a1", AgentState.LOGGED_OUT, 0.0))
    )
    await asyncio.sleep(0)  # the writer took the first row
    await asyncio.gather(
        first,
        *(
            agents.record(_status("a1", AgentState.READY, 2.0 + i), _status("a1", AgentState.READY, 1.0))
            for i in range(10)
        ),
    )
    assert group.transactions == 2


async def test_a_caller_writing_one_row_at_a_time_is_not_spaced(sessions: Sessions) -> None:
    group = GroupCommit(sessions, spacing=60.0)  # spaced, these five would take four minutes
    agents = SqlAgentStore(sessions, group)
    async with asyncio.timeout(10):
        for i in range(5):
            await agents.record(_status("a1", AgentState.READY, 1.0 + i), _status("a1", AgentState.READY, float(i)))
    assert group.transactions == 5
