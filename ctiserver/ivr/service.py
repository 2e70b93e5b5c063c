"""The IVR service: the ``did`` (and ``survey``) handler of the Stasis router.

Picks the script bound to the DID (the current version: a reload never touches a running call), runs it with
the interpreter and keeps the session (path, variables, outcome) for queries.
"""

from __future__ import annotations

import collections
import contextlib

from ctiserver.clock import Clock
from ctiserver.control import CallControl, ControlError
from ctiserver.control.router import Incoming
from ctiserver.ivr.config import IvrConfig
from ctiserver.ivr.registry import ScriptRegistry
from ctiserver.ivr.run_state import Services
from ctiserver.ivr.runner import Interpreter
from ctiserver.ivr.script import Script
from ctiserver.ivr.session import CallInfo, IvrSession
from ctiserver.logs import get_logger

log = get_logger(__name__)


class IvrService:
    def __init__(
        self,
        config: IvrConfig,
        control: CallControl,
        clock: Clock,
        registry: ScriptRegistry,
        services: Services,
    ) -> None:
        self.config = config
        self.control = control
        self.clock = clock
        self.registry = registry
        self.interpreter = Interpreter(control, clock, services)
        self.active: dict[str, IvrSession] = {}
        self.finished: collections.OrderedDict[str, IvrSession] = collections.OrderedDict()
        self.interpreter.listeners.append(self._track)

    def _track(self, session: IvrSession, _step: object) -> None:
        self.active[session.call.call_id] = session

    def session(self, call_id: str) -> IvrSession | None:
        return self.active.get(call_id) or self.finished.get(call_id)

    def script_for(self, did: str) -> Script | None:
        script = self.registry.for_did(did)
        if script is None and self.config.default_script:
            script = self.registry.get(self.config.default_script)
        return script

    async def handle_did(self, incoming: Incoming) -> None:
        did = incoming.args[1] if len(incoming.args) > 1 else incoming.exten
        script = self.script_for(did)
        if script is None:
            log.warning("no IVR script for DID; hanging up", did=did, channel=incoming.channel_id)
            with contextlib.suppress(ControlError):
                await self.control.hangup(incoming.channel_id)
            return
        await self.run(script, incoming, did)

    async def handle_survey(self, incoming: Incoming) -> None:
        """``Stasis(ctiserver,survey,<script>)``: a post-call survey (the caller's channel comes back)."""
        name = incoming.args[1] if len(incoming.args) > 1 else "csat"
        script = self.registry.get(name)
        if script is None:
            log.warning("no survey script", script=name, channel=incoming.channel_id)
            with contextlib.suppress(ControlError):
                await self.control.hangup(incoming.channel_id)
            return
        await self.run(script, incoming, "")

    async def run_script(
        self, name: str, channel_id: str, *, call_id: str | None = None, caller_number: str = ""
    ) -> IvrSession | None:
        """Run a script on a channel we already control (e.g. the ACD sends the caller to the CSAT survey)."""
        script = self.registry.get(name)
        if script is None:
            return None
        call = CallInfo(call_id or channel_id, channel_id, caller_number)
        return await self._run(script, call, answer=False)

    async def run(self, script: Script, incoming: Incoming, did: str) -> IvrSession:
        call = CallInfo(
            incoming.channel_id,
            incoming.channel_id,
            incoming.caller_number,
            incoming.caller_name,
            did,
            incoming.language,
        )
        return await self._run(script, call, answer=True)

    async def _run(self, script: Script, call: CallInfo, *, answer: bool) -> IvrSession:
        try:
            session = await self.interpreter.run(script, call, answer=answer)
        finally:
            done = self.active.pop(call.call_id, None)
            if done is not None and self.config.keep_sessions:
                self.finished[call.call_id] = done
                while len(self.finished) > self.config.keep_sessions:
                    self.finished.popitem(last=False)
        log.info(
            "ivr finished",
            script=session.script,
            version=session.version,
            end=str(session.end),
            outcome=session.outcome,
            steps=len(session.steps),
        )
        return session
