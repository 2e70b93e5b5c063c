"""Idempotent writes: ``upsert(session, Model, rows, keys=...)`` inserts rows or, when the key exists, updates
the other columns — ``INSERT ... ON CONFLICT (keys) DO UPDATE`` on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ctiserver.store.base import Base


def _table(model: type[Base] | Table) -> Table:
    table = model if isinstance(model, Table) else model.__table__
    assert isinstance(table, Table)
    return table


async def upsert(
    session: AsyncSession,
    model: type[Base] | Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
) -> None:
    """Insert ``rows``; on a key conflict update ``update`` columns (default: every non-key column given).
    ``keys`` defaults to the primary key. ``update=()`` means insert-if-absent (DO NOTHING)."""
    if not rows:
        return
    table = _table(model)
    key_cols = list(keys) if keys is not None else [c.name for c in table.primary_key.columns]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    mod: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(table).values(list(rows))
    cols = list(update) if update is not None else [c for c in rows[0] if c not in key_cols]
    if cols:
        stmt = stmt.on_conflict_do_update(index_elements=key_cols, set_={c: stmt.excluded[c] for c in cols})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key_cols)
    await session.execute(stmt)
