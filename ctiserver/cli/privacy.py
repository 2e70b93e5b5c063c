"""``ctiserver privacy``: a person's right to erasure, from the command line (``ctiserver/privacy/erase.py``).

ctiserver privacy erase NUMBER [--config FILE] [--not-on-dnc]
    erase the person's calls' personal data, recordings, dialler contacts, CRM contact and interactions; the
    number goes on the global do-not-call list unless --not-on-dnc; prints what was erased (JSON)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from ctiserver.config import ConfigError, load_config
from ctiserver.logs import setup_logging


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("privacy", help="a person's right to erasure by phone number")
    ps = p.add_subparsers(dest="privacy_command", metavar="ACTION")
    erase = ps.add_parser("erase", help="erase everything held under a phone number")
    erase.add_argument("number")
    erase.add_argument("--config", "-c", help="ctiserver.yaml")
    erase.add_argument("--not-on-dnc", action="store_true", help="do not put the number on the do-not-call list")
    erase.set_defaults(func=_erase)

    def _help(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=_help)


async def _go(args: argparse.Namespace) -> int:
    from ctiserver.privacy.erase import NotANumber, erase_number
    from ctiserver.recording.sql import SqlRecordingStore
    from ctiserver.store.database import Database

    config = load_config(args.config)
    setup_logging(config.log_level, config.log_format)
    db = Database(config.database)
    try:
        await db.migrate()
        store = SqlRecordingStore(db.sessions)
        try:
            done, _calls = await erase_number(
                db.sessions, args.number, config.default_region, time.time(), store, not args.not_on_dnc
            )
        except NotANumber as exc:
            print(f"ctiserver privacy erase: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(asdict(done)))
        return 0
    finally:
        await db.close()


def _erase(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_go(args))
    except ConfigError as exc:
        print(f"ctiserver: {exc}", file=sys.stderr)
        return 2
