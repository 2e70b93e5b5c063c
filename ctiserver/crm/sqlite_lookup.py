"""Caller lookups on SQLite in one thread hop (``ctiserver.store.sqlite_reads``).

A lookup is three reads (the contact by phone, its phones, its last interactions). Through SQLAlchemy's async
session on aiosqlite each read is several hops plus ORM row building; at 100 new calls/s the readers could not
keep up, and the screen-pop waited ``pop_wait`` for its lookup (bench/screen_pop.py). Here the three reads run
as plain ``sqlite3`` queries in one hop; the event loop only builds the result.
"""

from __future__ import annotations

import json
import sqlite3
from functools import partial

from ctiserver.crm.model import Contact, Interaction
from ctiserver.store.sqlite_reads import SqliteReads

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
    def __init__(self, reads: SqliteReads) -> None:
        self.reads = reads

    async def find_with_history(self, e164: str, limit: int) -> Found:
        return await self.reads.run(partial(_find, e164, limit))


def _find(e164: str, limit: int, conn: sqlite3.Connection) -> Found:
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
