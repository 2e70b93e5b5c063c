"""Outbound dialer: campaigns (create, start / pause / stop, live stats) and contact lists (JSON or CSV), with the
helpers the other dialer endpoints (``dialer_dnc``: DNC lists, dispositions, call-backs) share. Forwards to
``DialerService``."""

from __future__ import annotations

import asyncio
import io

from aiohttp import BodyPartReader, web

from ctiserver.api.app import LOCATOR, service
from ctiserver.api.auth import STAFF, Role
from ctiserver.api.dialer_schemas import (
    CampaignOut,
    CampaignStats,
    ContactsIn,
    ImportOut,
    ImportQuery,
    RejectedRow,
)
from ctiserver.api.errors import ApiError, forbidden, not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.routing import ApiRequest
from ctiserver.dialer.campaign_state import IllegalCampaignTransition
from ctiserver.dialer.importer import ColumnMap, ImportReport, Zoning, parse_rows, read_csv
from ctiserver.dialer.model import CampaignSettings, Contact
from ctiserver.dialer.numbers import BadNumber, to_e164
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.service import DialerService

MAX_CSV = 2 * 1024 * 1024


def dialer_of(req: ApiRequest) -> DialerService:
    return service(req, DialerService, "dialer")


def campaign_of(req: ApiRequest) -> CampaignRunner:
    runner = dialer_of(req).runners.get(req.path["name"])
    if runner is None:
        raise not_found("campaign", "name")
    return runner


def campaign_out(runner: CampaignRunner) -> CampaignOut:
    return CampaignOut(
        name=runner.settings.name,
        state=runner.state.value,
        settings=runner.settings.model_dump(mode="json"),
        stats=CampaignStats.model_validate(runner.live_stats()),
    )


def acting_agent(req: ApiRequest, asked: str | None, refusal: str) -> str | None:
    """The agent a request is about: an agent token only ever acts for itself (asking for another one is
    refused with ``refusal``); staff may name any agent, or none."""
    if req.principal.role is not Role.AGENT:
        return asked
    own = req.principal.agent
    if own is None or (asked is not None and asked != own):
        raise forbidden(refusal)
    return own


def default_region(req: ApiRequest) -> str:
    """The daemon's ``default_region`` (national numbers on the global DNC list)."""
    config = getattr(req.app[LOCATOR], "config", None)
    return str(getattr(config, "default_region", None) or "US")


def e164_or_422(number: str, region: str, field: str) -> str:
    try:
        return to_e164(number, region)
    except (BadNumber, ValueError) as exc:
        raise ApiError(422, "invalid_phone", f"not a phone number: {number!r} ({exc})", field) from None


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns",
    roles=STAFF,
    summary="Campaigns with their state and live stats",
    tag="dialer",
    response=list[CampaignOut],
)
async def list_campaigns(req: ApiRequest) -> list[CampaignOut]:
    return [campaign_out(r) for r in dialer_of(req).runners.values()]


@ROUTER.route(
    "POST",
    "/api/dialer/campaigns",
    roles=STAFF,
    summary="Create a campaign (it starts as a draft)",
    tag="dialer",
    body=CampaignSettings,
    response=CampaignOut,
    status=201,
    errors=(409,),
)
async def create_campaign(req: ApiRequest) -> CampaignOut:
    dialer = dialer_of(req)
    settings: CampaignSettings = req.body
    if settings.name in dialer.runners:
        raise ApiError(409, "exists", f"campaign {settings.name!r} exists already", "body.name")
    return campaign_out(await dialer.create(settings))


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}",
    roles=STAFF,
    summary="One campaign",
    tag="dialer",
    response=CampaignOut,
)
async def get_campaign(req: ApiRequest) -> CampaignOut:
    return campaign_out(campaign_of(req))


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/stats",
    roles=STAFF,
    summary="Live stats: state, pacing, lines ringing, answer rate, abandonment over the cap's window",
    tag="dialer",
    response=CampaignStats,
)
async def campaign_stats(req: ApiRequest) -> CampaignStats:
    return CampaignStats.model_validate(campaign_of(req).live_stats())


async def _transition(req: ApiRequest, action: str) -> CampaignStats:
    runner = campaign_of(req)
    dialer = dialer_of(req)
    call = {"start": dialer.start, "pause": dialer.pause, "stop": dialer.stop}[action]
    try:
        stats = await call(runner.settings.name)
    except IllegalCampaignTransition as exc:
        raise ApiError(409, "illegal_transition", str(exc), "name") from None
    return CampaignStats.model_validate(stats)


@ROUTER.route(
    "POST",
    "/api/dialer/campaigns/{name}/start",
    roles=STAFF,
    summary="Start (or resume) dialling",
    tag="dialer",
    response=CampaignStats,
    errors=(409,),
)
async def start_campaign(req: ApiRequest) -> CampaignStats:
    return await _transition(req, "start")


@ROUTER.route(
    "POST",
    "/api/dialer/campaigns/{name}/pause",
    roles=STAFF,
    summary="Pause: nothing new is dialled, calls in flight finish",
    tag="dialer",
    response=CampaignStats,
    errors=(409,),
)
async def pause_campaign(req: ApiRequest) -> CampaignStats:
    return await _transition(req, "pause")


@ROUTER.route(
    "POST",
    "/api/dialer/campaigns/{name}/stop",
    roles=STAFF,
    summary="Stop: nothing new is dialled, calls still ringing are hung up",
    tag="dialer",
    response=CampaignStats,
    errors=(409,),
)
async def stop_campaign(req: ApiRequest) -> CampaignStats:
    return await _transition(req, "stop")


def _report(report: ImportReport) -> ImportOut:
    return ImportOut(
        imported=report.imported,
        duplicates=report.duplicates,
        rejected=[RejectedRow(line=r.line, reason=r.reason, row=dict(r.row)) for r in report.rejected],
        spanning=report.spanning,
    )


@ROUTER.route(
    "POST",
    "/api/dialer/campaigns/{name}/contacts",
    roles=STAFF,
    summary="Add contacts (numbers normalised to E.164; bad rows are reported, the good ones added)",
    tag="dialer",
    body=ContactsIn,
    response=ImportOut,
    status=201,
    errors=(413,),
)
async def add_campaign_contacts(req: ApiRequest) -> ImportOut:
    runner = campaign_of(req)
    body: ContactsIn = req.body
    rows = []
    for c in body.contacts:
        row = {k: v for k, v in c.fields.items() if k not in ("phone", "name", "id", "timezone")}
        row.update(phone=c.number, name=c.name, id=c.id or "", timezone=c.timezone or "")
        rows.append(row)
    report = ImportReport()
    zoning = Zoning(runner.settings, runner.clock.now())
    contacts = list(
        parse_rows(
            rows, runner.settings.name, ColumnMap(), runner.settings.region, report=report, first_line=0, zoning=zoning
        )
    )
    if contacts:
        await dialer_of(req).import_contacts(runner.settings.name, contacts, report)
    return _report(report)


async def _csv_text(request: web.Request) -> str:
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "file":
                data = bytearray()
                while chunk := await part.read_chunk():
                    data.extend(chunk)
                    if len(data) > MAX_CSV:
                        raise ApiError(413, "too_large", "the CSV is larger than 2 MB", "body.file")
                return part.decode(bytes(data)).decode("utf-8-sig", errors="strict")
        raise ApiError(422, "invalid", "the multipart body has no 'file' part", "body.file")
    return (await request.read()).decode("utf-8-sig", errors="strict")


@ROUTER.route(
    "POST",
    "/api/dialer/campaigns/{name}/import",
    roles=STAFF,
    summary="Import a CSV list (text/csv body or multipart field 'file'); reports imported and rejected rows",
    tag="dialer",
    query=ImportQuery,
    response=ImportOut,
    status=201,
    errors=(413,),
)
async def import_campaign_csv(req: ApiRequest) -> ImportOut:
    runner = campaign_of(req)
    q: ImportQuery = req.query
    try:
        columns = ColumnMap.parse(q.map) if q.map else ColumnMap()
    except (ValueError, TypeError) as exc:
        raise ApiError(422, "invalid", str(exc), "query.map") from None
    try:
        text = await _csv_text(req.request)
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "the CSV is not UTF-8", "body") from None
    if not text.strip():
        raise ApiError(422, "invalid", "the CSV is empty", "body")
    report = ImportReport()
    name, region = runner.settings.name, runner.settings.region
    zoning = Zoning(runner.settings, runner.clock.now())

    def parse() -> list[Contact]:
        return list(read_csv(io.StringIO(text, newline=""), name, columns, region, report=report, zoning=zoning))

    try:
        contacts = await asyncio.to_thread(parse)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc), "body") from None
    if contacts:
        await dialer_of(req).import_contacts(name, contacts, report)
    return _report(report)
