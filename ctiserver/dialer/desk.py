"""``Desk`` over the ACD (``AcdService``): the campaign's agents are the ACD agents who qualify for the
campaign's queue (its requirements plus the campaign's skills).

A live answer is handed to the ACD with ``enqueue(only_agent=<the free agent found>, priority=high)``: the ACD
rings the agent (``agent.offered`` / ``agent.ringing`` carry the contact's data as attached data — the
screen-pop), bridges, records per the campaign's ``recording`` (or the queue's policy) and runs the wrap-up.
Only the ACD's public API is used.
An agent found free is *held for that live answer inside the ACD* (``AcdService.reserve(agent, attempt id)``:
READY → RESERVED with the attempt's id) until the call is handed to it: a second live answer cannot get the same
agent (it would wait, past the legal 2 s, for an agent busy with the first while another one idles), and an
inbound call waiting for that agent is not routed to it in the moment before the dialler's entry is (the
customer would wait on hold). ``enqueue(only_agent=agent)`` of the attempt offers it straight to the held agent;
``release`` (a call-back or preview whose call was not answered) and a conversation that never started let the
hold go (``unreserve``), and a hold nobody takes ends after ``PROMISE_GUARD`` s. ``converse`` returns None when
the agent never took the call (the customer left first), or when the call is not in our Stasis application (it
failed while the ARI application was away: ``HeldCalls``), which the ACD could not bridge: the runner counts it as
abandoned. The conversation says when the agent's phone answered (the ACD's ``agent.answered``, when a bus is
given): a phone that rings instead of answering at once may connect the callee past the law's two seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.entries import Outcome as QueueOutcome
from ctiserver.acd.entries import QueueRequest
from ctiserver.acd.routing import available, qualifies
from ctiserver.acd.service import AcdService, UnknownQueue
from ctiserver.clock import Clock
from ctiserver.dialer.held import HeldCalls
from ctiserver.dialer.model import CampaignSettings, Contact
from ctiserver.dialer.pacing import AgentPhase, AgentView
from ctiserver.dialer.ports import Conversation
from ctiserver.events import Bus, DomainEvent
from ctiserver.logs import get_logger

log = get_logger(__name__)

_PHASES = {
    AgentState.READY: AgentPhase.READY,
    AgentState.ON_CALL: AgentPhase.TALKING,
    AgentState.WRAP_UP: AgentPhase.WRAP_UP,
    AgentState.RESERVED: AgentPhase.RESERVED,
    AgentState.RINGING: AgentPhase.RESERVED,
}
PRIORITY = 100  # outbound live answers before inbound waiting calls: they must be served within 2 s
PROMISE_GUARD = 30.0  # s past the campaign's ring timeout: the ACD lets a hold go after this if no call came for it


def promise_guard(campaign: CampaignSettings) -> float:
    """How long the ACD keeps a hold nobody takes. An agent held before dialling (a call-back, a preview, a
    number abandoned lately: ``repeats.py``) waits through the ringing, up to the campaign's ring timeout (≤ 120 s),
    then set-up, AMD and the greeting; before session 22 a flat 30 s let the hold go under a ringing call."""
    return campaign.ring_timeout + PROMISE_GUARD


class AcdDesk:
    def __init__(
        self,
        acd: AcdService,
        clock: Clock,
        poll: float = 0.1,
        in_stasis: HeldCalls | None = None,
        bus: Bus | None = None,
    ) -> None:
        self.acd = acd
        self.bus = bus  # the ACD's agent.answered: when the agent's phone answered (None: not told)
        self.clock = clock
        self.poll = poll
        self.in_stasis = in_stasis  # answered attempts in our Stasis app (None: not asked: no call control)
        self._held: dict[str, str] = {}  # agent → the call (attempt id) the ACD holds it for

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

    async def reserve(
        self, campaign: CampaignSettings, wait: float, agent: str | None = None, *, call_id: str
    ) -> str | None:
        req = self._requirements(campaign)
        deadline = self.clock.monotonic() + wait
        while True:
            free = [a for a in self.acd.agents if available(a) and qualifies(a.skills, req) and agent in (None, a.id)]
            for candidate in sorted(free, key=lambda a: (a.idle_since, a.id)):  # longest idle first
                if await self.acd.reserve(candidate.id, call_id, guard=promise_guard(campaign)):  # RESERVED in the ACD
                    self._held[candidate.id] = call_id
                    return candidate.id
            if self.clock.monotonic() >= deadline:
                return None
            await self.clock.sleep(self.poll)

    async def release(self, agent: str) -> None:
        call_id = self._held.pop(agent, None)
        if call_id is not None:
            await self.acd.unreserve(agent, call_id)  # only if the ACD still holds it for that call

    async def converse(
        self, campaign: CampaignSettings, agent: str, contact: Contact, call_id: str, channel: str
    ) -> Conversation | None:
        started = self.clock.monotonic()
        answered = None if self.bus is None else self.bus.subscribe("agent.answered", predicate=_of(call_id))
        try:
            if self.in_stasis is not None and not await self.in_stasis.wait(channel):
                # not in our Stasis app (it failed: the ARI application is away): the ACD cannot bridge it
                log.warning("answered attempt not in Stasis: not offered to the ACD", attempt=call_id, agent=agent)
                return None
            result = await self.acd.enqueue(  # offered straight to the agent the ACD holds for ``call_id``
                QueueRequest(
                    call_id=call_id,
                    channel_id=channel,
                    queue=campaign.queue,
                    caller_number=contact.number,
                    caller_name=contact.name,
                    priority=PRIORITY,
                    attached={**contact.pop_data(), "dialer_attempt": call_id},
                    only_agent=agent,
                    recording=campaign.recording_policy,
                )
            )
        finally:
            if self._held.get(agent) == call_id:
                del self._held[agent]
            await self.acd.unreserve(agent, call_id)  # a no-op once the call was handed to the agent
            if answered is not None:
                answered.close()
        if result.outcome is not QueueOutcome.ANSWERED:
            return None
        connected = answered.queue.get_nowait().time if answered is not None and answered.queue.qsize() else None
        return Conversation(max(0.0, self.clock.monotonic() - started - result.waited), connected)


def _of(call_id: str) -> Callable[[DomainEvent], bool]:
    return lambda event: event.subject == call_id
