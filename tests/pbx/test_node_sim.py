"""PbxNode (AmiClient + AriClient) against the Asterisk simulator, over real sockets: a Stasis call seen on
both links and driven over ARI REST; then `core restart now` — both links come back, the Stasis app is
registered again and the next call reaches us."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from ctiserver.config import AmiConfig, AriConfig, PbxConfig
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.pbx.ari.models import AriEvent, ChannelDtmfReceived, StasisStart
from ctiserver.pbx.node import PbxNode
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.waiting import until as _until

WAIT = 30.0


async def until(cond: Callable[[], object], within: float = WAIT) -> None:
    await _until(cond, within, poll=0.02)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimConfig()) as s:
        yield s


def node_config(sim: Simulator) -> PbxConfig:
    return PbxConfig(
        name="sim",
        ami=AmiConfig(host="127.0.0.1", port=sim.ami_port, reconnect_min=0.05, reconnect_max=0.3,
                      keepalive_interval=0, action_timeout=WAIT),
        ari=AriConfig(url=sim.ari_url, reconnect_min=0.05, reconnect_max=0.3, request_timeout=WAIT),
    )  # fmt: skip


async def test_stasis_call_on_both_links_then_asterisk_restart(sim: Simulator) -> None:
    async with PbxNode(node_config(sim)) as node:
        ami_events: list[AmiEvent] = []
        ari_events: list[AriEvent] = []
        node.ami.on_event("*", ami_events.append)
        node.ari.on_event("*", ari_events.append)
        assert node.health().ok

        call = sim.place_call(from_number="5550100", from_name="Иван Петров", to="100", dtmf=[(0.3, "1")],
                              hangup_after=2.0)  # fmt: skip
        await until(lambda: any(isinstance(e, StasisStart) for e in ari_events))
        start = next(e for e in ari_events if isinstance(e, StasisStart))
        assert start.args[:2] == ("did", "100") and start.channel.caller.name == "Иван Петров"
        await node.ari.answer(start.channel.id)
        await until(lambda: any(isinstance(e, ChannelDtmfReceived) for e in ari_events))
        await asyncio.wait_for(call.done.wait(), WAIT)
        await until(lambda: any(e.name == "Hangup" for e in ami_events))
        newchannel = next(e for e in ami_events if e.name == "Newchannel")
        assert newchannel["CallerIDName"] == "Иван Петров"
        assert newchannel["Uniqueid"] == start.channel.id

        channels = await node.ami.action("CoreShowChannels")
        assert channels.response.ok  # type: ignore[union-attr]

        await sim.restart(down_for=0.8, boot_time=0.2)
        await until(lambda: node.ami.logins >= 2 and node.ari.connections >= 2 and node.health().ok)
        await until(lambda: node.asterisk_restarts == 1)
        await until(lambda: node.health().ok and bool(sim.ari_ws))
        ari_events.clear()
        sim.place_call(to="100", hangup_after=1.0)
        await until(lambda: any(isinstance(e, StasisStart) for e in ari_events))
        assert node.health().as_dict()["ami"]["connections"] >= 2
