"""A dialler's call on the AMI desk as the outbound queue stay the ACD desk gives it (docs/kpi.md, "Dialler
calls"): ``queue.entered`` when the customer is sent to the agent's phone, ``queue.left`` when that phone answers
(``answered``, with the agent and how long it took) or when the customer is gone without one (``abandoned``),
both ``outbound: true``, in the campaign's queue (its name when it has none). The call tracker keeps the stay on
the attempt's call, the live and historical KPIs count it for the agent — handled, talk, wrap-up (the desk's
pause after the call, ``wrapped``), AHT, ``outbound`` — and not for the queue. Before (up to session 32) a
campaign on the AMI desk had no stay: its calls were in the campaign's report only."""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.events import Bus, new_event


@dataclass
class DeskStay:
    bus: Bus
    queue: str
    call_id: str
    entered: float
    done: bool = False

    async def enter(self, channel: str, campaign: str) -> None:
        data = {"queue": self.queue, "position": 1, "channel": channel, "campaign": campaign, "outbound": True}
        await self.bus.publish(new_event("queue.entered", self.call_id, data, self.entered))

    async def leave(self, at: float, agent: str | None = None) -> None:
        """Answered by ``agent``'s phone at ``at``; without an agent: the customer went without one."""
        if self.done:
            return
        self.done = True
        data = {
            "queue": self.queue,
            "outcome": "answered" if agent is not None else "abandoned",
            "waited": round(max(0.0, at - self.entered), 3),
            "agent": agent,
            "outbound": True,
        }
        await self.bus.publish(new_event("queue.left", self.call_id, data, at))
