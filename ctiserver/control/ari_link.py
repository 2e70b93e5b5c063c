"""A small ARI transport (aiohttp): REST requests and the events WebSocket with reconnect.

``AriCallControl`` needs only ``request()`` and an event feed; the PBX node's ``AriClient``
(ctiserver/pbx/ari) can stand in for this class through the same two methods.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from ctiserver.clock import Clock
from ctiserver.config import AriConfig
from ctiserver.logs import get_logger
from ctiserver.pbx.tls import for_url
from ctiserver.tasks import cancel_and_wait

log = get_logger(__name__)

EventCallback = Callable[[Mapping[str, Any]], None]


class AriHttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"ARI {status}: {message}")
        self.status = status
        self.message = message


class AriLink:
    def __init__(self, config: AriConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None
        self._callbacks: list[EventCallback] = []
        self._on_reconnect: list[Callable[[], Awaitable[None]]] = []
        self.connections = 0
        self._tasks: set[asyncio.Future[None]] = set()
        self.connected = asyncio.Event()
        self._server_name: str | None = None  # the name TLS checks the certificate for (https:// only)

    def on_event(self, callback: EventCallback) -> None:
        self._callbacks.append(callback)

    def on_reconnect(self, callback: Callable[[], Awaitable[None]]) -> None:
        """``await callback()`` after the events socket came back (not after the first connection)."""
        self._on_reconnect.append(callback)

    async def __aenter__(self) -> AriLink:
        secret = f"{self.config.username}:{self.config.password.get_secret_value()}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(secret).decode("ascii")}
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout)
        tls, self._server_name = for_url(self.config.url, self.config.tls, "ARI")
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=timeout, connector=aiohttp.TCPConnector(limit=64, ssl=tls or True)
        )
        self._reader = asyncio.create_task(self._read_forever(), name="cti:ari-events")
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await cancel_and_wait(self._reader)
        finally:
            if self._session is not None:
                await self._session.close()

    def _url(self, path: str) -> str:
        return self.config.url.rstrip("/") + path

    async def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        assert self._session is not None, "use 'async with AriLink(...)'"
        query = {
            k: ("true" if v is True else "false" if v is False else str(v))
            for k, v in (params or {}).items()
            if v is not None
        }
        try:
            async with self._session.request(
                method, self._url(path), params=query, json=body, server_hostname=self._server_name
            ) as resp:
                text = await resp.text()
                if resp.status >= 300:
                    message = text
                    with contextlib.suppress(ValueError):
                        obj = json.loads(text)
                        message = str(obj.get("message") or obj.get("error") or text)
                    raise AriHttpError(resp.status, message)
                return json.loads(text) if text else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AriHttpError(0, f"ARI unreachable: {type(exc).__name__}") from None

    async def _read_forever(self) -> None:
        delay = self.config.reconnect_min
        ws_url = self._url("/events").replace("http", "ws", 1)
        params = {"app": self.config.app, "subscribeAll": "true" if self.config.subscribe_all else "false"}
        while True:
            assert self._session is not None
            try:
                async with self._session.ws_connect(
                    ws_url, params=params, heartbeat=20, server_hostname=self._server_name
                ) as ws:
                    self.connected.set()
                    self.connections += 1
                    delay = self.config.reconnect_min
                    if self.connections > 1:
                        for callback in self._on_reconnect:
                            task = asyncio.ensure_future(self._guarded(callback))
                            self._tasks.add(task)
                            task.add_done_callback(self._tasks.discard)
                    async for msg in ws:
                        if msg.type is aiohttp.WSMsgType.TEXT:
                            self._dispatch(msg.data)
                        elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                            break
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("ARI events connection failed", error=type(exc).__name__)
            self.connected.clear()
            await self.clock.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max)

    async def _guarded(self, callback: Callable[[], Awaitable[None]]) -> None:
        try:
            await callback()
        except Exception:
            log.exception("ARI reconnect callback failed")

    def _dispatch(self, text: str) -> None:
        try:
            event = json.loads(text)
        except ValueError:
            log.warning("ARI event is not JSON", size=len(text))
            return
        if not isinstance(event, dict):
            return
        for callback in self._callbacks:
            try:
                callback(event)
            except Exception:
                log.exception("ARI event callback failed", type=event.get("type"))
