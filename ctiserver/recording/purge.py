"""Retention: delete recordings older than their queue's retention (files first, then mark the rows)."""

from __future__ import annotations

from dataclasses import dataclass

from ctiserver.logs import get_logger
from ctiserver.recording.config import RecordingConfig
from ctiserver.recording.files import remove_file
from ctiserver.recording.meta import RecordingStore, RecState

log = get_logger(__name__)

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class PurgeReport:
    removed: tuple[str, ...]
    missing: tuple[str, ...]  # rows whose file was already gone
    kept_live: tuple[str, ...]  # old rows still recording (never touched)


async def purge(
    store: RecordingStore, config: RecordingConfig, now: float, *, dry_run: bool = False
) -> PurgeReport:
    removed: list[str] = []
    missing: list[str] = []
    live: list[str] = []
    for queue in await store.queues():
        cutoff = now - config.retention(queue) * DAY
        for meta in await store.older_than(cutoff, queue):
            if meta.state in (RecState.RECORDING, RecState.PAUSED):
                live.append(meta.name)
                continue
            if dry_run:
                removed.append(meta.name)
                continue
            existed = await remove_file(meta.path)
            (removed if existed else missing).append(meta.name)
            await store.save(meta.with_(state=RecState.PURGED))
            log.info("recording purged", recording=meta.name, queue=queue, file_existed=existed)
    return PurgeReport(tuple(removed), tuple(missing), tuple(live))
