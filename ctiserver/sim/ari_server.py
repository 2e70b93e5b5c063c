"""The ARI server (aiohttp): authentication, the events WebSocket and the shared helpers of the REST
handlers."""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from ctiserver.sim.simulator import Simulator

SIM_KEY: web.AppKey[Simulator] = web.AppKey("sim")


def err(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def ok(body: Any = None, status: int = 200) -> web.Response:
    if body is None:
        return web.Response(status=204)
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        content_type="application/json",
    )


async def params(request: web.Request) -> dict[str, Any]:
    """Query parameters merged with a JSON body (ARI accepts both)."""
    out: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            body = await request.json()
            if isinstance(body, dict):
                out.update(body)
    return out


class AriWs:
    """One events websocket: a sink for the hub with its own ordered send queue."""

    def __init__(
        self, ws: web.WebSocketResponse, app: str, subscribe_all: bool, request: web.Request
    ) -> None:
        self.ws = ws
        self.app = app
        self.subscribe_all = subscribe_all
        self.request = request
        self._queue: collections.deque[str] = collections.deque()
        self._wake = asyncio.Event()
        self.closed = False

    def send(self, text: str) -> None:
        if not self.closed:
            self._queue.append(text)
            self._wake.set()

    async def writer(self) -> None:
        while not self.closed:
            await self._wake.wait()
            self._wake.clear()
            while self._queue and not self.closed:
                text = self._queue.popleft()
                try:
                    await self.ws.send_str(text)
                except (ConnectionError, RuntimeError):
                    self.closed = True
                    return

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (as Asterisk does on restart)."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()


def _authorized(request: web.Request, sim: Simulator) -> bool:
    cfg = sim.config
    key = request.query.get("api_key")
    if key is not None:
        return key == f"{cfg.ari_user}:{cfg.ari_password}"
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == cfg.ari_user and pw == cfg.ari_password
    return False


@web.middleware
async def _auth(request: web.Request, handler: Any) -> web.StreamResponse:
    sim = request.app[SIM_KEY]
    if not _authorized(request, sim):
        return web.json_response(
            {"message": "Authentication required"},
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="Asterisk REST Interface"'},
        )
    if sim.slow_responses:
        await asyncio.sleep(sim.slow_responses)
    try:
        resp: web.StreamResponse = await handler(request)
        return resp
    except web.HTTPNotFound:
        return err(404, "Resource not found")
    except web.HTTPMethodNotAllowed:
        return err(405, "Invalid method")


async def events_ws(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIM_KEY]
    apps = [a for a in request.query.get("app", "").split(",") if a]
    if not apps:
        return err(400, "Missing param: app")
    sub_all = request.query.get("subscribeAll", "false").lower() in ("true", "1", "yes")
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    sinks = [AriWs(ws, a, sub_all, request) for a in apps]
    sim.hub.ari_sinks.extend(sinks)
    sim.ari_ws.update(sinks)
    writers = [asyncio.create_task(s.writer(), name="sim:ari-ws") for s in sinks]
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
    finally:
        for s in sinks:
            s.closed = True
            with contextlib.suppress(ValueError):
                sim.hub.ari_sinks.remove(s)
            sim.ari_ws.discard(s)
            s._wake.set()
        for w in writers:
            w.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
    return ws


def build_app(sim: Simulator) -> web.Application:
    from ctiserver.sim import ari_bridges, ari_channels, ari_extra, ari_misc

    app = web.Application(middlewares=[_auth])
    app[SIM_KEY] = sim
    app.router.add_get("/ari/events", events_ws)
    ari_extra.routes(app.router)  # before /channels/{id}: /channels/create is not a channel id
    ari_channels.routes(app.router)
    ari_bridges.routes(app.router)
    ari_misc.routes(app.router)
    return app
