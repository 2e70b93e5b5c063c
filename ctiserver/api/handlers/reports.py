# mypy: disable-error-code="type-abstract"
"""Report summaries (FCR repeat/disposition, self-service %, calls per agent per day; overall and per queue) and
the CSV export of the KPI report. ``GET /api/reports/kpi`` itself is in ``agents.py``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ctiserver.api.app import service
from ctiserver.api.auth import Role
from ctiserver.api.errors import unavailable
from ctiserver.api.handlers import ROUTER
from ctiserver.api.handlers.agents import report_of, report_range
from ctiserver.api.reports import HistoricalReports, report_csv
from ctiserver.api.routing import ApiRequest
from ctiserver.api.schemas import PeriodQuery, ReportQuery
from ctiserver.api.services import ReportsService

READERS = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.CRM})


SummaryQuery = PeriodQuery  # the summary takes a period (and a queue), no interval


def _reports(req: ApiRequest) -> HistoricalReports:
    reports = service(req, ReportsService, "reports")
    if not isinstance(reports, HistoricalReports):
        raise unavailable("report summaries")
    return reports


async def summary_of(req: ApiRequest, queue: str | None) -> dict[str, Any]:
    start, end = report_range(req.query)
    return await _reports(req).summary_report(since=start, until=end, queue=queue)


@ROUTER.route(
    "GET",
    "/api/reports/summary",
    roles=READERS,
    summary="Call-level KPIs of a period: FCR (repeat, disposition), self-service %, blocked %, calls per agent "
    "per day — for all calls ('summary', all queues only) and per queue ('queue_summary')",
    tag="reports",
    query=SummaryQuery,
    response=dict[str, Any],
    errors=(400,),
)
async def report_summary(req: ApiRequest) -> dict[str, Any]:
    q: SummaryQuery = req.query
    return await summary_of(req, q.queue)


@ROUTER.route(
    "GET",
    "/api/reports/kpi.csv",
    roles=READERS,
    summary="The KPI report as CSV: its rows; for queue reports a blank line, then the summary table (FCR, "
    "self-service %, calls per agent per day) per queue and '(all)'",
    tag="reports",
    query=ReportQuery,
    binary="text/csv",
    errors=(400,),
)
async def kpi_report_csv(req: ApiRequest) -> web.Response:
    q: ReportQuery = req.query
    report = await report_of(req)
    summary = await summary_of(req, q.queue) if q.by == "queue" else None
    name = f"kpi-{report['by']}-{int(report['from'])}-{int(report['to'])}.csv"
    return web.Response(
        text=report_csv(report, summary),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
