"""Caller lookups on SQLite in one thread hop.

A lookup is three reads (the contact by phone, its phones, its last interactions). Through SQLAlchemy's async
session on aiosqlite each read is several hops between the event loop and aiosqlite's thread, plus ORM row
building; at 100 new calls/s the readers could not keep up, and the screen-pop waited ``pop_wait`` for its
lookup (bench/screen_pop.py). Here the three reads run as plain ``sqlite3`` queries on a read-only connection
of a small worker pool: one hop per lookup, the event loop only builds the result. SQLite's WAL lets these
connections read while the daemon's writer connection writes. PostgreSQL keeps the SQLAlchemy path.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

from ctiserver.crm.model import Contact, Interaction

_CONTACT = (
    "SELECT c.id, c.name, c.company, c.email, c.tags, c.vip, c.language, c.notes FROM crm_contacts c "
    "JOIN crm_contact_phones p ON p.contact_id = c.id WHERE p.e164 = ? ORDER BY c.id LIMIT 1"
)
_PHONES = "SELECT e164 FROM crm_contact_phones WHERE contact_id = ? ORDER BY e164"
_HISTORY = (
    "SELECT call_id, started_at, direction, number, queue, agent, outcome, disposition, notes, recording, "
    "duration FROM crm_interactions WHERE number IN ({marks}) ORDER BY started_at DESC LIMIT ?"
)

Found = tuple[Contact | None, list[Interaction]]


class SqliteLookup:
    def __init__(self, path: str, workers: int = 2) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="cti-crm-lookup")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    async def find_with_history(self, e164: str, limit: int) -> Found:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._find, e164, limit)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=5.0)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _find(self, e164: str, limit: int) -> Found:
        conn = self._conn()
        row = conn.execute(_CONTACT, (e164,)).fetchone()
        contact = None
        phones = [e164]
        if row is not None:
            phones = [p for (p,) in conn.execute(_PHONES, (row[0],))]
            contact = Contact(
                id=str(row[0]),
                name=row[1],
                company=row[2],
                phones=tuple(phones),
                email=row[3],
                tags=tuple(json.loads(row[4]) if row[4] else ()),
                vip=bool(row[5]),
                language=row[6],
                notes=row[7],
            )
        if limit <= 0:
            return contact, []
        query = _HISTORY.format(marks=",".join("?" * len(phones)))
        history = [
            Interaction(
                call_id=r[0],
                started_at=r[1],
                direction=r[2],
                number=r[3],
                queue=r[4],
                agent=r[5],
                outcome=r[6],
                disposition=r[7],
                notes=r[8],
                recording=r[9],
                duration=r[10],
            )
            for r in conn.execute(query, (*phones, limit))
        ]
        return contact, history
