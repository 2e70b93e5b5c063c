"""Call-level KPIs of a period from the database: FCR (repeat- and disposition-based), self-service %,
blocked %, calls per agent per day. Formulas in ``formulas.py``/``fcr.py`` (docs/kpi.md)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ctiserver.kpi.fcr import fcr_disposition, fcr_repeat
from ctiserver.kpi.formulas import calls_per_agent_per_day
from ctiserver.kpi.historical import agent_report
from ctiserver.store.models import CallRow, QueueSegmentRow

C = CallRow


async def call_summary(
    session: AsyncSession,
    start: float,
    end: float,
    *,
    fcr_window: float = 86_400.0,
    now: float | None = None,
    region: str = "US",
    resolved: Collection[str] = ("resolved",),
) -> dict[str, Any]:
    inbound = C.direction == "in"
    in_ivr = cast(C.ivr_path, String) != "[]"
    queued = exists().where(QueueSegmentRow.call_id == C.call_id)
    row = (
        await session.execute(
            select(
                func.count().label("calls"),
                func.sum(case((inbound, 1), else_=0)).label("inbound"),
                func.sum(case((and_(inbound, C.blocked), 1), else_=0)).label("blocked"),
                func.sum(case((in_ivr, 1), else_=0)).label("ivr"),
                func.sum(case((and_(in_ivr, C.self_service.is_not(None), ~queued), 1), else_=0)).label(
                    "self"
                ),
            ).where(C.started >= start, C.started < end)
        )
    ).one()
    contacts = (
        await session.execute(
            select(C.caller_num, C.started).where(C.started >= start, C.started < end + fcr_window, inbound)
        )
    ).all()
    repeat = fcr_repeat(
        ((r[0], float(r[1])) for r in contacts),
        window=fcr_window,
        start=start,
        end=end,
        now=now,
        region=region,
    )
    dispositions = (
        (await session.execute(select(C.disposition).where(C.started >= start, C.started < end)))
        .scalars()
        .all()
    )
    by_disp = fcr_disposition(dispositions, resolved)
    agents = await agent_report(session, start, end)
    per_day = calls_per_agent_per_day({(a["agent"], str(a["day"])): int(a["handled"]) for a in agents})
    calls, inbound_n = int(row.calls or 0), int(row.inbound or 0)
    ivr, self_n = int(row.ivr or 0), int(row.self or 0)
    return {
        "calls": calls,
        "inbound": inbound_n,
        "blocked_rate": (int(row.blocked or 0) / inbound_n) if inbound_n else None,
        "self_service_rate": (self_n / ivr) if ivr else None,
        "fcr_repeat": repeat.rate,
        "fcr_repeat_contacts": repeat.contacts,
        "fcr_disposition": by_disp.rate,
        "fcr_disposition_calls": by_disp.contacts,
        "calls_per_agent_per_day": per_day,
    }
