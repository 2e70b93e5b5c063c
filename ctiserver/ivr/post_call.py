"""The IVR side of the ACD's post-call survey (``ctiserver.acd.survey.PostCallSurvey``): run a script such as
``csat`` on the caller's channel, still in Stasis, with the result stored against the ACD's call id."""

from __future__ import annotations

import contextlib

from ctiserver.control import CallControl, ControlError
from ctiserver.ivr.service import IvrService
from ctiserver.logs import get_logger

log = get_logger(__name__)


class IvrPostCallSurvey:
    def __init__(self, service: IvrService, control: CallControl) -> None:
        self._service = service
        self._control = control

    async def run(self, call_id: str, channel_id: str, script: str) -> None:
        session = await self._service.run_script(script, channel_id, call_id=call_id)
        if session is None:
            log.warning("no survey script; hanging up", script=script, call_id=call_id)
            with contextlib.suppress(ControlError):
                await self._control.hangup(channel_id)
