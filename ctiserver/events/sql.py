"""SQL backends of the event log and the webhook outbox (SQLite or PostgreSQL through ``store``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.events.envelope import DomainEvent
from ctiserver.events.outbox import OutboxItem, Status, WebhookSubscription, oldest_per_subject
from ctiserver.events.secret_box import SecretBox, is_encrypted
from ctiserver.events.tables import EventRow, OutboxRow, WebhookSubscriptionRow
from ctiserver.store.upsert import upsert

Sessions = async_sessionmaker[AsyncSession]


def _event(row: EventRow) -> DomainEvent:
    return DomainEvent(
        type=row.type,
        subject=row.subject,
        data=row.data,
        time=row.time,
        source=row.source,
        id=row.id,
        seq=row.seq,
    )


class SqlEventStore:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def append(self, events: Sequence[DomainEvent]) -> None:
        rows = [
            {
                "seq": e.seq,
                "id": e.id,
                "type": e.type,
                "subject": e.subject,
                "time": e.time,
                "source": e.source,
                "data": dict(e.data),
            }
            for e in events
        ]
        async with self.sessions.begin() as session:
            await upsert(session, EventRow, rows, keys=["seq"], update=())

    async def since(self, after_seq: int, limit: int) -> list[DomainEvent]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(EventRow).where(EventRow.seq > after_seq).order_by(EventRow.seq).limit(limit)
            )
            return [_event(r) for r in rows]

    async def seq_of(self, event_id: str) -> int | None:
        async with self.sessions() as session:
            return await session.scalar(select(EventRow.seq).where(EventRow.id == event_id))

    async def last_seq(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.max(EventRow.seq))) or 0)

    async def first_seq(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.min(EventRow.seq))) or 0)

    async def seq_before(self, t: float) -> int:
        """The newest seq logged before ``t`` (0: none): a binary search on the primary key, the log's times
        growing with its seqs — no index on the time, no scan of the table."""
        async with self.sessions() as session:
            lo = int(await session.scalar(select(func.min(EventRow.seq))) or 0)
            hi = int(await session.scalar(select(func.max(EventRow.seq))) or 0)
            found = 0
            while lo and lo <= hi:
                mid = (lo + hi) // 2
                row = (
                    await session.execute(
                        select(EventRow.seq, EventRow.time).where(EventRow.seq >= mid).order_by(EventRow.seq).limit(1)
                    )
                ).first()
                if row is None or row.seq > hi:
                    hi = mid - 1
                elif row.time < t:
                    found, lo = int(row.seq), int(row.seq) + 1
                else:
                    hi = mid - 1
            return found

    async def delete_upto(self, seq: int) -> int:
        async with self.sessions.begin() as session:
            result = await session.execute(delete(EventRow).where(EventRow.seq <= seq))
            return int(getattr(result, "rowcount", 0) or 0)


def _item(row: OutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        seq=row.seq,
        subject=row.subject,
        body=row.body,
        created_at=row.created_at,
        next_at=row.next_at,
        attempts=row.attempts,
        status=Status(row.status),
        last_error=row.last_error,
    )


class SqlOutbox:
    """Webhook secrets are stored encrypted with ``box`` (``secret_box.py``); without a box (unit tests
    only) they are stored as given."""

    def __init__(self, sessions: Sessions, box: SecretBox | None = None) -> None:
        self.sessions = sessions
        self.box = box

    def _seal(self, secret: str) -> str:
        return self.box.encrypt(secret) if self.box is not None else secret

    def _open(self, stored: str) -> str:
        return self.box.decrypt(stored) if self.box is not None else stored

    async def subscriptions(self) -> list[WebhookSubscription]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(WebhookSubscriptionRow).order_by(WebhookSubscriptionRow.created_at)
            )
            return [
                WebhookSubscription(r.id, r.url, self._open(r.secret), tuple(r.types), r.active, r.created_at)
                for r in rows
            ]

    async def encrypt_clear_secrets(self) -> int:
        """Encrypt the secrets still stored in clear text (rows written before encryption); returns how many."""
        if self.box is None:
            return 0
        async with self.sessions.begin() as session:
            rows = (await session.scalars(select(WebhookSubscriptionRow))).all()
            clear = [r for r in rows if not is_encrypted(r.secret)]
            for row in clear:
                row.secret = self.box.encrypt(row.secret)
            return len(clear)

    async def add_subscription(self, sub: WebhookSubscription) -> None:
        async with self.sessions.begin() as session:
            session.add(
                WebhookSubscriptionRow(
                    id=sub.id,
                    url=sub.url,
                    secret=self._seal(sub.secret),
                    types=list(sub.types),
                    active=sub.active,
                    created_at=sub.created_at,
                )
            )

    async def remove_subscription(self, sub_id: str) -> bool:
        async with self.sessions.begin() as session:
            result = await session.execute(
                delete(WebhookSubscriptionRow).where(WebhookSubscriptionRow.id == sub_id)
            )
            return bool(getattr(result, "rowcount", 0))

    async def enqueue(self, items: Sequence[OutboxItem]) -> None:
        async with self.sessions.begin() as session:
            session.add_all(
                OutboxRow(
                    subscription_id=i.subscription_id,
                    event_id=i.event_id,
                    seq=i.seq,
                    subject=i.subject,
                    body=i.body,
                    created_at=i.created_at,
                    next_at=i.next_at,
                    attempts=i.attempts,
                    status=i.status.value,
                    last_error=i.last_error,
                )
                for i in items
            )

    async def due(self, now: float, limit: int) -> list[OutboxItem]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.status == Status.PENDING.value)
                .order_by(OutboxRow.seq, OutboxRow.id)
                .limit(max(limit * 50, 1000))
            )
            return oldest_per_subject([_item(r) for r in rows], now, limit)

    async def update(self, item: OutboxItem) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item.id)
                .values(
                    attempts=item.attempts,
                    next_at=item.next_at,
                    status=item.status.value,
                    last_error=item.last_error[:2000],
                    created_at=item.created_at,
                )
            )

    async def dead(self, limit: int) -> list[OutboxItem]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.status == Status.DEAD.value)
                .order_by(OutboxRow.id)
                .limit(limit)
            )
            return [_item(r) for r in rows]

    async def revive(self, ids: Sequence[int] | None, now: float) -> int:
        stmt = update(OutboxRow).where(OutboxRow.status == Status.DEAD.value)
        if ids is not None:
            stmt = stmt.where(OutboxRow.id.in_(list(ids)))
        async with self.sessions.begin() as session:
            result = await session.execute(
                stmt.values(status=Status.PENDING.value, attempts=0, next_at=now, created_at=now)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    async def backlog(self) -> int:
        async with self.sessions() as session:
            q = select(func.count()).select_from(OutboxRow).where(OutboxRow.status == Status.PENDING.value)
            return int(await session.scalar(q) or 0)

    async def next_due(self) -> float | None:
        async with self.sessions() as session:
            q = select(func.min(OutboxRow.next_at)).where(OutboxRow.status == Status.PENDING.value)
            value = await session.scalar(q)
            return float(value) if value is not None else None

    async def max_seq(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.max(OutboxRow.seq))) or 0)

    async def delete_finished_upto(self, seq: int) -> int:
        """Delivered and dead rows up to ``seq``, but never the newest row (``recover`` starts after it)."""
        newest = await self.max_seq()
        finished = (Status.DELIVERED.value, Status.DEAD.value)
        async with self.sessions.begin() as session:
            q = delete(OutboxRow).where(
                OutboxRow.status.in_(finished), OutboxRow.seq <= seq, OutboxRow.seq < newest
            )
            return int(getattr(await session.execute(q), "rowcount", 0) or 0)
