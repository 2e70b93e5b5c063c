"""``HttpPool`` (ARI's REST transport) against a raw HTTP server over real sockets: keep-alive reuse, the three
ways a reply's body can end, ``Connection: close``, idle expiry, bad replies, a lost connection, a timeout,
quoting, and the request bytes themselves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from ctiserver.pbx.ari.http import HttpError, HttpPool

Reply = Callable[[bytes], bytes | None]  # request bytes → raw reply (None: close without replying)
Serve = Callable[[Reply], Awaitable["RawServer"]]


class RawServer:
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + (await reader.readexactly(length) if length else b"")
                self.requests.append(request)
                out = self.reply(request)
                if out is None:
                    break
                writer.write(out)
                await writer.drain()
                if b"Connection: close" in out or (b"Content-Length" not in out and b"chunked" not in out):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Reply], Awaitable[RawServer]]]:
    servers: list[asyncio.Server] = []

    async def start(reply: Reply) -> RawServer:
        raw = RawServer(reply)
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        raw.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return raw

    yield start
    for s in servers:
        s.close()


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


async def test_keep_alive_request_bytes_and_quoting(serve: Serve) -> None:
    raw = await serve(lambda req: ok(b'{"id":"x"}'))
    pool = HttpPool(f"http://127.0.0.1:{raw.port}/ari", {"Authorization": "Basic YTpi"}, timeout=5)
    r1 = await pool.request("POST", "/channels/ab c/answer")
    r2 = await pool.request("GET", "/channels", {"endpoint": "PJSIP/1001", "v": "я&=x"})
    r3 = await pool.request("POST", "/bridges", None, b'{"a":1}')
    assert (r1.status, r1.reason, r1.body) == (200, "OK", b'{"id":"x"}') and r2.body == r3.body
    assert raw.connections == 1  # one connection, kept alive
    first, second, third = raw.requests
    assert first.startswith(b"POST /ari/channels/ab%20c/answer HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Basic YTpi\r\n" in first and b"\r\nContent-Length: 0\r\n" in first
    assert b"\r\nHost: 127.0.0.1:" in first
    assert second.startswith(b"GET /ari/channels?endpoint=PJSIP/1001&v=%D1%8F%26%3Dx HTTP/1.1\r\n")
    assert b"Content-Length" not in second
    assert third.endswith(b'Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}')
    pool.close()


async def test_chunked_read_to_close_and_connection_close(serve: Serve) -> None:
    replies = iter([
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\nConnection: close\r\n\r\n{\"message\":\"missing\"}\n",
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
        ok(b"[]"),
    ])
    raw = await serve(lambda req: next(replies))
    pool = HttpPool(f"http://127.0.0.1:{raw.port}", {}, timeout=5)
    assert (await pool.request("GET", "/a")).body == b'{"a":1}'
    missing = await pool.request("GET", "/b")
    assert (missing.status, missing.reason) == (404, "Not Found") and b"missing" in missing.body
    assert (await pool.request("GET", "/c")).body == b"until the end"  # no length: the body ends at the close
    assert (await pool.request("GET", "/d")).body == b"[]"
    assert raw.connections == 3  # chunked kept the first; "close" and the read-to-close reply ended theirs
    pool.close()


async def test_idle_connections_expire_and_a_closed_one_is_not_reused(serve: Serve) -> None:
    raw = await serve(lambda req: ok(b"{}"))
    pool = HttpPool(f"http://127.0.0.1:{raw.port}", {}, timeout=5, max_idle=0.05)
    await pool.request("GET", "/a")
    await asyncio.sleep(0.1)
    await pool.request("GET", "/b")  # the first connection idled past max_idle
    assert raw.connections == 2
    pool.max_idle = 60
    raw.reply = lambda req: ok(b"{}", b"Connection: close\r\n") if req.startswith(b"GET /c") else ok(b"{}")
    await pool.request("GET", "/c")
    await pool.request("GET", "/d")
    assert raw.connections == 3
    pool.close()


async def test_transport_failures_are_http_errors_and_timeouts(serve: Serve) -> None:
    raw = await serve(lambda req: None)  # closes without a reply
    pool = HttpPool(f"http://127.0.0.1:{raw.port}", {}, timeout=5)
    with pytest.raises(HttpError, match="connection lost"):
        await pool.request("GET", "/a")
    raw.reply = lambda req: b"SIP/2.0 200 OK\r\n\r\n"
    with pytest.raises(HttpError, match="malformed"):
        await pool.request("GET", "/a")
    raw.reply = lambda req: ok(b"{}")  # the pool recovers with a fresh connection
    assert (await pool.request("GET", "/a")).status == 200
    pool.close()

    hang = await serve(lambda req: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{")  # never finishes
    slow = HttpPool(f"http://127.0.0.1:{hang.port}", {}, timeout=0.2)
    with pytest.raises(TimeoutError):
        await slow.request("GET", "/a")
    slow.close()
    with pytest.raises(HttpError, match="client closed"):
        await slow.request("GET", "/a")

    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(HttpError, match="cannot connect"):
        await HttpPool(f"http://127.0.0.1:{port}", {}, timeout=2).request("GET", "/a")
    with pytest.raises(ValueError, match="not an http"):
        HttpPool("ws://127.0.0.1/ari", {}, timeout=1)


def test_on_uvloop_as_the_daemon_runs_it() -> None:
    """The daemon runs on uvloop, whose transports are not ``asyncio.Transport`` instances."""
    from ctiserver.loop import run_loop

    async def main() -> tuple[int, bytes]:
        raw = RawServer(lambda req: ok(b'{"id":"u"}'))
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        pool = HttpPool(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", {}, timeout=5)
        replies = [await pool.request("GET", "/a"), await pool.request("POST", "/b", None, b"{}")]
        pool.close()
        server.close()
        return raw.connections, b"".join(r.body for r in replies)

    assert run_loop(main(), "uvloop") == (1, b'{"id":"u"}{"id":"u"}')
