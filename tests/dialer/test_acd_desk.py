"""The dialer's desk over the real ACD service (on the ACD's in-memory call control): the campaign's agents
for pacing, a free agent within the 2 s, the conversation through the ACD with the contact's data popped."""

from __future__ import annotations

import asyncio

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.entries import QueueRequest
from ctiserver.dialer.desk import AcdDesk, promise_guard
from ctiserver.dialer.model import CampaignSettings, Contact
from ctiserver.dialer.pacing import AgentPhase
from tests.acd.fake_control import Device
from tests.acd.harness import Harness

CONFIG = {
    "queues": [{"name": "sales", "requirements": {"german": 3}, "wrapup": 5}],
    "agents": [
        {"id": "a1", "device": "PJSIP/1001", "skills": {"german": 5}, "login": True},
        {"id": "a2", "device": "PJSIP/1002", "skills": {"german": 1}, "login": True},  # not qualified
    ],
}
CAMPAIGN = CampaignSettings(name="spring", queue="sales")
CONTACT = Contact("k1", "spring", "+49301000001", "Europe/Berlin", name="Frau Weber", fields={"plan": "gold"})


async def test_acd_desk_reserves_and_connects_with_the_contact_popped() -> None:
    async with Harness(CONFIG) as h:
        desk = AcdDesk(h.acd, h.clock, bus=h.bus)
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.READY]  # a2 lacks the skill
        agent = await desk.reserve(CAMPAIGN, 2.0, call_id="att-1")
        assert agent == "a1"
        customer = h.control.caller("+49301000001")
        talk = asyncio.create_task(desk.converse(CAMPAIGN, agent, CONTACT, "att-1", customer))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.ON_CALL)
        on_call = h.acd.agents.get("a1").status.since
        ring = h.of("agent.ringing")[0]
        assert ring.data["agent"] == "a1" and ring.data["attached"]["contact_id"] == "k1"
        assert ring.data["attached"]["fields"] == {"plan": "gold"} and ring.data["caller_name"] == "Frau Weber"
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.TALKING]
        await h.advance(30.0)
        h.control.remote_hangup(customer)
        conversation = await asyncio.wait_for(talk, 5)
        assert conversation is not None and 25.0 <= conversation.talk <= 35.0
        assert conversation.connected == on_call  # when the agent's phone answered (the ACD's agent.answered)
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.WRAP_UP]
        # nobody free now: within the wait, no agent
        waiter = asyncio.create_task(desk.reserve(CAMPAIGN, 2.0, call_id="att-9"))
        await h.advance(2.5)
        assert await waiter is None


TWO = {
    "queues": [{"name": "sales", "requirements": {"german": 3}, "wrapup": 5}],
    "agents": [
        {"id": "a1", "device": "PJSIP/1001", "skills": {"german": 5}, "login": True},
        {"id": "a3", "device": "PJSIP/1003", "skills": {"german": 5}, "login": True},
    ],
}


async def test_two_live_answers_at_once_get_two_agents_and_a_lost_one_is_reported() -> None:
    """Found over the wire: two live answers in the same moment both got the longest-idle agent (nothing held
    it before the ACD's router reserved it); the second waited past the 2 s for that busy agent while the other
    idled, the customer hung up, and the attempt was recorded as connected. Now the agent found free is
    held for its live answer, and a conversation the agent never took comes back as None."""
    async with Harness(TWO) as h:
        desk = AcdDesk(h.acd, h.clock)
        first, second = await asyncio.gather(
            desk.reserve(CAMPAIGN, 2.0, call_id="att-2"), desk.reserve(CAMPAIGN, 2.0, call_id="att-3")
        )
        assert (first, second) == ("a1", "a3")
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.RESERVED, AgentPhase.RESERVED]
        assert await desk.reserve(CAMPAIGN, 0.0, call_id="att-4") is None
        await desk.release("a3")
        assert await desk.reserve(CAMPAIGN, 0.0, call_id="att-5") == "a3"
        # the customer leaves while the agent's phone still rings
        h.control.devices["PJSIP/1001"] = Device(answer_after=None)
        customer = h.control.caller("+49301000001")
        talk = asyncio.create_task(desk.converse(CAMPAIGN, "a1", CONTACT, "att-2", customer))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.RINGING)
        h.control.remote_hangup(customer)
        assert await asyncio.wait_for(talk, 5) is None
        assert await desk.reserve(CAMPAIGN, 0.0, call_id="att-6") == "a1"  # free again: the call is over


INBOUND = {
    "queues": [{"name": "sales", "requirements": {"german": 3}, "wrapup": 5}],
    "agents": [{"id": "a1", "device": "PJSIP/1001", "skills": {"german": 5}, "login": True}],
}


def _offered(h: Harness, call_id: str) -> list[str]:
    return [str(e.data["agent"]) for e in h.of("agent.offered") if e.subject == call_id]


async def test_an_inbound_call_is_not_routed_to_the_agent_held_for_a_live_answer() -> None:
    """The agent found free for a live answer is held inside the ACD (RESERVED for the attempt): an inbound
    call arriving in the moment before the dialler's entry is not routed to it (it would have been: the agent
    was READY for the ACD while only the desk knew of the promise), the live answer gets the agent, and the
    inbound call is served once the agent is free again."""
    async with Harness(INBOUND) as h:
        desk = AcdDesk(h.acd, h.clock)
        assert await desk.reserve(CAMPAIGN, 2.0, call_id="att-1") == "a1"
        a1 = h.acd.agents.get("a1")
        assert a1.state is AgentState.RESERVED and a1.status.call_id == "att-1"
        last = [e for e in h.of("agent.state") if e.subject == "a1"][-1]
        assert last.data["state"] == "reserved" and last.data["call_id"] == "att-1"
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.RESERVED]
        inbound = h.control.caller("+49301000099")
        served = asyncio.create_task(h.acd.enqueue(QueueRequest("in-1", inbound, "sales")))
        await h.advance(1.0)
        assert _offered(h, "in-1") == [] and a1.status.call_id == "att-1"  # waits: the agent is held
        customer = h.control.caller("+49301000001")
        talk = asyncio.create_task(desk.converse(CAMPAIGN, "a1", CONTACT, "att-1", customer))
        await h.run_until(lambda: a1.state is AgentState.ON_CALL)
        assert a1.status.call_id == "att-1" and _offered(h, "att-1") == ["a1"] and _offered(h, "in-1") == []
        await h.advance(10.0)
        h.control.remote_hangup(customer)
        assert await asyncio.wait_for(talk, 5) is not None  # connected, not abandoned
        await h.run_until(lambda: a1.state is AgentState.ON_CALL and a1.status.call_id == "in-1")
        assert _offered(h, "in-1") == ["a1"]
        h.control.remote_hangup(inbound)
        assert (await asyncio.wait_for(served, 5)).agent == "a1"


async def test_a_released_hold_makes_the_agent_ready_and_the_waiting_call_is_routed_to_it() -> None:
    async with Harness(INBOUND) as h:
        desk = AcdDesk(h.acd, h.clock)
        assert await desk.reserve(CAMPAIGN, 0.0, call_id="att-1") == "a1"
        inbound = h.control.caller("+49301000099")
        served = asyncio.create_task(h.acd.enqueue(QueueRequest("in-1", inbound, "sales")))
        await h.advance(1.0)
        assert _offered(h, "in-1") == []
        assert not await h.acd.unreserve("a1", "att-other")  # held for another call: kept
        assert h.acd.reserved_for("a1") == "att-1"
        await desk.release("a1")  # the call-back was not answered
        assert h.acd.reserved_for("a1") is None
        await h.run_until(lambda: _offered(h, "in-1") == ["a1"])
        states = [(e.data["state"], e.data["call_id"]) for e in h.of("agent.state") if e.subject == "a1"]
        held = states.index(("reserved", "att-1"))
        assert states[held : held + 3] == [("reserved", "att-1"), ("ready", None), ("reserved", "in-1")]
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.ON_CALL)
        h.control.remote_hangup(inbound)
        assert (await asyncio.wait_for(served, 5)).agent == "a1"


async def test_a_hold_nobody_takes_ends_after_the_guard_time() -> None:
    """A hold taken before dialling outlasts the campaign's ring timeout (the call may ring that long, then be
    answered), and ends some time after it when no call came."""
    campaign = CAMPAIGN.model_copy(update={"ring_timeout": 60.0})
    async with Harness(INBOUND) as h:
        desk = AcdDesk(h.acd, h.clock)
        assert await desk.reserve(campaign, 0.0, call_id="att-1") == "a1"
        inbound = h.control.caller("+49301000099")
        served = asyncio.create_task(h.acd.enqueue(QueueRequest("in-1", inbound, "sales")))
        assert promise_guard(campaign) >= 60.0 + 20.0
        await h.advance(promise_guard(campaign) - 1.0)
        assert _offered(h, "in-1") == [] and h.acd.reserved_for("a1") == "att-1"
        await h.run_until(lambda: _offered(h, "in-1") == ["a1"], limit=5.0)  # released at the guard time
        assert h.acd.reserved_for("a1") is None
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.ON_CALL)
        h.control.remote_hangup(inbound)
        assert (await asyncio.wait_for(served, 5)).agent == "a1"
        # the late live answer is not lost: it waits for its agent like any call for one agent
        await desk.release("a1")  # nothing held any more: a no-op
