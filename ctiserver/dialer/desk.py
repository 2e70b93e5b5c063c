"""``Desk`` over the ACD (``AcdService``): the campaign's agents are the ACD agents who qualify for the
campaign's queue (its requirements plus the campaign's skills).

A live answer is handed to the ACD with ``enqueue(only_agent=<the free agent found>, priority=high)``: the ACD
rings the agent (``agent.offered`` / ``agent.ringing`` carry the contact's data as attached data — the
screen-pop), bridges, records per the queue's policy and runs the wrap-up. Only the ACD's public API is used.
An agent found free is *promised* to that live answer until its conversation is over: two live answers within
the moment before the ACD's router reserves the agent must not both get the same agent (the second would wait,
past the legal 2 s, for an agent busy with the first while another one idles). ``converse`` returns None when
the agent never took the call (the customer left first): the runner counts it as abandoned.
"""

from __future__ import annotations

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.entries import Outcome as QueueOutcome
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
PROMISE_GUARD = 30.0  # s: a promise whose conversation never started is dropped after this


class AcdDesk:
    def __init__(self, acd: AcdService, clock: Clock, poll: float = 0.1) -> None:
        self.acd = acd
        self.clock = clock
        self.poll = poll
        self._promised: dict[str, float] = {}  # agent → when it was found free for a live answer

    def _is_promised(self, agent: str) -> bool:
        since = self._promised.get(agent)
        if since is None:
            return False
        if self.clock.monotonic() - since > PROMISE_GUARD:  # a converse that never came: do not leak the agent
            del self._promised[agent]
            return False
        return True

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
            if phase is AgentPhase.READY and self._is_promised(a.id):
                phase = AgentPhase.RESERVED
            if phase is AgentPhase.READY and not a.registered:
                continue
            views.append(AgentView(phase, a.status.since, a.status.until or 0.0))
        return views

    async def reserve(self, campaign: CampaignSettings, wait: float, agent: str | None = None) -> str | None:
        req = self._requirements(campaign)
        deadline = self.clock.monotonic() + wait
        while True:
            free = [
                a
                for a in self.acd.agents
                if available(a) and qualifies(a.skills, req) and agent in (None, a.id) and not self._is_promised(a.id)
            ]
            if free:
                chosen = min(free, key=lambda a: a.idle_since).id
                self._promised[chosen] = self.clock.monotonic()
                return chosen
            if self.clock.monotonic() >= deadline:
                return None
            await self.clock.sleep(self.poll)

    async def release(self, agent: str) -> None:
        self._promised.pop(agent, None)

    async def converse(
        self, campaign: CampaignSettings, agent: str, contact: Contact, call_id: str, channel: str
    ) -> float | None:
        started = self.clock.monotonic()
        try:
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
        finally:
            self._promised.pop(agent, None)
        if result.outcome is not QueueOutcome.ANSWERED:
            return None
        return max(0.0, self.clock.monotonic() - started - result.waited)
