"""A campaign's records for a period: its abandonment record — per day and the worst rolling window of its
regime, AMD's estimated false positives included (``dialer/compliance.py``), what a regulator asks to see — and
its productivity report per day (``dialer/campaign_report.py``), JSON or CSV."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from ctiserver.api.auth import STAFF, Role
from ctiserver.api.dialer_schemas import AbandonmentOut, CampaignReportOut
from ctiserver.api.handlers import ROUTER
from ctiserver.api.handlers.agents import report_range
from ctiserver.api.handlers.dialer import campaign_of, dialer_of
from ctiserver.api.routing import ApiRequest
from ctiserver.api.schemas import Period
from ctiserver.dialer.campaign_report import campaign_report, report_csv
from ctiserver.dialer.compliance import abandonment_record

READERS = STAFF | {Role.CRM}  # the CRM's reports too


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/abandonment",
    roles=READERS,
    summary="The campaign's abandonment record of a period: live answers, abandoned calls, AMD verdicts and "
    "estimated false positives per UTC day; the worst rolling window (24 h or 30 days) and the hours over the cap",
    tag="dialer",
    query=Period,
    response=AbandonmentOut,
    errors=(400, 404, 422),
)
async def campaign_abandonment(req: ApiRequest) -> AbandonmentOut:
    settings = campaign_of(req).settings
    since, until = report_range(req.query)
    record = await abandonment_record(dialer_of(req).store, settings, since, until)
    return AbandonmentOut.model_validate(asdict(record))


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/report",
    roles=READERS,
    summary="The campaign's productivity per UTC day: attempts, contacts, outcomes, answer and connect rates, "
    "talk time and its average, abandoned (with the late ones)",
    tag="dialer",
    query=Period,
    response=CampaignReportOut,
    errors=(400, 404, 422),
)
async def campaign_report_json(req: ApiRequest) -> CampaignReportOut:
    name = campaign_of(req).settings.name
    since, until = report_range(req.query)
    days = await campaign_report(dialer_of(req).store, name, since, until)
    return CampaignReportOut(campaign=name, since=since, until=until, days=[asdict(d) for d in days])


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/report.csv",
    roles=READERS,
    summary="The campaign's productivity per UTC day as CSV (the columns of the JSON, one per outcome)",
    tag="dialer",
    query=Period,
    binary="text/csv",
    errors=(400, 404, 422),
)
async def campaign_report_csv(req: ApiRequest) -> web.Response:
    name = campaign_of(req).settings.name
    since, until = report_range(req.query)
    days = await campaign_report(dialer_of(req).store, name, since, until)
    return web.Response(
        text=report_csv(days),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{name}-{int(since)}-{int(until)}.csv"'},
    )
