"""``ReportsService`` over the historical KPIs (``ctiserver.kpi.historical``, the SQL the ``ctiserver kpi
report`` command runs): queue rows by interval (with each queue's own service-level policy, as the CLI does),
totals per interval across the queues (for the wallboard's charts), or agent rows by day."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.kpi.config import KpiConfig
from ctiserver.kpi.formulas import SlPolicy
from ctiserver.kpi.historical import agent_report, queue_report

Json = dict[str, Any]


def _passes(cfg: KpiConfig, queue: str | None) -> list[tuple[str | None, SlPolicy]]:
    if queue is not None:
        return [(queue, cfg.policy(queue))]
    return [(None, cfg.policy("")), *((q, cfg.policy(q)) for q in sorted(cfg.queues))]


def totals(rows: list[Json]) -> list[Json]:
    """Per interval across the queues: counts add up; service level is weighted by the calls offered."""
    out: dict[Any, Json] = {}
    for r in rows:
        t = out.setdefault(
            r["bucket"],
            {"start": r["bucket"], "offered": 0, "answered": 0, "abandoned": 0, "_in_sl": 0.0, "_den": 0},
        )
        for key in ("offered", "answered", "abandoned"):
            t[key] += r[key]
        if r["service_level"] is not None:
            t["_in_sl"] += r["service_level"] * r["offered"]
            t["_den"] += r["offered"]
    result = []
    for key in sorted(out, key=lambda b: -1.0 if b is None else b):
        t = out[key]
        in_sl, den = t.pop("_in_sl"), t.pop("_den")
        t["service_level"] = in_sl / den if den else None
        result.append(t)
    return result


class HistoricalReports:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cfg: KpiConfig) -> None:
        self.sessions = sessions
        self.cfg = cfg

    async def kpi_report(
        self,
        *,
        since: float,
        until: float,
        queue: str | None,
        interval: float | None = 1800.0,
        by: str = "queue",
    ) -> Json:
        head: Json = {"from": since, "to": until, "queue": queue, "interval": interval, "by": by}
        async with self.sessions() as s:
            if by == "agent":
                agents = await agent_report(s, since, until)
                return {**head, "rows": agents, "intervals": []}
            passes = _passes(self.cfg, queue)
            own = {q for q, _ in passes if q is not None and queue is None}
            rows: list[Json] = []
            for name, policy in passes:
                for r in await queue_report(s, since, until, interval=interval, queue=name, policy=policy):
                    if name is None and r.queue in own:
                        continue  # reported by its own pass, with its own SL settings
                    rows.append(r.as_dict())
        rows.sort(key=lambda r: (r["queue"], -1.0 if r["bucket"] is None else r["bucket"]))
        policy = self.cfg.policy(queue or "")
        return {**head, "sl_seconds": policy.seconds, "rows": rows, "intervals": totals(rows)}
