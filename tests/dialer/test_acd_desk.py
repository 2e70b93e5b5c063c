"""The dialer's desk over the real ACD service (on the ACD's in-memory call control): the campaign's agents
for pacing, a free agent within the 2 s, the conversation through the ACD with the contact's data popped."""

from __future__ import annotations

import asyncio

from ctiserver.acd.agent_state import AgentState
from ctiserver.dialer.desk import AcdDesk
from ctiserver.dialer.model import CampaignSettings, Contact
from ctiserver.dialer.pacing import AgentPhase
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
