"""Standby component (right after the store): the daemon runs only while it holds the database's lease; a
second daemon on the same database waits here, before any other component starts (``store/standby.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ctiserver.logs import get_logger
from ctiserver.store.database import Database
from ctiserver.store.lease import Holder, LeaseTable
from ctiserver.store.standby import STOOD_DOWN, Standby, StandbyConfig

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)

LEASE = "daemon"


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.section("standby", StandbyConfig)
    db = ctx.maybe(Database)
    if not cfg.enabled or db is None:
        yield
        return
    standby = Standby(LeaseTable(db.sessions, LEASE), ctx.clock, cfg)
    ctx.provide(standby)
    if not db.migrated:  # the database is away: run without the lease; ``keep`` takes it when it answers
        log.warning("database away at start: running without the database's lease")
    else:
        await standby.acquire(ctx.stopping)  # StandbyAborted: stopped while waiting

    def stand_down(_holder: Holder) -> None:
        ctx.exit_code = STOOD_DOWN
        ctx.stopping.set()

    ctx.spawn(standby.keep(stand_down), name="cti:standby-lease")
    try:
        yield
    finally:
        await standby.release()
