"""Recording component: ``RecordingService`` (SQL metadata when the store runs; ``MixMonitor`` over the AMI link for
channels outside Stasis) for the ACD, the dialler's AMI desk and the API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ctiserver.control import CallControl
from ctiserver.events import Bus
from ctiserver.logs import get_logger
from ctiserver.recording.config import RecordingConfig
from ctiserver.recording.meta import MemoryRecordingStore, RecordingStore
from ctiserver.recording.mixmonitor import MixMonitorRecorder
from ctiserver.recording.service import RecordingService

if TYPE_CHECKING:
    from ctiserver.app import AppContext

log = get_logger(__name__)


def recording_store(ctx: AppContext) -> RecordingStore:
    try:
        from ctiserver.store.database import Database
    except ImportError:  # pragma: no cover
        return MemoryRecordingStore()
    db = ctx.maybe(Database)
    if db is None:
        return MemoryRecordingStore()
    from ctiserver.recording.sql import SqlRecordingStore

    return SqlRecordingStore(db.sessions, db.readers, db.group, db.fast_reads)


def _mixmonitor(ctx: AppContext) -> MixMonitorRecorder | None:
    """Recordings of channels outside Stasis (app_queue calls, the AMI desk's) need the AMI link."""
    from ctiserver.pbx.ami.client import AmiClient

    ami = ctx.maybe(AmiClient)
    return MixMonitorRecorder(ami, ctx.clock) if ami is not None else None


@asynccontextmanager
async def component(ctx: AppContext) -> AsyncIterator[None]:
    cfg = ctx.config.section("recording", RecordingConfig)
    control: CallControl | None = ctx.maybe(CallControl)  # type: ignore[type-abstract]
    bus: Bus | None = ctx.maybe(Bus)  # type: ignore[type-abstract]
    if control is None or bus is None:
        log.warning("recording disabled: no call control or bus")
        yield
        return
    service = RecordingService(cfg, control, ctx.clock, bus, recording_store(ctx), _mixmonitor(ctx))
    ctx.provide(service)
    try:
        from ctiserver.api.services import RecordingFiles

        ctx.provide(service, as_type=RecordingFiles)
    except ImportError:  # pragma: no cover - the API is optional
        pass
    recovery = asyncio.create_task(_recover(service, ctx), name="cti:recording-recover")
    try:
        yield
    finally:
        recovery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await recovery
        await service.close()


async def _recover(service: RecordingService, ctx: AppContext) -> None:
    """Recordings an earlier run left running (``RecordingService.recover``), in the background: the links may
    not be up yet."""
    from ctiserver.control import StasisPresence

    presence = ctx.maybe(StasisPresence)
    try:
        await service.recover(presence.connected if presence is not None else None)
    except Exception as exc:  # a store or PBX failure: the rows stay as they are until the next start
        log.warning("recordings left by an earlier run not taken over", error=str(exc))
