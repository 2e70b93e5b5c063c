from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from ctiserver.store import migrate
from ctiserver.store.engine import make_engine

OTHER_BRANCH = """
revision = "demo_0001"
down_revision = None
branch_labels = ("demo",)
depends_on = "core_0001"

from alembic import op
import sqlalchemy as sa


def upgrade():
    op.create_table("demo_things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("demo_things")
"""


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_heads_is_idempotent(db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url)
    await asyncio.to_thread(migrate.upgrade, db_url)
    assert {"calls", "call_legs", "queue_segments", "leases", "alembic_version"} <= await _tables(db_url)
    current = await asyncio.to_thread(migrate.current, db_url)
    assert "core_0007" in current  # the head of the core branch
    assert sorted(current) == sorted(migrate.heads())  # every area's branch is at its head


async def test_each_area_has_its_own_branch(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    area = tmp_path / "demo_migrations"
    area.mkdir()
    (area / "demo_0001_things.py").write_text(OTHER_BRANCH)
    base = migrate.version_locations
    monkeypatch.setattr(migrate, "version_locations", lambda: [*base(), area])
    assert {"core_0007", "demo_0001"} <= set(migrate.heads())
    await asyncio.to_thread(migrate.upgrade, db_url)
    assert {"calls", "demo_things"} <= await _tables(db_url)
    current = await asyncio.to_thread(migrate.current, db_url)
    assert {"demo_0001", "core_0007"} <= set(current)
    await asyncio.to_thread(migrate.downgrade, db_url, "demo@base")
    tables = await _tables(db_url)
    assert "demo_things" not in tables and "calls" in tables
    current = await asyncio.to_thread(migrate.current, db_url)
    assert "core_0007" in current and "demo_0001" not in current


async def test_core_upgrade_from_the_first_revision_keeps_data(db_url: str) -> None:
    from sqlalchemy import text

    await asyncio.to_thread(migrate.upgrade, db_url, "core@core_0001")
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO calls (call_id, state, started, caller_num, caller_name, hold_seconds,"
                    " wrapup_seconds, blocked, data, ivr_path, transfers)"
                    " VALUES ('c1', 'ended', 1.0, '', '', 0, 0, false, '{}', '[]', '[]')"
                )
            )
        await asyncio.to_thread(migrate.upgrade, db_url)
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT call_id, talk_seconds, caller_key FROM calls"))).one()
        assert (row[0], row[1], row[2]) == ("c1", 0, None)  # NULL: the reports read its number as before
    finally:
        await engine.dispose()
