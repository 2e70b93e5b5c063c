"""Idempotent writes: ``upsert(session, Model, rows, keys=...)`` inserts rows or, when the key exists, updates
the other columns — ``INSERT ... ON CONFLICT (keys) DO UPDATE`` on both SQLite and PostgreSQL.

The statement is built once per (dialect, table, columns, keys, update) and run as an executemany with the rows
as parameters: building ``insert(...).values(rows)`` per call made SQLAlchemy compile a new statement (with a new
``excluded`` alias) for every batch, which was the daemon's largest CPU cost under call load."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
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
    ``keys`` defaults to the primary key. ``update=()`` means insert-if-absent (DO NOTHING). Rows may differ in
    the columns they give: each set of columns gets its own (cached) statement."""
    if not rows:
        return
    table = _table(model)
    key_cols = tuple(keys) if keys is not None else tuple(c.name for c in table.primary_key.columns)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for columns, params in groups.items():
        cols = tuple(update) if update is not None else tuple(c for c in columns if c not in key_cols)
        await session.execute(_statement(dialect, table, key_cols, cols), params)


@lru_cache(maxsize=256)
def _statement(dialect: str, table: Table, key_cols: tuple[str, ...], cols: tuple[str, ...]) -> Any:
    mod: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(table)
    if cols:
        return stmt.on_conflict_do_update(index_elements=list(key_cols), set_={c: stmt.excluded[c] for c in cols})
    return stmt.on_conflict_do_nothing(index_elements=list(key_cols))
