from __future__ import annotations

import pytest

from tests.servers.postgres import PostgresServer

pytestmark = pytest.mark.postgres


def test_server_runs_and_gives_fresh_databases(postgres_server: PostgresServer) -> None:
    assert postgres_server.psql("SELECT 1").stdout.strip() == "1"
    a, b = postgres_server.create_database(), postgres_server.create_database()
    assert a != b
    listed = postgres_server.psql("SELECT datname FROM pg_database").stdout.split()
    assert a in listed and b in listed


async def test_the_daemons_connections_run_without_jit(pg_database: str) -> None:
    """The server's default is on (PostgreSQL 15); the daemon's engine turns it off for its own sessions."""
    from sqlalchemy import text

    from ctiserver.store.engine import make_engine

    engine = make_engine(pg_database)
    try:
        async with engine.connect() as conn:
            ours = (await conn.execute(text("SHOW jit"))).scalar_one()
    finally:
        await engine.dispose()
    assert ours == "off"
