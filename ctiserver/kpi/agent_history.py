"""Agent time by state from the stored state changes (``acd_agent_events``: one row per change, written by the
ACD and by the app_queue observer): occupancy, logged-in time and not-ready time by reason, per agent and day,
for the reports; and the changes themselves, for the live windows after a restart (``kpi/warm.py``).

A state lasts from its change to the agent's next one; the last one of a period to its end, or to ``now`` if
the period is not over. An agent's state at the start of a period is its last change before it, looked for
within ``LOOKBACK`` (an agent with no change for a week counts nothing until its next one). Occupancy as the live
windows count it (``agent_time.py``): busy = ``on_call`` + ``wrap_up``, ready idle = ``ready`` + ``reserved`` +
``ringing``, occupancy = busy / (busy + ready idle); logged in = every state but ``logged_out``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ctiserver.acd.sql import AgentEventRow
from ctiserver.kpi.agent_time import BUSY, READY_IDLE
from ctiserver.kpi.formulas import occupancy
from ctiserver.kpi.historical import agent_report

E = AgentEventRow
LOOKBACK = 7 * 86_400.0
DAY = 86_400.0
AGENT_COLUMNS = (
    "agent", "day", "handled", "outbound", "talk", "hold", "wrap", "aht", "logged_in", "busy", "ready_idle",
    "not_ready", "occupancy", "not_ready_reasons",
)  # fmt: skip
NO_CALLS: dict[str, Any] = {"handled": 0, "outbound": 0, "talk": 0.0, "hold": 0.0, "wrap": 0.0, "aht": None}


@dataclass(frozen=True, slots=True)
class Change:
    agent: str
    state: str
    reason: str | None
    at: float


async def state_changes(session: AsyncSession, start: float, end: float) -> list[Change]:
    """Each agent's last change before ``start`` (within ``LOOKBACK``) and its changes in [start, end), in the
    order they were recorded per agent."""
    before = (
        select(func.max(E.id))
        .where(E.at >= start - LOOKBACK, E.at < start)
        .group_by(E.agent_id)
        .scalar_subquery()
    )
    cols = (E.agent_id, E.state, E.reason, E.at, E.id)
    # two queries, each a search of the time index (plain plans; one OR of both needs the planner's
    # multi-index OR, which SQLite did use here)
    rows = [
        *(await session.execute(select(*cols).where(E.id.in_(before)))).all(),
        *(await session.execute(select(*cols).where(E.at >= start, E.at < end))).all(),
    ]
    rows.sort(key=lambda r: (r.agent_id, r.id))
    return [Change(r.agent_id, r.state, r.reason, float(r.at)) for r in rows]


def spans(changes: Sequence[Change], start: float, end: float) -> list[tuple[Change, float, float]]:
    """(change, from, to) of each state within [start, end): to the agent's next change or ``end``."""
    out: list[tuple[Change, float, float]] = []
    for i, c in enumerate(changes):
        nxt = changes[i + 1] if i + 1 < len(changes) and changes[i + 1].agent == c.agent else None
        lo, hi = max(c.at, start), min(nxt.at if nxt is not None else end, end)
        if hi > lo:
            out.append((c, lo, hi))
    return out


def reasons_text(reasons: dict[str, float]) -> str:
    """``{"lunch": 1800.0, "": 60.0}`` → ``"lunch=1800; -=60"`` (a CSV or table cell)."""
    return "; ".join(f"{k or '-'}={v:.0f}" for k, v in reasons.items())


def csv_cell(value: Any) -> Any:
    """A report value as a CSV cell: empty for none, the pause reasons as text."""
    return "" if value is None else reasons_text(value) if isinstance(value, dict) else value


def _day_of(t: float, day: float) -> float:
    return math.floor(t / day) * day


def time_by_day(
    changes: Sequence[Change], start: float, end: float, day: float = DAY
) -> dict[tuple[str, float], dict[str, Any]]:
    """Per (agent, day): logged_in, busy, ready_idle, not_ready seconds, not-ready seconds per reason."""
    out: dict[tuple[str, float], dict[str, Any]] = {}
    for c, lo, hi in spans(changes, start, end):
        t = lo
        while t < hi:
            bucket = _day_of(t, day)
            upto = min(hi, bucket + day)
            row = out.setdefault(
                (c.agent, bucket),
                {"logged_in": 0.0, "busy": 0.0, "ready_idle": 0.0, "not_ready": 0.0, "not_ready_reasons": {}},
            )
            seconds = upto - t
            if c.state != "logged_out":
                row["logged_in"] += seconds
            if c.state in BUSY:
                row["busy"] += seconds
            elif c.state in READY_IDLE:
                row["ready_idle"] += seconds
            elif c.state == "not_ready":
                row["not_ready"] += seconds
                reasons = row["not_ready_reasons"]
                reasons[c.reason or ""] = reasons.get(c.reason or "", 0.0) + seconds
            t = upto
    return out


async def agent_days(session: AsyncSession, start: float, end: float, now: float) -> list[dict[str, Any]]:
    """The agents' report by day: the calls they handled (``historical.agent_report``) and their time by state,
    occupancy included — an agent who was ready all day and took no call is there, with occupancy 0."""
    handled = {(r["agent"], r["day"]): r for r in await agent_report(session, start, end)}
    until = min(end, now)
    times = time_by_day(await state_changes(session, start, until), start, until) if until > start else {}
    rows = []
    for key in sorted(set(handled) | set(times)):
        agent, day = key
        calls = handled.get(key) or NO_CALLS
        time = times.get(key) or {"logged_in": 0.0, "busy": 0.0, "ready_idle": 0.0, "not_ready": 0.0}
        reasons = {k: round(v, 3) for k, v in sorted(time.get("not_ready_reasons", {}).items())}
        rows.append(
            {
                **calls,
                "agent": agent,
                "day": day,
                **{k: round(time[k], 3) for k in ("logged_in", "busy", "ready_idle", "not_ready")},
                "occupancy": occupancy(time["busy"], time["ready_idle"]),
                "not_ready_reasons": reasons,
            }
        )
    return rows
