"""``KnownTokens``: the database's answer when it comes in time, the last one when it does not, ``503`` for a
token never seen then; a revocation counts at once. (Over the wire, with a SQLite file locked by another
process: ``tests/dialer/test_lease_fence.py``.)"""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.api.auth import InMemoryTokenStore, Role, TokenRecord, new_token
from ctiserver.api.errors import ApiError
from ctiserver.api.known_tokens import KnownTokens


class _Store(InMemoryTokenStore):
    """An in-memory store that can be made to hang (``gate`` cleared) or to fail (``down``)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.down = False
        self.asked = 0

    async def get(self, token_id: str) -> TokenRecord | None:
        self.asked += 1
        await self.gate.wait()
        if self.down:
            raise ConnectionRefusedError("database down")
        return await super().get(token_id)


async def _two() -> tuple[_Store, KnownTokens, TokenRecord, TokenRecord]:
    store = _Store()
    _, seen = new_token(Role.SUPERVISOR, None, "wallboard", 0.0)
    _, unseen = new_token(Role.ADMIN, None, "admin", 0.0)
    await store.add(seen)
    await store.add(unseen)
    return store, KnownTokens(store, wait=0.05), seen, unseen


async def test_a_store_that_hangs_answers_from_the_last_record_and_refreshes_it_later() -> None:
    store, known, seen, unseen = await _two()
    assert await known.get(seen.id) == seen
    store.gate.clear()
    assert await known.get(seen.id) == seen  # answered from memory after 0.05 s
    assert await known.get(seen.id) == seen
    assert store.asked == 2  # the hanging look-up is not repeated while it runs
    with pytest.raises(ApiError) as refused:
        await known.get(unseen.id)
    assert (refused.value.status, refused.value.code) == (503, "unavailable")
    assert known.stale_answers == 2
    await store.revoke(seen.id)  # revoked by another daemon while this one could not read
    store.gate.set()
    await asyncio.sleep(0)  # the hanging look-up returns and refreshes the record
    assert (await known.get(seen.id)).revoked  # type: ignore[union-attr]


async def test_a_store_that_fails_answers_from_the_last_record() -> None:
    store, known, seen, unseen = await _two()
    assert await known.get(seen.id) == seen
    assert await known.get("nobody") is None
    store.down = True
    assert await known.get(seen.id) == seen
    for token_id in ("nobody", unseen.id):  # made-up ids are not remembered: they wait for the database too
        with pytest.raises(ApiError):
            await known.get(token_id)


async def test_a_revocation_counts_at_once_and_is_never_forgotten() -> None:
    store, known, seen, _ = await _two()
    assert await known.get(seen.id) == seen
    assert await known.revoke(seen.id)
    store.down = True  # revoked here, then the database went: the token is not let in from its older record
    with pytest.raises(ApiError):
        await known.get(seen.id)
    store.down = False
    assert (await known.get(seen.id)).revoked  # type: ignore[union-attr]
