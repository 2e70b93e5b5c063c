"""Routes calls entering our Stasis app to handlers by the first app argument.

``Stasis(ctiserver,did,100)`` → the handler registered for ``"did"`` (the IVR) gets ``Incoming(args=("did",
"100"), ...)``. Legs we originate ourselves (``agent,...`` / ``dialer,...``) are claimed by ``dial()`` before
they reach the router. Each handler runs as a task of one ``asyncio.TaskGroup``; a handler that fails is
logged and never takes the others down; leaving the router cancels and awaits every handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ctiserver.clock import Clock, SystemClock
from ctiserver.control import ChannelGone
from ctiserver.logs import bind_call, get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Incoming:
    channel_id: str
    args: tuple[str, ...]
    caller_number: str = ""
    caller_name: str = ""
    exten: str = ""
    language: str = ""
    channel_name: str = ""

    @property
    def kind(self) -> str:
        return self.args[0] if self.args else ""


Handler = Callable[[Incoming], Awaitable[None]]


class StasisRouter:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._handlers: dict[str, Handler] = {}
        self._group: asyncio.TaskGroup | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.unrouted: Callable[[Incoming], Awaitable[None]] | None = None  # e.g. hang up
        self.failures = 0
        # calls arriving before their handler registers (the daemon is still starting) wait this long
        self.grace = 10.0
        self._parked: dict[str, tuple[Incoming, asyncio.Task[None]]] = {}

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind!r} is already registered")
        self._handlers[kind] = handler
        for incoming, wait in [p for p in self._parked.values() if p[0].kind == kind]:
            wait.cancel()
            self._parked.pop(incoming.channel_id, None)
            self.dispatch(incoming)

    def unregister(self, kind: str) -> None:
        self._handlers.pop(kind, None)

    @property
    def active(self) -> int:
        return len(self._tasks)

    async def __aenter__(self) -> StasisRouter:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        group, self._group = self._group, None
        for _, wait in self._parked.values():
            wait.cancel()
        self._parked.clear()
        for task in list(self._tasks.values()):
            task.cancel()
        if group is not None:
            await group.__aexit__(None, None, None)

    def dispatch(self, incoming: Incoming, *, park: bool = True) -> asyncio.Task[None] | None:
        """Start the handler for ``incoming`` (called from the ARI event callback, in wire order)."""
        handler = self._handlers.get(incoming.kind)
        if self._group is None:
            log.warning("stasis router is not running", channel=incoming.channel_id, args=list(incoming.args))
            return None
        if incoming.channel_id in self._parked:  # a repeated StasisStart: the first waits for the handler
            return None
        if handler is None:
            if park and self.grace > 0:
                wait = asyncio.get_running_loop().create_task(self._give_up(incoming.channel_id))
                self._parked[incoming.channel_id] = (incoming, wait)
                return None
            log.warning("no handler for stasis call", channel=incoming.channel_id, args=list(incoming.args))
            if self.unrouted is None:
                return None
            handler = self.unrouted
        if incoming.channel_id in self._tasks:  # a repeated StasisStart: the first handler owns the call
            return None
        task = self._group.create_task(self._run(handler, incoming), name=f"cti:stasis-{incoming.channel_id}")
        self._tasks[incoming.channel_id] = task
        return task

    async def _give_up(self, channel_id: str) -> None:
        """No handler came within the grace (on the injected clock): the call goes to ``unrouted``."""
        await self.clock.sleep(self.grace)
        parked = self._parked.pop(channel_id, None)
        if parked is not None:
            self.dispatch(parked[0], park=False)

    async def _run(self, handler: Handler, incoming: Incoming) -> None:
        bind_call(call_id=incoming.channel_id, channel=incoming.channel_id)
        try:
            await handler(incoming)
        except ChannelGone:
            pass  # the caller hung up: a normal end
        except Exception:
            self.failures += 1
            log.exception("stasis handler failed", kind=incoming.kind, channel=incoming.channel_id)
        finally:
            self._tasks.pop(incoming.channel_id, None)
