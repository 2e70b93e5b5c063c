"""``ctiserver token create --role agent --agent 1001`` / ``token list`` / ``token revoke ID``.

The token is printed once; only its SHA-256 hash is stored (table ``api_tokens``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from ctiserver.api.auth import Role, new_token
from ctiserver.config import ConfigError, load_config


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("token", help="API tokens (create/list/revoke)")
    p.add_argument("--config", "-c", help="ctiserver.yaml")
    tsub = p.add_subparsers(dest="token_cmd", metavar="ACTION", required=True)
    c = tsub.add_parser("create", help="create a token and print it (once)")
    c.add_argument("--role", required=True, choices=[r.value for r in Role])
    c.add_argument("--agent", help="the agent id (required for --role agent)")
    c.add_argument("--name", default="", help="a label (who/what uses it)")
    tsub.add_parser("list", help="list tokens (never their secrets)")
    r = tsub.add_parser("revoke", help="revoke a token by id")
    r.add_argument("token_id")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"ctiserver: {exc}", file=sys.stderr)
        return 2
    role = Role(args.role) if getattr(args, "role", None) else None
    if args.token_cmd == "create" and role is Role.AGENT and not args.agent:
        print("ctiserver token: --role agent needs --agent ID", file=sys.stderr)
        return 2
    return asyncio.run(_run(config, args, role))


async def _run(config: Any, args: argparse.Namespace, role: Role | None) -> int:
    import time

    from ctiserver.api.token_store import SqlTokenStore
    from ctiserver.store.database import Database

    db = Database(config.database)
    try:
        await db.migrate()
        store = SqlTokenStore(db.sessions)
        if args.token_cmd == "create":
            assert role is not None
            token, record = new_token(role, args.agent, args.name, time.time())
            await store.add(record)
            print(token)
            print(f"id={record.id} role={record.role.value} agent={record.agent or '-'}", file=sys.stderr)
        elif args.token_cmd == "list":
            for rec in await store.list():
                state = "revoked" if rec.revoked else "active"
                print(f"{rec.id}\t{rec.role.value}\t{rec.agent or '-'}\t{state}\t{rec.name}")
        elif args.token_cmd == "revoke":
            if not await store.revoke(args.token_id):
                print(f"ctiserver token: no token {args.token_id!r}", file=sys.stderr)
                return 1
            print(f"revoked {args.token_id}")
        return 0
    finally:
        await db.close()
