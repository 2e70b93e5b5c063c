"""Group commit shared by the stores whose callers wait for their rows (agent states, recordings).

One writer task and one transaction for every store's pending rows, at most one transaction per ``spacing``
seconds. Before, each of these stores committed on its own as soon as its previous transaction ended: about
five transactions per call at 100 calls/s, each ~0.8 ms of CPU through SQLAlchemy and aiosqlite, whatever
the rows. Spaced 25 ms apart the transactions are capped at 40 a second under any load (a change waits 12 ms
on average for its commit then), and nothing is added when the daemon is quiet: the first write after a pause
goes at once, and so does every write of a caller writing one row at a time (the spacing applies only after a
transaction that carried several rows or during which more arrived).

A store is a ``Part``: it keeps its own pending rows, ``take()`` hands them over (None: nothing), ``write``
puts them into the shared transaction and ``settle`` tells the waiters how it ended. When the shared
transaction fails, every part is tried again in a transaction of its own, so one store's bad row fails only
its own callers.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sized
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SPACING = 0.025  # seconds between the starts of two transactions under load
# write-behind stores nobody waits on (the event log behind its spool, call facts, the CRM history) let this
# long a batch gather before their transaction: each of them then commits at most 10 times a second
LINGER = 0.1


class Part(Protocol):
    def take(self) -> Sized | None: ...

    async def write(self, session: AsyncSession, batch: Any) -> None: ...

    def settle(self, batch: Any, error: BaseException | None) -> None: ...


class GroupCommit:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], spacing: float = SPACING) -> None:
        self._sessions = sessions
        self.spacing = spacing
        self._dirty: dict[int, Part] = {}  # parts with rows pending, in the order they first asked
        self._task: asyncio.Task[None] | None = None
        self._last = -math.inf
        self._crowded = False  # the last transaction showed concurrent writers
        self.transactions = 0

    def wake(self, part: Part) -> None:
        """``part`` has rows pending: they go in the next transaction."""
        self._dirty.setdefault(id(part), part)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cti:group-commit")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._dirty:
            wait = self._last + self.spacing - loop.time()
            if wait > 0 and self._crowded:
                await asyncio.sleep(wait)  # rows recorded meanwhile join this transaction
            parts, self._dirty = list(self._dirty.values()), {}
            work = [(part, batch) for part in parts if (batch := part.take()) is not None]
            self._last = loop.time()
            if work:
                # several rows at once: others are writing too, space the next transaction; a caller that
                # writes one row at a time (an agent logging in after another) waits for nobody
                self._crowded = sum(len(batch) for _, batch in work) > 1
                await self._commit(work)
                self._crowded = self._crowded or bool(self._dirty)  # rows came in during the transaction

    async def _commit(self, work: list[tuple[Part, Any]]) -> None:
        try:
            await self._transaction(work)
        except Exception as exc:
            if len(work) == 1:
                work[0][0].settle(work[0][1], exc)
                return
            for part, batch in work:  # find whose rows failed: each part alone
                try:
                    await self._transaction([(part, batch)])
                except Exception as own:
                    part.settle(batch, own)
                else:
                    part.settle(batch, None)
            return
        for part, batch in work:
            part.settle(batch, None)

    async def _transaction(self, work: list[tuple[Part, Any]]) -> None:
        async with self._sessions() as s, s.begin():
            for part, batch in work:
                await part.write(s, batch)
        self.transactions += 1


def resolve(waiters: Iterable[asyncio.Future[None]], error: BaseException | None) -> None:
    """A part's ``settle``: tell each waiter still waiting how its rows' transaction ended."""
    for w in waiters:
        if w.done():
            continue
        if error is None:
            w.set_result(None)
        else:
            w.set_exception(error)
