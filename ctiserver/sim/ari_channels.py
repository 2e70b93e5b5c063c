"""ARI /channels: list/get/originate/hangup/answer/ring/play/record/moh/dtmf/variable/continue."""

from __future__ import annotations

import asyncio
import re
import uuid

from aiohttp import web

from ctiserver.sim import local, media
from ctiserver.sim.ari_server import SIM_KEY, err, ok, params
from ctiserver.sim.dial import dial_event, dial_out, start_far_end
from ctiserver.sim.engine import AllocationFailed, Engine
from ctiserver.sim.fmt import channel_json
from ctiserver.sim.model import Channel, ChanState

MAX_PUBLIC_UNIQUEID = 149  # include/asterisk/channel.h AST_MAX_PUBLIC_UNIQUEID

REASONS = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 19,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}


def _engine(request: web.Request) -> Engine:
    return request.app[SIM_KEY].engine


def _channel(request: web.Request) -> Channel | None:
    return _engine(request).channels.get(request.match_info["id"])


def _parse_callerid(text: str) -> tuple[str, str]:
    m = re.match(r'\s*"?([^"<]*?)"?\s*<([^>]*)>', text)
    return (m.group(1).strip(), m.group(2).strip()) if m else ("", text.strip())


async def list_channels(request: web.Request) -> web.Response:
    return ok([channel_json(c) for c in _engine(request).channels.values()])


async def get_channel(request: web.Request) -> web.Response:
    ch = _channel(request)
    return err(404, "Channel not found") if ch is None else ok(channel_json(ch))


async def originate(request: web.Request) -> web.Response:
    engine = _engine(request)
    p = await params(request)
    # POST /channels/{channelId} (originateWithId) takes the id from the path; otherChannelId names the Local
    # peer ;2 (res/ari/resource_channels.c ari_channels_handle_originate_with_id: assignedids.uniqueid2)
    channel_id = str(request.match_info.get("id") or p.get("channelId") or "") or None
    other_id = str(p.get("otherChannelId") or "") or None
    if any(len(i) > MAX_PUBLIC_UNIQUEID for i in (channel_id, other_id) if i):
        return err(400, f"Uniqueid length exceeds maximum of {MAX_PUBLIC_UNIQUEID}")
    endpoint = p.get("endpoint")
    if not endpoint:
        return err(400, "Endpoint must be specified")
    app = p.get("app")
    exten = p.get("extension")
    if not app and not exten:
        return err(400, "Application or extension must be specified")
    if "/" not in str(endpoint):
        return err(400, "Invalid endpoint specified")
    try:
        timeout = float(p.get("timeout", 30))
    except (TypeError, ValueError):
        return err(400, "timeout: invalid value")
    peer_id = local.peer_id(channel_id, other_id) if str(endpoint).startswith("Local/") else None
    if channel_id in engine.channels or peer_id in engine.channels:
        return err(409, "Channel with given unique ID already exists")
    originator = engine.channels.get(str(p.get("originator", ""))) if p.get("originator") else None
    caller = _parse_callerid(str(p["callerId"])) if p.get("callerId") else None
    connected = (originator.caller_name, originator.caller_num) if originator else (caller or ("", ""))
    try:
        ch = dial_out(
            engine,
            str(endpoint),
            caller=caller,
            connected=connected,
            linkedid=originator.linkedid if originator else None,
            channel_id=channel_id,
            other_id=other_id,
        )
    except AllocationFailed:
        return web.json_response({"error": "Allocation failed"}, status=500)
    ch.tags["originated"] = True
    if app:
        ch.subscribed.add(str(app))
        # resource_channels.c ari_channels_handle_originate_with_id: "Subscribe to the Local channel peer also"
        # (core_local.c ast_local_get_peer). The app then gets ;2's channel-topic events (ChannelDialplan,
        # ChannelVarset, ChannelStateChange, Dial, ChannelHangupRequest, ChannelDestroyed…) but no
        # ChannelCreated (subscribed after the allocation) and no StasisStart (;2 runs the dialplan).
        # POST /channels/create subscribes only the channel (ast_ari_channels_create): not done there.
        peer = ch.tags.get("local_peer")
        if isinstance(peer, Channel):
            peer.subscribed.add(str(app))
    variables = p.get("variables") or {}
    if isinstance(variables, dict):
        for k, v in variables.items():
            ch.variables[str(k)] = str(v)
    dialstring = str(endpoint).split("/", 1)[-1]
    body = channel_json(ch)
    dial_event(engine, "DialBegin", ch, dialstring)
    args = tuple(a for a in str(p.get("appArgs", "")).split(",")) if p.get("appArgs") else ()
    ch.tags["task"] = engine.spawn(
        _originated(engine, ch, dialstring, timeout, app, args, p), name=f"sim:ari-originate:{ch.name}"
    )
    return ok(body)


async def _originated(
    engine: Engine,
    ch: Channel,
    dialstring: str,
    ring_timeout: float,
    app: object,
    args: tuple[str, ...],
    p: dict[str, object],
    *,
    in_stasis: bool = False,
) -> None:
    """Ring ``ch`` until it answers (or ``ring_timeout``); then it enters ``app`` (an originate into Stasis),
    stays where it is (``in_stasis``: a created channel, in the app since its creation), or runs the dialplan."""
    answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    ch.tags["on_ringing"] = lambda c: dial_event(engine, "DialState", c, dialstring, status="RINGING")

    def on_answer(_: Channel) -> None:
        if not answered.done():
            answered.set_result(True)

    ch.tags["on_answer"] = on_answer
    start_far_end(engine, ch)
    try:
        await engine.wait_for(answered, ring_timeout if ring_timeout > 0 else None)
    except TimeoutError:
        ch.tags.pop("task", None)
        ch.tech_cause = 480  # the far end is sent CANCEL; Asterisk records 480 Temporarily Unavailable
        engine.hangup(ch, 19, request=False)
        return
    dial_event(engine, "DialEnd", ch, dialstring, status="ANSWER")
    if in_stasis:
        await ch.done.wait()
        return
    if app:
        enter_app(engine, ch, str(app), args)
        await ch.done.wait()
        return
    ch.context = str(p.get("context") or "default")
    ch.exten = str(p.get("extension"))
    ch.priority = int(str(p.get("priority") or 1))
    ch.tags.pop("task", None)
    engine.dialplan.start(ch)


def enter_app(engine: Engine, ch: Channel, app: str, args: tuple[str, ...]) -> None:
    """An ARI-made channel runs ``Stasis(app,args)`` with no dialplan around it (originate into an app,
    ``/channels/create``)."""
    engine.set_var(ch, "STASISSTATUS", "")
    ch.app_name, ch.app_data = "Stasis", ",".join([app, *args])
    engine.stasis_enter(ch, app, args)


def _in_stasis(request: web.Request) -> tuple[Channel | None, web.Response | None]:
    ch = _channel(request)
    if ch is None:
        return None, err(404, "Channel not found")
    if ch.stasis_app is None:
        return None, err(409, "Channel not in Stasis application")
    return ch, None


async def hangup(request: web.Request) -> web.Response:
    ch = _channel(request)
    if ch is None:
        return err(404, "Channel not found")
    p = await params(request)
    cause = 16
    if p.get("reason_code"):
        try:
            cause = int(str(p["reason_code"]))
        except ValueError:
            return err(400, "Invalid reason_code")
    elif p.get("reason"):
        if p["reason"] not in REASONS:
            return err(400, "Invalid reason for hangup specified")
        cause = REASONS[str(p["reason"])]
    _engine(request).hangup(ch, cause, soft=True)
    return ok()


async def answer(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    if ch.state != ChanState.UP:
        _engine(request).set_state(ch, ChanState.UP)
    return ok()


async def ring(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    if ch.state in (ChanState.RING, ChanState.DOWN):
        _engine(request).set_state(ch, ChanState.RINGING)
    return ok()


async def play(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    p = await params(request)
    media_list = p.get("media")
    if not media_list:
        return err(400, "Missing parameter media")
    items = media_list if isinstance(media_list, list) else str(media_list).split(",")
    pb_id = request.match_info.get("playbackId") or p.get("playbackId") or str(uuid.uuid4())
    engine = _engine(request)
    if pb_id in engine.playbacks:
        return err(409, "Playback with given ID already exists")
    pb = media.play(engine, f"channel:{ch.id}", [str(m) for m in items], str(pb_id), str(p.get("lang", "en")))
    return ok(pb.to_json(), 201)


async def record(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    return await _record(request, f"channel:{ch.id}")


async def _record(request: web.Request, target: str) -> web.Response:
    engine = _engine(request)
    p = await params(request)
    name, fmt = p.get("name"), p.get("format")
    if not name or not fmt:
        return err(400, "Missing parameter " + ("name" if not name else "format"))
    if fmt not in ("wav", "gsm", "ulaw", "alaw", "sln", "g722"):
        return err(422, "Format specified is unknown on this system")
    if name in engine.recordings:
        return err(409, "Recording with the same name already in progress")
    if p.get("ifExists", "fail") == "fail" and name in engine.stored:
        return err(422, "Recording already exists")
    rec = media.record(engine, target, str(name), str(fmt))
    body = rec.to_json()
    body["state"] = "queued"
    return ok(body, 201)


async def moh_start(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    p = await params(request)
    media.moh_start(_engine(request), ch, str(p.get("mohClass") or "default"))
    return ok()


async def moh_stop(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    media.moh_stop(_engine(request), ch)
    return ok()


async def dtmf(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    p = await params(request)
    if not p.get("dtmf"):
        return err(400, "DTMF is required")
    return ok()


async def get_var(request: web.Request) -> web.Response:
    ch = _channel(request)
    if ch is None:
        return err(404, "Channel not found")
    var = request.query.get("variable")
    if not var:
        return err(400, "Variable name is required")
    value = ch.var(var)
    if value is None:
        return err(404, "Provided variable was not found")
    return ok({"value": value})


async def set_var(request: web.Request) -> web.Response:
    ch = _channel(request)
    if ch is None:
        return err(404, "Channel not found")
    p = await params(request)
    if not p.get("variable"):
        return err(400, "Variable name is required")
    _engine(request).set_var(ch, str(p["variable"]), str(p.get("value", "")))
    return ok()


async def continue_(request: web.Request) -> web.Response:
    ch, e = _in_stasis(request)
    if ch is None:
        return e  # type: ignore[return-value]
    p = await params(request)
    engine = _engine(request)
    if p.get("extension") or p.get("context"):
        ch.tags["continue"] = (
            str(p.get("context") or ch.context),
            str(p.get("extension") or ch.exten),
            int(str(p.get("priority") or 1)),
        )
    if ch.bridge is not None:
        engine.bridge_leave(ch)
    engine.stasis_exit(ch)
    if ch.tags.get("originated") and "continue" in ch.tags:
        ch.context, ch.exten, ch.priority = ch.tags.pop("continue")
        ch.tags.pop("task", None)
        engine.dialplan.start(ch)
    return ok()


def routes(r: web.UrlDispatcher) -> None:
    r.add_get("/ari/channels", list_channels)
    r.add_post("/ari/channels", originate)
    r.add_get("/ari/channels/{id}", get_channel)
    r.add_post("/ari/channels/{id}", originate)  # originateWithId (after ari_extra's /channels/create)
    r.add_delete("/ari/channels/{id}", hangup)
    r.add_post("/ari/channels/{id}/answer", answer)
    r.add_post("/ari/channels/{id}/ring", ring)
    r.add_post("/ari/channels/{id}/play", play)
    r.add_post("/ari/channels/{id}/play/{playbackId}", play)
    r.add_post("/ari/channels/{id}/record", record)
    r.add_post("/ari/channels/{id}/moh", moh_start)
    r.add_delete("/ari/channels/{id}/moh", moh_stop)
    r.add_post("/ari/channels/{id}/dtmf", dtmf)
    r.add_get("/ari/channels/{id}/variable", get_var)
    r.add_post("/ari/channels/{id}/variable", set_var)
    r.add_post("/ari/channels/{id}/continue", continue_)
