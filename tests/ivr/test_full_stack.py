"""The whole daemon (every component, the simulator as the PBX): the IVR's queue node hands the caller to
the ACD with its skills and attached data, and the ACD connects agent 1001 — all over AMI/ARI sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ctiserver.app import running
from ctiserver.config import Config
from ctiserver.control.ari import AriCallControl
from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import DomainEvent
from ctiserver.sim.simulator import Simulator

SCRIPT = """script: to-acd
dids: ["100"]
nodes:
  account: {type: set, vars: {account: "42"}, next: menu}
  menu: {type: menu, prompt: [beep], options: {"1": sales}, timeout: 10}
  sales: {type: queue, queue: support, skills: {english: 1}}
"""


async def test_ivr_queue_node_to_acd_agent(tmp_path: Path) -> None:
    (tmp_path / "to-acd.yaml").write_text(SCRIPT)
    config = Config.model_validate(
        {
            "simulator": {"enabled": True},
            "database": {
                "url": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite",
                "spool_dir": str(tmp_path / "spool"),
            },
            "data_dir": str(tmp_path),
            "api": {"port": 0},  # (cti) the API component runs too: never the fixed 8080 in parallel tests
            "ivr": {"scripts_dir": str(tmp_path)},
            "acd": {
                "agents": [{"id": "a1", "device": "PJSIP/1001", "skills": {"english": 2}, "login": True}],
                "queues": [{"name": "support"}],
            },
        }
    )
    async with running(config) as ctx:
        sim = ctx.require(Simulator)
        ari = ctx.require(AriCallControl).ari  # the PBX node's AriClient, or the fallback AriLink
        await asyncio.wait_for(ari.connected.wait(), 30)  # type: ignore[attr-defined]  # app registered
        sub = ctx.require(InMemoryBus).subscribe("ivr.*", "queue.*", "agent.answered", "call.updated")
        call = sim.place_call(from_number="5550100", to="100", dtmf=[(1.0, "1")])
        await asyncio.wait_for(call.placed.wait(), 10)
        seen: list[DomainEvent] = []
        async with asyncio.timeout(30):
            while not any(e.type == "agent.answered" for e in seen):
                seen.append(await sub.get())
        mine = [e for e in seen if e.subject == call.channel_id]
        steps = [e.data.get("node") for e in mine if e.type == "ivr.step"]
        assert steps == ["account", "menu", "sales", None]
        entered = next(e for e in mine if e.type == "queue.entered")
        assert entered.data["queue"] == "support" and entered.data["attached"]["account"] == "42"
        assert any(e.type == "call.updated" and e.data.get("key") == "account" for e in mine)  # on the call
        answered = next(e for e in mine if e.type == "agent.answered")
        assert answered.data["agent"] == "a1"
        call.hangup()
        await asyncio.wait_for(call.done.wait(), 30)
