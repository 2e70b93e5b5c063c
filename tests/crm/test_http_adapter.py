"""The generic HTTP CRM adapter against a real HTTP server: templates, mapping, retries, caches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from pydantic import ValidationError

from ctiserver.clock import ManualClock
from ctiserver.crm.http_adapter import HttpCrmAdapter, HttpCrmConfig
from ctiserver.crm.jsonpath import compile_path, extract
from ctiserver.crm.model import CrmUnavailable


class FakeCrm:
    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.fail_next = 0
        self.delay = 0.0
        self.pushed: list[dict[str, Any]] = []

    async def events(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer k-123":
            return web.Response(status=401)
        self.pushed.append(await request.json())
        return web.Response(status=202)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=503)
        if request.headers.get("Authorization") != "Bearer k-123":
            return web.Response(status=401)
        phone = request.query["phone"]
        if phone == "+74951234567":
            row = {"id": 77, "full_name": "Ivan", "org": {"name": "Romashka"}, "vip": 1, "tags": ["a"]}
            return web.json_response({"data": [row]})
        if phone == "+48221234567":
            return web.json_response({"data": []})
        return web.Response(status=404)


@pytest.fixture
async def crm() -> AsyncIterator[tuple[FakeCrm, str]]:
    fake = FakeCrm()
    app = web.Application()
    app.router.add_get("/contacts", fake.handle)
    app.router.add_post("/events/{kind}", fake.events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def config(base: str, **kw: Any) -> HttpCrmConfig:
    return HttpCrmConfig.model_validate(
        {
            "lookup_url": base + "/contacts?phone={{ number | urlencode }}",
            "headers": {"Authorization": "Bearer {{ secrets.key }}"},
            "secrets": {"key": "k-123"},
            "mapping": {
                "id": "$.data[0].id",
                "name": "$.data[0].full_name",
                "company": "$.data[0].org.name",
                "vip": "$.data[0].vip",
                "tags": "$.data[0].tags",
            },
            "contact_url": "https://crm.example/c/{{ contact.id }}",
            "retry_delay": 0.01,
            **kw,
        }
    )


async def test_found_mapped_and_cached(crm: tuple[FakeCrm, str]) -> None:
    fake, base = crm
    clock = ManualClock()
    async with HttpCrmAdapter(config(base, cache_ttl=300), clock) as adapter:
        contact = await adapter.lookup("+74951234567")
        assert contact is not None
        assert (contact.id, contact.name, contact.company, contact.vip, contact.tags) == (
            "77",
            "Ivan",
            "Romashka",
            True,
            ("a",),
        )
        assert contact.url == "https://crm.example/c/77" and contact.source == "http"
        assert await adapter.lookup("+74951234567") == contact
        assert len(fake.requests) == 1
        await clock.advance(301)
        await adapter.lookup("+74951234567")
        assert len(fake.requests) == 2


async def test_not_found_is_negatively_cached_for_its_own_ttl(crm: tuple[FakeCrm, str]) -> None:
    fake, base = crm
    clock = ManualClock()
    async with HttpCrmAdapter(config(base, negative_ttl=30), clock) as adapter:
        assert await adapter.lookup("+380441234567") is None  # 404
        assert await adapter.lookup("+48221234567") is None  # empty reply: no id
        assert await adapter.lookup("+380441234567") is None
        assert len(fake.requests) == 2
        await clock.advance(31)
        assert await adapter.lookup("+380441234567") is None
        assert len(fake.requests) == 3


async def test_retries_then_unavailable_and_not_cached(crm: tuple[FakeCrm, str]) -> None:
    fake, base = crm
    clock = ManualClock()
    async with HttpCrmAdapter(config(base, retries=2, retry_delay=0.0), clock) as adapter:
        fake.fail_next = 2
        assert (await adapter.lookup("+74951234567")) is not None  # third attempt succeeds
        assert len(fake.requests) == 3
        adapter.cache.invalidate("+74951234567")
        fake.fail_next = 3
        with pytest.raises(CrmUnavailable):
            await adapter.lookup("+74951234567")
        assert len(adapter.cache) == 0


async def test_timeout(crm: tuple[FakeCrm, str]) -> None:
    fake, base = crm
    fake.delay = 1.0
    async with HttpCrmAdapter(config(base, timeout=0.1, retries=0), ManualClock()) as adapter:
        with pytest.raises(CrmUnavailable, match="TimeoutError"):
            await adapter.lookup("+74951234567")


def test_bad_configuration_is_refused_with_the_field() -> None:
    with pytest.raises(ValidationError, match="mapping"):
        HttpCrmConfig.model_validate({"lookup_url": "http://x/{{ number }}", "mapping": {"name": "$.n"}})
    with pytest.raises(ValidationError, match="JSON path"):
        HttpCrmConfig.model_validate({"lookup_url": "http://x", "mapping": {"id": "data.id"}})
    with pytest.raises(ValidationError, match="lookup_url"):
        HttpCrmConfig.model_validate({"lookup_url": "http://x/{{ number ", "mapping": {"id": "$.id"}})


def test_jsonpath() -> None:
    doc = {"a": {"b": [{"c": 1}, {"odd key": 2}]}}
    assert extract(doc, compile_path("$.a.b[0].c")) == 1
    assert extract(doc, compile_path("$.a.b[1]['odd key']")) == 2
    assert extract(doc, compile_path("$.a.b[5].c")) is None
    assert extract(doc, compile_path("$.x")) is None
    with pytest.raises(ValueError):
        compile_path("$.a..b")


async def test_call_events_are_pushed_with_the_contact(crm: tuple[FakeCrm, str]) -> None:
    from ctiserver.crm.service import CrmConfig, CrmService
    from ctiserver.crm.store import MemoryContactStore
    from ctiserver.events.bus import InMemoryBus
    from ctiserver.events.envelope import new_event
    from tests.servers.redis import wait_for

    fake, base = crm
    cfg = config(
        base,
        push_url=base + "/events/{{ event.type }}",
        push_body='{"call": "{{ event.subject }}", "who": "{{ contact.name }}", "seq": {{ event.seq }}}',
    )
    bus = InMemoryBus()
    async with HttpCrmAdapter(cfg, ManualClock()) as adapter:
        crm_service = CrmService(MemoryContactStore(), bus, ManualClock(), CrmConfig(), "RU", adapter)
        task = asyncio.create_task(crm_service.run())
        try:
            await asyncio.sleep(0)
            await bus.publish(new_event("call.created", "c1", {"caller_number": "+74951234567"}, 1.0))
            await bus.publish(new_event("ivr.step", "c1", {}, 1.5))  # not pushed
            await bus.publish(new_event("call.ended", "c1", {"duration": 3}, 2.0))
            await wait_for(lambda: len(fake.pushed) == 1)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert fake.pushed == [{"call": "c1", "who": "Ivan", "seq": 3}]
