"""Schema migrations: one Alembic environment, one *branch per area*.

The core branch (``core``) lives in ``ctiserver/store/migrations/versions``. Another area adds its own branch
in ``ctiserver/<area>/migrations/`` (a folder of revision files, no ``__init__`` needed) whose first revision
has ``down_revision = None`` and ``branch_labels = ("<area>",)`` (and ``depends_on = "core_0001"`` if it
references core tables). ``upgrade(url)`` runs ``alembic upgrade heads`` over every branch, so engineers never
fight over one linear chain. Alembic is synchronous: call ``upgrade`` from a thread (``asyncio.to_thread``)
inside the event loop — the component does.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # ctiserver/
STORE_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def version_locations() -> list[Path]:
    locs = [STORE_MIGRATIONS / "versions"]
    for area in sorted(PACKAGE_ROOT.iterdir()):
        candidate = area / "migrations"
        if area.name != "store" and candidate.is_dir() and any(candidate.glob("*.py")):
            locs.append(candidate)
    return locs


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(STORE_MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in version_locations()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, target: str = "heads") -> None:
    command.upgrade(alembic_config(url), target)


def downgrade(url: str, target: str) -> None:
    command.downgrade(alembic_config(url), target)


def heads(url: str = "sqlite://") -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def current(url: str) -> list[str]:
    """Revisions applied in the database (one per branch)."""
    import asyncio

    from sqlalchemy import text

    from ctiserver.store.engine import make_engine

    async def _read() -> list[str]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                has = await conn.run_sync(lambda c: c.dialect.has_table(c, "alembic_version"))
                if not has:
                    return []
                rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
                return sorted(str(r[0]) for r in rows)
        finally:
            await engine.dispose()

    return asyncio.run(_read())
