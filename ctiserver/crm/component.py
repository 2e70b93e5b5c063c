"""CRM component: contact store (SQL when the database is there), optional HTTP CRM adapter, the lookup
service (started at call arrival) and the screen-pop. Provides ``CrmService``, ``ScreenPop``,
``ContactStore`` and the IVR's ``ContactLookup``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from ctiserver.crm.http_adapter import HttpCrmAdapter
from ctiserver.crm.screenpop import ScreenPop
from ctiserver.crm.service import CrmConfig, CrmService
from ctiserver.crm.store import ContactStore, MemoryContactStore
from ctiserver.events.bus import Bus

if TYPE_CHECKING:
    from ctiserver.app import AppContext


def _store(ctx: AppContext) -> ContactStore:
    from ctiserver.store.database import Database

    db = ctx.maybe(Database)
    if db is None:
        return MemoryContactStore()
    from ctiserver.crm.sql import SqlContactStore
    from ctiserver.crm.sqlite_lookup import SqliteLookup
    if db.reader_engine is None:  # not a SQLite file
        return SqlContactStore(db.sessions)
    fast = SqliteLookup(db.fast_reads) if db.fast_reads is not None else None
    return SqlContactStore(db.sessions, db.readers, fast)


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.section("crm", CrmConfig)
    bus = ctx.require(Bus)  # type: ignore[type-abstract]
    async with AsyncExitStack() as stack:
        store = _store(ctx)
        http = None
        if cfg.http is not None:
            http = await stack.enter_async_context(HttpCrmAdapter(cfg.http, ctx.clock))
        crm = CrmService(store, bus, ctx.clock, cfg, ctx.config.default_region, http)
        pop = ScreenPop(crm, bus)
        ctx.provide(crm)
        ctx.provide(pop)
        ctx.provide(store, as_type=ContactStore)
        try:
            from ctiserver.crm.ivr_port import IvrContactLookup
            from ctiserver.ivr.ports import ContactLookup

            ctx.provide(IvrContactLookup(crm), as_type=ContactLookup)
        except ImportError:  # pragma: no cover - ivr is part of the package
            pass
        _fast_path(ctx, pop, bus)
        ctx.spawn(crm.run(), name="cti:crm")
        ctx.spawn(pop.run(), name="cti:screen-pop")
        yield


def _fast_path(ctx: AppContext, pop: ScreenPop, bus: Bus) -> None:
    """With an ARI client and an in-process-style bus, pop on the PBX's ringing event (``ring_hook.py``)."""
    try:
        from ctiserver.pbx.ari.client import AriClient
    except ImportError:  # pragma: no cover - the pbx area is part of the package
        return
    client = ctx.maybe(AriClient)
    listeners = getattr(bus, "listeners", None)
    if client is None or not isinstance(listeners, list):
        return
    from ctiserver.crm.ring_hook import RingHook

    hook = RingHook(pop)
    listeners.append(hook.on_bus)
    client.on_raw(hook.on_ari)
    ctx.provide(hook)
