"""Restart and faults: `core restart now` (trace 12), dropped connections, slow ARI responses."""

from __future__ import annotations

import asyncio
import time

from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, AriProbe, get


async def test_restart_drops_links_and_forgets_dynamic_members() -> None:
    async with Simulator() as sim:
        ami, ari = AmiProbe(), AriProbe(sim.ari_url)
        await ami.connect(sim.ami_port)
        await ari.connect()
        await ami.action("QueueAdd", [("Queue", "support"), ("Interface", "PJSIP/1001")])
        ami_port, ari_port = sim.ami_port, sim.ari_port
        restart = asyncio.create_task(sim.restart(down_for=0.6, boot_time=0.1))
        shutdown = await ami.wait_event("Shutdown")
        assert (get(shutdown, "Shutdown"), get(shutdown, "Restart")) == ("Cleanly", "True")
        await asyncio.wait_for(ami.closed.wait(), 20)
        await asyncio.wait_for(ari.closed.wait(), 20)
        assert not ari.close_frame
        await restart
        assert (sim.ami_port, sim.ari_port) == (ami_port, ari_port)
        again = AmiProbe()
        await again.connect(sim.ami_port)
        booted = again.events("FullyBooted")[0]
        assert get(booted, "Uptime") == "0"
        await again.action("QueueStatus", [("Queue", "support")])
        await again.wait_event("QueueStatusComplete")
        assert not again.events("QueueMember")
        assert sim.engine.queues.log[-1].endswith("|NONE|NONE|NONE|QUEUESTART|")
        await again.close()
        await ami.close()
        await ari.close()


async def test_drop_connections_and_slow_responses() -> None:
    async with Simulator() as sim:
        ami, ari = AmiProbe(), AriProbe(sim.ari_url)
        await ami.connect(sim.ami_port)
        await ari.connect()
        sim.drop_connections()
        await asyncio.wait_for(ami.closed.wait(), 20)
        await asyncio.wait_for(ari.closed.wait(), 20)
        sim.slow_responses = 0.3
        began = time.monotonic()
        status, _ = await ari.req("GET", "/channels")
        assert status == 200 and time.monotonic() - began >= 0.3
        await ami.close()
        await ari.close()
