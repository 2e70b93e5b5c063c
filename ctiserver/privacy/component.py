"""Privacy component: follows the erasures made outside this daemon (``follow.py``) and the calls of a person
erased while on the line (``on_the_line.py``, provided for the API's erasure); after the services whose memory
they clear (calls, ACD, recordings)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ctiserver.calls.service import CallService
from ctiserver.privacy.follow import follow_erasures
from ctiserver.privacy.memory import InMemory
from ctiserver.privacy.on_the_line import OnTheLine
from ctiserver.recording.service import RecordingService
from ctiserver.store.database import Database

if TYPE_CHECKING:
    from ctiserver.app import AppContext


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    db = ctx.maybe(Database)
    calls = ctx.maybe(CallService)
    on_the_line = None
    if db is not None and calls is not None:
        recordings = ctx.maybe(RecordingService)
        on_the_line = OnTheLine(calls, db.sessions, recordings.store if recordings is not None else None)
        ctx.provide(on_the_line)
    if db is not None:
        memory = InMemory.of(ctx.maybe)
        ctx.spawn(follow_erasures(db.sessions, ctx.clock, memory.forget), name="cti:privacy-follow")
    try:
        yield
    finally:
        if on_the_line is not None:
            await on_the_line.close()
