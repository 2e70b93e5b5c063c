"""Nothing lost: facts go to the database, or — when it is unreachable — to the local spool, replayed in order
when it returns. While the spool holds anything, new facts are appended behind it (order is kept); the
repository's writes are idempotent, so a fact replayed twice (crash between commit and truncate) is harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError, OperationalError

from ctiserver.clock import Clock, SystemClock
from ctiserver.logs import get_logger
from ctiserver.store.spool import Spool

log = get_logger(__name__)

# what "the database is unreachable" looks like from asyncpg/aiosqlite through SQLAlchemy
UNREACHABLE: tuple[type[BaseException], ...] = (OperationalError, DBAPIError, OSError, TimeoutError)


class FactSink(Protocol):
    async def apply(self, facts: Sequence[dict[str, Any]]) -> None: ...


class DurableWriter:
    def __init__(
        self,
        sink: FactSink,
        spool: Spool,
        *,
        clock: Clock | None = None,
        retry_interval: float = 2.0,
        write_timeout: float = 10.0,
        batch: int = 500,
    ) -> None:
        self.sink = sink
        self.spool = spool
        self.clock = clock or SystemClock()
        self.retry_interval = retry_interval
        self.write_timeout = write_timeout
        self.batch = batch
        self._lock = asyncio.Lock()
        self.written = 0
        self.spooled = 0
        self.replayed = 0
        self.last_error: str | None = None
        self.drained = asyncio.Event()
        if not spool.pending():
            self.drained.set()

    async def write(self, facts: Sequence[dict[str, Any]]) -> bool:
        """Store ``facts``; returns True if they reached the database now, False if they were spooled."""
        if not facts:
            return True
        async with self._lock:
            if self.spool.pending():
                await self._to_spool(facts)
                return False
            try:
                await self._apply(facts)
            except UNREACHABLE as exc:
                self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                log.warning("database unreachable, spooling", extra={"error": self.last_error})
                await self._to_spool(facts)
                return False
            self.written += len(facts)
            return True

    async def _apply(self, facts: Sequence[dict[str, Any]]) -> None:
        async with asyncio.timeout(self.write_timeout):
            await self.sink.apply(facts)

    async def _to_spool(self, facts: Sequence[dict[str, Any]]) -> None:
        self.drained.clear()
        await self.spool.append(list(facts))
        self.spooled += len(facts)

    async def drain(self) -> bool:
        """Replay the spool into the database, in order. True when the spool is empty afterwards."""
        async with self._lock:
            if not self.spool.pending():
                self.drained.set()
                return True
            records, size = await self.spool.read_all()
            try:
                for i in range(0, len(records), self.batch):
                    await self._apply(records[i : i + self.batch])
            except UNREACHABLE as exc:
                self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                return False
            await self.spool.truncate(size)
            self.replayed += len(records)
            log.info("spool replayed", extra={"facts": len(records)})
            if not self.spool.pending():
                self.drained.set()
                return True
            return False

    async def run(self) -> None:
        """Background task: keep trying to drain the spool."""
        while True:
            if self.spool.pending():
                await self.drain()
            await self.clock.sleep(self.retry_interval)
