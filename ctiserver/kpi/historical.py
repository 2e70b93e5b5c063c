"""Historical KPIs from the database: the same ``QueueSums`` as the live windows, summed in SQL.

``queue_report(session, start, end, interval=1800, queue=None)`` groups ``queue_segments`` by queue and by
interval bucket (``floor(entered / interval) * interval``, UTC epoch); ``interval=86400`` gives days,
``interval=None`` one row per queue for the whole range.
``agent_report`` groups answered segments by agent and day, a dialler's calls included (``outbound``: they
count for their agent, not for their queue).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from ctiserver.kpi.formulas import QueueKpis, QueueSums, SlPolicy, kpis_of
from ctiserver.store.models import CallRow, QueueSegmentRow

S = QueueSegmentRow
# a queue's own callers: a dialler's call the ACD gave to an agent (``outbound``) counts for the agent, not the queue
INBOUND_STAY = S.outbound.is_(False)


@dataclass(frozen=True, slots=True)
class ReportRow:
    queue: str
    bucket: float | None  # start of the interval (epoch), None for the whole range
    kpis: QueueKpis

    def as_dict(self) -> dict[str, Any]:
        return {"queue": self.queue, "bucket": self.bucket, **self.kpis.as_dict()}


def _bucket_expr(session: AsyncSession, interval: float) -> Any:
    """Start of the interval holding ``entered``: floor() on PostgreSQL (its integer cast rounds); SQLite's
    integer cast truncates, which is floor for positive epochs."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        return func.floor(S.entered / interval) * interval
    return cast(cast(S.entered / interval, Integer) * interval, Float)


def _sums_columns(policy: SlPolicy) -> list[Any]:
    answered = S.outcome == "answered"
    abandoned = S.outcome == "abandoned"
    wait = func.coalesce(S.wait_seconds, 0.0)
    return [
        func.count().label("offered"),
        func.sum(case((answered, 1), else_=0)).label("answered"),
        func.sum(case((abandoned, 1), else_=0)).label("abandoned"),
        func.sum(case((and_(abandoned, wait <= policy.short_abandon_seconds), 1), else_=0)).label("short"),
        func.sum(case((and_(answered, wait <= policy.seconds), 1), else_=0)).label("in_sl"),
        func.sum(case((answered, wait), else_=0.0)).label("wait_answered"),
        func.sum(case((abandoned, wait), else_=0.0)).label("wait_abandoned"),
        func.max(wait).label("max_wait"),
        func.sum(case((answered, func.coalesce(S.talk_seconds, 0.0)), else_=0.0)).label("talk"),
        func.sum(case((answered, S.hold_seconds), else_=0.0)).label("hold"),
        func.sum(case((answered, S.wrapup_seconds), else_=0.0)).label("wrap"),
    ]


def _sums_of(row: Any) -> QueueSums:
    answered, abandoned, offered = int(row.answered or 0), int(row.abandoned or 0), int(row.offered or 0)
    return QueueSums(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=int(row.short or 0),
        timeouts=offered - answered - abandoned,
        answered_in_sl=int(row.in_sl or 0),
        wait_answered=float(row.wait_answered or 0.0),
        wait_abandoned=float(row.wait_abandoned or 0.0),
        max_wait=float(row.max_wait or 0.0),
        talk=float(row.talk or 0.0),
        hold=float(row.hold or 0.0),
        wrap=float(row.wrap or 0.0),
        handled=answered,
    )


async def queue_report(
    session: AsyncSession,
    start: float,
    end: float,
    *,
    interval: float | None = 1800.0,
    queue: str | None = None,
    policy: SlPolicy | None = None,
) -> list[ReportRow]:
    pol = policy or SlPolicy()
    bucket = _bucket_expr(session, interval) if interval else literal(None).label("bucket")
    stmt = (
        select(S.queue, bucket.label("bucket"), *_sums_columns(pol))
        .where(S.entered >= start, S.entered < end, INBOUND_STAY)
        .group_by(S.queue, bucket if interval else S.queue)
        .order_by(S.queue, bucket if interval else S.queue)
    )
    if queue is not None:
        stmt = stmt.where(S.queue == queue)
    rows = (await session.execute(stmt)).all()
    return [
        ReportRow(r.queue, None if r.bucket is None else float(r.bucket), kpis_of(_sums_of(r), pol))
        for r in rows
    ]


async def agent_report(
    session: AsyncSession, start: float, end: float, *, day: float = 86_400.0
) -> list[dict[str, Any]]:
    bucket = _bucket_expr(session, day)
    stmt = (
        select(
            S.agent,
            bucket.label("day"),
            func.count().label("handled"),
            func.sum(func.coalesce(S.talk_seconds, 0.0)).label("talk"),
            func.sum(S.hold_seconds).label("hold"),
            func.sum(S.wrapup_seconds).label("wrap"),
            func.sum(case((S.outbound, 1), else_=0)).label("outbound"),
        )
        .where(S.entered >= start, S.entered < end, S.outcome == "answered", S.agent.is_not(None))
        .group_by(S.agent, bucket)
        .order_by(S.agent, bucket)
    )
    out = []
    for r in (await session.execute(stmt)).all():
        handled = int(r.handled)
        busy = float(r.talk or 0) + float(r.hold or 0) + float(r.wrap or 0)
        out.append(
            {
                "agent": r.agent,
                "day": float(r.day),
                "handled": handled,
                "outbound": int(r.outbound or 0),  # of which a dialler's calls (the ACD desk)
                "talk": float(r.talk or 0),
                "hold": float(r.hold or 0),
                "wrap": float(r.wrap or 0),
                "aht": busy / handled if handled else None,
            }
        )
    return out


async def contacts(session: AsyncSession, start: float, end: float) -> Sequence[tuple[str | None, float]]:
    """(caller number, start) of inbound calls, for FCR."""
    stmt = select(CallRow.caller_num, CallRow.started).where(
        CallRow.started >= start, CallRow.started < end, CallRow.direction == "in"
    )
    return [(r[0], float(r[1])) for r in (await session.execute(stmt)).all()]
