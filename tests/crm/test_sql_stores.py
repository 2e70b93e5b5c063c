"""The cti migration branch and the SQL stores on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio

from ctiserver.api.auth import Role, new_token
from ctiserver.api.token_store import SqlTokenStore
from ctiserver.config import DatabaseConfig
from ctiserver.crm.model import Interaction
from ctiserver.crm.sql import SqlContactStore
from ctiserver.crm.store import ContactIn
from ctiserver.events.envelope import new_event
from ctiserver.events.outbox import OutboxItem, Status, WebhookSubscription
from ctiserver.events.sql import SqlEventStore, SqlOutbox
from ctiserver.store.database import Database


async def test_stores_round_trip(db_url: str, tmp_path: object) -> None:
    db = Database(DatabaseConfig.model_validate({"url": db_url, "spool_dir": str(tmp_path)}))
    await db.migrate()
    try:
        contacts = SqlContactStore(db.sessions)
        c = await contacts.create(ContactIn(name="Olga", company="Acme", tags=["vip"]), ["+48221234567"])
        assert (await contacts.find_by_phone("+48221234567")) == c
        assert [x.id for x in await contacts.search("acm", 10)] == [c.id]
        await contacts.record(Interaction(call_id="k1", started_at=1.0, number="+48221234567", queue="q"))
        await contacts.record(Interaction(call_id="k1", started_at=9.0, agent="1001", outcome="answered"))
        await contacts.record(Interaction(call_id="k1", started_at=9.0, disposition="sale", notes="n"))
        (h,) = await contacts.history(["+48221234567"], 5)
        assert (h.queue, h.agent, h.outcome, h.disposition, h.started_at) == (
            "q",
            "1001",
            "answered",
            "sale",
            1.0,
        )
        updated = await contacts.update(c.id, ContactIn(name="Olga K"), ["+48221234568"])
        assert updated is not None and updated.phones == ("+48221234568",)
        assert await contacts.delete(c.id) and await contacts.get(c.id) is None

        events = SqlEventStore(db.sessions)
        batch = [new_event("call.created", f"c{i}", {"i": i}, 1.0).with_seq(i) for i in range(1, 6)]
        await events.append(batch)
        await events.append(batch[-2:])  # a repeat is ignored (idempotent by seq)
        assert [e.seq for e in await events.since(2, 10)] == [3, 4, 5]
        assert await events.seq_of(batch[2].id) == 3 and await events.last_seq() == 5

        outbox = SqlOutbox(db.sessions)
        await outbox.add_subscription(WebhookSubscription("s1", "http://x", "secret", ("call.*",), True, 1.0))
        items = [
            OutboxItem(0, "s1", e.id, e.seq, e.subject if e.seq != 2 else "c1", b"{}", 1.0, 1.0)
            for e in batch
        ]
        await outbox.enqueue(items)
        due = await outbox.due(2.0, 10)
        assert [i.seq for i in due] == [1, 3, 4, 5]  # c1's second event waits for its first
        await outbox.update(_dead(due[0]))
        assert [i.seq for i in await outbox.dead(10)] == [1] and await outbox.backlog() == 4
        assert await outbox.revive(None, 3.0) == 1 and await outbox.max_seq() == 5

        tokens = SqlTokenStore(db.sessions)
        token, record = new_token(Role.AGENT, "1001", "t", 1.0)
        await tokens.add(record)
        assert (await tokens.get(record.id)) == record and token.startswith("cti_")
        assert await tokens.revoke(record.id) and (await tokens.get(record.id)).revoked  # type: ignore[union-attr]
    finally:
        await asyncio.shield(db.close())


def _dead(item: OutboxItem) -> OutboxItem:
    from dataclasses import replace

    return replace(item, status=Status.DEAD)
