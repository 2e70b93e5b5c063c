"""The fast path: the PBX's ringing event for an agent's device pops the pending offer once; the ACD's later
agent.ringing for the same offer does not pop again; a new offer (e.g. after a transfer back) pops again."""

from __future__ import annotations

import asyncio

from ctiserver.clock import ManualClock
from ctiserver.crm.ring_hook import RingHook, device_of
from ctiserver.crm.screenpop import ScreenPop
from ctiserver.crm.service import CrmConfig, CrmService
from ctiserver.crm.store import MemoryContactStore
from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import new_event


def ringing(channel_id: str, name: str) -> dict[str, object]:
    return {"type": "Dial", "dialstatus": "RINGING", "peer": {"id": channel_id, "name": name}}


async def test_fast_pop_then_no_duplicate_then_new_offer() -> None:
    bus = InMemoryBus()
    crm = CrmService(MemoryContactStore(), bus, ManualClock(), CrmConfig(), "US")
    pop = ScreenPop(crm, bus)
    hook = RingHook(pop)
    bus.listeners.append(hook.on_bus)
    pops = bus.subscribe("screen.pop")
    runner = asyncio.create_task(pop.run())
    try:
        await asyncio.sleep(0)
        await bus.publish(
            new_event("agent.state", "1001", {"agent": "1001", "device": "PJSIP/1001", "state": "ready"}, 1.0)
        )
        hook.on_ari(ringing("x", "PJSIP/1001-00000001"))  # no offer: nothing
        await bus.publish(
            new_event(
                "agent.offered",
                "c1",
                {"agent": "1001", "call_id": "c1", "queue": "q", "caller_number": "+12125550100"},
                2.0,
            )
        )
        hook.on_ari({"type": "Dial", "dialstatus": "", "peer": {"id": "a1", "name": "PJSIP/1001-00000002"}})
        hook.on_ari(ringing("a1", "PJSIP/1001-00000002"))
        first = await asyncio.wait_for(pops.get(), 10)
        assert first.data["channel"] == "a1" and first.data["queue"] == "q" and hook.fast_pops == 1
        await bus.publish(
            new_event("agent.ringing", "c1", {"agent": "1001", "call_id": "c1", "channel": "a1"}, 3)
        )
        await bus.publish(new_event("agent.answered", "c1", {"agent": "1001", "call_id": "c1"}, 4.0))
        answered = await asyncio.wait_for(pops.get(), 10)
        assert answered.data["phase"] == "answered"  # the duplicate ringing pop was skipped
        await bus.publish(new_event("agent.offered", "c1", {"agent": "1001", "call_id": "c1"}, 5.0))
        hook.on_ari(ringing("a2", "PJSIP/1001-00000003"))
        again = await asyncio.wait_for(pops.get(), 10)
        assert again.data["phase"] == "ringing" and again.data["channel"] == "a2"
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def test_device_of() -> None:
    assert device_of("PJSIP/1001-0000002a") == "PJSIP/1001"
    assert device_of("PJSIP/agent-x-00000001") == "PJSIP/agent-x"
