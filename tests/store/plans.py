"""SQLite's query plans for what a piece of code runs: the statements it sends, each explained (``EXPLAIN QUERY
PLAN``), for the tests that a store's queries search an index instead of scanning or sorting a table."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


async def query_plans(engine: AsyncEngine, work: Awaitable[Any], selects_only: bool = True) -> list[str]:
    """Run ``work``; one plan per statement it sent (only the SELECTs unless ``selects_only`` is off), each plan's
    steps joined by " | "."""
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not selects_only or statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    try:
        await work
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)
    plans = []
    async with engine.connect() as conn:
        for statement, params in seen:
            rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            plans.append(" | ".join(str(r[-1]) for r in rows.all()))
    return plans
