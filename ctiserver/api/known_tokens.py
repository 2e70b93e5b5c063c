"""The token store as the API reads it: the database's answer when it gives one in time, else the last answer.

Every request's token is looked up in the database (a revocation counts at once). While the database does not
answer — PostgreSQL down, a SQLite file locked by another process (its busy timeout is 30 s) — each request
would wait for it and then fail, ``/metrics`` and ``/health`` included, the two an operator needs most then.
So a look-up that takes longer than ``wait`` seconds, or fails, is answered from the last record the database
gave for that token (a token revoked meanwhile by another daemon stays usable until the database answers
again); a token never seen gets ``503``. The slow look-up is not cancelled (cancelling a query half-way leaves
its connection in doubt): it runs on, one per token at a time, and its answer refreshes the record.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from functools import partial

from ctiserver.api.auth import TokenRecord, TokenStore
from ctiserver.api.errors import ApiError
from ctiserver.logs import get_logger

log = get_logger(__name__)

KEEP = 10_000  # records remembered (least recently used dropped first)


class KnownTokens:
    """A ``TokenStore`` that remembers what ``inner`` said of each token it was asked about."""

    def __init__(self, inner: TokenStore, wait: float = 1.0) -> None:
        self.inner = inner
        self.wait = wait
        self._known: OrderedDict[str, TokenRecord] = OrderedDict()  # not the unknown ids: a spray of made-up
        # tokens would push the real ones out
        self._asking: dict[str, asyncio.Task[TokenRecord | None]] = {}
        self.stale_answers = 0  # requests answered from memory while the store did not answer

    async def get(self, token_id: str) -> TokenRecord | None:
        task = self._asking.get(token_id)
        if task is None:
            task = asyncio.ensure_future(self.inner.get(token_id))
            self._asking[token_id] = task
            task.add_done_callback(partial(self._answered, token_id))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.wait)
        except Exception as exc:  # whatever the store raised, or no answer within ``wait``
            if token_id not in self._known:
                raise ApiError(503, "unavailable", "the token store does not answer; retry later") from exc
            self.stale_answers += 1
            if self.stale_answers == 1 or self.stale_answers % 1000 == 0:
                log.warning("token store not answering: tokens checked against their last record", error=repr(exc))
            return self._known[token_id]

    def _answered(self, token_id: str, task: asyncio.Task[TokenRecord | None]) -> None:
        self._asking.pop(token_id, None)
        if task.cancelled() or task.exception() is not None:
            return  # retrieved; the waiting request answered from memory (or 503)
        record = task.result()
        if record is None:
            self._known.pop(token_id, None)
        else:
            self._remember(token_id, record)

    def _remember(self, token_id: str, record: TokenRecord) -> None:
        self._known[token_id] = record
        self._known.move_to_end(token_id)
        while len(self._known) > KEEP:
            self._known.popitem(last=False)

    async def add(self, record: TokenRecord) -> None:
        await self.inner.add(record)

    async def revoke(self, token_id: str) -> bool:
        done = await self.inner.revoke(token_id)
        if done:
            self._known.pop(token_id, None)  # never answered from memory again: the next request asks the store
        return done

    async def list(self) -> list[TokenRecord]:
        return await self.inner.list()
