"""Keep-alive HTTP/1.1 for ARI's REST calls: requests written as bytes, replies parsed by httptools (llhttp).

Why not aiohttp's ``ClientSession`` here (it still carries the ARI events WebSocket): a REST call through it
cost ~150 µs of CPU on the daemon's event-loop thread (URL objects, multidicts, a timeout handle, request and
response objects); at 100 calls/s the daemon makes ~1,000 ARI requests/s, ~15 % of its core. This client
does what ARI needs and nothing more: one request at a time per connection, a small pool of idle
connections, replies with Content-Length, chunked or read-to-close bodies, ``Connection: close``,
Basic auth, http or https. llhttp (httptools, from the uvloop authors) does the parsing; nothing of HTTP's
grammar is hand-written here. ``bench/ari_http.py`` compares the two.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote, urlsplit

import httptools

_PATH_SAFE = "/:@!$&'()*+,;=%-._~"  # a path's own characters; an existing %-escape is kept as it is
_QUERY_SAFE = "-._~:/@!$'()*,;"


class HttpError(ConnectionError):
    """The exchange failed below HTTP: connection refused or lost, or a reply that is not HTTP."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    reason: str
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP connection; ``exchange`` sends a request and resolves with the reply."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.keep_alive = True
        self.idle_since = 0.0
        self._waiter: asyncio.Future[Reply] | None = None
        self._reason = b""
        self._parts: list[bytes] = []
        self._headers_done = False
        self._framed = False  # Content-Length or chunked: the body's end is known without the close

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"malformed HTTP reply: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._headers_done and not self._framed:  # a body that ends with the connection
            self.keep_alive = False
            self._complete()
        else:
            self._fail(HttpError(f"connection lost{f': {exc}' if exc else ''}"))

    # httptools callbacks
    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._parts.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        self._complete()

    # the exchange
    def exchange(self, data: bytes) -> asyncio.Future[Reply]:
        assert self.transport is not None
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        self._reason, self._parts, self._headers_done, self._framed = b"", [], False, False
        self.transport.write(data)
        return waiter

    def _complete(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            status = self.parser.get_status_code()
            body = b"".join(self._parts) if len(self._parts) != 1 else self._parts[0]
            waiter.set_result(Reply(status, self._reason.decode("latin-1"), body))

    def _fail(self, exc: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class HttpPool:
    """Requests to one origin (``base`` = scheme://host:port/prefix) over at most ``size`` connections."""

    def __init__(
        self,
        base: str,
        headers: Mapping[str, str],
        *,
        timeout: float,
        size: int = 32,
        max_idle: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> None:
        url = urlsplit(base)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base!r}")
        self._host = url.hostname
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._ssl = (ssl_context or ssl.create_default_context()) if url.scheme == "https" else None
        self._server_hostname = (server_hostname or self._host) if self._ssl is not None else None
        self._prefix = url.path.rstrip("/")
        host = f"[{self._host}]" if ":" in self._host else self._host
        fixed = {"Host": f"{host}:{self._port}" if url.port else host, "User-Agent": "ctiserver", **headers}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self.timeout = timeout
        # Asterisk closes an idle HTTP session after http.conf's session_keep_alive (15 s by default): a
        # connection idle for longer than ``max_idle`` is not reused, so a request does not meet a closed one
        self.max_idle = max_idle
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)  # http.conf's sessionlimit (100 by default) is per Asterisk
        self._closing = False

    async def request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> Reply:
        """``path`` below the base URL. Raises ``HttpError`` (transport) or ``TimeoutError``."""
        if self._closing:
            raise HttpError("client closed")
        target = quote(self._prefix + path, safe=_PATH_SAFE)
        if query:
            target += "?" + "&".join(
                f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" for k, v in query.items()
            )
        head = f"{method} {target} HTTP/1.1\r\n".encode("latin-1") + self._fixed
        if body is None:
            data = head + (b"Content-Length: 0\r\n\r\n" if method in ("POST", "PUT") else b"\r\n")
        else:
            data = head + f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        async with self._slots:
            loop = asyncio.get_running_loop()
            conn = self._take(loop.time())
            async with asyncio.timeout(self.timeout):
                if conn is None:
                    conn = await self._connect()
                try:
                    reply = await conn.exchange(data)
                except BaseException:
                    conn.close()
                    raise
            if conn.keep_alive and not conn.closed and not self._closing:
                conn.idle_since = loop.time()
                self._idle.append(conn)
            else:
                conn.close()
            return reply

    def _take(self, now: float) -> _Connection | None:
        idle = self._idle
        while idle:
            conn = idle.pop()  # the most recently used: the least likely to have been closed by the server
            if not conn.closed and now - conn.idle_since < self.max_idle:
                return conn
            conn.close()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(
                _Connection, self._host, self._port, ssl=self._ssl, server_hostname=self._server_hostname
            )
        except OSError as exc:
            raise HttpError(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        return conn

    def close(self) -> None:
        self._closing = True
        for conn in self._idle:
            conn.close()
        self._idle.clear()
