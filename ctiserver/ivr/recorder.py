"""Where IVR steps go: on the tracked call (``calls.Tracker`` facts) and as ``ivr.step`` events on the bus.

``TrackerRecorder`` files every step on the call (``Call.ivr_path``), the variables as attached data and the
self-service outcome; the tracker emits the ``ivr.step`` / ``call.updated`` events, published here. When the
tracker does not know the call yet (AMI runs behind ARI) it holds the facts and files them on the call when it
appears, and ``BusRecorder`` publishes ``ivr.step`` meanwhile (the screen-pop needs the path now).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ctiserver.events.bus import Bus
from ctiserver.events.envelope import DomainEvent, new_event
from ctiserver.ivr.session import IvrSession, IvrStep


class StepRecorder(Protocol):
    async def step(self, session: IvrSession, step: IvrStep) -> None: ...

    async def attach(self, session: IvrSession, name: str, value: str) -> None: ...

    async def end(self, session: IvrSession, at: float) -> None: ...


class CallFacts(Protocol):
    """The part of ``ctiserver.calls.Tracker`` the IVR uses."""

    def record_ivr_step(
        self, call_id: str, node: str, result: str | None = None, at: float | None = None, **extra: Any
    ) -> Sequence[DomainEvent]: ...

    def set_self_service(self, call_id: str, outcome: str | None) -> Sequence[DomainEvent]: ...

    def attach_data(self, call_id: str, key: str, value: str) -> Sequence[DomainEvent]: ...


def _end_data(session: IvrSession) -> dict[str, Any]:
    return {
        "node": None,
        "kind": "end",
        "end": session.end.value if session.end else None,
        "target": session.target,
        "script": session.script,
        "version": session.version,
        "outcome": session.outcome,
        "vars": dict(session.attached),  # the call's data; site settings and defaults stay out
        "path": session.path,
        "channel_id": session.call.channel_id,
    }


class BusRecorder:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def step(self, session: IvrSession, step: IvrStep) -> None:
        data = {**step.to_dict(), "channel_id": session.call.channel_id, "outcome": session.outcome}
        await self.bus.publish(new_event("ivr.step", session.call.call_id, data, step.at))

    async def attach(self, session: IvrSession, name: str, value: str) -> None:
        return None  # the variables travel in the final event and on the channel

    async def end(self, session: IvrSession, at: float) -> None:
        await self.bus.publish(new_event("ivr.step", session.call.call_id, _end_data(session), at))


class TrackerRecorder:
    def __init__(self, facts: CallFacts, bus: Bus) -> None:
        self.facts = facts
        self.bus = bus
        self.fallback = BusRecorder(bus)

    async def _publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            await self.bus.publish(event)

    async def step(self, session: IvrSession, step: IvrStep) -> None:
        try:
            events = self.facts.record_ivr_step(
                session.call.call_id,
                step.node,
                step.result,
                step.at,
                kind=step.kind,
                label=step.label,
                digits=step.digits,
                script=step.script,
                version=step.version,
                channel_id=session.call.channel_id,
            )
        except KeyError:  # AMI has not shown this call to the tracker (yet): held there, published here
            await self.fallback.step(session, step)
            return
        await self._publish(events)

    async def attach(self, session: IvrSession, name: str, value: str) -> None:
        try:
            await self._publish(self.facts.attach_data(session.call.call_id, name, value))
        except KeyError:  # held by the tracker: its call.updated goes out when the call appears
            return

    async def end(self, session: IvrSession, at: float) -> None:
        if session.outcome:
            try:
                await self._publish(self.facts.set_self_service(session.call.call_id, session.outcome))
            except KeyError:
                pass
        await self.fallback.end(session, at)
