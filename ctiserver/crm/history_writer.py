"""Write-behind for the interaction history (one row per call, updated as the call moves on).

The CRM used to read and write the row for every call event: at 100 calls/s that is ~1,000 transactions a
second competing with the engine's own writes. Here updates are merged in memory (per call, "non-empty wins",
as the store does) and written by one task, every call's pending update in one transaction; while a
transaction runs the next one fills up. ``flush()`` waits until everything recorded so far is written (used
before reading back, e.g. a disposition). A failed write is retried; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib

from ctiserver.clock import Clock
from ctiserver.crm.model import Interaction
from ctiserver.crm.store import ContactStore, merge
from ctiserver.logs import get_logger
from ctiserver.store.group import LINGER

log = get_logger(__name__)


class InteractionWriter:
    def __init__(self, store: ContactStore, clock: Clock, retry_interval: float = 1.0) -> None:
        self.store = store
        self.clock = clock
        self.retry_interval = retry_interval
        self.known: dict[str, Interaction] = {}  # calls this daemon wrote: no read-back needed
        self._pending: dict[str, Interaction] = {}
        self._forget: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.transactions = 0

    async def interaction(self, call_id: str) -> Interaction | None:
        known = self.known.get(call_id)
        return known if known is not None else await self.store.interaction(call_id)

    def record(self, interaction: Interaction, *, last: bool = False) -> None:
        """Queue an update; ``last``: the call is over, forget it once written."""
        cid = interaction.call_id
        self.known[cid] = merge(self.known.get(cid), interaction)
        self._pending[cid] = merge(self._pending.get(cid), interaction)
        if last:
            self._forget.add(cid)
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cti:crm-history")

    async def _run(self) -> None:
        while self._pending:
            # nobody waits for these rows: let a tick's worth of updates gather, one transaction for all
            await asyncio.sleep(LINGER)
            batch, self._pending = self._pending, {}
            try:
                await self._write(list(batch.values()))
            except Exception:
                log.exception("interaction history write failed; retrying")
                for cid, item in batch.items():  # put back, older first, newer updates merged on top
                    newer = self._pending.get(cid)
                    self._pending[cid] = merge(item, newer) if newer is not None else item
                await self.clock.sleep(self.retry_interval)
                continue
            self.transactions += 1
            for cid in batch:
                if cid in self._forget and cid not in self._pending:
                    self._forget.discard(cid)
                    self.known.pop(cid, None)
        self._idle.set()

    async def _write(self, items: list[Interaction]) -> None:
        many = getattr(self.store, "record_many", None)
        if many is not None:
            await many(items)
        else:
            for item in items:
                await self.store.record(item)

    async def flush(self, limit: float = 10.0) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await self._idle.wait()
