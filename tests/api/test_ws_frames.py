"""Live events written as ready-made WebSocket frames: a burst of one loop pass arrives whole and in order
(frames of every header size), and a client that stops reading gets every event, in order, once it reads
again (the pump takes over with flow control)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from ctiserver.api.component import ApiServer
from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import new_event
from tests.api.harness import Daemon, daemon


def _burst(d: Daemon, sizes: list[int]) -> None:
    bus = d.ctx.require(InMemoryBus)
    for i, size in enumerate(sizes):  # no await in between: one loop pass
        bus.publish_nowait(new_event("agent.state", "1001", {"n": i, "pad": "я" * size}, d.ctx.clock.now()))


async def _events(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    async with asyncio.timeout(30):
        while len(out) < n:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            if frame["op"] == "event":
                out.append(frame["event"])
    return out


async def _subscribed(ws: aiohttp.ClientWebSocketResponse) -> None:
    async with asyncio.timeout(30):
        while json.loads((await ws.receive()).data)["op"] != "subscribed":
            pass


async def test_a_burst_of_one_loop_pass_arrives_whole_and_in_order(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(d.url.replace("http", "ws") + "/api/ws", headers=d.auth("agent"))
        await _subscribed(ws)
        # payload lengths around the 7-bit, 16-bit and 64-bit length forms (Cyrillic: 2 bytes a character)
        sizes = [0, 20, 40, 50, 1, 30_000, 40_000, 3, 200]
        _burst(d, sizes)
        got = await _events(ws, len(sizes))
        assert [e["data"] for e in got] == [{"n": i, "pad": "я" * s} for i, s in enumerate(sizes)]
        assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)  # type: ignore[type-var]
        assert d.ctx.require(ApiServer).hub.queued == 0  # all of them went straight to the socket
        await ws.close()


async def test_a_client_that_stops_reading_misses_nothing(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            d.url.replace("http", "ws") + "/api/ws", headers=d.auth("agent"), max_msg_size=0
        )
        await _subscribed(ws)
        n = 300
        for _ in range(6):  # the client reads nothing meanwhile: the socket buffers fill up (12 MB)
            _burst(d, [20_000] * (n // 6))
            await asyncio.sleep(0.05)
        hub = d.ctx.require(ApiServer).hub
        assert hub.queued > 0  # the connection fell behind and the pump took over
        got = await _events(ws, n)
        assert [e["data"]["n"] for e in got] == [i for _ in range(6) for i in range(n // 6)]  # type: ignore[index]
        seqs = [e["seq"] for e in got]
        assert seqs == sorted(seqs) and len(set(seqs)) == n  # type: ignore[type-var]
        _burst(d, [5])  # and live again afterwards
        assert (await _events(ws, 1))[0]["data"] == {"n": 0, "pad": "яяяяя"}
        await ws.close()
