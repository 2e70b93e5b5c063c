"""ARI /bridges: list/create/get/destroy, addChannel/removeChannel, moh, play, record."""

from __future__ import annotations

import uuid

from aiohttp import web

from ctiserver.sim import bridging, media
from ctiserver.sim.ari_channels import _record
from ctiserver.sim.ari_server import SIM_KEY, err, ok, params
from ctiserver.sim.engine import Engine
from ctiserver.sim.fmt import bridge_json
from ctiserver.sim.model import Bridge


def _engine(request: web.Request) -> Engine:
    return request.app[SIM_KEY].engine


def _bridge(request: web.Request) -> Bridge | None:
    return _engine(request).bridges.get(request.match_info["id"])


async def list_bridges(request: web.Request) -> web.Response:
    return ok([bridge_json(b) for b in _engine(request).bridges.values()])


async def create(request: web.Request) -> web.Response:
    engine = _engine(request)
    p = await params(request)
    types = [t for t in str(p.get("type", "mixing")).split(",") if t]
    bad = [
        t
        for t in types
        if t
        not in ("mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single", "sdp_label")
    ]
    if bad:
        return err(400, f"Invalid bridge type {bad[0]!r}")
    bid = request.match_info.get("id") or p.get("bridgeId")
    if bid and bid in engine.bridges:
        return ok(bridge_json(engine.bridges[bid]))
    br = bridging.create(
        engine,
        bridge_type="holding" if "holding" in types else "mixing",
        name=str(p.get("name", "")),
        bridge_id=str(bid) if bid else None,
    )
    br.subscribed |= request.app[SIM_KEY].hub.connected_apps()
    return ok(bridge_json(br))


async def get(request: web.Request) -> web.Response:
    br = _bridge(request)
    return err(404, "Bridge not found") if br is None else ok(bridge_json(br))


async def destroy(request: web.Request) -> web.Response:
    br = _bridge(request)
    if br is None:
        return err(404, "Bridge not found")
    bridging.destroy(_engine(request), br)
    return ok()


def _channel_ids(p: dict[str, object]) -> list[str]:
    raw = p.get("channel")
    if isinstance(raw, list):
        return [str(x) for x in raw]
    return [c for c in str(raw or "").split(",") if c]


async def add_channel(request: web.Request) -> web.Response:
    engine = _engine(request)
    br = _bridge(request)
    if br is None:
        return err(404, "Bridge not found")
    p = await params(request)
    ids = _channel_ids(p)
    if not ids:
        return err(400, "Missing parameter channel")
    chans = [engine.channels.get(i) for i in ids]
    if any(c is None for c in chans):
        return err(400, "Channel not found")
    for ch in chans:
        assert ch is not None
        if ch.stasis_app is None:
            return err(422, "Channel not in Stasis application")
    for ch in chans:
        assert ch is not None
        bridging.enter(engine, br, ch)
    return ok()


async def remove_channel(request: web.Request) -> web.Response:
    engine = _engine(request)
    br = _bridge(request)
    if br is None:
        return err(404, "Bridge not found")
    p = await params(request)
    ids = _channel_ids(p)
    chans = [engine.channels.get(i) for i in ids]
    if not ids or any(c is None for c in chans):
        return err(400, "Channel not found")
    for ch in chans:
        assert ch is not None
        if ch.bridge is not br:
            return err(422, "Channel not in this bridge")
    for ch in chans:
        assert ch is not None
        bridging.leave(engine, ch)
    return ok()


async def moh_start(request: web.Request) -> web.Response:
    br = _bridge(request)
    if br is None:
        return err(404, "Bridge not found")
    p = await params(request)
    br.moh_class = str(p.get("mohClass") or "default")
    return ok()


async def moh_stop(request: web.Request) -> web.Response:
    br = _bridge(request)
    if br is None:
        return err(404, "Bridge not found")
    if br.moh_class is None:
        return err(409, "Bridge isn't playing music on hold")
    br.moh_class = None
    return ok()


async def play(request: web.Request) -> web.Response:
    engine = _engine(request)
    br = _bridge(request)
    if br is None:
        return err(404, "Bridge not found")
    p = await params(request)
    if not p.get("media"):
        return err(400, "Missing parameter media")
    items = p["media"] if isinstance(p["media"], list) else str(p["media"]).split(",")
    pb_id = request.match_info.get("playbackId") or p.get("playbackId") or str(uuid.uuid4())
    pb = media.play(engine, f"bridge:{br.id}", [str(m) for m in items], str(pb_id), str(p.get("lang", "en")))
    return ok(pb.to_json(), 201)


async def record(request: web.Request) -> web.Response:
    br = _bridge(request)
    if br is None:
        return err(404, "Bridge not found")
    return await _record(request, f"bridge:{br.id}")


def routes(r: web.UrlDispatcher) -> None:
    r.add_get("/ari/bridges", list_bridges)
    r.add_post("/ari/bridges", create)
    r.add_get("/ari/bridges/{id}", get)
    r.add_post("/ari/bridges/{id}", create)
    r.add_delete("/ari/bridges/{id}", destroy)
    r.add_post("/ari/bridges/{id}/addChannel", add_channel)
    r.add_post("/ari/bridges/{id}/removeChannel", remove_channel)
    r.add_post("/ari/bridges/{id}/moh", moh_start)
    r.add_delete("/ari/bridges/{id}/moh", moh_stop)
    r.add_post("/ari/bridges/{id}/play", play)
    r.add_post("/ari/bridges/{id}/play/{playbackId}", play)
    r.add_post("/ari/bridges/{id}/record", record)
