"""Engine and session factory from ``DatabaseConfig`` (SQLite/aiosqlite by default, PostgreSQL/asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ctiserver.config import DatabaseConfig


def database_url(cfg: DatabaseConfig | str) -> str:
    return cfg if isinstance(cfg, str) else cfg.url.get_secret_value()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_path(url: str) -> None:
    db = make_url(url).database
    if db and db != ":memory:" and not db.startswith("file:"):
        Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(cfg: DatabaseConfig | str, *, echo: bool | None = None, **kwargs: Any) -> AsyncEngine:
    """An ``AsyncEngine``. SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL a pre-ping pool.
    JSON columns go through orjson: every event, call and agent-state row has one, and the standard library's
    encoder was a visible share of the daemon's CPU under load."""
    url = database_url(cfg)
    kwargs.setdefault("json_serializer", _json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    echo_flag = echo if echo is not None else (cfg.echo if isinstance(cfg, DatabaseConfig) else False)
    if is_sqlite(url):
        _prepare_sqlite_path(url)
        db = make_url(url).database
        if db and db != ":memory:" and "poolclass" not in kwargs:
            # SQLite has one writer at a time; several pooled connections only fight over its lock (the
            # busy handler sleeps up to 100 ms a try, a long wait makes a writer time out while holding a
            # half-done transaction). One connection: every session waits its turn in the pool's FIFO queue.
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 120)
        engine = create_async_engine(url, echo=echo_flag, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    if make_url(url).drivername == "postgresql+asyncpg" and "connect_args" not in kwargs:
        # no JIT: every query here is short or returns rows, none runs long enough to repay compiling it; the
        # planner's cost for the reports' correlated subqueries (FCR) crosses jit_above_cost and compiling took
        # ~0.4 s of a 100k-call day's summary (bench/kpi_report.py: 3.3 s with it off, 3.8 s on; the day's
        # interval rows 135 vs 147 ms, the 10-day range 768 vs 746 ms, best of 3)
        kwargs["connect_args"] = {"server_settings": {"jit": "off"}}
    return create_async_engine(url, echo=echo_flag, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
