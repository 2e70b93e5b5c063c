"""In-call requests on a live ACD conversation: hold/unhold the caller, and recording control by call id
(start on demand, pause/resume for card numbers, stop)."""

from __future__ import annotations

import contextlib
from typing import Any

from ctiserver.acd.agents import InvalidRequest
from ctiserver.acd.connect import Connector, Talk
from ctiserver.control import CallControl, ControlError


class InCall:
    """Mixed into ``AcdService``."""

    connector: Connector
    _control: CallControl
    _recorder: Any

    def _live_talk(self, call_id: str) -> Talk:
        talk = self.connector.talks.get(call_id)
        if talk is None:
            raise InvalidRequest(f"call {call_id} is not talking to an agent of the ACD")
        return talk

    async def hold(self, call_id: str, on: bool) -> None:
        talk = self._live_talk(call_id)
        if talk.consult is not None:
            raise InvalidRequest("the caller is already held for a consultation")
        if on:
            await self._control.remove_from_bridge(talk.bridge_id, talk.caller_channel)
            with contextlib.suppress(ControlError):
                await self._control.start_moh(talk.caller_channel)
        else:
            with contextlib.suppress(ControlError):
                await self._control.stop_moh(talk.caller_channel)
            await self._control.add_to_bridge(talk.bridge_id, [talk.caller_channel])

    async def recording_action(self, call_id: str, action: str, by: str = "api") -> dict[str, Any]:
        """``start`` (on-demand queues), ``pause``, ``resume`` or ``stop`` the call's live recording."""
        rec = self._recorder
        if rec is None or not hasattr(rec, "store"):
            raise InvalidRequest("recording is not running")
        if action == "start":
            talk = self._live_talk(call_id)
            meta = await rec.start(
                call_id,
                f"bridge:{talk.bridge_id}",
                queue=talk.entry.waiting.queue,
                agent=talk.agent_id,
                by=by,
                policy=talk.entry.request.recording,
            )
            talk.recordings.append(meta.name)
            return dict(meta.to_json())
        return dict((await rec.on_call(call_id, action, by)).to_json())
