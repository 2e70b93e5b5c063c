"""Attended transfer end to end: the whole daemon with the simulator as the PBX. Agent 1001 consults 1002
through the REST API while the caller hears music; the consultation then ends each way a real one does —
completed by request, completed by the first agent hanging up, cancelled by request while the target still
rings, or ended by the consulted agent hanging up — and each time the PBX's bridge, the agents' states and the
published events say the same thing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.service import AcdService
from ctiserver.app import COMPONENTS
from ctiserver.sim.simulator import AgentHandle, CallHandle, Simulator
from tests.api.harness import Daemon, daemon
from tests.servers.redis import wait_for

SCRIPT = """script: xfer
dids: ["100"]
nodes:
  q: {type: queue, queue: support}
"""
T = 30.0


@dataclass
class Rig:
    d: Daemon
    http: aiohttp.ClientSession
    sim: Simulator
    acd: AcdService
    phone1: AgentHandle
    phone2: AgentHandle
    ws1: aiohttp.ClientWebSocketResponse
    ws2: aiohttp.ClientWebSocketResponse
    call: CallHandle
    call_id: str

    async def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        return await self.d.post(self.http, f"/api/calls/{self.call_id}{path}", body)

    def with_caller(self) -> list[str]:
        """The endpoints bridged with the caller on the PBX (empty: the caller is held outside the bridge)."""
        caller = self.sim.engine.channels[self.call.channel_id]
        if caller.bridge is None:
            return []
        return sorted(c.endpoint for c in caller.bridge.channels if c is not caller)

    def state(self, agent: str) -> AgentState:
        return self.acd.agents.get(agent).state

    async def event(self, type_: str, ws: aiohttp.ClientWebSocketResponse | None = None) -> dict[str, Any]:
        """The next event of ``type_`` on agent 1001's WebSocket (or ``ws``)."""
        async with asyncio.timeout(T):
            while True:
                msg = await (ws or self.ws1).receive()
                assert msg.type == aiohttp.WSMsgType.TEXT, msg
                frame = json.loads(msg.data)
                if frame["op"] == "event" and frame["event"]["type"] == type_:
                    return dict(frame["event"]["data"])

    async def consult(self) -> asyncio.Task[tuple[int, Any]]:
        """Start the attended transfer to 1002; returns the pending request once 1002's phone rings."""
        request = asyncio.create_task(self.post("/transfer", {"target": "agent:1002", "kind": "attended"}))
        await wait_for(lambda: bool(self.phone2.ringing()))
        assert not request.done()  # the request answers when the consulted party does
        assert self.with_caller() == []  # the caller is held meanwhile
        assert self.sim.engine.channels[self.call.channel_id].moh_class is not None
        started = await self.event("call.transfer_started")
        assert started["kind"] == "attended" and started["to"] == "agent:1002" and started["from_agent"] == "1001"
        return request

    async def consulting(self) -> None:
        """``consult``, and 1002 answers: the request answers 204 — the agents talk, the caller holds."""
        request = await self.consult()
        assert self.phone2.answer()
        assert (await asyncio.wait_for(request, T))[0] == 204


@asynccontextmanager
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    (tmp_path / "xfer.yaml").write_text(SCRIPT)
    extra = {
        "simulator": {"enabled": True},
        "ivr": {"scripts_dir": str(tmp_path)},
        "acd": {
            "agents": [
                {"id": "1001", "device": "PJSIP/1001", "login": True},
                {"id": "1002", "device": "PJSIP/1002", "login": True},
            ],
            "queues": [{"name": "support", "ring_timeout": 20, "wrapup": 30}],
        },
    }
    async with daemon(tmp_path, components=COMPONENTS, **extra) as d, aiohttp.ClientSession() as http:
        sim = d.ctx.require(Simulator)
        acd = d.ctx.require(AcdService)
        phone1, phone2 = sim.agent("1001", answer_after=None), sim.agent("1002", answer_after=None)
        await acd.pause("1002", "lunch")  # the call goes to 1001
        ws1 = await http.ws_connect(d.url.replace("http", "ws") + "/api/ws", headers=d.auth("agent"))
        ws2 = await http.ws_connect(d.url.replace("http", "ws") + "/api/ws", headers=d.auth("agent2"))
        call = sim.place_call(from_number="0048221234567", to="100", hangup_after=600.0)
        await wait_for(lambda: bool(phone1.ringing()))
        assert phone1.answer()
        await wait_for(lambda: acd.agents.get("1001").state is AgentState.ON_CALL)
        call_id = acd.agents.get("1001").status.call_id
        assert call_id is not None
        r = Rig(d, http, sim, acd, phone1, phone2, ws1, ws2, call, call_id)
        assert r.with_caller() == ["PJSIP/1001"]
        await acd.ready("1002")
        yield r
        await ws1.close()
        await ws2.close()


async def test_completed_by_request_hands_the_caller_over(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        request = await r.consult()
        assert r.phone2.answer()
        assert await asyncio.wait_for(request, T) == (204, None)
        assert r.state("1002") is AgentState.ON_CALL
        assert r.with_caller() == []  # the agents talk; the caller still waits on hold
        bridge = r.sim.engine.channels[r.acd.connector.talks[r.call_id].agent_channel].bridge
        assert bridge is not None and sorted(c.endpoint for c in bridge.channels) == ["PJSIP/1001", "PJSIP/1002"]

        assert await r.post("/transfer/complete") == (204, None)
        done = await r.event("call.transferred")
        assert done["kind"] == "attended" and done["by"] == "request"
        assert done["from_agent"] == "1001" and done["to_agent"] == "1002"
        assert done["attached"]["transferred_from"] == "1001"
        pop = await r.event("screen.pop", r.ws2)  # the consulted agent rang with the call's pop...
        assert pop["call_id"] == r.call_id and pop["agent"] == "1002"
        assert (await r.event("call.transferred", r.ws2))["to_agent"] == "1002"  # ...and learns it has the caller
        assert r.with_caller() == ["PJSIP/1002"]
        assert r.sim.engine.channels[r.call.channel_id].moh_class is None
        await wait_for(lambda: r.state("1001") is AgentState.WRAP_UP)
        assert r.state("1002") is AgentState.ON_CALL
        status, body = await r.post("/transfer/complete")
        assert status == 409 and "no consultation" in body["message"]

        r.call.hangup()  # the caller ends the call with 1002, who wraps up in turn
        await wait_for(lambda: r.state("1002") is AgentState.WRAP_UP)


async def test_the_first_agent_hanging_up_completes_it(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.consulting()
        r.phone1.hangup()
        done = await r.event("call.transferred")
        assert done["by"] == "agent_hung_up" and done["to_agent"] == "1002"
        await wait_for(lambda: r.with_caller() == ["PJSIP/1002"])
        await wait_for(lambda: r.state("1001") is AgentState.WRAP_UP)
        assert r.state("1002") is AgentState.ON_CALL and not r.call.done.is_set()


async def test_cancelled_while_ringing_takes_the_caller_back(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        request = await r.consult()
        assert await r.post("/transfer/cancel") == (204, None)
        status, body = await asyncio.wait_for(request, T)
        assert status == 409 and "cancelled" in body["message"]
        cancelled = await r.event("call.transfer_cancelled")
        assert cancelled["reason"] == "cancelled" and cancelled["to"] == "agent:1002"
        await wait_for(lambda: not r.phone2.ringing())
        assert r.with_caller() == ["PJSIP/1001"]
        assert r.sim.engine.channels[r.call.channel_id].moh_class is None
        await wait_for(lambda: r.state("1002") is AgentState.READY)
        assert r.state("1001") is AgentState.ON_CALL
        # a new consultation may start at once
        await r.consulting()


async def test_the_consulted_agent_hanging_up_brings_the_caller_back(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.consulting()
        r.phone2.hangup()
        cancelled = await r.event("call.transfer_cancelled")
        assert cancelled["reason"] == "target_hung_up" and cancelled["to_agent"] == "1002"
        await wait_for(lambda: r.with_caller() == ["PJSIP/1001"])
        assert r.sim.engine.channels[r.call.channel_id].moh_class is None
        await wait_for(lambda: r.state("1002") is AgentState.WRAP_UP)
        assert r.state("1001") is AgentState.ON_CALL
        status, _ = await r.post("/transfer/cancel")
        assert status == 409


async def test_the_caller_hanging_up_ends_the_consultation_for_both_agents(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.consulting()
        r.call.hangup()
        cancelled = await r.event("call.transfer_cancelled")
        assert cancelled["reason"] == "caller_hung_up" and cancelled["to_agent"] == "1002"
        await wait_for(lambda: r.state("1001") is AgentState.WRAP_UP and r.state("1002") is AgentState.WRAP_UP)
        await wait_for(lambda: not r.phone1.endpoint.channels and not r.phone2.endpoint.channels)
