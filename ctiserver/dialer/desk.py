"""``Desk`` over the ACD (``AcdService``): the campaign's agents are the ACD agents who qualify for the
campaign's queue (its requirements plus the campaign's skills).

A live answer is handed to the ACD with ``enqueue(only_agent=<the free agent found>, priority=high)``: the ACD
rings the agent (``agent.offered`` / ``agent.ringing`` carry the contact's data as attached data — the
screen-pop), bridges, records per the queue's policy and runs the wrap-up. Only the ACD's public API is used;
the agent is not held between "found free" and "offered" (the ACD's router does that a moment later).
"""

from __future__ import annotations

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.entries import QueueRequest
from ctiserver.acd.routing import available, qualifies
from ctiserver.acd.service import AcdService, UnknownQueue
from ctiserver.clock import Clock
from ctiserver.dialer.model import CampaignSettings, Contact
from ctiserver.dialer.pacing import AgentPhase, AgentView

_PHASES = {
    AgentState.READY: AgentPhase.READY,
    AgentState.ON_CALL: AgentPhase.TALKING,
    AgentState.WRAP_UP: AgentPhase.WRAP_UP,
    AgentState.RESERVED: AgentPhase.RESERVED,
    AgentState.RINGING: AgentPhase.RESERVED,
}
PRIORITY = 100  # outbound live answers before inbound waiting calls: they must be served within 2 s


class AcdDesk:
    def __init__(self, acd: AcdService, clock: Clock, poll: float = 0.1) -> None:
        self.acd = acd
        self.clock = clock
        self.poll = poll

    def _requirements(self, campaign: CampaignSettings) -> dict[str, int]:
        try:
            req = dict(self.acd.queue_config(campaign.queue).requirements)
        except UnknownQueue:
            req = {}
        req.update(campaign.skills)
        return req

    def agent_views(self, campaign: CampaignSettings) -> list[AgentView]:
        views = []
        for a in self.acd.agents:
            phase = _PHASES.get(a.state)
            if phase is None or not qualifies(a.skills, self._requirements(campaign)):
                continue
            if phase is AgentPhase.READY and not a.registered:
                continue
            views.append(AgentView(phase, a.status.since, a.status.until or 0.0))
        return views

    async def reserve(self, campaign: CampaignSettings, wait: float, agent: str | None = None) -> str | None:
        req = self._requirements(campaign)
        deadline = self.clock.monotonic() + wait
        while True:
            free = [a for a in self.acd.agents if available(a) and qualifies(a.skills, req) and agent in (None, a.id)]
            if free:
                return min(free, key=lambda a: a.idle_since).id
            if self.clock.monotonic() >= deadline:
                return None
            await self.clock.sleep(self.poll)

    async def release(self, agent: str) -> None:
        return None  # nothing is held (see the module docstring)

    async def converse(
        self, campaign: CampaignSettings, agent: str, contact: Contact, call_id: str, channel: str
    ) -> float:
        started = self.clock.monotonic()
        result = await self.acd.enqueue(
            QueueRequest(
                call_id=call_id,
                channel_id=channel,
                queue=campaign.queue,
                caller_number=contact.number,
                caller_name=contact.name,
                priority=PRIORITY,
                attached={**contact.pop_data(), "dialer_attempt": call_id},
                only_agent=agent,
            )
        )
        return max(0.0, self.clock.monotonic() - started - result.waited)
