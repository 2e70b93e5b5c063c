"""How long the event log and the webhook outbox keep what they have done with: ``events.retention_days``.

Every published event is logged (``event_log``) for clients to resume from a cursor, and each webhook delivery
is a row of the outbox. Both grew for ever: a centre taking 20,000 calls a day logs some 400,000 events a day.
Once an hour the events older than the retention are deleted, oldest first, in batches of ``BATCH`` (short
transactions on a live table), found by a binary search on the sequence numbers (no index on the time), and the
delivered and dead deliveries of those events with them; the newest event and the newest delivery are always
kept (the sequence goes on from them after a restart; ``WebhookDispatcher.recover`` starts after the newest
delivery). The log's ``first_seq`` moves before each batch: a client whose cursor is older gets an explicit
error (``ReplayExpired``: the WebSocket's ``cursor_expired``, 410 from ``GET /api/events``) instead of a silent
gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.clock import Clock
from ctiserver.events.log import EventLog
from ctiserver.events.outbox import OutboxStore
from ctiserver.logs import get_logger

log = get_logger(__name__)

BATCH = 10_000
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Purged:
    events: int
    deliveries: int
    first_seq: int


async def purge(events: EventLog, outbox: OutboxStore, before: float, batch: int = BATCH) -> Purged:
    """Delete the events logged before ``before`` and their finished deliveries."""
    cut = min(await events.store.seq_before(before), events.written_seq - 1)
    deleted = 0
    upto = events.first_seq - 1
    while upto < cut:
        upto = min(cut, upto + batch)
        events.first_seq = upto + 1  # before the rows go: a replay of them fails instead of coming back short
        deleted += await events.store.delete_upto(upto)
    deliveries = await outbox.delete_finished_upto(cut) if cut > 0 else 0
    return Purged(deleted, deliveries, events.first_seq)


async def purge_loop(events: EventLog, outbox: OutboxStore, clock: Clock, days: float, every: float) -> None:
    while True:
        try:
            done = await purge(events, outbox, clock.now() - days * DAY)
            if done.events or done.deliveries:
                log.info(
                    "event log: purged",
                    events=done.events,
                    deliveries=done.deliveries,
                    first_seq=done.first_seq,
                    retention_days=days,
                )
        except Exception as exc:  # the database may be down; the next round tries again
            log.warning("event log: purge failed", error=str(exc)[:200])
        await clock.sleep(every)
