"""``upsert``: cached statements run as executemany, rows that give different columns, updates and
insert-if-absent, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory
from ctiserver.store.models import CallRow
from ctiserver.store.upsert import upsert


def _call(call_id: str, **extra: object) -> dict[str, object]:
    return {"call_id": call_id, "state": "active", "started": 100.0, "caller_num": "+48221234567", **extra}


async def test_rows_with_different_columns_insert_then_update(db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url)
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as s:
            # two column sets in one call (each gets its own statement), and the same key twice
            await upsert(s, CallRow, [_call("a"), _call("b", ended=160.0), _call("a", caller_num="+380441234567")])
        async with sessions.begin() as s:
            await upsert(s, CallRow, [_call("b", caller_num="+48600000000")], update=())  # exists: untouched
            await upsert(s, CallRow, [_call("c", ended=170.0)])
        async with sessions() as s:
            rows = {r.call_id: r for r in await s.scalars(select(CallRow))}
        assert sorted(rows) == ["a", "b", "c"]
        assert rows["a"].caller_num == "+380441234567" and rows["a"].ended is None
        assert rows["b"].caller_num == "+48221234567" and rows["b"].ended == 160.0
        assert rows["c"].ended == 170.0
    finally:
        await engine.dispose()
