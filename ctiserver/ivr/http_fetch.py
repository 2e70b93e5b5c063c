"""The ``http`` node's client: aiohttp, JSON in and out, one session per service."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp


class HttpNodeError(Exception):
    pass


class AiohttpFetcher:
    def __init__(self, *, max_body: int = 1_000_000) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.max_body = max_body

    async def __aenter__(self) -> AiohttpFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, method: str, url: str, body: Mapping[str, Any] | None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers={"Accept": "application/json"})
        kwargs: dict[str, Any] = {"json": dict(body)} if body is not None and method != "GET" else {}
        if body is not None and method == "GET":
            kwargs["params"] = {k: str(v) for k, v in body.items()}
        async with self._session.request(method, url, **kwargs) as resp:
            if resp.status >= 300:
                raise HttpNodeError(f"HTTP {resp.status}")
            raw = await resp.content.read(self.max_body + 1)
            if len(raw) > self.max_body:
                raise HttpNodeError("reply too large")
            try:
                return json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise HttpNodeError("reply is not JSON") from None
