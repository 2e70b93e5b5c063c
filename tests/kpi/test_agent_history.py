"""Agents' time by state from their stored state changes (``kpi/agent_history.py``), written as the ACD writes
them (``SqlAgentStore.record``): occupancy, logged-in and not-ready time by reason per agent and day, hand
computed; the state at the start of the period comes from before it; a state going on ends at ``now``; a day
boundary splits a span; an agent who took no call is reported with occupancy 0. And the live windows warmed
from those changes equal windows fed the same changes live."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.acd.agent_state import AgentState as S
from ctiserver.acd.agent_state import AgentStatus
from ctiserver.acd.sql import SqlAgentStore
from ctiserver.clock import ManualClock
from ctiserver.events.envelope import new_event
from ctiserver.kpi.agent_history import agent_days, reasons_text, state_changes
from ctiserver.kpi.live import LiveKpis
from tests.store.migrated import migrated
from tests.store.plans import query_plans

DAY = 86_400.0
D0 = 20_000 * DAY  # a midnight (UTC)
H = 3600.0


class _Agent:
    def __init__(self, store: SqlAgentStore, name: str) -> None:
        self.store, self.status = store, AgentStatus(name)

    async def go(self, state: S, at: float, **kw: object) -> None:
        new = self.status.advance(state, at, allow_not_ready=True, **kw)  # type: ignore[arg-type]
        await self.store.record(new, self.status)
        self.status = new


async def _day(store: SqlAgentStore) -> None:
    """alice: logged in the evening before at 23:00 (ready), on a call 23:30–00:30 across midnight, wrap-up
    until 00:35, ready, lunch 12:00–12:45, a call 13:00–13:10 + 50 s of wrap-up, ready since; bob: ready from
    09:00, never a call, a break 10:00–10:15, logged out at 11:00."""
    alice, bob = _Agent(store, "alice"), _Agent(store, "bob")
    await alice.go(S.READY, D0 - 1 * H)
    await alice.go(S.RESERVED, D0 - 0.5 * H, call_id="c1")
    await alice.go(S.RINGING, D0 - 0.5 * H, call_id="c1")
    await alice.go(S.ON_CALL, D0 - 0.5 * H, call_id="c1")
    await alice.go(S.WRAP_UP, D0 + 0.5 * H, until=D0 + 0.5 * H + 300)
    await alice.go(S.READY, D0 + 0.5 * H + 300)
    await alice.go(S.NOT_READY, D0 + 12 * H, reason="lunch")
    await alice.go(S.READY, D0 + 12.75 * H)
    await alice.go(S.RESERVED, D0 + 13 * H, call_id="c2")
    await alice.go(S.RINGING, D0 + 13 * H, call_id="c2")
    await alice.go(S.ON_CALL, D0 + 13 * H, call_id="c2")
    await alice.go(S.WRAP_UP, D0 + 13 * H + 600, until=D0 + 13 * H + 650)
    await alice.go(S.READY, D0 + 13 * H + 650)
    await bob.go(S.READY, D0 + 9 * H)
    await bob.go(S.NOT_READY, D0 + 10 * H, reason="break")
    await bob.go(S.READY, D0 + 10.25 * H)
    await bob.go(S.LOGGED_OUT, D0 + 11 * H)


async def test_agent_time_by_day_from_the_stored_changes(tmp_path: Path) -> None:
    async with migrated(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite'}") as sessions:
        await _day(SqlAgentStore(sessions))
        now = D0 + 14 * H  # the report asks for the whole day; it is 14:00
        async with sessions() as s:
            rows = {(r["agent"], r["day"]): r for r in await agent_days(s, D0, D0 + DAY, now)}
            before = await state_changes(s, D0, now)
    # alice's state at midnight is known from the evening before: on a call
    assert [(c.agent, c.state) for c in before][:2] == [("alice", "on_call"), ("alice", "wrap_up")]
    alice, bob = rows[("alice", D0)], rows[("bob", D0)]
    busy = 0.5 * H + 300 + 600 + 50  # the call's half after midnight, wrap-ups, the second call
    idle = (12 * H - (0.5 * H + 300)) + 0.25 * H + (H - 650)  # ready 00:35–12:00, 12:45–13:00, 13:10:50–14:00
    assert alice["busy"] == pytest.approx(busy) and alice["ready_idle"] == pytest.approx(idle)
    assert alice["not_ready"] == pytest.approx(0.75 * H) and alice["not_ready_reasons"] == {"lunch": 2700.0}
    assert alice["logged_in"] == pytest.approx(14 * H)  # all day until now
    assert alice["occupancy"] == pytest.approx(busy / (busy + idle))
    assert bob["handled"] == 0 and bob["occupancy"] == 0.0  # ready, no call: reported, not left out
    assert bob["ready_idle"] == pytest.approx(1.75 * H) and bob["logged_in"] == pytest.approx(2 * H)
    assert reasons_text(bob["not_ready_reasons"]) == "break=900"
    # the evening before: alice's half hour ready and half hour on the call
    async with sessions() as s:
        eve = {(r["agent"], r["day"]): r for r in await agent_days(s, D0 - DAY, D0, now)}
    assert eve[("alice", D0 - DAY)]["busy"] == pytest.approx(0.5 * H)
    assert eve[("alice", D0 - DAY)]["occupancy"] == pytest.approx(0.5)


async def test_live_windows_warmed_from_the_changes_equal_the_live_ones(tmp_path: Path) -> None:
    async with migrated(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite'}") as sessions:
        await _day(SqlAgentStore(sessions))
        async with sessions() as s:
            changes = await state_changes(s, D0, D0 + 14 * H)
    clock = ManualClock(start=D0 + 14 * H)
    warmed, fed = LiveKpis(clock), LiveKpis(clock)
    warmed.warm((), changes)
    for c in changes:  # as the bus would have brought them
        fed.on_event(new_event("agent.state", c.agent, {"agent": c.agent, "state": c.state}, c.at))
    for window in ("15m", "60m", "today"):
        for agent in ("alice", "bob"):
            assert warmed.agent(agent, window) == fed.agent(agent, window)
    today = warmed.agent("alice", "today")
    assert today["busy_seconds"] == pytest.approx(0.5 * H + 950) and today["occupancy"] is not None
    # a live event older than what was read (it was stored, then delivered) does not undo the later state
    warmed.on_event(new_event("agent.state", "alice", {"agent": "alice", "state": "on_call"}, D0 + 13 * H))
    assert warmed.agent("alice", "today") == today


async def test_the_state_changes_are_read_on_indexes(tmp_path: Path) -> None:
    """Each query of ``state_changes`` searches the time index of ``acd_agent_events`` (SQLite's plan), never
    scans the table, which holds every agent's changes for as long as the calls are kept. (Correction: the one
    OR query before was a multi-index OR on SQLite, no scan either — the split is for plain plans only.)"""
    async with migrated(f"sqlite+aiosqlite:///{tmp_path / 'a.sqlite'}") as sessions:
        await _day(SqlAgentStore(sessions))

        async def read() -> None:
            async with sessions() as s:
                await state_changes(s, D0, D0 + DAY)

        plans = await query_plans(sessions.kw["bind"], read())
    assert len(plans) == 2, plans
    for plan in plans:
        assert "INDEX ix_acd_agent_events_at" in plan and "SCAN acd_agent_events" not in plan, plan
