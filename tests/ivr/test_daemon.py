"""The IVR inside the daemon's composition root: simulator → events → control → ivr components, a call to
DID 100 answered by the script bound to it, the steps published on the bus."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ctiserver.app import running
from ctiserver.config import Config
from ctiserver.control.ari import AriCallControl
from ctiserver.control.router import StasisRouter
from ctiserver.events.bus import InMemoryBus
from ctiserver.ivr.registry import ScriptRegistry
from ctiserver.ivr.service import IvrService
from ctiserver.sim.simulator import Simulator

SCRIPT = """script: daemon-test
dids: ["100"]
nodes:
  hello: {type: play, sounds: [hello-world], next: menu}
  menu:
    type: menu
    prompt: [beep]
    options: {"7": bye}
    timeout: 10
  bye: {type: hangup, outcome: self_service}
"""


async def test_call_through_the_composition_root(tmp_path: Path) -> None:
    (tmp_path / "daemon-test.yaml").write_text(SCRIPT)
    config = Config.model_validate({"simulator": {"enabled": True}, "ivr": {"scripts_dir": str(tmp_path)}})
    components = (
        "ctiserver.sim.component",
        "ctiserver.events.component",
        "ctiserver.control.component",
        "ctiserver.ivr.component",
    )
    async with running(config, components=components) as ctx:
        sim = ctx.require(Simulator)
        ari = ctx.require(AriCallControl).ari  # the PBX node's AriClient, or the fallback AriLink
        await asyncio.wait_for(ari.connected.wait(), 30)  # type: ignore[attr-defined]  # app registered
        bus = ctx.require(InMemoryBus)
        assert ctx.require(ScriptRegistry).for_did("100") is not None
        steps = bus.subscribe("ivr.step")
        call = sim.place_call(from_number="5550100", to="100", dtmf=[(2.5, "7")])
        await asyncio.wait_for(call.done.wait(), 30)  # the script hung the caller up
        nodes = []
        while True:
            event = await asyncio.wait_for(steps.get(), 10)
            nodes.append(event.data.get("node"))
            if event.data.get("kind") == "end":
                break
        assert nodes == ["hello", "menu", "bye", None]
        assert event.data["outcome"] == "self_service" and event.subject == call.channel_id
        service = ctx.require(IvrService)
        assert service.session(call.channel_id).path == ["hello", "menu", "bye"]  # type: ignore[union-attr]
        assert ctx.require(StasisRouter).failures == 0
