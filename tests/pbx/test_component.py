"""The pbx component inside the composition root, on the simulator: one PbxNode, its clients provided, and
call control sharing the node's ARI connection (one events WebSocket for the Stasis app, not two)."""

from __future__ import annotations

import asyncio
import time

from ctiserver.app import running
from ctiserver.config import Config
from ctiserver.control.ari import AriCallControl
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ari.client import AriClient
from ctiserver.pbx.node import PbxNode
from ctiserver.sim.simulator import Simulator

COMPONENTS = ("ctiserver.sim.component", "ctiserver.pbx.component", "ctiserver.control.component")


async def test_node_in_the_daemon_shares_its_ari_link_with_call_control() -> None:
    config = Config.model_validate({"simulator": {"enabled": True}})
    async with running(config, components=COMPONENTS) as ctx:
        node = ctx.require(PbxNode)
        sim = ctx.require(Simulator)
        assert ctx.require(AmiClient) is node.ami and ctx.require(AriClient) is node.ari
        assert node.health().ok and node.health().as_dict()["ok"] is True
        assert len(sim.ari_ws) == 1  # one registration of the app
        control = ctx.require(AriCallControl)
        assert control.ari is node.ari
        # no handler is registered for "did": call control hangs the call up, through the node's client
        call = sim.place_call(to="100")
        await asyncio.wait_for(call.done.wait(), 30)
        deadline = time.monotonic() + 30
        while control.requests == 0:
            assert time.monotonic() < deadline, "call control made no ARI request"
            await asyncio.sleep(0.02)
