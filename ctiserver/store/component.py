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
    db = Database(ctx.config.database, ctx.clock)
    try:
        await db.migrate()
    except Exception as exc:  # an unreachable DB at start must not stop the daemon: facts are spooled
        log.error("database migration failed; continuing with the spool", extra={"error": str(exc)[:300]})
    ctx.provide(db)
    ctx.spawn(db.writer.run(), name="cti:store-spool")
    try:
        yield
    finally:
        await db.writer.drain()
        await db.close()
