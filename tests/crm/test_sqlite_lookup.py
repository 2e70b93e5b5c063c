"""The SQLite caller lookup (plain sqlite3 in a worker thread) gives what the SQLAlchemy path gives."""

from __future__ import annotations

from pathlib import Path

from ctiserver.config import DatabaseConfig
from ctiserver.crm.model import Interaction
from ctiserver.crm.sql import SqlContactStore
from ctiserver.crm.sqlite_lookup import SqliteLookup
from ctiserver.crm.store import ContactIn
from ctiserver.store.database import Database


async def test_fast_lookup_matches_the_orm_path(tmp_path: Path) -> None:
    path = tmp_path / "cti.sqlite"
    db = Database(DatabaseConfig.model_validate({"url": f"sqlite+aiosqlite:///{path}", "spool_dir": str(tmp_path)}))
    await db.migrate()
    assert db.fast_reads is not None  # a SQLite file: the daemon reads the hot rows through plain sqlite3
    fast = SqliteLookup(db.fast_reads)
    try:
        slow = SqlContactStore(db.sessions)
        quick = SqlContactStore(db.sessions, fast=fast)
        olga = await slow.create(
            ContactIn(name="Ольга Петренко", company="Acme", tags=["vip", "uk"], vip=True, language="uk"),
            ["+380441234567", "+48221234567"],
        )
        calls = [
            Interaction(call_id=f"c{i}", started_at=100.0 + i, number=n, queue="support", outcome="answered")
            for i, n in enumerate(["+380441234567", "+48221234567", "+48600000000", "+380441234567"])
        ]
        await slow.record_many(calls)
        for number, limit in (("+48221234567", 10), ("+380441234567", 2), ("+48600000000", 5), ("+1555", 3)):
            expected = await slow.find_with_history(number, limit)
            got = await quick.find_with_history(number, limit)
            assert got == expected
        contact, history = await quick.find_with_history("+48221234567", 10)
        assert contact == olga and contact.name == "Ольга Петренко" and contact.tags == ("vip", "uk")
        assert [i.call_id for i in history] == ["c3", "c1", "c0"]  # both phones, newest first
        assert (await quick.find_with_history("+48600000000", 5)) == (None, [calls[2]])
        assert (await quick.find_with_history("+48221234567", 0))[1] == []
    finally:
        await db.close()
