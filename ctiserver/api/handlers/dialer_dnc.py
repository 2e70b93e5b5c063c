"""Do-not-call lists (global and per campaign) and the agents' side of the dialer: a contact's disposition
(``do_not_call`` puts the number on the campaign's list) and call-backs (personal or for the campaign's queue)."""

from __future__ import annotations

from ctiserver.api.auth import STAFF, Role
from ctiserver.api.dialer_schemas import (
    CallbackIn,
    CallbackOut,
    DispositionIn,
    DncAdded,
    DncCheck,
    DncIn,
    DncOut,
    DncQuery,
)
from ctiserver.api.errors import ApiError, forbidden, not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.handlers.dialer import acting_agent, campaign_of, default_region, dialer_of, e164_or_422
from ctiserver.api.routing import ApiRequest
from ctiserver.dialer.model import Contact
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.store import GLOBAL

AGENTS_TOO = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
CRM_TOO = STAFF | {Role.CRM}  # a CRM asks before its own click-to-dial


# ---- do-not-call ----------------------------------------------------------------------------------------------
async def _dnc_add(req: ApiRequest, campaign: str, region: str) -> DncAdded:
    body: DncIn = req.body
    numbers = [e164_or_422(n, region, f"body.numbers.{i}") for i, n in enumerate(body.numbers)]
    added = await dialer_of(req).dnc_add(numbers, campaign, body.reason)
    return DncAdded(added=added, numbers=numbers)


async def _dnc_page(req: ApiRequest, campaign: str) -> DncOut:
    """A page of the list in number order (a registry extract has millions: never the whole of it at once)."""
    q: DncQuery = req.query
    numbers = await dialer_of(req).store.dnc_page(campaign, q.after, q.limit + 1)
    more = len(numbers) > q.limit
    return DncOut(campaign=campaign, numbers=numbers[: q.limit], next=numbers[q.limit - 1] if more else None)


async def _dnc_check(req: ApiRequest, campaign: str, region: str) -> DncCheck:
    dialer = dialer_of(req)  # 503 without a dialler, before the number is looked at
    number = e164_or_422(req.path["number"], region, "number")
    return DncCheck(number=number, listed=await dialer.store.dnc_contains(number, campaign))


async def _dnc_remove(req: ApiRequest, campaign: str, region: str) -> None:
    dialer = dialer_of(req)
    number = e164_or_422(req.path["number"], region, "number")
    if not await dialer.store.dnc_remove(number, campaign):
        raise not_found("number on the do-not-call list", "number")


@ROUTER.route(
    "GET",
    "/api/dialer/dnc",
    roles=STAFF,
    summary="The global do-not-call list, page by page",
    tag="dialer",
    query=DncQuery,
    response=DncOut,
)
async def list_global_dnc(req: ApiRequest) -> DncOut:
    return await _dnc_page(req, GLOBAL)


@ROUTER.route(
    "POST",
    "/api/dialer/dnc",
    roles=STAFF,
    summary="Add numbers to the global do-not-call list",
    tag="dialer",
    body=DncIn,
    response=DncAdded,
    status=201,
)
async def add_global_dnc(req: ApiRequest) -> DncAdded:
    return await _dnc_add(req, GLOBAL, default_region(req))


@ROUTER.route(
    "GET",
    "/api/dialer/dnc/{number}",
    roles=CRM_TOO,
    summary="Whether a number is on the global do-not-call list",
    tag="dialer",
    response=DncCheck,
)
async def check_global_dnc(req: ApiRequest) -> DncCheck:
    return await _dnc_check(req, GLOBAL, default_region(req))


@ROUTER.route(
    "DELETE",
    "/api/dialer/dnc/{number}",
    roles=STAFF,
    summary="Remove a number from the global do-not-call list",
    tag="dialer",
)
async def remove_global_dnc(req: ApiRequest) -> None:
    await _dnc_remove(req, GLOBAL, default_region(req))


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/dnc",
    roles=STAFF,
    summary="A campaign's do-not-call list, page by page",
    tag="dialer",
    query=DncQuery,
    response=DncOut,
)
async def list_campaign_dnc(req: ApiRequest) -> DncOut:
    return await _dnc_page(req, campaign_of(req).settings.name)


@ROUTER.route(
    "POST",
    "/api/dialer/campaigns/{name}/dnc",
    roles=STAFF,
    summary="Add numbers to a campaign's do-not-call list",
    tag="dialer",
    body=DncIn,
    response=DncAdded,
    status=201,
)
async def add_campaign_dnc(req: ApiRequest) -> DncAdded:
    runner = campaign_of(req)
    return await _dnc_add(req, runner.settings.name, runner.settings.region)


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/dnc/{number}",
    roles=CRM_TOO,
    summary="Whether a campaign may not call a number (on its do-not-call list or the global one)",
    tag="dialer",
    response=DncCheck,
)
async def check_campaign_dnc(req: ApiRequest) -> DncCheck:
    runner = campaign_of(req)
    return await _dnc_check(req, runner.settings.name, runner.settings.region)


@ROUTER.route(
    "DELETE",
    "/api/dialer/campaigns/{name}/dnc/{number}",
    roles=STAFF,
    summary="Remove a number from a campaign's do-not-call list",
    tag="dialer",
)
async def remove_campaign_dnc(req: ApiRequest) -> None:
    runner = campaign_of(req)
    await _dnc_remove(req, runner.settings.name, runner.settings.region)


# ---- agents: dispositions and call-backs --------------------------------------------------------------------
@ROUTER.route(
    "POST",
    "/api/dialer/campaigns/{name}/contacts/{contact_id}/disposition",
    roles=AGENTS_TOO,
    summary="Set a contact's disposition ('do_not_call' adds the number to the campaign's DNC list)",
    tag="dialer",
    body=DispositionIn,
)
async def set_contact_disposition(req: ApiRequest) -> None:
    runner = campaign_of(req)
    body: DispositionIn = req.body
    if body.disposition not in runner.settings.dispositions:
        known = ", ".join(runner.settings.dispositions)
        raise ApiError(422, "invalid", f"unknown disposition {body.disposition!r}; known: {known}", "body.disposition")
    dialer = dialer_of(req)
    contact = await dialer.store.get_contact(runner.settings.name, req.path["contact_id"])
    if contact is None:
        raise not_found("contact", "contact_id")
    if req.principal.role is Role.AGENT and not await _handled_by(dialer, runner, contact, req.principal.agent):
        raise forbidden("an agent may set the disposition only of a contact it talked to")
    await dialer.disposition(runner.settings.name, req.path["contact_id"], body.disposition, req.principal.agent)


async def _handled_by(dialer: DialerService, runner: CampaignRunner, contact: Contact, agent: str | None) -> bool:
    """The agent's own contact: its personal call-back, or an attempt of it was (or is being) connected to that
    agent — in wrap-up the attempt's record may not be stored yet."""
    if agent is None:
        return False
    if contact.agent == agent or runner.talking.get(contact.id) == agent:
        return True
    return any(a.agent == agent for a in await dialer.store.contact_attempts(contact.campaign, contact.id))


@ROUTER.route(
    "POST",
    "/api/dialer/campaigns/{name}/callbacks",
    roles=AGENTS_TOO,
    summary="Schedule a call-back: personal (agents: their own) or for the campaign's queue (supervisors)",
    tag="dialer",
    body=CallbackIn,
    response=CallbackOut,
    status=201,
)
async def schedule_callback(req: ApiRequest) -> CallbackOut:
    runner = campaign_of(req)
    body: CallbackIn = req.body
    agent = acting_agent(req, body.agent, "an agent may schedule call-backs only for themselves")
    number = e164_or_422(body.number, runner.settings.region, "body.number")
    contact = await dialer_of(req).schedule_callback(
        runner.settings.name,
        number,
        body.at,
        agent=agent,
        name=body.name,
        fields=body.fields,
        source="agent" if req.principal.role is Role.AGENT else "supervisor",
    )
    return callback_out(contact)


def callback_out(contact: Contact) -> CallbackOut:
    return CallbackOut(
        contact_id=contact.id,
        campaign=contact.campaign,
        number=contact.number,
        at=contact.next_at,
        agent=contact.agent,
    )
