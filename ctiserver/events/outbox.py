"""The webhook outbox: subscriptions, and one durable row per (subscription, event) until it is delivered or
dead. ``OutboxStore`` is the interface; ``MemoryOutbox`` for unit tests, ``ctiserver.events.sql`` for the
daemon."""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    id: str
    url: str
    secret: str = field(repr=False)  # never in logs
    types: tuple[str, ...] = ("*",)  # fnmatch patterns of event types
    active: bool = True
    created_at: float = 0.0

    def wants(self, event_type: str) -> bool:
        return self.active and any(fnmatch.fnmatchcase(event_type, p) for p in self.types)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    subscription_id: str
    event_id: str
    seq: int
    subject: str
    body: bytes
    created_at: float
    next_at: float
    attempts: int = 0
    status: Status = Status.PENDING
    last_error: str = ""


class OutboxStore(Protocol):
    async def subscriptions(self) -> list[WebhookSubscription]: ...

    async def add_subscription(self, sub: WebhookSubscription) -> None: ...

    async def remove_subscription(self, sub_id: str) -> bool: ...

    async def enqueue(self, items: Sequence[OutboxItem]) -> None:
        """Insert (ids are assigned by the store; the given ``id`` is ignored)."""
        ...

    async def due(self, now: float, limit: int) -> list[OutboxItem]:
        """For each (subscription, subject) the oldest pending item, if it is due — per-call ordering."""
        ...

    async def update(self, item: OutboxItem) -> None: ...

    async def dead(self, limit: int) -> list[OutboxItem]: ...

    async def revive(self, ids: Sequence[int] | None, now: float) -> int:
        """Dead items (all when ``ids`` is None) back to pending, due now; returns how many."""
        ...

    async def backlog(self) -> int: ...

    async def next_due(self) -> float | None: ...

    async def delete_finished_upto(self, seq: int) -> int:
        """Delivered and dead items up to ``seq``, never the newest item (retention)."""
        ...

    async def max_seq(self) -> int:
        """The newest event sequence number in the outbox (0 when empty): recovery resumes after it."""
        ...


def oldest_per_subject(items: Sequence[OutboxItem], now: float, limit: int) -> list[OutboxItem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for item in sorted(items, key=lambda i: (i.seq, i.id)):
        key = (item.subscription_id, item.subject)
        if key in seen:
            continue
        seen.add(key)
        if item.next_at <= now:
            out.append(item)
            if len(out) >= limit:
                break
    return out


class MemoryOutbox:
    def __init__(self) -> None:
        self.subs: dict[str, WebhookSubscription] = {}
        self.items: dict[int, OutboxItem] = {}
        self._ids = itertools.count(1)

    async def subscriptions(self) -> list[WebhookSubscription]:
        return list(self.subs.values())

    async def add_subscription(self, sub: WebhookSubscription) -> None:
        self.subs[sub.id] = sub

    async def remove_subscription(self, sub_id: str) -> bool:
        return self.subs.pop(sub_id, None) is not None

    async def enqueue(self, items: Sequence[OutboxItem]) -> None:
        for item in items:
            new = replace(item, id=next(self._ids))
            self.items[new.id] = new

    async def due(self, now: float, limit: int) -> list[OutboxItem]:
        pending = [i for i in self.items.values() if i.status is Status.PENDING]
        return oldest_per_subject(pending, now, limit)

    async def update(self, item: OutboxItem) -> None:
        self.items[item.id] = item

    async def dead(self, limit: int) -> list[OutboxItem]:
        return [i for i in self.items.values() if i.status is Status.DEAD][:limit]

    async def revive(self, ids: Sequence[int] | None, now: float) -> int:
        n = 0
        for item in list(self.items.values()):
            if item.status is Status.DEAD and (ids is None or item.id in ids):
                self.items[item.id] = replace(
                    item, status=Status.PENDING, attempts=0, next_at=now, created_at=now
                )
                n += 1
        return n

    async def backlog(self) -> int:
        return sum(1 for i in self.items.values() if i.status is Status.PENDING)

    async def next_due(self) -> float | None:
        pending = [i.next_at for i in self.items.values() if i.status is Status.PENDING]
        return min(pending) if pending else None

    async def max_seq(self) -> int:
        return max((i.seq for i in self.items.values()), default=0)

    async def delete_finished_upto(self, seq: int) -> int:
        newest = await self.max_seq()
        gone = [
            k
            for k, i in self.items.items()
            if i.status in (Status.DELIVERED, Status.DEAD) and i.seq <= seq and i.seq < newest
        ]
        for k in gone:
            del self.items[k]
        return len(gone)
