# mypy: disable-error-code="type-abstract"
"""Calls: active, by id, history; click-to-dial, transfer, hangup, hold, recording control and download;
dispositions. An agent token sees and controls only calls it handles."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from ctiserver.api.app import AUTH, service
from ctiserver.api.auth import ALL_ROLES, Principal, Role
from ctiserver.api.errors import ApiError, forbidden, not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.routing import ApiRequest
from ctiserver.api.schemas import (
    DialIn,
    DialOut,
    DispositionIn,
    HistoryQuery,
    HoldIn,
    RecordingIn,
    TransferIn,
)
from ctiserver.api.services import CallActions, CallsService, RecordingFiles
from ctiserver.crm.model import Interaction
from ctiserver.crm.service import CrmService

CONTROL = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
READ = ALL_ROLES
JsonList = list[dict[str, Any]]


def call_agents(call: Mapping[str, Any]) -> set[str]:
    agents = {str(a) for a in call.get("agents") or () if a}
    for key in ("agent", "agent_id"):
        if call.get(key):
            agents.add(str(call[key]))
    for leg in call.get("legs") or ():
        if isinstance(leg, Mapping) and leg.get("agent"):
            agents.add(str(leg["agent"]))
    return agents


def visible(principal: Principal, call: Mapping[str, Any]) -> bool:
    return not principal.is_agent() or principal.agent in call_agents(call)


def _call(req: ApiRequest) -> Mapping[str, Any]:
    call_id = req.path["call_id"]
    call = service(req, CallsService, "calls").get_call(call_id)
    if call is None or not visible(req.principal, call):
        raise not_found("call", "call_id")  # an agent cannot tell other agents' calls from absent ones
    return call


@ROUTER.route("GET", "/api/calls", roles=READ, summary="Active calls", tag="calls", response=JsonList)
async def list_calls(req: ApiRequest) -> JsonList:
    calls = service(req, CallsService, "calls").active_calls()
    return [dict(c) for c in calls if visible(req.principal, c)]


@ROUTER.route(
    "GET",
    "/api/calls/history",
    roles=READ,
    summary="Finished calls",
    tag="calls",
    query=HistoryQuery,
    response=JsonList,
)
async def call_history(req: ApiRequest) -> JsonList:
    q: HistoryQuery = req.query
    agent = req.principal.agent if req.principal.is_agent() else q.agent
    rows = await service(req, CallsService, "calls").call_history(
        since=q.since, until=q.until, agent=agent, queue=q.queue, limit=q.limit
    )
    return [dict(r) for r in rows]


@ROUTER.route(
    "GET",
    "/api/calls/{call_id}",
    roles=READ,
    summary="One call with its legs",
    tag="calls",
    response=dict[str, Any],
)
async def get_call(req: ApiRequest) -> dict[str, Any]:
    return dict(_call(req))


@ROUTER.route(
    "POST",
    "/api/calls/dial",
    roles=CONTROL,
    summary="Click-to-dial: ring the agent, then dial the customer",
    tag="calls",
    body=DialIn,
    response=DialOut,
    status=201,
    errors=(409, 502),
)
async def click_to_dial(req: ApiRequest) -> DialOut:
    body: DialIn = req.body
    agent = body.agent or req.principal.agent
    if req.principal.is_agent() and agent != req.principal.agent:
        raise forbidden("an agent may dial only from their own phone")
    if not agent:
        raise ApiError(422, "invalid", "agent is required", "body.agent")
    call_id = await service(req, CallActions, "call control").click_to_dial(
        agent, body.number, body.caller_id
    )
    return DialOut(call_id=call_id)


@ROUTER.route(
    "POST",
    "/api/calls/{call_id}/transfer",
    roles=CONTROL,
    summary="Transfer a call",
    tag="calls",
    body=TransferIn,
    errors=(409, 502),
)
async def transfer_call(req: ApiRequest) -> None:
    _call(req)
    body: TransferIn = req.body
    await service(req, CallActions, "call control").transfer(req.path["call_id"], body.target, body.kind)


SETTLE = {
    "complete": "Complete an attended transfer: the caller goes to the consulted party, the agent leaves",
    "cancel": "Cancel an attended transfer: drop (or stop ringing) the consulted party, take the caller back",
}


def _settle(action: str) -> Any:
    async def handler(req: ApiRequest) -> None:
        _call(req)
        actions = service(req, CallActions, "call control")
        await actions.settle_transfer(req.path["call_id"], complete=action == "complete")

    handler.__name__ = f"{action}_transfer"
    return handler


for _action, _summary in SETTLE.items():
    ROUTER.route(
        "POST", f"/api/calls/{{call_id}}/transfer/{_action}", roles=CONTROL, summary=_summary, tag="calls",
        errors=(409, 502),
    )(_settle(_action))


@ROUTER.route(
    "POST",
    "/api/calls/{call_id}/hangup",
    roles=CONTROL,
    summary="Hang up a call",
    tag="calls",
    errors=(409, 502),
)
async def hangup_call(req: ApiRequest) -> None:
    _call(req)
    await service(req, CallActions, "call control").hangup(req.path["call_id"])


@ROUTER.route(
    "POST",
    "/api/calls/{call_id}/hold",
    roles=CONTROL,
    summary="Hold or resume",
    tag="calls",
    body=HoldIn,
    errors=(409, 502),
)
async def hold_call(req: ApiRequest) -> None:
    _call(req)
    await service(req, CallActions, "call control").hold(req.path["call_id"], req.body.on)


@ROUTER.route(
    "POST",
    "/api/calls/{call_id}/recording",
    roles=CONTROL,
    summary="Start/stop/pause/resume recording",
    tag="recordings",
    body=RecordingIn,
    response=dict[str, Any],
    errors=(409, 502),
)
async def recording_control(req: ApiRequest) -> dict[str, Any]:
    _call(req)
    result = await service(req, CallActions, "call control").recording(req.path["call_id"], req.body.action)
    return dict(result)


@ROUTER.route(
    "GET",
    "/api/calls/{call_id}/recordings",
    roles=CONTROL,
    summary="A call's recordings and their state (an agent: those of its own conversations)",
    tag="recordings",
    response=JsonList,
)
async def call_recordings(req: ApiRequest) -> JsonList:
    found = await service(req, RecordingFiles, "recordings").call_recordings(req.path["call_id"])
    if req.principal.is_agent():
        found = [m for m in found if str(m.get("agent") or "") == req.principal.agent]
    return [dict(m) for m in found]


@ROUTER.route(
    "GET",
    "/api/recordings/{name}",
    roles=CONTROL,
    summary="Download a recording (supervisor/admin; the handling agent if auth.agent_recordings)",
    tag="recordings",
    binary="audio/wav",
)
async def download_recording(req: ApiRequest) -> web.StreamResponse:
    if req.principal.is_agent() and not req.app[AUTH].agent_recordings:
        raise forbidden("recordings are for supervisors and admins (auth.agent_recordings is off)")
    meta = await service(req, RecordingFiles, "recordings").recording_meta(req.path["name"])
    if req.principal.is_agent():
        if meta is None or str(meta.get("agent") or "") != req.principal.agent:
            raise not_found("recording", "name")
    if meta is None or not meta.get("path"):
        raise not_found("recording", "name")
    path = Path(str(meta["path"]))
    if not await asyncio.to_thread(path.is_file):
        raise not_found("recording file", "name")
    return web.FileResponse(path, headers={"Content-Type": str(meta.get("content_type") or "audio/wav")})


@ROUTER.route(
    "POST",
    "/api/calls/{call_id}/disposition",
    roles=frozenset({*CONTROL, Role.CRM}),
    summary="Set the disposition and notes (wrap-up)",
    tag="calls",
    body=DispositionIn,
    response=Interaction,
)
async def set_disposition(req: ApiRequest) -> Interaction:
    call_id = req.path["call_id"]
    crm = service(req, CrmService, "crm")
    if req.principal.is_agent():
        known = await crm.history.interaction(call_id)
        call = _maybe_call(req, call_id)
        handled = (known is not None and known.agent == req.principal.agent) or (
            call is not None and req.principal.agent in call_agents(call)
        )
        if not handled:
            raise not_found("call", "call_id")
    body: DispositionIn = req.body
    result = await crm.disposition(call_id, body.code, body.notes, req.principal.agent)
    _tracker_disposition(req, call_id, body.code)
    return result


def _tracker_disposition(req: ApiRequest, call_id: str, code: str) -> None:
    """The call record keeps the disposition too (FCR and the KPI reports read it there)."""
    from ctiserver.api.app import LOCATOR

    try:
        from ctiserver.calls.service import CallService
    except ImportError:  # pragma: no cover - the tracker is part of the package
        return
    calls = req.app[LOCATOR].maybe(CallService)
    if calls is not None and calls.tracker.call_of(call_id) is not None:
        calls.set_disposition(call_id, code)


def _maybe_call(req: ApiRequest, call_id: str) -> Mapping[str, Any] | None:
    from ctiserver.api.app import LOCATOR

    calls = req.app[LOCATOR].maybe(CallsService)
    return calls.get_call(call_id) if calls is not None else None
