"""``GET /api/queues`` (what the wallboard draws) lists every configured queue — the ACD's queues and those with
their own ``kpi.queues`` settings — with zero counts while idle, and a queue that only shows up in the traffic
(an app_queue queue seen by the observer) is listed as well once it has a call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.events import Bus, new_event
from tests.api.harness import Daemon, daemon

COMPONENTS = (
    "ctiserver.store.component",
    "ctiserver.events.component",
    "ctiserver.kpi.component",
    "ctiserver.api.component",
)
ACD = {"queues": [{"name": "support"}, {"name": "sales"}, {"name": "vip"}]}
KPI = {"queues": {"billing": {"sl_seconds": 30}}}


async def _queues(http: aiohttp.ClientSession, d: Daemon, role: str = "supervisor") -> dict[str, Any]:
    async with http.get(d.url + "/api/queues", headers=d.auth(role)) as resp:
        assert resp.status == 200, await resp.text()
        return {q["queue"]: q for q in await resp.json()}


async def wait_until(cond: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_every_configured_queue_is_listed_with_zeros_when_idle(tmp_path: Path) -> None:
    async with daemon(tmp_path, COMPONENTS, acd=ACD, kpi=KPI) as d, aiohttp.ClientSession() as http:
        queues = await _queues(http, d)
        assert sorted(queues) == ["billing", "sales", "support", "vip"]
        for q in queues.values():
            assert (q["waiting"], q["longest_wait"]) == (0, 0.0)
            for window in ("15m", "60m", "today"):
                w = q["windows"][window]
                assert (w["offered"], w["answered"], w["abandoned"]) == (0, 0, 0)
                assert w["service_level"] is None  # no calls: no rate, never 0 or 100 %
        assert sorted(await _queues(http, d, "agent")) == sorted(queues)

        bus: Any = d.ctx.require(Bus)  # type: ignore[type-abstract]
        now = d.ctx.clock.now()
        await bus.publish(new_event("queue.entered", "c1", {"queue": "support", "position": 1}, now))
        await bus.publish(new_event("queue.entered", "c2", {"queue": "appq", "position": 1}, now))

        async def busy() -> bool:
            got = await _queues(http, d)
            return got["support"]["waiting"] == 1 and "appq" in got

        await wait_until(busy)
        left = {"queue": "support", "outcome": "answered", "waited": 4.0, "agent": "1001"}
        await bus.publish(new_event("queue.left", "c1", left, now + 4))

        async def answered() -> bool:
            return bool((await _queues(http, d))["support"]["windows"]["today"]["answered"] == 1)

        await wait_until(answered)
        queues = await _queues(http, d)
        assert sorted(queues) == ["appq", "billing", "sales", "support", "vip"]
        assert queues["support"]["windows"]["today"]["offered"] == 1
        assert queues["support"]["waiting"] == 0
        assert queues["appq"]["waiting"] == 1
        for idle in ("billing", "sales", "vip"):
            assert queues[idle]["windows"]["today"]["offered"] == 0


async def test_a_disabled_acd_lists_no_acd_queues(tmp_path: Path) -> None:
    acd = {**ACD, "enabled": False}
    async with daemon(tmp_path, COMPONENTS, acd=acd, kpi=KPI) as d, aiohttp.ClientSession() as http:
        assert sorted(await _queues(http, d)) == ["billing"]
