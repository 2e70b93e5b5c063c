"""Call-backs: asked for while waiting (the caller presses the digit and hangs up, keeping the place) or from
outside a waiting call (IVR ``callback`` node, API). The call-back then waits like a call without a channel;
when it is served the agent is rung first, then the customer is dialled (``connect.py``).

Each one is written down until it is made or given up (``persist.PendingCallback``): a restarted daemon puts the
call-backs it still owes back in their queues, each in its place (its wait runs from the request); one that was
waiting out its ``retry_after`` after a failed dial waits out the rest of it first (up to session 31 it was
offered again at once). Up to session 30 they lived in the ACD's memory only, and a restart (an upgrade, a crash)
dropped every promised call-back."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from ctiserver.acd.agents import InvalidRequest
from ctiserver.acd.entries import Entry, Outcome, QueueRequest, QueueResult
from ctiserver.acd.persist import AgentStateStore, PendingCallback
from ctiserver.acd.routing import Waiting
from ctiserver.acd.stats import QueueStats
from ctiserver.clock import Clock
from ctiserver.control import CallControl, ControlError
from ctiserver.logs import get_logger

if TYPE_CHECKING:
    from ctiserver.acd.config import QueueConfig
    from ctiserver.acd.waiting import WaitingCalls

log = get_logger(__name__)


class Callbacks:
    """Mixed into ``AcdService``."""

    _clock: Clock
    _control: CallControl
    _seq: itertools.count[int]
    _waiting: WaitingCalls
    _store: AgentStateStore
    _retrying: dict[str, Entry]  # call-backs waiting out a ``retry_after``, by call id
    stats: dict[str, QueueStats]
    # set by the component from ``DialplanCheck.lacks``: the PBX lacks the context an endpoint dials into
    context_missing: Callable[[str], bool] | None = None

    if TYPE_CHECKING:

        def queue_config(self, name: str) -> QueueConfig: ...

        def position(self, call_id: str) -> int: ...

        async def _add_waiting(self, entry: Entry) -> None: ...

        async def _event(self, type_: str, subject: str, data: Mapping[str, Any]) -> None: ...

        def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]: ...

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
        now = self._clock.now()
        entry = self._callback_entry(
            PendingCallback(call_id, cfg.name, number, now, name, dict(attached or {}), priority, only_agent)
        )
        self.stats[cfg.name].entered += 1
        self.stats[cfg.name].callbacks_requested += 1
        await self._keep(entry)
        await self._add_waiting(entry)
        await self._event(
            "callback.requested",
            call_id,
            {"queue": cfg.name, "number": number, "position": self.position(call_id)},
        )

    def _callback_entry(self, cb: PendingCallback) -> Entry:
        """The call-back's place in its queue: it waits from ``cb.requested`` (a restored one, from before the
        restart)."""
        cfg = self.queue_config(cb.queue)
        entered = self._clock.monotonic() - max(0.0, self._clock.now() - cb.requested)
        waiting = Waiting(
            cb.call_id,
            cfg.name,
            dict(cfg.requirements),
            cfg.strategy,
            cb.priority if cb.priority is not None else cfg.priority,
            entered,
            next(self._seq),
            cfg.relax,
            entered,
        )
        if cb.only_agent is not None:
            waiting.only = cb.only_agent
            waiting.requirements = {}
        request = QueueRequest(cb.call_id, "", cfg.name, cb.number, cb.name, attached=dict(cb.attached))
        done: asyncio.Future[QueueResult] = asyncio.get_running_loop().create_future()
        return Entry(
            request, waiting, dict(cb.attached), None, done, callback_number=cb.number, callback_attempts=cb.attempts
        )

    async def _keep(self, entry: Entry, retry_at: float | None = None) -> None:
        """Write the call-back down (again, with its failed attempts and, after a failed dial, when it may be
        dialled again): a restarted daemon still owes it."""
        waited = self._clock.monotonic() - entry.waiting.entered
        pending = PendingCallback(
            entry.call_id,
            entry.waiting.queue,
            entry.callback_number or "",
            self._clock.now() - waited,
            entry.request.caller_name,
            dict(entry.attached),
            entry.waiting.priority,
            entry.waiting.only,
            entry.callback_attempts,
            retry_at,
        )
        try:
            await self._store.save_callback(pending)
        except Exception:  # the call-back goes on; only a restart would lose it
            log.exception("call-back not written down", call_id=entry.call_id)

    async def _owed_no_more(self, entry: Entry) -> None:
        """The call-back was made, or given up after its attempts."""
        if not entry.is_callback:
            return
        try:
            await self._store.drop_callback(entry.call_id)
        except Exception:
            log.exception("call-back made but still written down", call_id=entry.call_id)

    async def restore_callbacks(self) -> int:
        """The call-backs an earlier run owed, back in their queues (oldest request first); returns how many."""
        restored = 0
        for cb in await self._store.load_callbacks():
            if cb.queue not in self.stats:
                log.warning("call-back for a queue no longer configured", call_id=cb.call_id, queue=cb.queue)
                continue
            if cb.call_id in self._waiting or cb.call_id in self._retrying:
                continue
            entry = self._callback_entry(cb)
            self.stats[cb.queue].entered += 1
            restored += 1
            rest = (cb.retry_at or 0.0) - self._clock.now()
            if rest > 0:  # stopped while it waited out its retry_after: the rest of it first
                self._retry_later(entry, rest)
            else:
                await self._add_waiting(entry)
        if restored:
            log.info("call-backs owed from the earlier run are back in their queues", count=restored)
        return restored

    def _owed(self) -> list[Entry]:
        """The call-backs owed: waiting in their queues, or waiting out a ``retry_after``."""
        waiting = [e for e in self._waiting.values() if e.is_callback and e.channel_id is None]
        return waiting + list(self._retrying.values())

    def callbacks_owed(self) -> dict[str, int]:
        """Per queue, the call-backs it owes."""
        owed: dict[str, int] = {}
        for entry in self._owed():
            owed[entry.waiting.queue] = owed.get(entry.waiting.queue, 0) + 1
        return owed

    async def cancel_owed(self, numbers: Collection[str], why: str, call_ids: Collection[str] = ()) -> list[str]:
        """The call-backs owed to these numbers (as written), or with these call ids, are not made, e.g. for an
        erasure request (whose transaction deletes their rows); returns their call ids."""
        gone = [e for e in self._owed() if e.callback_number in numbers or e.call_id in call_ids]
        for entry in gone:
            self._waiting.pop(entry.call_id)
            self._retrying.pop(entry.call_id, None)
            await self._event("callback.cancelled", entry.call_id, {"queue": entry.waiting.queue, "why": why})
        return [e.call_id for e in gone]

    def _on_hold(self, entry: Entry) -> bool:
        """A call-back is not offered while the PBX lacks the context its endpoint dials into (``Local/{number}@
        ctiserver-outbound`` before the rendered dialplan is loaded): an agent would answer for a customer
        Asterisk cannot call, and the call-back would spend its attempts on it. It keeps its place; once the
        check sees the context, routing offers it."""
        if not entry.is_callback or self.context_missing is None:
            return False
        return self.context_missing(self.queue_config(entry.waiting.queue).callback.endpoint)

    def _retry_later(self, entry: Entry, delay: float) -> None:
        """A customer who did not answer is dialled again after ``delay`` s, keeping the place (its sequence
        number: ahead of the calls that came after it). Meanwhile it is owed (``retrying``), not waiting."""
        self._retrying[entry.call_id] = entry
        self._spawn(self._callback_later(entry, delay), f"cti:acd-callback-{entry.call_id}")

    async def _callback_later(self, entry: Entry, delay: float) -> None:
        try:
            await self._clock.sleep(delay)
        finally:
            gone = self._retrying.pop(entry.call_id, None) is None  # cancelled meanwhile (``cancel_owed``)
        if not gone:
            await self._add_waiting(entry)

    async def _callback_requested(self, entry: Entry) -> bool:
        if entry.call_id not in self._waiting:  # an agent's phone is ringing for this call already
            return False
        cfg = self.queue_config(entry.waiting.queue)
        channel = entry.channel_id
        entry.callback_number = entry.request.caller_number
        entry.channel_id = None
        self.stats[cfg.name].callbacks_requested += 1
        await self._keep(entry)
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
