"""The durable event log: every published event, by sequence number, for replay from a cursor.

It listens on the bus (synchronously, so it sees every event in order), keeps the newest events in a ring
for fast replay, and a writer task appends them to the backend (SQL in production, memory in unit tests)
in batches. ``replay(after_seq)`` returns exactly the events with ``seq > after_seq``, from the ring when
it still holds them, else from the backend.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from ctiserver.events.envelope import DomainEvent
from ctiserver.events.spool import EventSpool
from ctiserver.logs import get_logger
from ctiserver.store.group import LINGER

log = get_logger(__name__)


class EventStore(Protocol):
    async def append(self, events: Sequence[DomainEvent]) -> None: ...

    async def since(self, after_seq: int, limit: int) -> list[DomainEvent]: ...

    async def seq_of(self, event_id: str) -> int | None: ...

    async def last_seq(self) -> int: ...

    async def first_seq(self) -> int: ...

    async def seq_before(self, t: float) -> int: ...

    async def delete_upto(self, seq: int) -> int: ...


class ReplayExpired(Exception):
    """The events after the cursor asked for begin before the oldest one kept (retention purged them)."""

    def __init__(self, first_seq: int) -> None:
        super().__init__(f"the event log keeps the events from seq {first_seq} on")
        self.first_seq = first_seq


class MemoryEventStore:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def append(self, events: Sequence[DomainEvent]) -> None:
        known = {e.seq for e in self.events[-len(events) :]} if events else set()
        self.events.extend(e for e in events if e.seq not in known)

    async def since(self, after_seq: int, limit: int) -> list[DomainEvent]:
        return [e for e in self.events if e.seq > after_seq][:limit]

    async def seq_of(self, event_id: str) -> int | None:
        return next((e.seq for e in self.events if e.id == event_id), None)

    async def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    async def first_seq(self) -> int:
        return self.events[0].seq if self.events else 0

    async def seq_before(self, t: float) -> int:
        return max((e.seq for e in self.events if e.time < t), default=0)

    async def delete_upto(self, seq: int) -> int:
        before = len(self.events)
        self.events = [e for e in self.events if e.seq > seq]
        return before - len(self.events)


class EventLog:
    def __init__(
        self, store: EventStore, ring_size: int = 50_000, batch: int = 500, spool: EventSpool | None = None
    ) -> None:
        self.store = store
        self.spool = spool  # write-ahead: an event is in the spool before any consumer sees it
        self._ring: deque[DomainEvent] = deque(maxlen=ring_size)
        self._ids: dict[str, int] = {}
        self._pending: list[DomainEvent] = []
        self._wake = asyncio.Event()
        self._batch = batch
        self._flushed = asyncio.Condition()
        self.last_seq = 0
        self.written_seq = 0
        self.first_seq = 1  # the oldest event kept (``events/retention.py`` purges the older ones)
        self.on_append: list[Callable[[DomainEvent], None]] = []

    async def load_last_seq(self) -> int:
        self.last_seq = self.written_seq = await self.store.last_seq()
        self.first_seq = max(1, await self.store.first_seq())
        if self.spool is not None:
            await self.recover()
        return self.last_seq

    async def recover(self) -> int:
        """At start: write the spooled events the store does not have (a crash before they were written),
        then empty the spool. Returns how many were recovered."""
        assert self.spool is not None
        missing = [e for e in self.spool.read() if e.seq > self.written_seq]
        missing.sort(key=lambda e: e.seq)
        for i in range(0, len(missing), self._batch):
            await self.store.append(missing[i : i + self._batch])
        if missing:
            log.warning("event log: recovered events from the spool", n=len(missing), last_seq=missing[-1].seq)
            self.last_seq = self.written_seq = max(self.written_seq, missing[-1].seq)
        self.spool.reset()
        return len(missing)

    def listener(self, event: DomainEvent) -> None:
        """The bus listener (synchronous, in publish order)."""
        if event.seq <= self.last_seq:
            return  # already seen (a redelivered stream entry)
        if self.spool is not None:
            self.spool.append(event)
        if len(self._ring) == self._ring.maxlen:
            self._ids.pop(self._ring[0].id, None)
        self._ring.append(event)
        self._ids[event.id] = event.seq
        self._pending.append(event)
        self.last_seq = event.seq
        self._wake.set()
        for cb in self.on_append:
            cb(event)

    async def run(self) -> None:
        """The writer task: append pending events in batches; a failed write is retried, never dropped."""
        while True:
            await self._wake.wait()
            # the spool already holds every event (write-ahead): let a tick's worth gather, one transaction
            await asyncio.sleep(LINGER)
            self._wake.clear()
            await self._write_pending()

    async def _write_pending(self) -> None:
        while self._pending:
            chunk = self._pending[: self._batch]
            try:
                await self.store.append(chunk)
            except Exception:
                log.exception("event log write failed; retrying")
                await asyncio.sleep(1.0)
                continue
            del self._pending[: len(chunk)]
            self.written_seq = chunk[-1].seq
            if self.spool is not None and not self._pending:
                self.spool.reset()  # everything spooled is in the store now
            async with self._flushed:
                self._flushed.notify_all()

    async def flush(self) -> None:
        await self._write_pending()

    async def close(self, limit: float = 30.0) -> int:
        """At shutdown: write what is pending, retrying for at most ``limit`` seconds; returns how many
        events could not be written (logged as an error, with their sequence range)."""
        try:
            async with asyncio.timeout(limit):
                await self._write_pending()
        except TimeoutError:
            if self._pending:
                log.error(
                    "event log: events not written at shutdown",
                    n=len(self._pending),
                    first_seq=self._pending[0].seq,
                    last_seq=self._pending[-1].seq,
                )
        return len(self._pending)

    async def seq_of(self, event_id: str) -> int | None:
        seq = self._ids.get(event_id)
        if seq is not None:
            return seq
        await self.flush()
        return await self.store.seq_of(event_id)

    async def replay(self, after_seq: int, limit: int = 10_000) -> list[DomainEvent]:
        """Events with ``seq > after_seq`` in order (at most ``limit``); ``ReplayExpired`` when some of them
        were purged (a client away longer than ``events.retention_days`` must resync, not miss them silently)."""
        if after_seq + 1 < self.first_seq:
            raise ReplayExpired(self.first_seq)
        if self._ring and self._ring[0].seq <= after_seq + 1:
            out = []
            for event in self._ring:
                if event.seq > after_seq:
                    out.append(event)
                    if len(out) >= limit:
                        break
            return out
        await self.flush()
        return await self.store.since(after_seq, limit)
