"""Storage: SQLAlchemy 2 async (SQLite/aiosqlite by default, PostgreSQL/asyncpg), Alembic, durable spool.

For other areas — what to use:

* ``ctiserver.store.base.Base`` — inherit your models from it (shared metadata with a naming convention).
* ``ctiserver.store.engine.make_engine(cfg_or_url)`` / ``session_factory(engine)`` — or simply
  ``ctx.require(Database)`` (``ctiserver.store.database.Database``: ``.engine``, ``.sessions``, ``.url``),
  provided by the store component, which runs before every other component.
* ``ctiserver.store.upsert.upsert(session, Model, rows, keys=..., update=...)`` — idempotent
  ``INSERT ... ON CONFLICT DO UPDATE`` (or DO NOTHING with ``update=()``) on both databases.
* Migrations: one Alembic environment, **one branch per area**. Put your revision files in
  ``ctiserver/<area>/migrations/`` (a plain folder); the first has ``down_revision = None`` and
  ``branch_labels = ("<area>",)`` (add ``depends_on = "core_0001"`` if you reference core tables). The
  store component and ``ctiserver db upgrade`` run ``upgrade heads``; ``ctiserver db heads`` lists them.
  Template: ``ctiserver/store/migrations/versions/core_0001_calls.py``.
* ``ctiserver.store.spool.Spool`` + ``ctiserver.store.writer.DurableWriter`` — when a fact must not be lost
  while the database is down: append-only JSON lines, fsynced off-loop, replayed in order.
* Tests: ``tests/servers/postgres.py`` starts a real PostgreSQL (fixture ``postgres_url``, session scoped);
  mark such tests ``@pytest.mark.postgres``.
"""
