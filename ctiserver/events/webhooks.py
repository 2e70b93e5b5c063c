"""Webhook delivery: every published event that a subscription wants becomes a durable outbox row; a worker
POSTs it (signed, see ``signing.py``) and retries with exponential backoff until it is delivered or older than
``max_age`` (≥ 24 h), when it moves to the dead-letter list an admin can replay. Per-call ordering: for each
(subscription, call) only the oldest undelivered event is ever in flight. At-least-once: the event id is the
idempotency key."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterable
from dataclasses import replace

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from ctiserver.clock import Clock
from ctiserver.events.envelope import DomainEvent
from ctiserver.events.log import EventLog
from ctiserver.events.outbox import OutboxItem, OutboxStore, Status, WebhookSubscription
from ctiserver.events.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from ctiserver.logs import get_logger
from ctiserver.tasks import cancel_and_wait

log = get_logger(__name__)


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: float = Field(5.0, gt=0)
    backoff_base: float = Field(1.0, gt=0)
    backoff_max: float = Field(3600.0, gt=0)
    max_age: float = Field(25 * 3600.0, ge=24 * 3600.0, description="retry for at least 24 h")
    concurrency: int = Field(16, ge=1, le=256)
    idle_poll: float = Field(1.0, gt=0)


class WebhookDispatcher:
    def __init__(
        self,
        store: OutboxStore,
        clock: Clock,
        config: WebhookConfig,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self._session = session
        self._subs: list[WebhookSubscription] = []
        self._pending: list[OutboxItem] = []
        self._wake = asyncio.Event()
        self.delivered = 0
        self.failures = 0

    async def load(self) -> None:
        self._subs = await self.store.subscriptions()

    async def add(self, sub: WebhookSubscription) -> None:
        await self.store.add_subscription(sub)
        await self.load()

    async def remove(self, sub_id: str) -> bool:
        ok = await self.store.remove_subscription(sub_id)
        await self.load()
        return ok

    def listener(self, event: DomainEvent) -> None:
        """Bus listener (sync, in publish order)."""
        self._enqueue(event, self._subs)

    def _enqueue(self, event: DomainEvent, subs: Iterable[WebhookSubscription]) -> None:
        wanted = [s for s in subs if s.wants(event.type)]
        if not wanted:
            return
        body = json.dumps(event.to_json(), separators=(",", ":"), sort_keys=True).encode()
        now = self.clock.now()
        for sub in wanted:
            self._pending.append(OutboxItem(0, sub.id, event.id, event.seq, event.subject, body, now, now))
        self._wake.set()

    async def recover(self, log: EventLog) -> int:
        """After a crash: events in the durable log newer than the outbox's newest row, that a subscription
        wants (and that happened after it subscribed), are enqueued again. Returns the rows added."""
        if not self._subs:
            return 0
        # the log keeps the events from ``first_seq`` (retention): the older ones after the newest delivery
        # matched no subscription (else they would be in the outbox)
        after = max(await self.store.max_seq(), log.first_seq - 1)
        added = 0
        while True:
            events = await log.replay(after, limit=2000)
            if not events:
                break
            for event in events:
                before = len(self._pending)
                self._enqueue(event, (s for s in self._subs if s.created_at <= event.time))
                added += len(self._pending) - before
            after = events[-1].seq
        await self._flush()
        return added

    def backoff(self, attempts: int) -> float:
        delay = min(self.config.backoff_max, self.config.backoff_base * (2 ** max(0, attempts - 1)))
        return float(delay * (0.8 + 0.4 * random.random()))

    async def _flush(self) -> None:
        while self._pending:
            chunk = self._pending[:500]
            await self.store.enqueue(chunk)
            del self._pending[: len(chunk)]

    async def run(self) -> None:
        own = self._session is None
        if own:
            self._session = aiohttp.ClientSession()
        sem = asyncio.Semaphore(self.config.concurrency)
        try:
            while True:
                try:
                    await self._flush()
                    due = await self.store.due(self.clock.now(), self.config.concurrency * 4)
                except Exception:
                    log.exception("webhook outbox unavailable; retrying")
                    await self.clock.sleep(1.0)
                    continue
                if due:
                    await asyncio.gather(*(self._deliver_one(item, sem) for item in due))
                    continue
                await self._idle()
        finally:
            if own and self._session is not None:
                await self._session.close()
                self._session = None

    async def _idle(self) -> None:
        nxt = await self.store.next_due()
        wait = (
            self.config.idle_poll
            if nxt is None
            else max(0.0, min(self.config.idle_poll, nxt - self.clock.now()))
        )
        if wait <= 0 and not self._wake.is_set():
            await asyncio.sleep(0)
            return
        woke = asyncio.ensure_future(self._wake.wait())
        slept = asyncio.ensure_future(self.clock.sleep(wait))
        try:
            await asyncio.wait({woke, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(woke, slept)
        self._wake.clear()

    async def _deliver_one(self, item: OutboxItem, sem: asyncio.Semaphore) -> None:
        sub = next((s for s in self._subs if s.id == item.subscription_id), None)
        if sub is None:
            await self.store.update(replace(item, status=Status.DEAD, last_error="subscription removed"))
            return
        async with sem:
            error = await self._post(sub, item)
        now = self.clock.now()
        if error is None:
            self.delivered += 1
            await self.store.update(replace(item, status=Status.DELIVERED, attempts=item.attempts + 1))
            return
        self.failures += 1
        attempts = item.attempts + 1
        if now - item.created_at >= self.config.max_age:
            log.warning("webhook dead-lettered", subscription=sub.id, event_id=item.event_id, error=error)
            await self.store.update(replace(item, status=Status.DEAD, attempts=attempts, last_error=error))
        else:
            nxt = now + self.backoff(attempts)
            await self.store.update(replace(item, attempts=attempts, next_at=nxt, last_error=error))

    async def _post(self, sub: WebhookSubscription, item: OutboxItem) -> str | None:
        assert self._session is not None
        ts = int(self.clock.now())
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: item.event_id,
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: signature(sub.secret, ts, item.body),
        }
        try:
            async with asyncio.timeout(self.config.timeout):
                async with self._session.post(sub.url, data=item.body, headers=headers) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        return None
                    return f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return f"{type(exc).__name__}"

    async def replay_dead(self, ids: list[int] | None = None) -> int:
        n = await self.store.revive(ids, self.clock.now())
        self._wake.set()
        return n
