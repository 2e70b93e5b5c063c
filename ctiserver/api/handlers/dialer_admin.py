"""Outbound dialer, the rest of a campaign's life: edit and delete (not while running or with calls in flight),
its contacts and attempts page by page, and cancelling a scheduled call-back. Forwards to ``DialerService``."""

from __future__ import annotations

from pydantic import ValidationError

from ctiserver.api.auth import STAFF, Role
from ctiserver.api.dialer_schemas import (
    AttemptOut,
    AttemptsPage,
    AttemptsQuery,
    CampaignOut,
    CampaignPatch,
    ContactOut,
    ContactsPage,
    ContactsQuery,
)
from ctiserver.api.errors import ApiError, forbidden, from_validation, not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.handlers.dialer import campaign_of, campaign_out, dialer_of
from ctiserver.api.handlers.dialer_dnc import AGENTS_TOO
from ctiserver.api.routing import ApiRequest
from ctiserver.dialer.model import AttemptRecord, Contact, ContactStatus, Outcome
from ctiserver.dialer.service import CampaignBusy


@ROUTER.route(
    "PATCH",
    "/api/dialer/campaigns/{name}",
    roles=STAFF,
    summary="Edit a campaign's settings (partial; not while it runs or has calls in flight: pause it first)",
    tag="dialer",
    body=CampaignPatch,
    response=CampaignOut,
    errors=(409,),
)
async def edit_campaign(req: ApiRequest) -> CampaignOut:
    runner = campaign_of(req)
    changes = dict(req.body.model_extra or {})
    try:
        updated = await dialer_of(req).update(runner.settings.name, changes)
    except CampaignBusy as exc:
        raise ApiError(409, "busy", str(exc), "name") from None
    except ValidationError as exc:
        raise from_validation(exc, "body.") from None
    except ValueError as exc:  # the name
        raise ApiError(422, "invalid", str(exc), "body.name") from None
    return campaign_out(updated)


@ROUTER.route(
    "DELETE",
    "/api/dialer/campaigns/{name}",
    roles=STAFF,
    summary="Delete a campaign and its contacts (not while it runs or has calls in flight; attempts are kept)",
    tag="dialer",
    status=204,
    errors=(409,),
)
async def delete_campaign(req: ApiRequest) -> None:
    runner = campaign_of(req)
    try:
        await dialer_of(req).delete(runner.settings.name)
    except CampaignBusy as exc:
        raise ApiError(409, "busy", str(exc), "name") from None


def _contact(c: Contact) -> ContactOut:
    return ContactOut(
        id=c.id,
        number=c.number,
        name=c.name,
        timezone=c.timezone,
        fields=dict(c.fields),
        status=c.status.value,
        attempts=c.attempts,
        next_at=c.next_at,
        last_outcome=c.last_outcome.value if c.last_outcome else None,
        agent=c.agent,
        priority=c.priority,
    )


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/contacts",
    roles=STAFF,
    summary="A campaign's contacts, page by page (by id), optionally of one status",
    tag="dialer",
    query=ContactsQuery,
    response=ContactsPage,
)
async def list_campaign_contacts(req: ApiRequest) -> ContactsPage:
    runner = campaign_of(req)
    q: ContactsQuery = req.query
    total, rows = await dialer_of(req).store.contacts_page(
        runner.settings.name, q.offset, q.limit, ContactStatus(q.status) if q.status else None
    )
    return ContactsPage(total=total, offset=q.offset, limit=q.limit, items=[_contact(c) for c in rows])


def _attempt(a: AttemptRecord) -> AttemptOut:
    data = a.to_json()
    data.pop("campaign")
    return AttemptOut.model_validate(data)


@ROUTER.route(
    "GET",
    "/api/dialer/campaigns/{name}/attempts",
    roles=STAFF,
    summary="A campaign's attempts (one per leg, with outcome and AMD verdict), newest first, page by page",
    tag="dialer",
    query=AttemptsQuery,
    response=AttemptsPage,
)
async def list_campaign_attempts(req: ApiRequest) -> AttemptsPage:
    runner = campaign_of(req)
    q: AttemptsQuery = req.query
    total, rows = await dialer_of(req).store.attempts_page(
        runner.settings.name, q.offset, q.limit, Outcome(q.outcome) if q.outcome else None
    )
    return AttemptsPage(total=total, offset=q.offset, limit=q.limit, items=[_attempt(a) for a in rows])


@ROUTER.route(
    "DELETE",
    "/api/dialer/campaigns/{name}/callbacks/{contact_id}",
    roles=AGENTS_TOO,
    summary="Cancel a scheduled call-back (agents: only their own personal ones)",
    tag="dialer",
    status=204,
)
async def cancel_callback(req: ApiRequest) -> None:
    runner = campaign_of(req)
    dialer = dialer_of(req)
    contact = await dialer.store.get_contact(runner.settings.name, req.path["contact_id"])
    if contact is None or contact.status is not ContactStatus.CALLBACK:
        raise not_found("call-back", "contact_id")
    if req.principal.role is Role.AGENT and (req.principal.agent is None or contact.agent != req.principal.agent):
        raise forbidden("an agent may cancel only their own call-backs")
    who = req.principal.agent or req.principal.role.value
    await dialer.cancel_callback(runner.settings.name, contact.id, f"cancelled by {who}")
