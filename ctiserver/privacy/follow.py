"""A running daemon hears of the erasures made elsewhere — ``ctiserver privacy erase`` on this host or another,
another daemon's ``POST /api/privacy/erase`` — through their ``privacy_erasures`` rows, and forgets what it
holds in memory of the person (``memory.py``). Before, such an erasure cleared the database only, and a running
daemon still called the person back (its ACD's call-backs live in memory) until it restarted.

The rows are read every ``every`` s: those written since the daemon started (a minute earlier, for a clock
apart on another host; forgetting twice is harmless), then those after the last one read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.clock import Clock
from ctiserver.logs import get_logger
from ctiserver.privacy.erase import Forget
from ctiserver.privacy.tables import ErasureRow

log = get_logger(__name__)

EVERY = 5.0
SKEW = 60.0  # s: an erasure stamped by a host whose clock is this far behind is still heard at start


async def follow_erasures(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    forget: Callable[[Forget], Awaitable[Any]],
    every: float = EVERY,
) -> None:
    since, last = clock.now() - SKEW, 0
    while True:
        try:
            async with sessions() as session:
                query = select(ErasureRow).where(ErasureRow.at >= since, ErasureRow.id > last).order_by(ErasureRow.id)
                rows = (await session.scalars(query)).all()
            for row in rows:
                await forget(Forget(tuple(row.calls), tuple(row.callbacks)))
                last = row.id
                log.info("erasure heard", calls=len(row.calls), acd_callbacks=len(row.callbacks))
        except Exception as exc:  # the database may be down; the next round reads on from the last row
            log.warning("erasures not read", error=str(exc)[:200])
        await clock.sleep(every)
