"""``Database``: the engine, the session factory, the call repository and the durable writer, as one service
that the store component provides to later components (``ctx.require(Database)``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ctiserver.clock import Clock
from ctiserver.config import DatabaseConfig
from ctiserver.logs import get_logger
from ctiserver.store import migrate
from ctiserver.store.engine import database_url, is_sqlite, make_engine, session_factory
from ctiserver.store.group import GroupCommit
from ctiserver.store.repository import CallRepository
from ctiserver.store.spool import Spool
from ctiserver.store.sqlite_reads import SqliteReads
from ctiserver.store.writer import DurableWriter

log = get_logger(__name__)


class Database:
    def __init__(
        self, cfg: DatabaseConfig, clock: Clock | None = None, *, retry_interval: float = 2.0, region: str = "US"
    ) -> None:
        self.config = cfg
        self.url = database_url(cfg)
        self.engine: AsyncEngine = make_engine(cfg)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        # reads on the hot path (caller lookups, a recording's call) on connections of their own: with SQLite's
        # WAL they read while the single writer connection writes instead of queueing behind it; elsewhere the
        # engine's pool serves both
        self.reader_engine: AsyncEngine | None = None
        self.readers = self.sessions
        if is_sqlite(self.url) and not self.url.endswith(":memory:"):
            self.reader_engine = make_engine(self.url, pool_size=3, max_overflow=0)
            self.readers = session_factory(self.reader_engine)
        path = make_url(self.url).database if self.reader_engine is not None else None
        # the reads every call makes, in one thread hop on plain sqlite3 (see store/sqlite_reads.py)
        self.fast_reads = SqliteReads(path) if path and not path.startswith("file:") else None
        self.group = GroupCommit(self.sessions)  # one transaction for the waited-for rows of several stores
        self.calls = CallRepository(self.sessions, region)  # national caller numbers are read in it
        self.spool = Spool(Path(cfg.spool_dir) / "calls.jsonl")
        self.writer = DurableWriter(self.calls, self.spool, clock=clock, retry_interval=retry_interval)

    migrated = False

    async def migrate(self) -> None:
        """``upgrade heads`` (every area's branch), off the event loop."""
        await asyncio.to_thread(migrate.upgrade, self.url)
        self.migrated = True

    async def try_migrate(self) -> bool:
        try:
            await self.migrate()
        except Exception as exc:  # unreachable at start: facts are spooled, we try again later
            log.error("database migration failed; facts go to the spool", extra={"error": str(exc)[:300]})
            return False
        return True

    async def maintain(self) -> None:
        """Background task: migrate once the database is reachable, then keep the spool drained."""
        while True:
            if not self.migrated:
                await self.try_migrate()
            if self.migrated and self.spool.pending():
                await self.writer.drain()
            await self.writer.clock.sleep(self.writer.retry_interval)

    async def close(self) -> None:
        if self.fast_reads is not None:
            await asyncio.to_thread(self.fast_reads.close)
        await self.engine.dispose()
        if self.reader_engine is not None:
            await self.reader_engine.dispose()
