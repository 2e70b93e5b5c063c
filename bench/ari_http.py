"""CPU per ARI REST call on the daemon's side: aiohttp's ClientSession vs ``HttpPool`` (httptools), the same
requests (a mix of POSTs with and without a JSON body and a query) to one HTTP server in another process
that answers every request at once with a small JSON reply, 30 requests in flight at a time.

    .venv/bin/python bench/ari_http.py [--requests 6000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from pathlib import Path
from typing import Any, cast

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.loop import run_loop
from ctiserver.pbx.ari.http import HttpPool

BODY = b'{"id":"1800000000.1","name":"PJSIP/1001-00000001","state":"Up"}'
REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nServer: Asterisk\r\n\r\n%s" % (
    len(BODY), BODY)


def _server(conn: Any) -> None:
    class Proto(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport, self.buf = cast(asyncio.Transport, transport), b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while (end := self.buf.find(b"\r\n\r\n")) >= 0:
                length = 0
                for line in self.buf[:end].split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if len(self.buf) < end + 4 + length:
                    return
                self.buf = self.buf[end + 4 + length:]
                self.transport.write(REPLY)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Proto, "127.0.0.1", 0)
        conn.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    run_loop(main(), "auto")


def _call(i: int) -> tuple[str, str, dict[str, str] | None, bytes | None]:
    if i % 3 == 0:
        return "POST", "/channels", {"endpoint": f"PJSIP/{1000 + i % 500}", "app": "ctiserver"}, orjson.dumps(
            {"variables": {"CTI_CALL_ID": str(i)}})
    return "POST", f"/channels/1800000000.{i}/answer", None, None


async def _aiohttp(base: str, n: int) -> float:
    async with aiohttp.ClientSession(headers={"Authorization": "Basic YTpi"},
                                     timeout=aiohttp.ClientTimeout(total=10)) as session:
        async def one(i: int) -> None:
            method, path, query, body = _call(i)
            headers = {"Content-Type": "application/json"} if body else None
            async with session.request(method, base + path, params=query, data=body, headers=headers) as resp:
                orjson.loads(await resp.read())

        t = time.process_time()
        for k in range(0, n, 30):
            await asyncio.gather(*(one(i) for i in range(k, k + 30)))
        return (time.process_time() - t) / n


async def _pool(base: str, n: int) -> float:
    pool = HttpPool(base, {"Authorization": "Basic YTpi"}, timeout=10)

    async def one(i: int) -> None:
        method, path, query, body = _call(i)
        orjson.loads((await pool.request(method, path, query, body)).body)

    t = time.process_time()
    for k in range(0, n, 30):
        await asyncio.gather(*(one(i) for i in range(k, k + 30)))
    pool.close()
    return (time.process_time() - t) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_server, args=(child,), daemon=True)
    proc.start()
    base = f"http://127.0.0.1:{parent.recv()}/ari"

    async def run() -> None:
        best_a = best_p = float("inf")
        for _ in range(args.rounds):  # interleaved, best of N (the box is shared)
            best_a = min(best_a, await _aiohttp(base, args.requests))
            best_p = min(best_p, await _pool(base, args.requests))
        print(f"CPU per request (best of {args.rounds} x {args.requests}): aiohttp {best_a * 1e6:.0f} µs, "
              f"HttpPool {best_p * 1e6:.0f} µs, ratio {best_a / best_p:.2f}")

    run_loop(run(), "auto")
    proc.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
