"""A campaign's abandonment record for a period — per day and the worst rolling window of its regime, AMD's
estimated false positives included (``dialer/compliance.py``); the records a regulator asks to see."""

from __future__ import annotations

from dataclasses import asdict

from ctiserver.api.auth import STAFF, Role
from ctiserver.api.dialer_schemas import AbandonmentOut
from ctiserver.api.handlers import ROUTER
from ctiserver.api.handlers.agents import report_range
from ctiserver.api.handlers.dialer import campaign_of, dialer_of
from ctiserver.api.routing import ApiRequest
from ctiserver.api.schemas import Period
from ctiserver.dialer.compliance import abandonment_record


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/abandonment",
    roles=STAFF | {Role.CRM},
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
