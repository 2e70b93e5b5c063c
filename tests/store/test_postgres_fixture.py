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
