"""Contacts of the built-in store, their history, and caller lookups (built-in store, then the HTTP CRM)."""

from __future__ import annotations

from ctiserver.api.app import service
from ctiserver.api.auth import ALL_ROLES, Role
from ctiserver.api.errors import ApiError, not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.routing import ApiRequest
from ctiserver.api.schemas import ContactQuery, LookupQuery
from ctiserver.crm.model import Contact, Interaction, LookupResult
from ctiserver.crm.phone import normalise
from ctiserver.crm.service import CrmService
from ctiserver.crm.store import ContactIn

WRITE = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.CRM})


def _phones(crm: CrmService, data: ContactIn) -> list[str]:
    out = []
    for i, raw in enumerate(data.phones):
        e164 = normalise(raw, crm.region)
        if e164 is None:
            raise ApiError(422, "invalid_phone", f"not a phone number: {raw!r}", f"body.phones.{i}")
        out.append(e164)
    return out


@ROUTER.route(
    "GET",
    "/api/contacts",
    roles=ALL_ROLES,
    summary="Search contacts by name/company or phone",
    tag="contacts",
    query=ContactQuery,
    response=list[Contact],
)
async def search_contacts(req: ApiRequest) -> list[Contact]:
    crm = service(req, CrmService, "crm")
    q: ContactQuery = req.query
    if q.phone:
        e164 = normalise(q.phone, crm.region)
        if e164 is None:
            raise ApiError(422, "invalid_phone", "not a phone number", "query.phone")
        found = await crm.store.find_by_phone(e164)
        return [found] if found else []
    return await crm.store.search(q.q, q.limit)


@ROUTER.route(
    "POST",
    "/api/contacts",
    roles=WRITE,
    summary="Create a contact",
    tag="contacts",
    body=ContactIn,
    response=Contact,
    status=201,
)
async def create_contact(req: ApiRequest) -> Contact:
    crm = service(req, CrmService, "crm")
    return await crm.store.create(req.body, _phones(crm, req.body))


@ROUTER.route(
    "GET",
    "/api/contacts/{contact_id}",
    roles=ALL_ROLES,
    summary="One contact",
    tag="contacts",
    response=Contact,
)
async def get_contact(req: ApiRequest) -> Contact:
    contact = await service(req, CrmService, "crm").store.get(req.path["contact_id"])
    if contact is None:
        raise not_found("contact", "contact_id")
    return contact


@ROUTER.route(
    "PUT",
    "/api/contacts/{contact_id}",
    roles=WRITE,
    summary="Replace a contact",
    tag="contacts",
    body=ContactIn,
    response=Contact,
)
async def update_contact(req: ApiRequest) -> Contact:
    crm = service(req, CrmService, "crm")
    contact = await crm.store.update(req.path["contact_id"], req.body, _phones(crm, req.body))
    if contact is None:
        raise not_found("contact", "contact_id")
    return contact


@ROUTER.route(
    "DELETE",
    "/api/contacts/{contact_id}",
    roles=frozenset({Role.SUPERVISOR, Role.ADMIN, Role.CRM}),
    summary="Delete a contact",
    tag="contacts",
)
async def delete_contact(req: ApiRequest) -> None:
    if not await service(req, CrmService, "crm").store.delete(req.path["contact_id"]):
        raise not_found("contact", "contact_id")


@ROUTER.route(
    "GET",
    "/api/contacts/{contact_id}/history",
    roles=ALL_ROLES,
    summary="Previous contacts with this customer, newest first",
    tag="contacts",
    response=list[Interaction],
)
async def contact_history(req: ApiRequest) -> list[Interaction]:
    crm = service(req, CrmService, "crm")
    contact = await crm.store.get(req.path["contact_id"])
    if contact is None:
        raise not_found("contact", "contact_id")
    return await crm.store.history(list(contact.phones), 100)


@ROUTER.route(
    "GET",
    "/api/lookup",
    roles=ALL_ROLES,
    summary="Identify a caller number",
    tag="contacts",
    query=LookupQuery,
    response=LookupResult,
    errors=(502,),
)
async def lookup(req: ApiRequest) -> LookupResult:
    q: LookupQuery = req.query
    return await service(req, CrmService, "crm").lookup(q.number)
