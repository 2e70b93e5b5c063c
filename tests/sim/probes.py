"""Over-the-wire probes for the simulator tests: a raw AMI client and an ARI websocket + REST client."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp

Headers = list[tuple[str, str]]
WAIT = 20.0  # generous: the machine is shared and loaded


def parse_block(block: str) -> Headers:
    out = []
    for line in block.split("\r\n"):
        k, sep, v = line.partition(": ")
        if sep:
            out.append((k, v))
        elif line.endswith(":"):
            out.append((line[:-1], ""))
    return out


def get(h: Headers, key: str) -> str | None:
    for k, v in h:
        if k == key:
            return v
    low = key.lower()
    for k, v in h:
        if k.lower() == low:
            return v
    return None


class AmiProbe:
    def __init__(self) -> None:
        self.messages: list[Headers] = []
        self.banner = ""
        self._cond = asyncio.Condition()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self._aid = 0

    async def connect(
        self, port: int, user: str = "cti", secret: str = "cti-secret", md5: bool = False
    ) -> Headers:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", port)
        self.banner = (await self._reader.readline()).decode().strip()
        self._task = asyncio.create_task(self._read())
        if md5:
            ch = await self.action("Challenge", [("AuthType", "md5")])
            key = hashlib.md5(((get(ch, "Challenge") or "") + secret).encode()).hexdigest()
            return await self.action("Login", [("AuthType", "md5"), ("Username", user), ("Key", key)])
        return await self.action("Login", [("Username", user), ("Secret", secret), ("Events", "on")])

    async def _read(self) -> None:
        assert self._reader is not None
        buf = b""
        try:
            while True:
                chunk = await self._reader.read(65536)
                if not chunk:
                    break
                buf += chunk
                *blocks, buf = buf.split(b"\r\n\r\n")
                if blocks:
                    async with self._cond:
                        self.messages.extend(parse_block(b.decode("utf-8")) for b in blocks)
                        self._cond.notify_all()
        finally:
            self.closed.set()
            async with self._cond:
                self._cond.notify_all()

    async def action(self, name: str, headers: Headers | None = None, limit: float = WAIT) -> Headers:
        assert self._writer is not None
        self._aid += 1
        aid = f"t-{self._aid}"
        frame = f"Action: {name}\r\nActionID: {aid}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers or [])
        sent_at = len(self.messages)  # the response can only come after this
        self._writer.write((frame + "\r\n").encode())
        return await self.wait(
            lambda m: get(m, "Response") is not None and get(m, "ActionID") == aid, limit, start=sent_at
        )

    async def wait(self, pred: Callable[[Headers], bool], limit: float = WAIT, start: int = 0) -> Headers:
        async def _find() -> Headers:
            i = start
            async with self._cond:
                while True:
                    while i < len(self.messages):  # only messages not looked at yet
                        m = self.messages[i]
                        i += 1
                        if pred(m):
                            return m
                    if self.closed.is_set():
                        raise ConnectionError("AMI connection closed")
                    await self._cond.wait()

        return await asyncio.wait_for(_find(), limit)

    async def wait_event(self, name: str, limit: float = WAIT, **match: str) -> Headers:
        def pred(m: Headers) -> bool:
            return get(m, "Event") == name and all(get(m, k) == v for k, v in match.items())

        return await self.wait(pred, limit)

    def events(self, name: str | None = None) -> list[Headers]:
        return [m for m in self.messages if get(m, "Event") and (name is None or get(m, "Event") == name)]

    async def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task


class AriProbe:
    def __init__(self, base_url: str, user: str = "cti", password: str = "cti-secret") -> None:
        self.base = base_url
        self.session = aiohttp.ClientSession(
            headers={"Authorization": aiohttp.encode_basic_auth(user, password)}
        )
        self.events: list[dict[str, Any]] = []
        self._cond = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.closed = asyncio.Event()
        self.close_frame = False

    async def connect(self, app: str = "ctiserver", subscribe_all: bool = False) -> None:
        url = f"{self.base}/events?app={app}&subscribeAll={'true' if subscribe_all else 'false'}"
        self.ws = await self.session.ws_connect(url)
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for msg in self.ws:
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING):
                    self.close_frame = True
                if msg.type == aiohttp.WSMsgType.TEXT:
                    async with self._cond:
                        self.events.append(json.loads(msg.data))
                        self._cond.notify_all()
        finally:
            self.closed.set()

    async def wait(
        self, type_: str, limit: float = WAIT, pred: Callable[[dict[str, Any]], bool] | None = None
    ) -> dict[str, Any]:
        async def _find() -> dict[str, Any]:
            i = 0
            async with self._cond:
                while True:
                    while i < len(self.events):
                        e = self.events[i]
                        i += 1
                        if e["type"] == type_ and (pred is None or pred(e)):
                            return e
                    await self._cond.wait()

        return await asyncio.wait_for(_find(), limit)

    async def req(self, method: str, path: str, **params: Any) -> tuple[int, Any]:
        async with self.session.request(method, self.base + path, params=params or None) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self.session.close()
