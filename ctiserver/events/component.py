"""Events component: the bus (in-process, or Redis Streams when ``bus.kind: redis``), the durable event log
and the webhook dispatcher. Provides ``Bus`` (as ``ctiserver.events.Bus``), ``EventLog`` and
``WebhookDispatcher``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ctiserver.events.bus import Bus, InMemoryBus
from ctiserver.events.log import EventLog, EventStore, MemoryEventStore
from ctiserver.events.outbox import MemoryOutbox, OutboxStore
from ctiserver.events.spool import EventSpool
from ctiserver.events.webhooks import WebhookConfig, WebhookDispatcher
from ctiserver.logs import get_logger

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)


class EventsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ring_size: int = Field(50_000, ge=100)
    # the key encrypting webhook secrets at rest (else CTISERVER_SECRET_KEY(_FILE) or <data_dir>/secret.key)
    secret_key: SecretStr | None = None
    # write-ahead spool of the event log (<database.spool_dir>/events.jsonl), fsync'd every spool_sync s
    spool: bool = True
    spool_sync: float = Field(0.05, gt=0, le=5)
    webhooks: WebhookConfig = WebhookConfig()
    # how long the event log (replay from a cursor) and the finished webhook deliveries are kept; None: for ever
    retention_days: float | None = Field(14.0, gt=0)
    retention_check_seconds: float = Field(3600.0, gt=0)


def retention_days(events_days: float | None, personal_data_days: float | None) -> float | None:
    """How long the log keeps events: ``events.retention_days``, but never longer than the call history keeps
    personal data (``database.personal_data_days``) — events and webhook bodies carry callers' numbers and pops."""
    kept = [d for d in (events_days, personal_data_days) if d is not None]
    return min(kept) if kept else None


def _stores(ctx: AppContext, cfg: EventsConfig) -> tuple[EventStore, OutboxStore]:
    try:
        from ctiserver.store.database import Database
    except ImportError:  # pragma: no cover - the store area is part of the package
        return MemoryEventStore(), MemoryOutbox()
    db = ctx.maybe(Database)
    if db is None:
        log.warning("no database: the event log and the webhook outbox are in memory only")
        return MemoryEventStore(), MemoryOutbox()
    from ctiserver.events.secret_box import SecretBox, load_or_create_key
    from ctiserver.events.sql import SqlEventStore, SqlOutbox

    configured = cfg.secret_key.get_secret_value() if cfg.secret_key is not None else None
    box = SecretBox(load_or_create_key(ctx.config.data_dir, configured))
    return SqlEventStore(db.sessions), SqlOutbox(db.sessions, box)


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.section("events", EventsConfig)
    event_store, outbox = _stores(ctx, cfg)
    encrypt = getattr(outbox, "encrypt_clear_secrets", None)
    if encrypt is not None:
        try:
            if n := await encrypt():
                log.warning("webhook secrets stored in clear text were encrypted", n=n)
        except Exception as exc:  # the database may be down at start; the next start tries again
            log.error("webhook secrets: could not check for clear-text rows", error=type(exc).__name__)
    spool = None
    if cfg.spool and not isinstance(event_store, MemoryEventStore):
        spool = EventSpool(Path(ctx.config.database.spool_dir) / "events.jsonl", cfg.spool_sync)
    event_log = EventLog(event_store, ring_size=cfg.ring_size, spool=spool)
    await event_log.load_last_seq()
    dispatcher = WebhookDispatcher(outbox, ctx.clock, cfg.webhooks)
    await dispatcher.load()
    recovered = await dispatcher.recover(event_log)
    if recovered:
        log.warning("webhook outbox: re-enqueued events logged but not in the outbox", n=recovered)
    async with AsyncExitStack() as stack:
        bus: InMemoryBus
        if ctx.config.bus.kind == "redis":
            from ctiserver.events.redis_bus import RedisStreamBus

            rbus = RedisStreamBus(ctx.config.bus.redis_url.get_secret_value(), ctx.config.bus.stream)
            await stack.enter_async_context(rbus)
            ctx.spawn(rbus.run(), name="cti:redis-bus")
            bus = rbus
        else:
            bus = InMemoryBus(start_seq=event_log.last_seq)
        bus.listeners.append(event_log.listener)
        bus.listeners.append(dispatcher.listener)
        ctx.provide(bus, as_type=Bus)
        ctx.provide(bus)
        ctx.provide(event_log)
        ctx.provide(dispatcher)
        ctx.spawn(event_log.run(), name="cti:event-log")
        if spool is not None:
            ctx.spawn(spool.run(), name="cti:event-spool")
        ctx.spawn(dispatcher.run(), name="cti:webhooks")
        days = retention_days(cfg.retention_days, ctx.config.database.personal_data_days)
        if days is not None:
            from ctiserver.events.retention import purge_loop

            every = cfg.retention_check_seconds
            ctx.spawn(purge_loop(event_log, outbox, ctx.clock, days, every), name="cti:event-purge")
        try:
            yield
        finally:
            await event_log.close()
            if spool is not None:
                spool.close()
