"""``ReportsService`` over the historical KPIs (``ctiserver.kpi.historical``, the SQL the ``ctiserver kpi
report`` command runs): queue rows by interval (with each queue's own service-level policy, as the CLI does),
totals per interval across the queues (for the wallboard's charts), or agent rows by day. ``summary_report``:
the period's call-level KPIs (``summary``: FCR, self-service %, blocked %, calls per agent per day) and the
same per queue (``queue_summary``) — a separate call, as FCR parses every caller's number (the wallboard's
charts ask for the rows every 30 s). ``report_csv`` renders a report as CSV (rows, then the summary table)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.clock import Clock, SystemClock
from ctiserver.kpi.agent_history import AGENT_COLUMNS, agent_days, csv_cell
from ctiserver.kpi.config import KpiConfig
from ctiserver.kpi.formulas import SlPolicy
from ctiserver.kpi.historical import queue_report
from ctiserver.kpi.summary import call_summary, judge_contacts, queue_summary

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
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cfg: KpiConfig,
        clock: Clock | None = None,
        region: str = "US",
    ) -> None:
        self.sessions = sessions
        self.cfg = cfg
        self.clock = clock or SystemClock()
        self.region = region

    async def summary_report(self, *, since: float, until: float, queue: str | None) -> Json:
        """FCR is judged once per call (a repeat counts whatever queue it reaches), then summed per queue."""
        window, now, region = self.cfg.fcr_window_hours * 3600, self.clock.now(), self.region
        resolved = self.cfg.fcr_resolved_dispositions
        async with self.sessions() as s:
            judged = await judge_contacts(s, since, until, fcr_window=window, now=now, region=region)
            per_queue = await queue_summary(s, since, until, queue=queue, judged=judged, resolved=resolved)
            overall = None
            if queue is None:
                overall = await call_summary(s, since, until, judged=judged, resolved=resolved)
        return {
            "from": since,
            "to": until,
            "queue": queue,
            "fcr_window_hours": self.cfg.fcr_window_hours,
            "summary": overall,
            "queue_summary": per_queue,
        }

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
                agents = await agent_days(s, since, until, self.clock.now())
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


QUEUE_COLUMNS = (
    "queue", "bucket", "offered", "answered", "abandoned", "short_abandoned", "timeouts", "service_level", "sl_seconds",
    "lost_rate", "abandon_rate", "asa", "avg_abandon_wait", "aht", "max_wait",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "queue", "calls", "handled", "agents", "calls_per_agent_per_day", "fcr_repeat", "fcr_repeat_contacts",
    "fcr_disposition", "fcr_disposition_calls", "inbound", "self_service_rate", "blocked_rate",
)  # fmt: skip
ALL_QUEUES = "(all)"


def _table(w: Any, cols: tuple[str, ...], rows: list[Json]) -> None:
    w.writerow(cols)
    for row in rows:
        w.writerow([csv_cell(row.get(c)) for c in cols])


def report_csv(report: Json, summary: Json | None = None) -> str:
    """The report's rows (by queue and interval, or by agent and day); with ``summary`` (``summary_report``), a
    blank line and the summary table: one row per queue, then ``(all)`` with the KPIs of every call."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    by_agent = report.get("by") == "agent"
    _table(w, AGENT_COLUMNS if by_agent else QUEUE_COLUMNS, list(report["rows"]))
    if summary is not None:
        lines: list[Json] = list(summary["queue_summary"])
        if summary["summary"] is not None:
            lines.append({**summary["summary"], "queue": ALL_QUEUES})
        w.writerow(())
        _table(w, SUMMARY_COLUMNS, lines)
    return out.getvalue()
