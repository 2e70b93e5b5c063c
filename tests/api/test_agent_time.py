"""Agents' time over HTTP, app_queue on the simulator (observer mode): agent 1001 logs in, answers a call, pauses
for lunch and comes back. ``GET /api/kpi/agents`` gives its live KPIs (calls handled, busy and ready-idle time,
occupancy) and ``GET /api/reports/kpi?by=agent`` the day's row from the stored state changes, with the lunch among
the not-ready reasons; after a graceful restart the live "today" still has the time from before it (the state
changes come back from the database) instead of starting again from zero."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.events.log import EventLog
from tests.api import app_queue
from tests.api.app_queue import answered_call
from tests.api.harness import Daemon, daemon
from tests.api.test_agent_actions_observer import EXTRA, Api
from tests.servers.redis import wait_for

COMPONENTS = (*app_queue.COMPONENTS[:6], "ctiserver.kpi.component", *app_queue.COMPONENTS[6:])


async def _today(api: Api, agent: str) -> dict[str, Any]:
    status, rows = await api.call("GET", "/api/kpi/agents", "supervisor")
    assert status == 200, rows
    return dict({r["agent"]: r for r in rows}[agent]["windows"]["today"])


async def _worked(d: Daemon, http: aiohttp.ClientSession) -> Api:
    api = Api(d, http)
    await answered_call(d, http, talk=1.0)
    log = d.ctx.require(EventLog)
    await wait_for(lambda: any(e.type == "call.ended" for e in log._ring))
    await api.state_of("1001", "ready")  # app_queue's wrap-up over
    status, body = await api.call("POST", "/api/observer/agents/1001/pause", "agent", {"reason": "lunch"})
    assert status == 200, body
    await api.state_of("1001", "not_ready", "lunch")
    await asyncio.sleep(0.6)
    status, body = await api.call("POST", "/api/observer/agents/1001/ready", "agent", {})
    assert status == 200, body
    await api.state_of("1001", "ready")
    await asyncio.sleep(0.3)
    return api


@pytest.mark.slow
async def test_agent_time_live_reported_and_after_a_restart(tmp_path: Path) -> None:
    day = time.time() // 86_400 * 86_400
    async with daemon(tmp_path, COMPONENTS, **EXTRA) as d, aiohttp.ClientSession() as http:
        api = await _worked(d, http)
        live = await _today(api, "1001")
        assert live["handled"] == 1 and live["busy_seconds"] >= 0.5, live
        assert live["ready_idle_seconds"] > 0 and 0 < live["occupancy"] < 1, live
        status, mine = await api.call("GET", "/api/kpi/agents", "agent")
        assert status == 200 and [r["agent"] for r in mine] == ["1001"], mine  # an agent sees itself
        status, rep = await api.call(
            "GET", f"/api/reports/kpi?from={int(day)}&to={int(day + 86_400)}&by=agent", "supervisor"
        )
        assert status == 200, rep
        row = {r["agent"]: r for r in rep["rows"]}["1001"]
        assert row["handled"] == 1 and row["busy"] >= 0.5 and 0 < row["occupancy"] < 1, row
        assert row["not_ready_reasons"]["lunch"] >= 0.5 and row["logged_in"] >= row["busy"] + row["not_ready"], row
        async with http.get(
            d.url + f"/api/reports/kpi.csv?from={int(day)}&to={int(day + 86_400)}&by=agent", headers=d.auth("admin")
        ) as resp:
            csv_text = await resp.text()
        assert "occupancy,not_ready_reasons" in csv_text.splitlines()[0] and "lunch=" in csv_text, csv_text
    async with daemon(tmp_path, COMPONENTS, **EXTRA) as d, aiohttp.ClientSession() as http:
        again = await _today(Api(d, http), "1001")
        assert again["handled"] == 1, again
        assert again["busy_seconds"] == pytest.approx(live["busy_seconds"], abs=0.05), again  # not from zero
        assert again["ready_idle_seconds"] >= live["ready_idle_seconds"], again
