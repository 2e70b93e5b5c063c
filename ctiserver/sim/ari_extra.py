"""Less common ARI operations an engine may call: channels/create + dial, hold, mute, silence, progress,
redirect, playback control, global variables, application subscriptions, stored recording copy."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from aiohttp import web

from ctiserver.sim import local
from ctiserver.sim.ari_channels import _engine, _in_stasis, _originated, _parse_callerid, enter_app
from ctiserver.sim.ari_server import SIM_KEY, err, ok, params
from ctiserver.sim.dial import dial_event, dial_out
from ctiserver.sim.engine import AllocationFailed
from ctiserver.sim.fmt import channel_json


async def create(request: web.Request) -> web.Response:
    """``POST /channels/create``: allocate the channel (Down); it enters the app at once — ``StasisStart``, state
    Down (resource_channels.c: ``ari_channel_thread`` runs ``Stasis`` on it as soon as it is created, and hangs
    it up when it leaves); ``/dial`` rings it, and its answer is a ``ChannelStateChange`` to Up in the app."""
    engine = _engine(request)
    p = await params(request)
    endpoint, app = p.get("endpoint"), p.get("app")
    if not endpoint or not app:
        return err(400, "Endpoint and app must be specified")
    channel_id = str(p.get("channelId") or "") or None
    other_id = str(p.get("otherChannelId") or "") or None  # the Local peer ;2 (core_unreal.c)
    peer_id = local.peer_id(channel_id, other_id) if str(endpoint).startswith("Local/") else None
    if channel_id in engine.channels or peer_id in engine.channels:
        return err(409, "Channel with given unique ID already exists")
    originator = engine.channels.get(str(p.get("originator", ""))) if p.get("originator") else None
    caller = _parse_callerid(str(p["callerId"])) if p.get("callerId") else None
    try:
        ch = dial_out(
            engine,
            str(endpoint),
            caller=caller,
            connected=(originator.caller_name, originator.caller_num) if originator else ("", ""),
            linkedid=originator.linkedid if originator else None,
            channel_id=channel_id,
            other_id=other_id,
        )
    except AllocationFailed:
        return web.json_response({"error": "Allocation failed"}, status=500)
    ch.tags["originated"] = True
    ch.tags["undialled"] = True
    ch.subscribed.add(str(app))  # ast_ari_channels_create subscribes the channel only, not its Local peer
    body = channel_json(ch)  # the response shows it as created, before Stasis runs on it
    args = tuple(str(p.get("appArgs", "")).split(",")) if p.get("appArgs") else ()
    enter_app(engine, ch, str(app), args)
    return ok(body)


async def dial(request: web.Request) -> web.Response:
    engine = _engine(request)
    ch = engine.channels.get(request.match_info["id"])
    if ch is None:
        return err(404, "Channel not found")
    if not ch.tags.pop("undialled", False):
        return err(409, "Channel cannot be dialed")
    p = await params(request)
    dialstring = ch.endpoint.split("/", 1)[-1]
    dial_event(engine, "DialBegin", ch, dialstring)
    timeout = float(p.get("timeout", 0) or 0)
    ch.tags["task"] = engine.spawn(
        _originated(engine, ch, dialstring, timeout, None, (), {}, in_stasis=True), name=f"sim:ari-dial:{ch.name}"
    )
    return ok()


async def hold(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    engine = _engine(request)
    on = request.method == "POST"
    engine.ami_chan("Hold" if on else "Unhold", ch, [("MusicClass", "")] if on else [])
    engine.ari_chan("ChannelHold" if on else "ChannelUnhold", ch)
    return ok()


async def accepted(request: web.Request) -> web.Response:
    """mute/unmute, silence, progress, DELETE ring: accepted without media effects."""
    ch, e = _in_stasis(request)
    return e if ch is None else ok()  # type: ignore[return-value]


async def redirect(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    p = await params(request)
    if not p.get("endpoint"):
        return err(400, "Required parameter endpoint not supplied")
    return err(422, "Endpoint is not the same type as the channel")


async def playback_control(request: web.Request) -> web.Response:
    engine = _engine(request)
    pb = engine.playbacks.get(request.match_info["id"])
    if pb is None:
        return err(404, "Playback not found")
    p = await params(request)
    op = p.get("operation")
    if op not in ("restart", "pause", "unpause", "reverse", "forward"):
        return err(400, "Invalid operation")
    if pb.state not in ("playing", "paused"):
        return err(409, "Playback not currently controllable")
    if op == "pause":
        pb.state = "paused"
    elif op == "unpause":
        pb.state = "playing"
    return ok()


async def get_global(request: web.Request) -> web.Response:
    var = request.query.get("variable")
    if not var:
        return err(400, "Variable name is required")
    value = _engine(request).config.globals.get(var)
    return err(404, "Provided variable was not found") if value is None else ok({"value": value})


async def set_global(request: web.Request) -> web.Response:
    p = await params(request)
    if not p.get("variable"):
        return err(400, "Variable name is required")
    _engine(request).config.globals[str(p["variable"])] = str(p.get("value", ""))
    return ok()


async def subscription(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    name = request.match_info["name"]
    if name not in sim.hub.connected_apps():
        return err(404, "Application not found")
    p = await params(request)
    sources = p.get("eventSource")
    if not sources:
        return err(400, "Missing parameter eventSource")
    items = sources if isinstance(sources, list) else str(sources).split(",")
    subscribe = request.method == "POST"
    for source in items:
        kind, _, oid = str(source).partition(":")
        target = sim.engine.channels.get(oid) if kind == "channel" else sim.engine.bridges.get(oid)
        if kind not in ("channel", "bridge", "endpoint", "deviceState") or (
            kind in ("channel", "bridge") and target is None
        ):
            return err(422, "Event source does not exist")
        if target is not None:
            (target.subscribed.add if subscribe else target.subscribed.discard)(name)
    from ctiserver.sim.ari_misc import _app_json

    return ok(_app_json(sim, name))


async def copy_stored(request: web.Request) -> web.Response:
    engine = _engine(request)
    src = engine.stored.get(request.match_info["name"])
    if src is None:
        return err(404, "Recording not found")
    dest = request.query.get("destinationRecordingName")
    if not dest:
        return err(400, "Missing parameter destinationRecordingName")
    if dest in engine.stored:
        return err(409, "A recording with the same name already exists on the system")
    fmt, path = src
    new_path = str(Path(path).with_name(f"{dest}.{fmt}"))
    await asyncio.to_thread(_copy, path, new_path)
    engine.stored[dest] = (fmt, new_path)
    return ok({"name": dest, "format": fmt})


def _copy(src: str, dst: str) -> None:
    if Path(src).exists():
        shutil.copyfile(src, dst)


def routes(r: web.UrlDispatcher) -> None:
    r.add_post("/ari/channels/create", create)
    r.add_post("/ari/channels/{id}/dial", dial)
    r.add_post("/ari/channels/{id}/hold", hold)
    r.add_delete("/ari/channels/{id}/hold", hold)
    for op in ("mute", "silence"):
        r.add_post(f"/ari/channels/{{id}}/{op}", accepted)
        r.add_delete(f"/ari/channels/{{id}}/{op}", accepted)
    r.add_post("/ari/channels/{id}/progress", accepted)
    r.add_delete("/ari/channels/{id}/ring", accepted)
    r.add_post("/ari/channels/{id}/redirect", redirect)
    r.add_post("/ari/playbacks/{id}/control", playback_control)
    r.add_get("/ari/asterisk/variable", get_global)
    r.add_post("/ari/asterisk/variable", set_global)
    r.add_post("/ari/applications/{name}/subscription", subscription)
    r.add_delete("/ari/applications/{name}/subscription", subscription)
    r.add_post("/ari/recordings/stored/{name}/copy", copy_stored)
