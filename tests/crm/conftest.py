from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers.postgres import pg_database, postgres_server  # noqa: F401  (fixtures)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}"
    return str(request.getfixturevalue("pg_database"))
