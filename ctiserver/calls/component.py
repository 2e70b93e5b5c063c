"""Calls component: AMI events → ``Tracker`` → bus + store. Provides ``CallService`` and ``Tracker``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ctiserver.calls.service import CallService
from ctiserver.calls.tracker import Tracker
from ctiserver.events.bus import Bus
from ctiserver.logs import get_logger
from ctiserver.pbx.ami_grants import need

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)


def _ami_client(ctx: AppContext) -> Any:
    try:
        from ctiserver.pbx.ami.client import AmiClient
    except ImportError:  # pragma: no cover
        return None
    client = ctx.maybe(AmiClient)
    if client is None:
        try:
            from ctiserver.pbx.node import PbxNode  # type: ignore[import-not-found,unused-ignore]

            node = ctx.maybe(PbxNode)
            client = getattr(node, "ami", None)
        except ImportError:
            client = None
    return client


def bus_of(ctx: AppContext) -> Any:
    """The bus if the events component provided one (``Bus`` is a Protocol: look it up by key)."""
    try:
        return ctx.maybe(Bus)
    except TypeError:  # Protocol not runtime-checkable and nothing registered under Bus
        return None


def _database(ctx: AppContext) -> Any:
    from ctiserver.store.database import Database

    return ctx.maybe(Database)


async def load_checkpoints(tracker: Tracker, db: Any, limit: float = 10.0) -> None:
    """The calls an earlier run left in progress (``calls/checkpoints.py``), once the spool it may have left is
    in the database. Without the database (down at start) they stay there: the next start reads them."""
    if db is None or not db.migrated:
        return
    try:
        async with asyncio.timeout(limit):
            await db.writer.drained.wait()
            rows = await db.calls.live_calls()
    except Exception as exc:
        log.warning("calls left in progress by the last run not read", error=str(exc)[:200])
        return
    tracker.checkpoints.load(rows)
    if rows:
        log.info("calls left in progress by the last run", calls=len(rows))


def wire(service: CallService, ami: Any) -> None:
    """Subscribe the service to every AMI event and resync after every login."""
    ami.on_event("*", service.on_ami_event)

    async def _resync() -> None:
        await service.resync(ami)

    ami.on_reconnect(_resync)


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    tracker = Tracker(ctx.clock)
    db = _database(ctx)
    service = CallService(tracker, bus_of(ctx), db.writer if db is not None else None)
    await load_checkpoints(tracker, db)
    ami = _ami_client(ctx)
    if ami is not None:
        wire(service, ami)
        need(ctx, ("CoreShowChannels",), "the calls still up after an AMI reconnect")
        connected = getattr(ami, "connected", None)
        if connected is not None and connected.is_set():  # logged in before we subscribed: resync now
            ctx.spawn(service.resync(ami), name="cti:calls-resync")
    else:
        log.warning("no AMI client: the call tracker only records facts reported by the engine")
    bus = bus_of(ctx)
    sub = bus.subscribe("queue.entered", "queue.left", "agent.state") if bus is not None else None
    if sub is not None:
        ctx.spawn(service.engine_events_loop(sub), name="cti:calls-acd-queues")
    ctx.provide(service)
    ctx.provide(tracker)
    ctx.spawn(service.publish_loop(), name="cti:calls-publish")
    ctx.spawn(service.persist_loop(), name="cti:calls-persist")
    ctx.spawn(service.release_loop(), name="cti:calls-cel-hold")
    if db is not None:
        interval = ctx.config.database.checkpoint_seconds
        ctx.spawn(service.checkpoint_loop(interval), name="cti:calls-checkpoint")
    days = ctx.config.database.personal_data_days
    if days is not None:
        ctx.spawn(_forget_loop(tracker, ctx, days), name="cti:calls-forget")
    try:
        yield
    finally:
        if sub is not None:
            sub.close()
        service.release_held()
        if db is not None:
            service.checkpoint(every=True)  # the calls going on without us: the next run takes them back
        try:
            await service.flush(limit=10)
        except TimeoutError:
            log.warning("calls: facts still queued at shutdown")


async def _forget_loop(tracker: Tracker, ctx: AppContext, days: float) -> None:
    """The recent finished calls the API serves from memory go when their stored personal data does."""
    while True:
        tracker.forget_finished(ctx.clock.now() - days * 86_400.0)
        await ctx.clock.sleep(ctx.config.database.personal_data_check_seconds)
