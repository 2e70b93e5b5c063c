"""A durable local spool: an append-only JSON-lines file, written and fsynced off the event loop.

Used when the database is unreachable; ``DurableWriter`` replays it in order when the database returns. A torn
last line (the process died mid-write) is skipped on read: it was never acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from ctiserver.logs import get_logger

log = get_logger(__name__)


class Spool:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = asyncio.Lock()

    def pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    async def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        data = "".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n" for r in records)
        async with self._lock:
            await asyncio.to_thread(self._append_sync, data.encode("utf-8"))

    def _append_sync(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    async def read_all(self) -> tuple[list[dict[str, Any]], int]:
        """Every complete record, and the byte size they were read from (for ``truncate``)."""
        async with self._lock:
            return await asyncio.to_thread(self._read_sync)

    def _read_sync(self) -> tuple[list[dict[str, Any]], int]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return [], 0
        out: list[dict[str, Any]] = []
        lines = raw.split(b"\n")
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                if i == len(lines) - 1:
                    log.warning("spool: skipping a torn last line", extra={"spool": str(self.path)})
                else:
                    log.error(
                        "spool: skipping a corrupt line", extra={"spool": str(self.path), "line": i + 1}
                    )
        return out, len(raw)

    async def truncate(self, expected_size: int | None = None) -> None:
        """Empty the spool after a successful replay (only up to ``expected_size`` if new lines arrived)."""
        async with self._lock:
            await asyncio.to_thread(self._truncate_sync, expected_size)

    def _truncate_sync(self, expected_size: int | None) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if expected_size is not None and size > expected_size:
            with self.path.open("rb") as f:
                f.seek(expected_size)
                rest = f.read()
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(rest)
            os.replace(tmp, self.path)
        else:
            with self.path.open("r+b") as f:
                f.truncate(0)
                os.fsync(f.fileno())

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0
