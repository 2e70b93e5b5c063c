"""Webhooks over real sockets: the receiver is down for a while, then every event arrives, in order per call,
each signature verifies, and repeats are only at-least-once repeats of the same id. Dead letters replay."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from ctiserver.clock import ManualClock
from ctiserver.events.bus import Bus
from ctiserver.events.envelope import new_event
from ctiserver.events.outbox import MemoryOutbox, Status, WebhookSubscription
from ctiserver.events.signing import verify
from ctiserver.events.webhooks import WebhookConfig, WebhookDispatcher
from tests.api.harness import daemon
from tests.conftest import free_port
from tests.servers.redis import wait_for

SECRET = "s3cret-s3cret-s3cret"


@dataclass
class Receiver:
    port: int
    fail_ratio: float = 0.0
    got: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        sent_at = float(request.headers["X-CTI-Timestamp"])  # the test clock may be a ManualClock
        if not verify(SECRET, body, request.headers["X-CTI-Signature"], now=sent_at):
            self.bad_signatures += 1
            return web.Response(status=400)
        if random.random() < self.fail_ratio:
            return web.Response(status=500)
        event = json.loads(body)
        assert request.headers["X-CTI-Event-Id"] == event["id"]
        self.got.append(event)
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def test_receiver_down_then_everything_arrives_in_order_per_call(tmp_path: Path) -> None:
    random.seed(7)
    receiver = Receiver(free_port(), fail_ratio=0.2)
    hooks = {"webhooks": {"backoff_base": 0.05, "backoff_max": 0.3, "idle_poll": 0.1}}
    async with daemon(tmp_path, events=hooks) as d, aiohttp.ClientSession() as http:
        async with http.post(d.url + "/api/webhooks", headers=d.auth("crm"), json={
            "url": f"http://127.0.0.1:{receiver.port}/hook", "secret": SECRET, "types": ["call.*", "agent.*"],
        }) as resp:
            assert resp.status == 201, await resp.text()
        bus = d.ctx.require(Bus)  # type: ignore[type-abstract]
        dispatcher = d.ctx.require(WebhookDispatcher)
        published = []
        for i in range(40):
            call = f"call-{i % 4}"
            kind = ("call.created", "agent.ringing", "agent.answered", "call.ended")[i // 10 % 4]
            published.append(await bus.publish(new_event(kind, call, {"i": i}, d.ctx.clock.now())))
        await bus.publish(new_event("ivr.step", "call-0", {}, d.ctx.clock.now()))  # not subscribed
        await wait_for(lambda: dispatcher.failures >= 8)  # the receiver is down: attempts keep failing
        assert receiver.got == []
        await receiver.start()
        try:
            await wait_for(lambda: {e["id"] for e in receiver.got} == {e.id for e in published}, 60)
        finally:
            await receiver.stop()
        assert receiver.bad_signatures == 0
        assert all(e["type"] != "ivr.step" for e in receiver.got)
        for call in {e.subject for e in published}:
            first_seen: list[int] = []
            for e in receiver.got:
                if e["subject"] == call and e["seq"] not in first_seen:
                    first_seen.append(e["seq"])
            assert first_seen == sorted(first_seen), call  # per-call order
        # duplicates, if any, are the same event (at-least-once with the id as the key)
        by_id: dict[str, dict[str, Any]] = {}
        for e in receiver.got:
            assert by_id.setdefault(e["id"], e) == e
        backlog = 1
        async with asyncio.timeout(30):  # the last "delivered" marks land just after the receiver saw them
            while backlog:
                backlog = await dispatcher.store.backlog()
                await asyncio.sleep(0.05)


async def test_undeliverable_events_go_dead_after_24h_and_replay(tmp_path: Path) -> None:
    clock = ManualClock()
    outbox = MemoryOutbox()
    receiver = Receiver(free_port(), fail_ratio=1.0)
    await receiver.start()
    cfg = WebhookConfig(backoff_base=60.0, backoff_max=3600.0, idle_poll=30.0)
    dispatcher = WebhookDispatcher(outbox, clock, cfg)
    await dispatcher.add(WebhookSubscription("s1", f"http://127.0.0.1:{receiver.port}/hook", SECRET, ("*",)))
    task = asyncio.create_task(dispatcher.run())
    try:
        event = new_event("call.ended", "c1", {"x": 1}, clock.now()).with_seq(1)
        dispatcher.listener(event)
        await wait_for(lambda: dispatcher.failures >= 1)
        hours = 0.0
        while not await outbox.dead(10):
            assert hours < 30, "never dead-lettered"
            await clock.advance(1800)
            hours += 0.5
            await asyncio.sleep(0.02)
        assert hours >= 24  # retried for at least a day
        (dead,) = await outbox.dead(10)
        assert dead.attempts >= 10 and dead.last_error == "HTTP 500"
        receiver.fail_ratio = 0.0
        assert await dispatcher.replay_dead() == 1
        await wait_for(lambda: len(receiver.got) == 1)
        assert receiver.got[0]["id"] == event.id
        await wait_for(lambda: outbox.items[dead.id].status is Status.DELIVERED)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await receiver.stop()


async def test_events_logged_but_not_in_the_outbox_are_recovered_at_start(tmp_path: Path) -> None:
    from ctiserver.events.log import EventLog, MemoryEventStore

    clock = ManualClock()
    log = EventLog(MemoryEventStore())
    outbox = MemoryOutbox()
    first = WebhookDispatcher(outbox, clock, WebhookConfig())
    sub = WebhookSubscription("s1", "http://127.0.0.1:9/hook", SECRET, ("call.*",), True, clock.now())
    await first.add(sub)
    events = [new_event("call.created", f"c{i}", {}, clock.now()).with_seq(i + 1) for i in range(5)]
    for e in events[:2]:  # these reached the outbox before the "crash"
        log.listener(e)
        first.listener(e)
    await first._flush()
    for e in events[2:]:  # these were logged only
        log.listener(e)
    log.listener(new_event("ivr.step", "c9", {}, clock.now()).with_seq(6))  # not wanted
    second = WebhookDispatcher(outbox, clock, WebhookConfig())
    await second.load()
    assert await second.recover(log) == 3
    assert sorted(i.seq for i in outbox.items.values()) == [1, 2, 3, 4, 5]
    assert await second.recover(log) == 0  # idempotent
