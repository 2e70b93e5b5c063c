"""Privacy component: follows the erasures made outside this daemon (``follow.py``); after the services whose
memory they clear (calls, ACD)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ctiserver.privacy.follow import follow_erasures
from ctiserver.privacy.memory import InMemory
from ctiserver.store.database import Database

if TYPE_CHECKING:
    from ctiserver.app import AppContext


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    db = ctx.maybe(Database)
    if db is not None:
        memory = InMemory.of(ctx.maybe)
        ctx.spawn(follow_erasures(db.sessions, ctx.clock, memory.forget), name="cti:privacy-follow")
    yield
