"""Recording control by call id (``POST /api/calls/{id}/recording``) for calls the engine's ACD does not hold:
the dialler's AMI desk conversations and app_queue calls (observer mode). Both are recorded by ``MixMonitor``
on a channel (``ctiserver.recording.mixmonitor``) through the same recording service as the ACD's bridges, so
their recordings have the same metadata, events, policies, retention and access control.

* ``start`` (on demand): a conversation of the AMI desk is recorded on the customer's channel under its
  campaign's policy (``DeskRecording``); any other live call the tracker knows on its first live party leg (the
  caller of an app_queue call), under the policy of the queue it was last in (``never`` refuses: 409);
* ``pause`` / ``resume`` / ``stop``: the call's live recording, whoever started it.

With ``recording.app_queue`` on (observer mode), ``follow`` also records every app_queue call whose queue's
policy is ``always`` when an agent answers it (the call tracker's ``agent.answered`` for ``AgentConnect``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ctiserver.acd.agents import InvalidRequest
from ctiserver.calls.call_state import CallState
from ctiserver.calls.model import Role
from ctiserver.calls.tracker import Tracker
from ctiserver.events import DomainEvent
from ctiserver.logs import get_logger
from ctiserver.recording.config import Policy

log = get_logger(__name__)

# the AMI desk's ``start_recording(call_id, by)``: the recording, or None when the call is not its conversation
DeskRecording = Callable[[str, str], Awaitable[Any]]


class Recordings(Protocol):
    """The recording service (``ctiserver.recording.service.RecordingService``), as far as used here."""

    async def start(
        self, call_id: str, target: str, *, queue: str | None = None, agent: str | None = None, by: str = "api"
    ) -> Any: ...

    async def on_call(self, call_id: str, action: str, by: str) -> Any: ...

    def policy(self, queue: str | None, override: str | None = None) -> Policy: ...


class Events(Protocol):
    async def get(self) -> DomainEvent: ...


class PbxRecordings:
    def __init__(self, recordings: Recordings, tracker: Tracker | None, desk: DeskRecording | None = None) -> None:
        self.recordings = recordings
        self.tracker = tracker
        self.desk = desk

    async def action(self, call_id: str, action: str, by: str = "api") -> dict[str, Any]:
        if action != "start":
            return dict((await self.recordings.on_call(call_id, action, by)).to_json())
        meta = await self.desk(call_id, by) if self.desk is not None else None
        if meta is None:
            meta = await self._start_on_leg(call_id, by)
        return dict(meta.to_json())

    async def follow(self, answers: Events) -> None:
        """Record the app_queue calls whose queue always records, as their agents answer (``agent.answered``
        events of the call tracker: ``observed``)."""
        while True:
            event = await answers.get()
            queue = str(event.data.get("queue") or "")
            if not event.data.get("observed") or self.recordings.policy(queue) is not Policy.ALWAYS:
                continue
            try:
                await self._start_on_leg(event.subject, "policy")
            except Exception as exc:  # whatever failed, the call goes on unrecorded rather than not at all
                log.warning("recording did not start", call_id=event.subject, error=str(exc))

    async def _start_on_leg(self, call_id: str, by: str) -> Any:
        call = self.tracker.call_of(call_id) if self.tracker is not None else None
        if call is None or call.state is CallState.ENDED:
            raise InvalidRequest(f"call {call_id} is not a live call")
        leg = next(
            (
                leg
                for leg in call.party_legs()
                if leg.ended is None and leg.role in (Role.CALLER, Role.OUTBOUND)
            ),
            None,
        )
        if leg is None:
            raise InvalidRequest(f"call {call_id} has no live caller to record")
        seg = call.queues[-1] if call.queues else None
        return await self.recordings.start(
            call_id,
            f"mixmonitor:{leg.channel}",
            queue=seg.queue if seg is not None else None,
            agent=seg.agent if seg is not None else None,
            by=by,
        )
