"""Call-backs: asked for while waiting (the caller presses the digit and hangs up, keeping the place) or from
outside a waiting call (IVR ``callback`` node, API). The call-back then waits like a call without a channel;
when it is served the agent is rung first, then the customer is dialled (``connect.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ctiserver.acd.agents import InvalidRequest
from ctiserver.acd.entries import Entry, Outcome, QueueRequest, QueueResult
from ctiserver.acd.routing import Waiting
from ctiserver.acd.stats import QueueStats
from ctiserver.clock import Clock
from ctiserver.control import CallControl, ControlError

if TYPE_CHECKING:
    from ctiserver.acd.config import QueueConfig
    from ctiserver.acd.waiting import WaitingCalls


class Callbacks:
    """Mixed into ``AcdService``."""

    _clock: Clock
    _control: CallControl
    _seq: itertools.count[int]
    _waiting: WaitingCalls
    stats: dict[str, QueueStats]
    # set by the component from ``DialplanCheck.lacks``: the PBX lacks the context an endpoint dials into
    context_missing: Callable[[str], bool] | None = None

    if TYPE_CHECKING:

        def queue_config(self, name: str) -> QueueConfig: ...

        def position(self, call_id: str) -> int: ...

        async def _add_waiting(self, entry: Entry) -> None: ...

        async def _event(self, type_: str, subject: str, data: Mapping[str, Any]) -> None: ...

    async def request_callback(
        self,
        call_id: str,
        number: str,
        queue: str,
        *,
        name: str = "",
        attached: Mapping[str, Any] | None = None,
        priority: int | None = None,
        only_agent: str | None = None,
    ) -> None:
        """A call-back asked for outside a waiting call (IVR node, API): it waits like a call, without a
        channel, and the customer is dialled once an agent has answered. ``only_agent``: offered to that
        agent only (click-to-dial from the API)."""
        if not number:
            raise InvalidRequest("a call-back needs a number")
        cfg = self.queue_config(queue)
        mono = self._clock.monotonic()
        waiting = Waiting(
            call_id,
            cfg.name,
            dict(cfg.requirements),
            cfg.strategy,
            priority if priority is not None else cfg.priority,
            mono,
            next(self._seq),
            cfg.relax,
            mono,
        )
        if only_agent is not None:
            waiting.only = only_agent
            waiting.requirements = {}
        request = QueueRequest(call_id, "", cfg.name, number, name, attached=dict(attached or {}))
        done: asyncio.Future[QueueResult] = asyncio.get_running_loop().create_future()
        entry = Entry(request, waiting, dict(attached or {}), None, done, callback_number=number)
        self.stats[cfg.name].entered += 1
        self.stats[cfg.name].callbacks_requested += 1
        await self._add_waiting(entry)
        await self._event(
            "callback.requested",
            call_id,
            {"queue": cfg.name, "number": number, "position": self.position(call_id)},
        )

    def _on_hold(self, entry: Entry) -> bool:
        """A call-back is not offered while the PBX lacks the context its endpoint dials into (``Local/{number}@
        ctiserver-outbound`` before the rendered dialplan is loaded): an agent would answer for a customer
        Asterisk cannot call, and the call-back would spend its attempts on it. It keeps its place; once the
        check sees the context, routing offers it."""
        if not entry.is_callback or self.context_missing is None:
            return False
        return self.context_missing(self.queue_config(entry.waiting.queue).callback.endpoint)

    async def _callback_later(self, entry: Entry, delay: float) -> None:
        """A customer who did not answer is dialled again after ``delay`` s, keeping the place (its sequence
        number: ahead of the calls that came after it)."""
        await self._clock.sleep(delay)
        await self._add_waiting(entry)

    async def _callback_requested(self, entry: Entry) -> bool:
        if entry.call_id not in self._waiting:  # an agent's phone is ringing for this call already
            return False
        cfg = self.queue_config(entry.waiting.queue)
        channel = entry.channel_id
        entry.callback_number = entry.request.caller_number
        entry.channel_id = None
        self.stats[cfg.name].callbacks_requested += 1
        await self._event(
            "callback.requested",
            entry.call_id,
            {"queue": cfg.name, "number": entry.callback_number, "position": self.position(entry.call_id)},
        )
        if channel is not None:
            with contextlib.suppress(ControlError):
                await self._control.stop_moh(channel)
                if cfg.callback.confirm_media:
                    await self._control.play(channel, list(cfg.callback.confirm_media))
            with contextlib.suppress(ControlError):
                await self._control.hangup(channel)
        if not entry.done.done():
            waited = self._clock.monotonic() - entry.waiting.entered
            entry.done.set_result(QueueResult(Outcome.CALLBACK, cfg.name, waited))
        return True
