"""A ``SqlDialerStore`` on a freshly migrated database (for the store tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory


@asynccontextmanager
async def migrated_store(url: str) -> AsyncIterator[SqlDialerStore]:
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    try:
        yield SqlDialerStore(session_factory(engine))
    finally:
        await engine.dispose()
