"""A ``SqlDialerStore`` on a freshly migrated database (for the store tests)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.dialer.store import DialerStore, MemoryDialerStore
from tests.store.migrated import migrated


@asynccontextmanager
async def migrated_store(url: str) -> AsyncIterator[SqlDialerStore]:
    async with migrated(url) as sessions:
        yield SqlDialerStore(sessions)


@asynccontextmanager
async def memory_or_sqlite(kind: str, tmp_path: Path) -> AsyncIterator[DialerStore]:
    """``kind`` "memory": a ``MemoryDialerStore``; "sqlite": a ``SqlDialerStore`` on a file in ``tmp_path``."""
    if kind == "memory":
        yield MemoryDialerStore()
        return
    async with migrated_store(f"sqlite+aiosqlite:///{tmp_path / 'dialer.sqlite'}") as sql:
        yield sql


def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """``request.param``: "sqlite" (a file in ``tmp_path``) or "postgres": a fresh database collating as people
    read (ICU en-US: "a-2 a1 A1 b B é f"), not by code point — what the stores' code-point order must not follow."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'dialer.sqlite'}"
    server = request.getfixturevalue("postgres_server")
    name = "t_icu_" + uuid.uuid4().hex[:12]
    server.psql(
        f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
    )
    return str(server.url(name))
