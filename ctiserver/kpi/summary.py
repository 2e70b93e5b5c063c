"""Call-level KPIs of a period from the database: FCR (repeat- and disposition-based), self-service %,
blocked %, calls per agent per day — for all calls (``call_summary``) and per queue (``queue_summary``: the
inbound calls that had a segment in the queue; a repeat from the same number counts whatever queue it reaches).
Formulas in ``formulas.py``/``fcr.py`` (docs/kpi.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from functools import partial
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ctiserver.kpi.fcr import fcr_disposition, fcr_disposition_counted, fcr_of, judge_keyed
from ctiserver.kpi.formulas import calls_per_agent_per_day
from ctiserver.kpi.historical import INBOUND_STAY, _bucket_expr, agent_report
from ctiserver.store.caller_key import normalise_number
from ctiserver.store.models import CallRow, QueueSegmentRow

C = CallRow
S = QueueSegmentRow


async def judge_contacts(
    session: AsyncSession,
    start: float,
    end: float,
    *,
    fcr_window: float = 86_400.0,
    now: float | None = None,
    region: str = "US",
) -> dict[str, bool]:
    """Call id → resolved at first contact, for the judged inbound calls started in [start, end).

    Calls carry their caller's normalised number (``caller_key``, written with the row): the database finds each
    call's next contact from the same key (``ix_calls_caller_key_started``). Rows from before that column
    (``caller_key`` NULL) are normalised here, in ``region``, as they always were."""
    inbound = and_(C.started >= start, C.started < end + fcr_window, C.direction == "in")
    if await session.scalar(select(exists().where(inbound, C.caller_key.is_(None)))):
        rows = (await session.execute(select(C.call_id, C.caller_key, C.caller_num, C.started).where(inbound))).all()
        contacts = [(str(r[0]), r[1], r[2], float(r[3])) for r in rows]
        return await asyncio.to_thread(  # CPU-bound (number parsing): off the event loop
            partial(_judge_legacy, window=fcr_window, start=start, end=end, now=now, region=region), contacts
        )
    later = aliased(C)
    following = (  # the first later inbound contact from the same number within the window
        select(func.min(later.started))
        .where(
            later.caller_key == C.caller_key,
            later.started > C.started,
            later.started <= C.started + fcr_window,
            later.direction == "in",
        )
        .scalar_subquery()
    )
    judged = select(C.call_id, C.started, following).where(
        C.started >= start, C.started < end, C.direction == "in", C.caller_key != ""
    )
    out: dict[str, bool] = {}
    for call_id, at, nxt in (await session.execute(judged)).all():
        repeated = nxt is not None and (now is None or float(nxt) <= now)
        if repeated or now is None or float(at) + fcr_window <= now:  # else it may still repeat: not judged
            out[str(call_id)] = not repeated
    return out


def _judge_legacy(
    contacts: list[tuple[str, str | None, str | None, float]],
    *,
    window: float,
    start: float,
    end: float,
    now: float | None,
    region: str,
) -> dict[str, bool]:
    keyed = ((cid, key if key is not None else normalise_number(num, region), at) for cid, key, num, at in contacts)
    return judge_keyed(keyed, window=window, start=start, end=end, now=now)


async def call_summary(
    session: AsyncSession,
    start: float,
    end: float,
    *,
    fcr_window: float = 86_400.0,
    now: float | None = None,
    region: str = "US",
    resolved: Collection[str] = ("resolved",),
    judged: dict[str, bool] | None = None,
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
    if judged is None:
        judged = await judge_contacts(session, start, end, fcr_window=fcr_window, now=now, region=region)
    repeat = fcr_of(judged.values())
    by_disposition = select(C.disposition, func.count()).where(C.started >= start, C.started < end)
    counts = (await session.execute(by_disposition.group_by(C.disposition))).all()
    by_disp = fcr_disposition_counted(((d, int(n)) for d, n in counts), resolved)
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


async def queue_summary(
    session: AsyncSession,
    start: float,
    end: float,
    *,
    queue: str | None = None,
    fcr_window: float = 86_400.0,
    now: float | None = None,
    region: str = "US",
    resolved: Collection[str] = ("resolved",),
    judged: dict[str, bool] | None = None,
) -> list[dict[str, Any]]:
    """Per queue: inbound calls started in the period that entered it, FCR (repeat, disposition) of those
    calls, handled segments and calls per agent per day (segments entered in the period, as ``agent_report``)."""
    if judged is None:
        judged = await judge_contacts(session, start, end, fcr_window=fcr_window, now=now, region=region)
    calls = (
        select(S.queue, C.call_id, C.disposition)
        .join(S, S.call_id == C.call_id)
        .where(C.started >= start, C.started < end, C.direction == "in")
        .distinct()
    )
    day = _bucket_expr(session, 86_400.0)
    handled = (
        select(S.queue, S.agent, day.label("day"), func.count().label("n"))
        .where(S.entered >= start, S.entered < end, S.outcome == "answered", S.agent.is_not(None))
        .where(INBOUND_STAY)
        .group_by(S.queue, S.agent, day)
    )
    if queue is not None:
        calls, handled = calls.where(S.queue == queue), handled.where(S.queue == queue)
    per_queue: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        return per_queue.setdefault(name, {"calls": set(), "dispositions": [], "handled": {}})

    for q, call_id, disposition in (await session.execute(calls)).all():
        e = entry(q)
        e["calls"].add(call_id)
        e["dispositions"].append(disposition)
    for q, agent, d, n in (await session.execute(handled)).all():
        entry(q)["handled"][(agent, str(float(d)))] = int(n)
    out = []
    for name in sorted(per_queue):
        e = per_queue[name]
        repeat = fcr_of(judged[c] for c in e["calls"] if c in judged)
        by_disp = fcr_disposition(e["dispositions"], resolved)
        out.append(
            {
                "queue": name,
                "calls": len(e["calls"]),
                "handled": sum(e["handled"].values()),
                "agents": len({a for a, _ in e["handled"]}),
                "calls_per_agent_per_day": calls_per_agent_per_day(e["handled"]),
                "fcr_repeat": repeat.rate,
                "fcr_repeat_contacts": repeat.contacts,
                "fcr_disposition": by_disp.rate,
                "fcr_disposition_calls": by_disp.contacts,
            }
        )
    return out
