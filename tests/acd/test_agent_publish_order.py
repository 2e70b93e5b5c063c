"""``agent.state`` events are published in the order of the transitions, whatever the order their writes end in:
a routing pass starts its reservations eagerly, and must not overtake an earlier change still being written
(consumers replaying the events would see a stale state: an agent "ready" who is already reserved)."""

from __future__ import annotations

import asyncio

from ctiserver.acd.agent_state import AgentState, AgentStatus
from ctiserver.acd.agents import AgentRegistry
from ctiserver.acd.config import AgentConfig
from ctiserver.acd.persist import MemoryAgentStore
from ctiserver.clock import ManualClock
from ctiserver.eager import eager_future
from ctiserver.events import DomainEvent, InMemoryBus


class SlowFirstStore(MemoryAgentStore):
    """The first write waits until released; the others are immediate."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.writes = 0

    async def record(self, new: AgentStatus, prev: AgentStatus) -> None:
        self.writes += 1
        if self.writes == 1:
            await self.release.wait()
        await super().record(new, prev)


async def test_a_later_change_waits_for_an_earlier_publication() -> None:
    bus, store = InMemoryBus(), SlowFirstStore()
    seen: list[tuple[str, str]] = []
    bus.listeners.append(lambda e: seen.append((e.subject, e.data["state"])) if e.type == "agent.state" else None)
    reg = AgentRegistry(ManualClock(), bus, store)
    for agent_id in ("a1", "a2"):
        reg.add(AgentConfig(id=agent_id, device=f"PJSIP/{agent_id}"))
    first = asyncio.ensure_future(reg.change("a1", AgentState.READY))
    await asyncio.sleep(0)  # a1's transition is made (in memory), its write hangs
    second = eager_future(reg.change("a2", AgentState.READY))  # as a routing pass starts a reservation
    snapshot = asyncio.ensure_future(reg.publish(reg.get("a2")))  # a snapshot without a transition, too
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen == [] and not second.done()  # a2's write is done, but a1's event is not out yet
    store.release.set()
    await asyncio.gather(first, second, snapshot)
    assert seen == [("a1", "ready"), ("a2", "ready"), ("a2", "ready")]


async def test_a_failed_write_does_not_block_the_others() -> None:
    class FailFirst(MemoryAgentStore):
        calls = 0

        async def record(self, new: AgentStatus, prev: AgentStatus) -> None:
            FailFirst.calls += 1
            if FailFirst.calls == 1:
                raise OSError("disk full")
            await super().record(new, prev)

    bus = InMemoryBus()
    seen: list[DomainEvent] = []
    bus.listeners.append(seen.append)
    reg = AgentRegistry(ManualClock(), bus, FailFirst())
    for agent_id in ("a1", "a2"):
        reg.add(AgentConfig(id=agent_id, device=f"PJSIP/{agent_id}"))
    async with asyncio.timeout(5):  # a publication chain left waiting on the failed change would hang here
        results = await asyncio.gather(
            reg.change("a1", AgentState.READY), reg.change("a2", AgentState.READY), return_exceptions=True
        )
    assert isinstance(results[0], OSError) and not isinstance(results[1], BaseException)
    assert [e.subject for e in seen if e.type == "agent.state"] == ["a2"]
