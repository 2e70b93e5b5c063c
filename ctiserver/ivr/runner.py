"""The interpreter: runs one script on one channel over ``CallControl``, recording every step.

A caller hang-up at any point (``ChannelGone``) ends the run cleanly with ``IvrEnd.CALLER_HANGUP``; the run
is a plain coroutine, so cancelling its task stops it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from ctiserver.clock import Clock
from ctiserver.control import CallControl, ChannelGone, ControlError
from ctiserver.ivr import run_exit, run_logic, run_prompts
from ctiserver.ivr.nodes import Node
from ctiserver.ivr.recorder import BusRecorder, StepRecorder
from ctiserver.ivr.run_state import Exit, Run, Services
from ctiserver.ivr.script import Script
from ctiserver.ivr.session import CallInfo, IvrEnd, IvrSession, IvrStep
from ctiserver.logs import get_logger

log = get_logger(__name__)

Handler = Callable[[Run, Any], Awaitable[str | Exit]]

HANDLERS: dict[str, Handler] = {
    "play": run_prompts.play,
    "menu": run_prompts.menu,
    "collect": run_prompts.collect,
    "survey": run_prompts.survey,
    "branch": run_logic.branch,
    "hours": run_logic.hours,
    "set": run_logic.set_vars,
    "goto": run_logic.goto,
    "lookup": run_logic.lookup,
    "http": run_logic.http,
    "sub": run_logic.sub,
    "return": run_logic.return_,
    "queue": run_exit.queue,
    "transfer": run_exit.transfer,
    "callback": run_exit.callback,
    "do_not_call": run_exit.do_not_call,
    "record_message": run_exit.record_message,
    "hangup": run_exit.hangup,
}

StepListener = Callable[[IvrSession, IvrStep], None]


class Interpreter:
    def __init__(self, control: CallControl, clock: Clock, services: Services | None = None) -> None:
        self.control = control
        self.clock = clock
        self.services = services or Services()
        self.listeners: list[StepListener] = []
        self.recorder: StepRecorder | None = self.services.recorder
        if self.recorder is None and self.services.bus is not None:
            self.recorder = BusRecorder(self.services.bus)

    async def run(self, script: Script, call: CallInfo, *, answer: bool = True) -> IvrSession:
        initial = {k: str(v) for k, v in script.vars.items()}
        initial.update(self.services.settings.vars)
        session = IvrSession(call, script.name, script.version, self.clock.now(), vars=initial)
        run = Run(self.control, self.clock, self.services, session, script, self.recorder)
        try:
            if answer:
                await self.control.answer(call.channel_id)
            await self._loop(run)
        except ChannelGone:
            if session.end is None:  # not handed over before
                session.end = IvrEnd.CALLER_HANGUP
        except ControlError as exc:
            log.warning("ivr: call control failed", call_id=call.call_id, error=str(exc))
            session.end = IvrEnd.ERROR
        except Exception:  # a script or integration bug must not leave the caller in silence
            node = session.steps[-1].node if session.steps else script.start
            log.exception("ivr: node failed; hanging up", call_id=call.call_id, script=script.name, node=node)
            session.end = IvrEnd.ERROR
        finally:
            session.ended_at = self.clock.now()
            if session.end is None:  # cancelled: the daemon is stopping
                session.end = IvrEnd.INTERRUPTED
            await self._publish_end(session)
        if session.end in (IvrEnd.ERROR, IvrEnd.RETURN):
            with contextlib.suppress(ControlError):
                await self.control.hangup(call.channel_id)
        return session

    async def _loop(self, run: Run) -> None:
        name = run.script.start
        for _ in range(self.services.settings.max_steps):
            node = run.script.nodes[name]
            nxt = await self._step(run, name, node)
            if isinstance(nxt, Exit):
                if run.session.end is not IvrEnd.QUEUE:  # once handed to a queue, that is how it left
                    run.session.end, run.session.target = nxt.end, nxt.target
                return
            name = nxt
        log.warning("ivr: step limit reached", script=run.script.name, node=name)
        run.session.end = IvrEnd.ERROR

    async def _step(self, run: Run, name: str, node: Node) -> str | Exit:
        started = self.clock.now()
        script = run.script
        run.digits = run.result = None
        run.node_name = name
        try:
            nxt = await HANDLERS[node.kind](run, node)
        except ChannelGone:
            run.result = "caller_hangup"
            raise
        except Exception as exc:
            run.result = f"error: {type(exc).__name__}: {exc}"
            raise
        finally:
            step = IvrStep(
                started, script.name, script.version, name, node.kind, node.label, run.digits, run.result
            )
            run.session.steps.append(step)
            await self._publish_step(run.session, step)
        if node.outcome:
            run.session.outcome = node.outcome
        return nxt

    async def _publish_step(self, session: IvrSession, step: IvrStep) -> None:
        for listener in self.listeners:
            listener(session, step)
        if self.recorder is not None:
            await self.recorder.step(session, step)

    async def _publish_end(self, session: IvrSession) -> None:
        if self.recorder is not None:
            await self.recorder.end(session, self.clock.now())
