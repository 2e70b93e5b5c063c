"""Recording component: ``RecordingService`` (SQL metadata when the store runs) for the ACD and the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from ctiserver.control import CallControl
from ctiserver.events import Bus
from ctiserver.logs import get_logger
from ctiserver.recording.config import RecordingConfig
from ctiserver.recording.meta import MemoryRecordingStore, RecordingStore
from ctiserver.recording.service import RecordingService

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)


def recording_store(ctx: AppContext, stack: AsyncExitStack) -> RecordingStore:
    try:
        from ctiserver.store.database import Database
    except ImportError:  # pragma: no cover
        return MemoryRecordingStore()
    db = ctx.maybe(Database)
    if db is None:
        return MemoryRecordingStore()
    from ctiserver.recording.sql import SqlRecordingStore
    from ctiserver.store.engine import is_sqlite, make_engine, session_factory

    if not is_sqlite(db.url) or db.url.endswith(":memory:"):
        return SqlRecordingStore(db.sessions)
    readers = make_engine(db.url, pool_size=1, max_overflow=0)  # WAL: reads beside the writer connection
    stack.push_async_callback(readers.dispose)
    return SqlRecordingStore(db.sessions, session_factory(readers))


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.section("recording", RecordingConfig)
    control: CallControl | None = ctx.maybe(CallControl)  # type: ignore[type-abstract]
    bus: Bus | None = ctx.maybe(Bus)  # type: ignore[type-abstract]
    if control is None or bus is None:
        log.warning("recording disabled: no call control or bus")
        yield
        return
    async with AsyncExitStack() as stack:
        service = RecordingService(cfg, control, ctx.clock, bus, recording_store(ctx, stack))
        ctx.provide(service)
        try:
            from ctiserver.api.services import RecordingFiles

            ctx.provide(service, as_type=RecordingFiles)
        except ImportError:  # pragma: no cover - the API is optional
            pass
        yield
