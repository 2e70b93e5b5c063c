"""ARI /playbacks, /recordings, /endpoints, /deviceStates, /applications, /asterisk/info."""

from __future__ import annotations

import asyncio
import json
import os
import time

from aiohttp import web

from ctiserver.sim import media
from ctiserver.sim.ari_filter import EventFilter, updated
from ctiserver.sim.ari_server import SIM_KEY, err, ok, params
from ctiserver.sim.engine import Engine
from ctiserver.sim.fmt import ari_time
from ctiserver.sim.model import Endpoint


def _engine(request: web.Request) -> Engine:
    return request.app[SIM_KEY].engine


# -- playbacks -------------------------------------------------------------------------------------
async def get_playback(request: web.Request) -> web.Response:
    pb = _engine(request).playbacks.get(request.match_info["id"])
    return err(404, "Playback not found") if pb is None else ok(pb.to_json())


async def stop_playback(request: web.Request) -> web.Response:
    engine = _engine(request)
    pb = engine.playbacks.get(request.match_info["id"])
    if pb is None:
        return err(404, "Playback not found")
    media.stop_playback(engine, pb)
    return ok()


# -- recordings ------------------------------------------------------------------------------------
async def live_get(request: web.Request) -> web.Response:
    rec = _engine(request).recordings.get(request.match_info["name"])
    return err(404, "Recording not found") if rec is None else ok(rec.to_json())


async def live_op(request: web.Request) -> web.Response:
    engine = _engine(request)
    rec = engine.recordings.get(request.match_info["name"])
    if rec is None:
        return err(404, "Recording not found")
    op = request.match_info.get("op", "cancel")
    now = engine.clock.now()
    if op == "stop":
        media.recording_stop(engine, rec)
    elif op == "cancel":
        media.recording_stop(engine, rec, "canceled")
    elif op == "pause":
        if request.method == "POST":
            if rec.paused_at is None:
                rec.paused_at, rec.state = now, "paused"
        elif rec.paused_at is not None:
            rec.paused_total += now - rec.paused_at
            rec.paused_at, rec.state = None, "recording"
    elif op == "unpause":
        if rec.paused_at is None:
            return err(409, "Recording not in session")
        rec.paused_total += now - rec.paused_at
        rec.paused_at, rec.state = None, "recording"
    elif op == "mute":
        rec.muted = request.method == "POST"
    return ok()


def _stored(request: web.Request) -> tuple[str, str] | None:
    return _engine(request).stored.get(request.match_info["name"])


async def stored_list(request: web.Request) -> web.Response:
    return ok([{"name": n, "format": f} for n, (f, _p) in _engine(request).stored.items()])


async def stored_get(request: web.Request) -> web.Response:
    rec = _stored(request)
    return (
        err(404, "Recording not found")
        if rec is None
        else ok({"name": request.match_info["name"], "format": rec[0]})
    )


async def stored_file(request: web.Request) -> web.StreamResponse:
    rec = _stored(request)
    if rec is None:
        return err(404, "Recording not found")
    writing = _engine(request).wav_tasks.get(request.match_info["name"])
    if writing is not None:
        await asyncio.wait({writing})
    return web.FileResponse(
        rec[1], headers={"Content-Type": "audio/wav" if rec[0] == "wav" else "application/octet-stream"}
    )


async def stored_delete(request: web.Request) -> web.Response:
    engine = _engine(request)
    rec = engine.stored.pop(request.match_info["name"], None)
    if rec is None:
        return err(404, "Recording not found")
    try:
        os.unlink(rec[1])
    except OSError:
        pass
    return ok()


# -- endpoints / device states / applications / info -----------------------------------------------
def _ep_json(ep: Endpoint) -> dict[str, object]:
    return {
        "technology": ep.tech,
        "resource": ep.resource,
        "state": ep.ari_state(),
        "channel_ids": sorted(ep.channels),
    }


async def endpoints(request: web.Request) -> web.Response:
    tech = request.match_info.get("tech")
    eps = [e for e in _engine(request).endpoints.values() if tech is None or e.tech == tech]
    if tech is not None and not eps:
        return err(404, "No Endpoints found - invalid tech " + tech)
    return ok([_ep_json(e) for e in eps])


async def endpoint(request: web.Request) -> web.Response:
    ep = _engine(request).endpoints.get(f"{request.match_info['tech']}/{request.match_info['res']}")
    return err(404, "Endpoint not found") if ep is None else ok(_ep_json(ep))


async def device_states(request: web.Request) -> web.Response:
    return ok([{"name": e.name, "state": e.device_state()} for e in _engine(request).endpoints.values()])


async def device_state(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    ep = _engine(request).endpoints.get(name)
    custom = request.app[SIM_KEY].custom_states
    if ep is not None:
        return ok({"name": name, "state": ep.device_state()})
    if name in custom:
        return ok({"name": name, "state": custom[name]})
    return (
        err(404, "Device state not found")
        if not name.startswith("Stasis:")
        else ok({"name": name, "state": "UNKNOWN"})
    )


async def device_state_put(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not name.startswith("Stasis:"):
        return err(409, "Uncontrolled device specified")
    p = await params(request)
    state = str(p.get("deviceState", ""))
    if state not in (
        "NOT_INUSE",
        "INUSE",
        "BUSY",
        "INVALID",
        "UNAVAILABLE",
        "RINGING",
        "RINGINUSE",
        "ONHOLD",
        "UNKNOWN",
    ):
        return err(400, "Invalid device state")
    request.app[SIM_KEY].custom_states[name] = state
    sim = request.app[SIM_KEY]
    sim.hub.ari(
        "DeviceStateChanged", sim.hub.connected_apps(), [("device_state", {"name": name, "state": state})]
    )
    return ok()


async def applications(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    return ok([_app_json(sim, a) for a in sorted(sim.hub.connected_apps())])


def _app_json(sim: object, name: str) -> dict[str, object]:
    engine: Engine = sim.engine  # type: ignore[attr-defined]
    chans = [c.id for c in engine.channels.values() if name in c.subscribed]
    bridges = [b.id for b in engine.bridges.values() if name in b.subscribed]
    return {
        "name": name,
        "channel_ids": chans,
        "bridge_ids": bridges,
        "endpoint_ids": [],
        "device_names": [],
        **sim.hub.ari_filters.get(name, EventFilter()).as_json(),  # type: ignore[attr-defined]
    }


async def application(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    name = request.match_info["name"]
    if name not in sim.hub.connected_apps():
        return err(404, "Application not found")
    return ok(_app_json(sim, name))


async def event_filter(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    name = request.match_info["name"]
    if name not in sim.hub.connected_apps():
        return err(404, "Application not found")
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else None
        sim.hub.ari_filters[name] = updated(sim.hub.ari_filters.get(name, EventFilter()), body)
    except ValueError as exc:
        return err(400, f"Bad request: {exc}")
    return ok(_app_json(sim, name))


async def info(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    cfg = sim.config
    return ok(
        {
            "build": {
                "os": "Linux",
                "kernel": "6.1",
                "machine": "x86_64",
                "options": "",
                "date": "2026-11-22",
                "user": "sim",
            },
            "system": {"version": "22.10.1", "entity_id": cfg.asterisk_id},
            "config": {"name": cfg.systemname, "default_language": "en", "setid": {"user": "", "group": ""}},
            "status": {
                "startup_time": ari_time(sim.engine.booted_at),
                "last_reload_time": ari_time(sim.engine.booted_at),
            },
        }
    )


async def ping(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    return ok({"asterisk_id": sim.config.asterisk_id, "ping": "pong", "timestamp": ari_time(time.time())})


def routes(r: web.UrlDispatcher) -> None:
    r.add_get("/ari/playbacks/{id}", get_playback)
    r.add_delete("/ari/playbacks/{id}", stop_playback)
    r.add_get("/ari/recordings/live/{name}", live_get)
    r.add_delete("/ari/recordings/live/{name}", live_op)
    r.add_post("/ari/recordings/live/{name}/{op}", live_op)
    r.add_delete("/ari/recordings/live/{name}/{op}", live_op)
    r.add_get("/ari/recordings/stored", stored_list)
    r.add_get("/ari/recordings/stored/{name}", stored_get)
    r.add_get("/ari/recordings/stored/{name}/file", stored_file)
    r.add_delete("/ari/recordings/stored/{name}", stored_delete)
    r.add_get("/ari/endpoints", endpoints)
    r.add_get("/ari/endpoints/{tech}", endpoints)
    r.add_get("/ari/endpoints/{tech}/{res}", endpoint)
    r.add_get("/ari/deviceStates", device_states)
    r.add_get("/ari/deviceStates/{name}", device_state)
    r.add_put("/ari/deviceStates/{name}", device_state_put)
    r.add_get("/ari/applications", applications)
    r.add_get("/ari/applications/{name}", application)
    r.add_put("/ari/applications/{name}/eventFilter", event_filter)
    r.add_get("/ari/asterisk/info", info)
    r.add_get("/ari/asterisk/ping", ping)
