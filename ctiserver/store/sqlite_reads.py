"""Hot reads on SQLite in one thread hop.

Through SQLAlchemy's async session on aiosqlite a read is several hops between the event loop and aiosqlite's
thread plus ORM row building: ~0.7–1 ms of CPU for a one-row ``SELECT`` (``bench/screen_pop.py``; a
``to_thread`` plain ``sqlite3`` query costs ~0.1 ms). Here a read is a function of a plain ``sqlite3``
connection, run on a read-only connection of a small worker pool (one per worker thread). SQLite's WAL lets
these connections read while the daemon's writer connection writes. Used for the reads every call makes
(the caller lookup, a recording's number); PostgreSQL keeps the SQLAlchemy path.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class SqliteReads:
    def __init__(self, path: str, workers: int = 2) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="cti-sqlite-read")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    async def run(self, read: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, read)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()

    def _run(self, read: Callable[[sqlite3.Connection], T]) -> T:
        return read(self._conn())

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=5.0)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn
