"""Transfers of app_queue calls (observer mode: the engine's ACD does not hold them) through the same REST
routes, done by Asterisk's own features over AMI (``BlindTransfer``, ``Atxfer``, a hang-up to complete or cancel
the consultation), against the simulator's app_queue: the PBX's bridges say where the caller ended up and the
call tracker reports the transfer as Asterisk did (``call.transferred`` with its ``result``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.events.log import EventLog
from ctiserver.sim.model import Channel
from ctiserver.sim.simulator import AgentHandle, CallHandle, Simulator
from tests.api.app_queue import COMPONENTS, answered_call
from tests.api.harness import Daemon, daemon
from tests.servers.redis import wait_for

EXTRA: dict[str, Any] = {
    "simulator": {"enabled": True},
    "acd": {
        "observer": True,
        "agents": [{"id": "1001", "device": "PJSIP/1001"}, {"id": "1002", "device": "PJSIP/1002"}],
    },
}


@dataclass
class Rig:
    d: Daemon
    http: aiohttp.ClientSession
    sim: Simulator
    phone2: AgentHandle
    call: CallHandle
    call_id: str

    async def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        return await self.d.post(self.http, f"/api/calls/{self.call_id}{path}", body)

    @property
    def caller(self) -> Channel:
        return self.sim.engine.channels[self.call.channel_id]

    def with_caller(self) -> list[str]:
        """The endpoints in the caller's bridge, besides the caller."""
        bridge = self.caller.bridge
        return sorted(c.endpoint for c in bridge.channels if c is not self.caller) if bridge else []

    def transferred(self) -> list[dict[str, Any]]:
        log = self.d.ctx.require(EventLog)
        return [dict(e.data) for e in log._ring if e.type == "call.transferred" and e.subject == self.call_id]


@asynccontextmanager
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with daemon(tmp_path, COMPONENTS, **EXTRA) as d, aiohttp.ClientSession() as http:
        sim = d.ctx.require(Simulator)
        phone2 = sim.agent("1002", answer_after=None)
        call, call_id = await answered_call(d, http, talk=600.0)
        r = Rig(d, http, sim, phone2, call, call_id)
        await wait_for(lambda: r.with_caller() == ["PJSIP/1001"])
        yield r


async def test_blind_transfer_of_an_app_queue_call(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        status, body = await r.post("/transfer", {"target": "queue:support"})
        assert status == 409 and "number" in body["message"]  # app_queue: no queue extension known here
        assert await r.post("/transfer", {"target": "agent:1002"}) == (204, None)
        await wait_for(lambda: bool(r.phone2.ringing()))
        assert r.phone2.answer()
        await wait_for(lambda: r.with_caller() == ["PJSIP/1002"])
        await wait_for(lambda: bool(r.transferred()))
        assert r.transferred()[0]["kind"] == "blind" and r.transferred()[0]["result"] == "Success"


async def test_attended_transfer_completed_by_request(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        status, _ = await r.post("/transfer/complete")
        assert status == 409  # nothing to complete yet
        assert await r.post("/transfer", {"target": "1002", "kind": "attended"}) == (204, None)
        await wait_for(lambda: bool(r.phone2.ringing()))
        assert r.with_caller() == [] and r.caller.moh_class is not None  # the caller holds
        assert r.phone2.answer()
        assert await r.post("/transfer/complete") == (204, None)
        await wait_for(lambda: bool(r.transferred()))
        done = r.transferred()[0]
        assert done["kind"] == "attended" and done["result"] == "Success"
        await wait_for(lambda: r.caller.moh_class is None and "PJSIP/1001" not in r.with_caller())
        phone2_channels = [r.sim.engine.channels[c] for c in r.phone2.endpoint.channels]
        assert phone2_channels and all(c.bridge is not None for c in phone2_channels)  # 1002 has the caller
        assert not r.call.done.is_set()


async def test_attended_transfer_cancelled_brings_the_caller_back(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        assert await r.post("/transfer", {"target": "agent:1002", "kind": "attended"}) == (204, None)
        await wait_for(lambda: bool(r.phone2.ringing()))
        assert r.phone2.answer()
        await asyncio.sleep(0.2)
        assert await r.post("/transfer/cancel") == (204, None)
        await wait_for(lambda: r.with_caller() == ["PJSIP/1001"] and r.caller.moh_class is None)
        await wait_for(lambda: not r.phone2.endpoint.channels)
        await wait_for(lambda: bool(r.transferred()))
        assert r.transferred()[0]["result"] == "Fail"
        status, _ = await r.post("/transfer/cancel")
        assert status == 409
