"""The event log and the webhook outbox keep ``events.retention_days`` (``events/retention.py``), on SQLite and
PostgreSQL: the events older than the cut and their finished deliveries go, in batches; the newer ones, the
pending deliveries, the newest event and the newest delivery stay; a replay from a cursor before the oldest
event kept fails (``ReplayExpired``) instead of coming back with a gap; after a restart the log knows where it
begins and the webhook recovery re-enqueues nothing that was delivered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ctiserver.clock import ManualClock
from ctiserver.events.envelope import DomainEvent
from ctiserver.events.log import EventLog, ReplayExpired
from ctiserver.events.outbox import OutboxItem, Status, WebhookSubscription
from ctiserver.events.retention import purge
from ctiserver.events.secret_box import SecretBox
from ctiserver.events.sql import SqlEventStore, SqlOutbox
from ctiserver.events.webhooks import WebhookConfig, WebhookDispatcher
from tests.store.migrated import migrated

T0 = 1_800_000_000.0
DAY = 86_400.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[SqlEventStore, SqlOutbox]]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'e.sqlite'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = str(server.url(server.create_database()))
    async with migrated(url) as sessions:
        yield SqlEventStore(sessions), SqlOutbox(sessions, SecretBox(Fernet.generate_key()))


def _events(n: int) -> list[DomainEvent]:
    """``n`` events, one an hour from T0 (seq 1..n)."""
    return [
        DomainEvent(type="call.ended", subject=f"c{i}", data={"i": i}, time=T0 + i * 3600.0, id=f"e{i}", seq=i)
        for i in range(1, n + 1)
    ]


async def test_purge_keeps_the_retention_and_the_newest(stores: tuple[SqlEventStore, SqlOutbox]) -> None:
    store, outbox = stores
    events = _events(100)  # 100 hours
    await store.append(events)
    sub = WebhookSubscription("s1", "http://127.0.0.1:9/hook", "secret", ("call.ended",), True, T0)
    await outbox.add_subscription(sub)
    status = {5: Status.DELIVERED, 6: Status.DEAD, 7: Status.PENDING, 60: Status.DELIVERED, 100: Status.DELIVERED}
    await outbox.enqueue([OutboxItem(0, "s1", f"e{s}", s, f"c{s}", b"{}", T0, T0) for s in status])
    for item in await outbox.due(T0 + 1e9, 100):
        if status[item.seq] is not Status.PENDING:
            await outbox.update(replace(item, status=status[item.seq]))
    log = EventLog(store)
    await log.load_last_seq()
    assert (log.first_seq, log.last_seq) == (1, 100)
    done = await purge(log, outbox, before=T0 + 50.5 * 3600.0, batch=7)  # events 1..50 are older
    assert (done.events, done.first_seq) == (50, 51)
    assert done.deliveries == 2  # 5 delivered, 6 dead; 7 still pending stays, 60 and 100 are newer
    assert [e.seq for e in await log.replay(50, 3)] == [51, 52, 53]
    with pytest.raises(ReplayExpired) as expired:
        await log.replay(10)
    assert expired.value.first_seq == 51
    left = {i.seq for i in await outbox.due(T0 + 1e9, 100)}
    assert left == {7}  # the pending delivery of a purged event is still delivered
    assert await outbox.max_seq() == 100
    # a restart: the log begins where the purge left it, the webhook recovery re-enqueues nothing delivered
    again = EventLog(store)
    await again.load_last_seq()
    assert (again.first_seq, again.last_seq) == (51, 100)
    dispatcher = WebhookDispatcher(outbox, ManualClock(start=T0 + 101 * 3600.0), WebhookConfig())
    await dispatcher.load()
    assert await dispatcher.recover(again) == 0
    # everything older than the newest event: all but it go; the newest delivery stays
    done = await purge(again, outbox, before=T0 + 1e9)
    assert (done.events, done.first_seq) == (49, 100) and [e.seq for e in await again.replay(99)] == [100]
    assert await outbox.max_seq() == 100


async def test_seq_before_is_a_search_not_a_scan(stores: tuple[SqlEventStore, SqlOutbox]) -> None:
    store, _ = stores
    assert await store.seq_before(T0) == 0  # empty
    await store.append(_events(1000))
    assert await store.seq_before(T0) == 0
    assert await store.seq_before(T0 + 3600.0) == 0
    assert await store.seq_before(T0 + 3600.5) == 1
    assert await store.seq_before(T0 + 500 * 3600.0) == 499
    assert await store.seq_before(T0 + 1e9) == 1000
    await store.delete_upto(300)  # after a purge the search starts at the oldest kept
    assert await store.seq_before(T0 + 200 * 3600.0) == 0
    assert await store.seq_before(T0 + 400.5 * 3600.0) == 400
    assert (await store.first_seq(), await store.last_seq()) == (301, 1000)


async def test_webhook_recovery_starts_where_the_log_begins() -> None:
    """The newest delivery is older than the oldest event kept (webhook traffic stopped weeks ago): the
    recovery after a restart starts at the log's first event instead of failing on the purged ones."""
    from ctiserver.events.log import MemoryEventStore
    from ctiserver.events.outbox import MemoryOutbox

    store, outbox = MemoryEventStore(), MemoryOutbox()
    await store.append(_events(100))
    sub = WebhookSubscription("s1", "http://127.0.0.1:9/hook", "secret", ("call.started",), True, T0)
    await outbox.add_subscription(sub)
    await outbox.enqueue([OutboxItem(0, "s1", "e5", 5, "c5", b"{}", T0, T0, status=Status.DELIVERED)])
    log = EventLog(store)
    await log.load_last_seq()
    await purge(log, outbox, before=T0 + 50.5 * 3600.0)
    restarted = EventLog(store)
    await restarted.load_last_seq()
    dispatcher = WebhookDispatcher(outbox, ManualClock(start=T0 + 101 * 3600.0), WebhookConfig())
    await dispatcher.load()
    assert await dispatcher.recover(restarted) == 0  # nothing it wants (call.started) among the events kept


def test_the_log_keeps_personal_data_no_longer_than_the_call_history() -> None:
    from ctiserver.events.component import retention_days

    assert retention_days(14.0, None) == 14.0
    assert retention_days(14.0, 7.0) == 7.0  # events carry callers' numbers: gone with the calls' ones
    assert retention_days(None, 30.0) == 30.0
    assert retention_days(None, None) is None
