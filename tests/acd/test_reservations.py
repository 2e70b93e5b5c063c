"""``AcdService.reserve(agent, call_id)``: a free agent held for a call not yet in the ACD (the dialler's live
answer) — skipped by routing, offered that call straight away, let go only for that call, never leaked."""

from __future__ import annotations

import asyncio

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.entries import QueueRequest
from tests.acd.harness import Harness

CONFIG = {
    "queues": [{"name": "sales", "wrapup": 0}],
    "agents": [
        {"id": "a1", "device": "PJSIP/1001", "login": True},
        {"id": "a2", "device": "PJSIP/1002"},  # logged out
    ],
}


def _offered(h: Harness, call_id: str) -> list[str]:
    return [str(e.data["agent"]) for e in h.of("agent.offered") if e.subject == call_id]


async def test_a_held_agent_is_skipped_by_routing_and_gets_its_call() -> None:
    async with Harness(CONFIG) as h:
        assert not await h.acd.reserve("a2", "out-1")  # not free
        assert await h.acd.reserve("a1", "out-1", guard=60.0)
        assert not await h.acd.reserve("a1", "out-2")  # held already
        a1 = h.acd.agents.get("a1")
        assert (a1.state, a1.status.call_id, h.acd.reserved_for("a1")) == (AgentState.RESERVED, "out-1", "out-1")
        inbound = h.control.caller("5550100")
        inbound_done = asyncio.create_task(h.acd.enqueue(QueueRequest("in-1", inbound, "sales")))
        # another call for the same agent does not take the hold: it waits like any call for one agent
        other = h.control.caller("5550101")
        other_done = asyncio.create_task(h.acd.enqueue(QueueRequest("out-2", other, "sales", only_agent="a1")))
        await h.advance(2.0)
        assert _offered(h, "in-1") == [] and _offered(h, "out-2") == [] and h.acd.reserved_for("a1") == "out-1"
        outbound = h.control.caller("5550102")
        done = asyncio.create_task(
            h.acd.enqueue(QueueRequest("out-1", outbound, "sales", priority=100, only_agent="a1"))
        )
        await h.run_until(lambda: a1.state is AgentState.ON_CALL)
        assert a1.status.call_id == "out-1" and _offered(h, "out-1") == ["a1"] and h.acd.reserved_for("a1") is None
        states = [(e.data["state"], e.data["call_id"]) for e in h.of("agent.state") if e.subject == "a1"]
        assert ("reserved", "out-1") in states and states.count(("reserved", "out-1")) == 1  # no second reservation
        assert not await h.acd.unreserve("a1", "out-1")  # handed over: nothing to let go
        h.control.remote_hangup(outbound)
        assert (await asyncio.wait_for(done, 5)).agent == "a1"
        for channel, task in ((other, other_done), (inbound, inbound_done)):
            h.control.remote_hangup(channel)
            await asyncio.wait_for(task, 5)


async def test_letting_go_keeps_a_pause_asked_for_meanwhile_and_the_guard_frees_the_agent() -> None:
    async with Harness(CONFIG) as h:
        assert await h.acd.reserve("a1", "out-1")
        await h.acd.pause("a1", h.acd.config.pause_reasons[0])  # busy: paused once the hold is over
        assert h.acd.agents.get("a1").state is AgentState.RESERVED
        assert await h.acd.unreserve("a1", "out-1")
        assert h.acd.agents.get("a1").state is AgentState.NOT_READY
        await h.acd.ready("a1")
        assert await h.acd.reserve("a1", "out-2", guard=5.0)
        await h.advance(4.0)
        assert h.acd.reserved_for("a1") == "out-2"
        await h.advance(1.5)
        assert h.acd.reserved_for("a1") is None and h.acd.agents.get("a1").state is AgentState.READY
