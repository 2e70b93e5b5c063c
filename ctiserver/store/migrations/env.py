"""Alembic environment: runs migrations on the async engine (aiosqlite or asyncpg) through ``run_sync``.

The URL comes from the Alembic config's ``sqlalchemy.url`` (set by ``ctiserver.store.migrate``). Every
area keeps its own branch (``branch_labels``; ``down_revision = None``); ``upgrade heads`` applies them all.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from ctiserver.store.base import Base
from ctiserver.store.engine import make_engine

config = context.config
target_metadata = Base.metadata


def _do_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_do_run)
            await conn.commit()
    finally:
        await engine.dispose()


def _offline(url: str) -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> Any:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic: sqlalchemy.url is not set")
    if context.is_offline_mode():
        return _offline(url)
    return asyncio.run(_run_async(url))


_main()
