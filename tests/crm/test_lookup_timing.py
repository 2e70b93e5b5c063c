"""Lookups start at call arrival, never on the ring path; failures degrade the pop, never break it."""

from __future__ import annotations

import asyncio

from ctiserver.clock import ManualClock
from ctiserver.crm.model import Contact
from ctiserver.crm.screenpop import ScreenPop
from ctiserver.crm.service import CrmConfig, CrmService
from ctiserver.crm.store import ContactIn, MemoryContactStore
from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import new_event
from tests.servers.redis import wait_for


class RecordingStore(MemoryContactStore):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.fail = False

    async def find_by_phone(self, e164: str) -> Contact | None:
        self.calls.append(e164)
        if self.fail:
            raise OSError("database is down")
        return await super().find_by_phone(e164)


async def test_lookup_runs_when_the_call_arrives_and_the_pop_reuses_it() -> None:
    bus = InMemoryBus()
    store = RecordingStore()
    await store.create(ContactIn(name="Olga", phones=[]), ["+48221234567"])
    crm = CrmService(store, bus, ManualClock(), CrmConfig(), default_region="PL")
    pop = ScreenPop(crm, bus)
    pops = bus.subscribe("screen.pop")
    tasks = [asyncio.create_task(crm.run()), asyncio.create_task(pop.run())]
    try:
        await asyncio.sleep(0)
        await bus.publish(new_event("call.created", "c1", {"caller_number": "22 123 45 67"}, 1.0))
        await wait_for(lambda: store.calls == ["+48221234567"])  # looked up while still in the IVR
        await bus.publish(
            new_event("agent.ringing", "c1", {"agent": "7", "caller_number": "22 123 45 67"}, 2.0)
        )
        event = await asyncio.wait_for(pops.get(), 10)
        assert event.data["contact"]["name"] == "Olga"
        assert store.calls == ["+48221234567"]  # the ring path did not look up again
        assert crm.lookups_started == 1

        store.fail = True
        await bus.publish(new_event("call.created", "c2", {"caller_number": "+48 22 000 00 00"}, 3.0))
        await bus.publish(
            new_event("agent.ringing", "c2", {"agent": "7", "caller_number": "+48220000000"}, 4.0)
        )
        degraded = await asyncio.wait_for(pops.get(), 10)
        assert degraded.data["known"] is False and degraded.data["lookup_error"] == "OSError"
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
