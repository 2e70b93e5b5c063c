"""The dialer's desk over the real ACD service (on the ACD's in-memory call control): the campaign's agents
for pacing, a free agent within the 2 s, the conversation through the ACD with the contact's data popped."""

from __future__ import annotations

import asyncio

from ctiserver.acd.agent_state import AgentState
from ctiserver.dialer.desk import AcdDesk
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
        desk = AcdDesk(h.acd, h.clock)
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.READY]  # a2 lacks the skill
        agent = await desk.reserve(CAMPAIGN, 2.0)
        assert agent == "a1"
        customer = h.control.caller("+49301000001")
        talk = asyncio.create_task(desk.converse(CAMPAIGN, agent, CONTACT, "att-1", customer))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.ON_CALL)
        ring = h.of("agent.ringing")[0]
        assert ring.data["agent"] == "a1" and ring.data["attached"]["contact_id"] == "k1"
        assert ring.data["attached"]["fields"] == {"plan": "gold"} and ring.data["caller_name"] == "Frau Weber"
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.TALKING]
        await h.advance(30.0)
        h.control.remote_hangup(customer)
        seconds = await asyncio.wait_for(talk, 5)
        assert 25.0 <= seconds <= 35.0
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.WRAP_UP]
        # nobody free now: within the wait, no agent
        waiter = asyncio.create_task(desk.reserve(CAMPAIGN, 2.0))
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
    promised to its live answer, and a conversation the agent never took comes back as None."""
    async with Harness(TWO) as h:
        desk = AcdDesk(h.acd, h.clock)
        first, second = await asyncio.gather(desk.reserve(CAMPAIGN, 2.0), desk.reserve(CAMPAIGN, 2.0))
        assert {first, second} == {"a1", "a3"}
        assert [v.phase for v in desk.agent_views(CAMPAIGN)] == [AgentPhase.RESERVED, AgentPhase.RESERVED]
        assert await desk.reserve(CAMPAIGN, 0.0) is None
        await desk.release("a3")
        assert await desk.reserve(CAMPAIGN, 0.0) == "a3"
        # the customer leaves while the agent's phone still rings
        h.control.devices["PJSIP/1001"] = Device(answer_after=None)
        customer = h.control.caller("+49301000001")
        talk = asyncio.create_task(desk.converse(CAMPAIGN, "a1", CONTACT, "att-2", customer))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.RINGING)
        h.control.remote_hangup(customer)
        assert await asyncio.wait_for(talk, 5) is None
        assert await desk.reserve(CAMPAIGN, 0.0) == "a1"  # no longer promised once the conversation is over
