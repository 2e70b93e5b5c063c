"""A ready agent whose phone is on a call the ACD did not give it (the agent dialled a colleague from the handset)
is offered nothing until the phone is free again — app_queue's ``ringinuse=no`` — and a phone that hung up while
the AMI link was down is known free after the reconnect (``DeviceStateList``). The whole daemon on the
simulator: its ``DeviceStateChange`` events are the PBX's for PJSIP endpoints with ``device_state_busy_at=1``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.acd.service import AcdService
from ctiserver.app import COMPONENTS
from ctiserver.control import StasisPresence
from ctiserver.events.log import EventLog
from ctiserver.sim.simulator import Simulator
from tests.api.crash_daemon import QUEUE_100
from tests.api.harness import Daemon, daemon
from tests.servers.redis import wait_for


async def _agent(d: Daemon, http: aiohttp.ClientSession, agent: str) -> dict[str, Any]:
    async with http.get(d.url + f"/api/agents/{agent}", headers=d.auth("supervisor")) as resp:
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())


def _answered_by(d: Daemon) -> list[str]:
    return [str(e.data.get("agent")) for e in d.ctx.require(EventLog)._ring if e.type == "agent.answered"]


async def test_an_agent_on_a_call_past_the_acd_is_offered_nothing(tmp_path: Path) -> None:
    (tmp_path / "ivr").mkdir()
    (tmp_path / "ivr" / "to-support.yaml").write_text(QUEUE_100)
    cfg = {
        "simulator": {"enabled": True},
        "ivr": {"scripts_dir": str(tmp_path / "ivr")},
        "acd": {
            "agents": [
                {"id": "1001", "device": "PJSIP/1001", "login": True},
                {"id": "1002", "device": "PJSIP/1002", "login": True},
            ],
            "queues": [{"name": "support", "wrapup": 0}],
        },
        "recording": {"directory": str(tmp_path / "rec"), "default_policy": "never"},
    }
    async with daemon(tmp_path, COMPONENTS, **cfg) as d, aiohttp.ClientSession() as http:
        sim, acd = d.ctx.require(Simulator), d.ctx.require(AcdService)
        for agent in ("1001", "1002", "1003"):
            sim.agent(agent, answer_after=0.2)
        await acd.pause("1001", "break")
        await acd.ready("1001")  # 1002 has been idle longest: the next call is its, were its phone free
        direct = sim.place_call(from_number="1002", to="1003", endpoint="1002", context="from-agents")
        await wait_for(lambda: acd.agents.get("1002").phone_busy, limit=10.0)
        assert (await _agent(d, http, "1002"))["phone_busy"] is True
        assert acd.agents.get("1002").state.value == "ready"  # ready all the same: its own call, not ours
        first = sim.place_call(from_number="5550123", to="100", hangup_after=60.0)
        await wait_for(lambda: bool(_answered_by(d)), limit=15.0)
        assert _answered_by(d) == ["1001"]

        sim.drop_connections()
        direct.hangup()  # its DeviceStateChange NOT_INUSE reaches nobody
        await direct.done.wait()
        await wait_for(lambda: not acd.agents.get("1002").phone_busy, limit=15.0)  # DeviceStateList
        await wait_for(d.ctx.require(StasisPresence).is_up, limit=15.0)  # the ARI app is back too (Stasis)
        second = sim.place_call(from_number="5550124", to="100", hangup_after=60.0)
        await wait_for(lambda: len(_answered_by(d)) == 2, limit=15.0)
        assert _answered_by(d) == ["1001", "1002"]
        first.hangup()
        second.hangup()
