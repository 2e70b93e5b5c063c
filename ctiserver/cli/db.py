"""``ctiserver db upgrade|heads|current``: schema migrations (every area's Alembic branch)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ctiserver.config import ConfigError, load_config


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("db", help="database migrations")
    p.add_argument(
        "action", choices=("upgrade", "heads", "current"), help="upgrade to every branch head, ..."
    )
    p.add_argument("--config", "-c", help="ctiserver.yaml (database.url)")
    p.add_argument("--db", help="database URL (overrides the configuration)")
    p.set_defaults(func=_run)


def database_url(args: argparse.Namespace) -> str:
    if getattr(args, "db", None):
        return str(args.db)
    return load_config(args.config).database.url.get_secret_value()


def _run(args: argparse.Namespace) -> int:
    from ctiserver.store import migrate

    try:
        url = database_url(args)
    except ConfigError as exc:
        print(f"ctiserver db: {exc}", file=sys.stderr)
        return 2
    try:
        if args.action == "upgrade":
            migrate.upgrade(url)
            print("at heads: " + " ".join(migrate.current(url)))
        elif args.action == "heads":
            print("\n".join(migrate.heads(url)))
        else:
            print("\n".join(migrate.current(url)) or "(empty database)")
    except Exception as exc:  # a clear one-line error, not a traceback
        print(
            f"ctiserver db {args.action}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
            file=sys.stderr,
        )
        return 1
    return 0
