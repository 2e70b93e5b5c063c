"""KPI component: live KPIs fed from the bus (``queue.entered``, ``queue.left``, ``call.ended``, a late wrap-up's
``call.updated``, ``agent.state``). Provides
``LiveKpis`` for the API/web layer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ctiserver.kpi.config import KpiConfig
from ctiserver.kpi.live import LiveKpis
from ctiserver.logs import get_logger
from ctiserver.tasks import cancel_and_wait

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)

TOPICS = ("queue.entered", "queue.left", "call.ended", "call.updated", "agent.state")


async def consume(live: LiveKpis, sub: Any, skip: frozenset[str] = frozenset()) -> None:
    """``skip``: calls already counted from the database (``kpi/warm.py``): their events are not counted again."""
    while True:
        event = await sub.get()
        if event.subject in skip:
            continue
        try:
            live.on_event(event)
        except Exception:
            log.exception("live KPIs: bad event", extra={"type": event.type})


async def warm(ctx: AppContext, live: LiveKpis, subscribed: float, limit: float = 30.0) -> frozenset[str]:
    """Today's stored queue stays and the agents' state changes up to ``subscribed`` (the live feed has the
    later ones) into the live windows; the ids of the calls read."""
    from ctiserver.kpi.warm import stored_changes, stored_facts
    from ctiserver.store.database import Database

    db = ctx.maybe(Database)
    if db is None or not db.migrated:
        return frozenset()
    since = min(live.day_start(), subscribed - 3600.0)  # the 60-min window may reach into yesterday
    try:
        async with asyncio.timeout(limit):
            facts, calls = await stored_facts(db.readers, live.day_start())
            changes = await stored_changes(db.readers, since, subscribed)
    except Exception as exc:
        log.warning("live KPIs start from zero: today's calls not read", error=str(exc)[:200])
        return frozenset()
    live.warm(facts, changes)
    log.info("live KPIs: today's calls counted", calls=len(calls), agent_changes=len(changes))
    return frozenset(calls)


def configured_queues(ctx: AppContext) -> list[str]:
    """Every queue the wallboard must list even when idle: the ACD's queues and those with KPI settings."""
    from ctiserver.acd.config import AcdConfig

    names = set(ctx.config.section("kpi", KpiConfig).queues)
    acd = ctx.config.section("acd", AcdConfig)
    if acd.enabled:
        names.update(q.name for q in acd.queues)
    return sorted(names)


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    from ctiserver.calls.component import bus_of

    cfg = ctx.config.section("kpi", KpiConfig)
    live = LiveKpis(
        ctx.clock, cfg.policy, utc_offset_seconds=cfg.utc_offset_minutes * 60, queues=configured_queues(ctx)
    )
    bus = bus_of(ctx)
    sub = bus.subscribe(*TOPICS) if bus is not None else None
    subscribed = ctx.clock.now()
    task: asyncio.Task[None] | None = None
    if sub is not None:  # subscribed first: a call that ends while today's are read is counted once
        task = ctx.spawn(consume(live, sub, await warm(ctx, live, subscribed)), name="cti:kpi-live")
    else:
        log.warning("no bus: live KPIs are not fed")
    ctx.provide(live)
    try:
        yield
    finally:
        try:
            await cancel_and_wait(task)
        finally:
            if sub is not None:
                sub.close()
