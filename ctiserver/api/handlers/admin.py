# mypy: disable-error-code="type-abstract"
"""Webhook subscriptions and dead letters, the event feed (REST replay), API tokens, IVR scripts."""

from __future__ import annotations

import secrets
from typing import Any

from ctiserver.api.app import AUTH, CLOCK, HUB, service
from ctiserver.api.auth import STAFF, Role, TokenRecord, new_token
from ctiserver.api.errors import ApiError, not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.routing import ApiRequest
from ctiserver.api.schemas import (
    Count,
    DeadLetter,
    EventOut,
    EventsQuery,
    ReplayIn,
    ScriptIn,
    ScriptProblems,
    TokenCreated,
    TokenIn,
    TokenOut,
    WebhookIn,
    WebhookOut,
)
from ctiserver.api.services import IvrScripts
from ctiserver.api.topics import Topic, matches
from ctiserver.events.log import EventLog, ReplayExpired
from ctiserver.events.outbox import WebhookSubscription
from ctiserver.events.webhooks import WebhookDispatcher

ADMIN = frozenset({Role.ADMIN})
HOOKS = frozenset({Role.ADMIN, Role.CRM})
FEED = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.CRM})


@ROUTER.route(
    "GET",
    "/api/webhooks",
    roles=HOOKS,
    summary="Webhook subscriptions",
    tag="webhooks",
    response=list[WebhookOut],
)
async def list_webhooks(req: ApiRequest) -> list[WebhookOut]:
    subs = await service(req, WebhookDispatcher, "webhooks").store.subscriptions()
    return [
        WebhookOut(id=s.id, url=s.url, types=list(s.types), active=s.active, created_at=s.created_at)
        for s in subs
    ]


@ROUTER.route(
    "POST",
    "/api/webhooks",
    roles=HOOKS,
    summary="Subscribe a URL (HMAC-SHA256 signed deliveries)",
    tag="webhooks",
    body=WebhookIn,
    response=WebhookOut,
    status=201,
)
async def create_webhook(req: ApiRequest) -> WebhookOut:
    body: WebhookIn = req.body
    sub = WebhookSubscription(
        secrets.token_hex(8), body.url, body.secret, tuple(body.types), True, req.app[CLOCK].now()
    )
    await service(req, WebhookDispatcher, "webhooks").add(sub)
    return WebhookOut(id=sub.id, url=sub.url, types=list(sub.types), active=True, created_at=sub.created_at)


@ROUTER.route(
    "DELETE", "/api/webhooks/{webhook_id}", roles=HOOKS, summary="Remove a subscription", tag="webhooks"
)
async def delete_webhook(req: ApiRequest) -> None:
    if not await service(req, WebhookDispatcher, "webhooks").remove(req.path["webhook_id"]):
        raise not_found("webhook", "webhook_id")


@ROUTER.route(
    "GET",
    "/api/webhooks/dead",
    roles=ADMIN,
    summary="Dead-lettered deliveries",
    tag="webhooks",
    response=list[DeadLetter],
)
async def dead_letters(req: ApiRequest) -> list[DeadLetter]:
    items = await service(req, WebhookDispatcher, "webhooks").store.dead(1000)
    return [
        DeadLetter(
            id=i.id,
            subscription_id=i.subscription_id,
            event_id=i.event_id,
            seq=i.seq,
            subject=i.subject,
            attempts=i.attempts,
            last_error=i.last_error,
            created_at=i.created_at,
        )
        for i in items
    ]


@ROUTER.route(
    "POST",
    "/api/webhooks/dead/replay",
    roles=ADMIN,
    summary="Deliver dead letters again",
    tag="webhooks",
    body=ReplayIn,
    response=Count,
)
async def replay_dead(req: ApiRequest) -> Count:
    body: ReplayIn = req.body
    return Count(count=await service(req, WebhookDispatcher, "webhooks").replay_dead(body.ids))


@ROUTER.route(
    "GET",
    "/api/events",
    roles=FEED,
    summary="Events after a sequence number (agents: their own)",
    tag="events",
    query=EventsQuery,
    response=list[EventOut],
)
async def list_events(req: ApiRequest) -> list[EventOut]:
    q: EventsQuery = req.query
    try:
        events = await service(req, EventLog, "event log").replay(q.after_seq, q.limit)
    except ReplayExpired as exc:
        msg = f"{exc}: the events after seq {q.after_seq} were purged (events.retention_days); resync from the API"
        raise ApiError(410, "gone", msg, "query.after_seq") from None
    if req.principal.is_agent():
        topic = Topic("agent", req.principal.agent or "")
        index = req.app[HUB].call_agents
        events = [e for e in events if matches(topic, e, index)]
    return [EventOut.model_validate(e.to_json()) for e in events]


def _token_out(rec: TokenRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "role": rec.role,
        "agent": rec.agent,
        "name": rec.name,
        "created_at": rec.created_at,
        "revoked": rec.revoked,
    }


@ROUTER.route(
    "GET",
    "/api/tokens",
    roles=ADMIN,
    summary="API tokens (never their secrets)",
    tag="tokens",
    response=list[TokenOut],
)
async def list_tokens(req: ApiRequest) -> list[TokenOut]:
    return [TokenOut(**_token_out(r)) for r in await req.app[AUTH].store.list()]


@ROUTER.route(
    "POST",
    "/api/tokens",
    roles=ADMIN,
    summary="Create a token (shown once)",
    tag="tokens",
    body=TokenIn,
    response=TokenCreated,
    status=201,
)
async def create_token(req: ApiRequest) -> TokenCreated:
    body: TokenIn = req.body
    if body.role is Role.AGENT and not body.agent:
        raise ApiError(422, "invalid", "an agent token needs an agent id", "body.agent")
    token, record = new_token(body.role, body.agent, body.name, req.app[CLOCK].now())
    await req.app[AUTH].store.add(record)
    return TokenCreated(token=token, **_token_out(record))


@ROUTER.route("DELETE", "/api/tokens/{token_id}", roles=ADMIN, summary="Revoke a token", tag="tokens")
async def revoke_token(req: ApiRequest) -> None:
    if not await req.app[AUTH].store.revoke(req.path["token_id"]):
        raise not_found("token", "token_id")


@ROUTER.route(
    "GET", "/api/ivr/scripts", roles=STAFF, summary="IVR scripts", tag="ivr", response=list[dict[str, Any]]
)
async def list_scripts(req: ApiRequest) -> list[dict[str, Any]]:
    return [dict(s) for s in service(req, IvrScripts, "ivr").list_scripts()]


@ROUTER.route(
    "GET",
    "/api/ivr/scripts/{name}",
    roles=STAFF,
    summary="One IVR script with its source",
    tag="ivr",
    response=dict[str, Any],
)
async def get_script(req: ApiRequest) -> dict[str, Any]:
    script = service(req, IvrScripts, "ivr").get_script(req.path["name"])
    if script is None:
        raise not_found("script", "name")
    return dict(script)


@ROUTER.route(
    "POST",
    "/api/ivr/validate",
    roles=ADMIN,
    summary="Validate an IVR script (line-precise)",
    tag="ivr",
    body=ScriptIn,
    response=ScriptProblems,
)
async def validate_script(req: ApiRequest) -> ScriptProblems:
    problems = [dict(p) for p in service(req, IvrScripts, "ivr").validate_script(req.body.source)]
    return ScriptProblems(valid=not problems, problems=problems)


@ROUTER.route(
    "PUT",
    "/api/ivr/scripts/{name}",
    roles=ADMIN,
    summary="Create or replace an IVR script",
    tag="ivr",
    body=ScriptIn,
    response=dict[str, Any],
    errors=(409,),
)
async def put_script(req: ApiRequest) -> dict[str, Any]:
    ivr = service(req, IvrScripts, "ivr")
    problems = [dict(p) for p in ivr.validate_script(req.body.source)]
    if problems:
        first = problems[0]
        raise ApiError(
            422,
            "invalid_script",
            str(first.get("message", "invalid script")),
            f"body.source:{first.get('line', '?')}",
        )
    return dict(await ivr.put_script(req.path["name"], req.body.source))
