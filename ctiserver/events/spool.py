"""The event log's write-ahead spool: an append-only JSON-lines file that holds every event from the moment it
is published until the database has it.

The event log's bus listener appends each event here *before* any consumer (WebSocket, webhook outbox) sees it:
one ``write(2)`` of one line into the page cache, so a killed daemon (SIGKILL, OOM, crash) loses nothing it has
handed out. ``fsync`` runs off the event loop in batches (every ``sync_interval``), so an OS crash or power cut
loses at most that window. On start, the events still in the spool that the database does not have are written
to it (``EventLog.recover``), then the spool is emptied; it is emptied as well whenever the writer has caught up.
A torn last line (killed mid-write) was never handed out and is skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import orjson

from ctiserver.events.envelope import DomainEvent
from ctiserver.logs import get_logger

log = get_logger(__name__)


class EventSpool:
    def __init__(self, path: str | os.PathLike[str], sync_interval: float = 0.05) -> None:
        self.path = Path(path)
        self.sync_interval = sync_interval
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._dirty = False
        self.size = os.fstat(self._fd).st_size
        self.synced = 0

    def append(self, event: DomainEvent) -> None:
        data = orjson.dumps(event.to_json()) + b"\n"  # compact UTF-8, as json.dumps(ensure_ascii=False), 5-10x faster
        os.write(self._fd, data)  # one small write to the page cache: survives the process, not the OS
        self.size += len(data)
        self._dirty = True

    def read(self) -> list[DomainEvent]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        out: list[DomainEvent] = []
        lines = raw.split(b"\n")
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                out.append(DomainEvent.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                level = log.warning if i == len(lines) - 1 else log.error
                level("event spool: skipping an unreadable line", line=i + 1)
        return out

    def reset(self) -> None:
        """Empty the spool (everything in it is in the database)."""
        if self.size:
            os.ftruncate(self._fd, 0)
            self.size = 0

    async def sync_once(self) -> None:
        if self._dirty and self._fd >= 0:
            self._dirty = False
            try:
                await asyncio.to_thread(os.fsync, self._fd)
            except OSError:
                if self._fd >= 0:
                    raise
                return  # closed meanwhile (shutdown): close() synced it
            self.synced += 1

    async def run(self) -> None:
        """Background task: fsync what was appended, in batches."""
        while True:
            await asyncio.sleep(self.sync_interval)
            await self.sync_once()

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.fsync(fd)
            os.close(fd)
