"""Store component: migrates the schema (every branch), provides ``Database``, drains the spool in the
background."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ctiserver.logs import get_logger
from ctiserver.store.database import Database

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    db = Database(ctx.config.database, ctx.clock, region=ctx.config.default_region)
    await db.try_migrate()  # an unreachable DB at start must not stop the daemon: facts are spooled
    ctx.provide(db)
    ctx.spawn(db.maintain(), name="cti:store-spool")
    cfg = ctx.config.database
    if cfg.personal_data_days is not None:
        from ctiserver.store.privacy import anonymise_loop

        loop = anonymise_loop(db.sessions, ctx.clock, cfg.personal_data_days, cfg.personal_data_check_seconds)
        ctx.spawn(loop, name="cti:store-privacy")
    try:
        yield
    finally:
        if db.migrated:
            await db.writer.drain()
        await db.close()
