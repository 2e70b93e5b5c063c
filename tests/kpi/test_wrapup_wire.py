"""Wrap-up is handle time: over the wire, a call answered by an ACD agent ends, the agent wraps up for a while
and ends the wrap-up through the API; the call record, the live AHT (wallboard) and the historical KPI report
all count that wrap-up, and nothing counts it twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.app import COMPONENTS
from ctiserver.calls.service import CallService
from ctiserver.sim.simulator import Simulator
from ctiserver.store.database import Database
from tests.api.harness import Daemon, daemon

SCRIPT = """script: wrap
dids: ["100"]
nodes:
  q: {type: queue, queue: support}
"""


async def get(http: aiohttp.ClientSession, d: Daemon, path: str, role: str = "supervisor") -> Any:
    async with http.get(d.url + path, headers=d.auth(role)) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_wrap_up_counts_in_the_call_the_live_aht_and_the_report(tmp_path: Path) -> None:
    (tmp_path / "wrap.yaml").write_text(SCRIPT)
    extra = {
        "simulator": {"enabled": True},
        "ivr": {"scripts_dir": str(tmp_path)},
        "acd": {
            "agents": [{"id": "1001", "device": "PJSIP/1001", "login": True}],
            "queues": [{"name": "support", "ring_timeout": 20, "wrapup": 120}],
        },
    }
    async with daemon(tmp_path, components=COMPONENTS, **extra) as d, aiohttp.ClientSession() as http:
        sim = d.ctx.require(Simulator)
        sim.agent("1001", answer_after=0.2)
        started = d.ctx.clock.now()
        call = sim.place_call(from_number="+74951234567", to="100", hangup_after=1.0)
        await asyncio.wait_for(call.done.wait(), 30)
        agent: dict[str, Any] = {}

        async def wrapping() -> bool:
            agent.update(await get(http, d, "/api/agents/1001", "agent"))
            return agent["state"] == "wrap_up"

        for _ in range(300):
            if await wrapping():
                break
            await asyncio.sleep(0.05)
        assert agent["state"] == "wrap_up", agent
        call_id = agent["call_id"]
        await asyncio.sleep(1.5)  # after-call work
        async with http.post(d.url + "/api/agents/1001/wrapup-end", headers=d.auth("agent"), json={}) as resp:
            assert resp.status == 200, await resp.text()

        for _ in range(300):
            record = await get(http, d, f"/api/calls/{call_id}")
            if record["wrapup_seconds"] > 0:
                break
            await asyncio.sleep(0.05)
        wrap = record["wrapup_seconds"]
        assert 1.4 <= wrap < 15, record
        [seg] = record["queues"]
        talk = seg["talk_seconds"]
        assert talk is not None and talk > 0.5

        queues = {q["queue"]: q for q in await get(http, d, "/api/queues")}
        live = queues["support"]["windows"]["15m"]
        assert live["answered"] == 1 and live["aht"] == pytest.approx(talk + wrap, abs=0.01)

        service = d.ctx.require(CallService)
        await service.flush()
        await d.ctx.require(Database).writer.drain()
        report = await get(http, d, f"/api/reports/kpi?from={int(started) - 60}&to={int(started) + 3600}&interval=day")
        [row] = [r for r in report["rows"] if r["queue"] == "support"]
        assert row["answered"] == 1 and row["aht"] == pytest.approx(talk + wrap, abs=0.01)
