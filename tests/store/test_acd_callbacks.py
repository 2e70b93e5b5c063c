"""The call-backs the ACD owes, in SQLite and PostgreSQL through the real migrations (``acd_0002``,
``acd_0003``): kept with their attempts and when they may be dialled again (written again, one row), read back
oldest request first, dropped once made."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from ctiserver.acd.persist import PendingCallback
from ctiserver.acd.sql import SqlAgentStore
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory


async def test_call_backs_owed_are_kept_updated_read_in_order_and_dropped(db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url)
    engine = make_engine(db_url)
    try:
        store = SqlAgentStore(session_factory(engine))
        later = PendingCallback("cb-2", "sales", "+380441234567", 200.0, "Олена", {"ivr_path": ["menu", "1"]})
        first = PendingCallback("c2d-1", "support", "+48221234567", 100.0, "Łukasz", priority=5, only_agent="1001")
        await store.save_callback(later)
        await store.save_callback(first)
        again = replace(later, attempts=1, retry_at=1234.5)  # its customer failed once: written again
        await store.save_callback(again)
        assert await store.load_callbacks() == [first, again]
        await store.drop_callback("c2d-1")
        await store.drop_callback("nothing-owed")
        assert [c.call_id for c in await store.load_callbacks()] == ["cb-2"]
    finally:
        await engine.dispose()
