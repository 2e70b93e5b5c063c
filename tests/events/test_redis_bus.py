"""Two daemons share one feed through a real redis-server (Redis Streams)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ctiserver.events.envelope import DomainEvent, new_event
from ctiserver.events.log import EventLog, MemoryEventStore
from ctiserver.events.redis_bus import RedisStreamBus
from tests.servers.redis import redis_server, wait_for

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_url(tmp_path: Path):  # type: ignore[no-untyped-def]
    with redis_server(tmp_path) as url:
        yield url


async def test_two_daemons_see_one_ordered_feed(redis_url: str) -> None:
    a = RedisStreamBus(redis_url, stream="t:events")
    b = RedisStreamBus(redis_url, stream="t:events")
    seen_a: list[DomainEvent] = []
    seen_b: list[DomainEvent] = []
    a.listeners.append(seen_a.append)
    b.listeners.append(seen_b.append)
    async with a, b:
        tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
        sub_b = b.subscribe("call.*")
        try:
            pubs = []
            for i in range(50):
                bus = a if i % 2 else b
                pubs.append(bus.publish(new_event("call.created", f"c{i % 5}", {"i": i}, 1.0)))
            stamped = await asyncio.gather(*pubs)
            await wait_for(lambda: len(seen_a) == 50 and len(seen_b) == 50)
        finally:
            a.stop()
            b.stop()
            await asyncio.gather(*tasks)
        assert sorted(e.seq for e in stamped) == list(range(1, 51))
        assert [e.id for e in seen_a] == [e.id for e in seen_b]
        assert [e.seq for e in seen_a] == list(range(1, 51))
        assert {e.id for e in seen_a} == {e.id for e in stamped}
        assert sub_b.queue.qsize() == 50
        first = await sub_b.get()
        assert first.seq == 1 and first.type == "call.created"


async def test_a_daemon_started_later_continues_the_sequence_and_logs_it(redis_url: str) -> None:
    async with RedisStreamBus(redis_url, stream="t2") as a:
        for i in range(3):
            await a.publish(new_event("agent.state", "1001", {"i": i}, 1.0))
    late = RedisStreamBus(redis_url, stream="t2")
    log = EventLog(MemoryEventStore())
    late.listeners.append(log.listener)
    async with late:
        assert late.last_seq == 3
        reader = asyncio.create_task(late.run())
        try:
            async with RedisStreamBus(redis_url, stream="t2") as other:
                ev = await other.publish(new_event("agent.state", "1002", {}, 2.0))
            assert ev.seq == 4
            await wait_for(lambda: log.last_seq == 4)
        finally:
            late.stop()
            await reader
    assert [e.seq for e in await log.replay(0)] == [4]


async def test_two_daemons_share_one_feed_up_to_the_websocket(redis_url: str, tmp_path: Path) -> None:
    import json

    import aiohttp

    from ctiserver.events.bus import Bus
    from tests.api.harness import daemon

    bus_cfg = {"kind": "redis", "redis_url": redis_url, "stream": "t3"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with (
        daemon(tmp_path / "a", bus=bus_cfg) as a,
        daemon(tmp_path / "b", bus=bus_cfg) as b,
        aiohttp.ClientSession() as http,
    ):
        ws = await http.ws_connect(b.url.replace("http", "ws") + "/api/ws", headers=b.auth("agent"))
        async with asyncio.timeout(30):
            assert json.loads((await ws.receive()).data)["op"] == "subscribed"
        bus_a = a.ctx.require(Bus)  # type: ignore[type-abstract]
        sent = await bus_a.publish(new_event("agent.state", "1001", {"agent": "1001", "state": "ready"}, 1.0))
        async with asyncio.timeout(30):
            while True:
                frame = json.loads((await ws.receive()).data)
                if frame["op"] == "event" and frame["event"]["type"] == "agent.state":
                    break
        assert frame["event"]["id"] == sent.id and frame["event"]["seq"] == sent.seq
        await ws.close()
