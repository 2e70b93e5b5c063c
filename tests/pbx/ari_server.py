"""A small aiohttp ARI server for the client tests: basic auth, the events WebSocket (which can be dropped the
way a restarting Asterisk drops it: no close frame), and a few REST resources."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def channel(cid: str, name: str = "PJSIP/caller-00000001", state: str = "Up") -> dict[str, Any]:
    return {
        "id": cid,
        "name": name,
        "state": state,
        "protocol_id": "x",
        "caller": {"name": "Иван Петров", "number": "5550100"},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {"context": "from-external", "exten": "100", "priority": 2, "app_name": "Stasis",
                     "app_data": "ctiserver,did,100"},
        "creationtime": "2026-11-22T17:52:21.720+0000",
        "language": "en",
    }  # fmt: skip


@dataclass
class AriTestServer:
    username: str = "cti"
    password: str = "cti-secret"
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    app_channels: set[str] = field(default_factory=set)
    ws_connects: list[dict[str, str]] = field(default_factory=list)  # query of every events connection
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    port: int = 0
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _connect_cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self, port: int = 0) -> None:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/ari/events", self._events)
        app.router.add_route("*", "/ari/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port or self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self.drop_websockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ari"

    async def wait_connects(self, n: int, within: float = 30.0) -> None:
        async with asyncio.timeout(within), self._connect_cond:
            await self._connect_cond.wait_for(lambda: len(self.ws_connects) >= n)

    async def send(self, *events: dict[str, Any]) -> None:
        for ws in list(self._sockets):
            for ev in events:
                await ws.send_str(
                    json.dumps({"application": "ctiserver", "timestamp": "t", **ev}, ensure_ascii=False)
                )

    def drop_websockets(self) -> None:
        """Kill the TCP connections under the WebSockets without a close frame (Asterisk restart)."""
        for ws in list(self._sockets):
            req_transport = getattr(ws, "_req", None)
            transport = req_transport.transport if req_transport is not None else None
            if transport is not None:
                transport.abort()
        self._sockets.clear()

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"message": "Authentication required"}, status=401)
        result: web.StreamResponse = await handler(request)
        return result

    async def _events(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        async with self._connect_cond:
            self.ws_connects.append(dict(request.query))
            self._connect_cond.notify_all()
        async for _ in ws:
            pass
        if ws in self._sockets:
            self._sockets.remove(ws)
        return ws

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, "/" + tail, dict(request.query), body))
        parts = tail.split("/")
        if request.method == "GET" and tail == "channels":
            return web.json_response(list(self.channels.values()))
        if request.method == "POST" and tail == "channels":
            return web.json_response({"error": "Allocation failed"}, status=500)
        if parts[0] == "channels" and len(parts) >= 2:
            if parts[1] not in self.channels:
                return web.json_response({"message": "Channel not found"}, status=404)
            if len(parts) == 3 and parts[2] == "answer" and request.method == "POST":
                self.channels[parts[1]]["state"] = "Up"
                return web.Response(status=204)
            if len(parts) == 3 and parts[2] == "play" and request.method == "POST":
                return web.json_response(
                    {"id": "pb-1", "media_uri": request.query["media"], "target_uri": f"channel:{parts[1]}",
                     "state": "queued"}, status=201)  # fmt: skip
            if len(parts) == 2 and request.method == "GET":
                return web.json_response(self.channels[parts[1]])
        if request.method == "GET" and parts[0] == "applications" and len(parts) == 2:
            return web.json_response(
                {"name": parts[1], "channel_ids": sorted(self.app_channels), "bridge_ids": [],
                 "endpoint_ids": [], "device_names": [], "events_allowed": [], "events_disallowed": []}
            )  # fmt: skip
        if request.method == "GET" and tail == "asterisk/info":
            return web.json_response({"system": {"version": "22.10.1", "entity_id": "02:fc"}, "status": {}})
        return web.json_response({"message": f"no resource {tail}"}, status=404)
