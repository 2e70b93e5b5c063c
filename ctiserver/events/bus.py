"""The in-process event bus (the default). Subscribers get their own bounded queue, so a slow consumer never
blocks a publisher; when a subscriber's queue overflows it is marked ``lagged`` and must resume from its cursor
(``last_seq``) through the durable log (see events/ for replay)."""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from ctiserver.events.envelope import DomainEvent

Filter = Callable[[DomainEvent], bool]


class Subscription:
    def __init__(self, bus: InMemoryBus, patterns: tuple[str, ...], predicate: Filter | None, maxsize: int) -> None:
        self._bus = bus
        self.patterns = patterns
        self.predicate = predicate
        self.queue: asyncio.Queue[DomainEvent] = asyncio.Queue(maxsize)
        self.lagged = False
        self.last_seq = 0
        self._types: dict[str, bool] = {}  # event type -> matches a pattern (there are few types)

    def matches(self, event: DomainEvent) -> bool:
        if self.patterns:
            ok = self._types.get(event.type)
            if ok is None:
                ok = self._types[event.type] = any(fnmatch.fnmatchcase(event.type, p) for p in self.patterns)
            if not ok:
                return False
        return self.predicate is None or self.predicate(event)

    def offer(self, event: DomainEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagged = True

    async def get(self) -> DomainEvent:
        event = await self.queue.get()
        self.last_seq = event.seq
        return event

    def __aiter__(self) -> AsyncIterator[DomainEvent]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[DomainEvent]:
        while True:
            yield await self.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)


class Bus(Protocol):
    async def publish(self, event: DomainEvent) -> DomainEvent: ...

    def subscribe(
        self, *patterns: str, predicate: Filter | None = None, maxsize: int = 10_000
    ) -> Subscription: ...


class InMemoryBus:
    """Assigns a gap-free sequence number and fans out to subscribers. ``listeners`` are called synchronously
    (for durable sinks that must see every event in order: the event log, the webhook outbox)."""

    def __init__(self, start_seq: int = 0) -> None:
        self._seq = start_seq
        self._subs: list[Subscription] = []
        self.listeners: list[Callable[[DomainEvent], None]] = []

    @property
    def last_seq(self) -> int:
        return self._seq

    async def publish(self, event: DomainEvent) -> DomainEvent:
        return self.publish_nowait(event)

    def publish_nowait(self, event: DomainEvent) -> DomainEvent:
        """``publish`` from synchronous code (this in-process bus never waits; subclasses may)."""
        self._seq += 1
        stamped = event.with_seq(self._seq)
        for listener in self.listeners:
            listener(stamped)
        for sub in self._subs:
            if sub.matches(stamped):
                sub.offer(stamped)
        return stamped

    def subscribe(self, *patterns: str, predicate: Filter | None = None, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(self, patterns, predicate, maxsize)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
