"""``ctiserver recording``: retention and look-ups of call recordings.

ctiserver recording purge [--config FILE] [--dry-run] [--now EPOCH]
    delete the files older than their queue's retention (rows are kept, marked purged)
ctiserver recording show CALL_ID [--config FILE]
    metadata of a call's recordings (JSON lines)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from ctiserver.config import ConfigError, load_config
from ctiserver.logs import setup_logging


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "recording", help="call recordings: retention purge, metadata"
    )
    rs = p.add_subparsers(dest="recording_command", metavar="ACTION")
    purge = rs.add_parser("purge", help="delete recordings older than their queue's retention")
    purge.add_argument("--config", "-c", help="ctiserver.yaml")
    purge.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    purge.add_argument("--now", type=float, help="reference time (epoch seconds; default: now)")
    purge.set_defaults(func=_purge)
    show = rs.add_parser("show", help="metadata of a call's recordings")
    show.add_argument("call_id")
    show.add_argument("--config", "-c", help="ctiserver.yaml")
    show.set_defaults(func=_show)
    def _help(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=_help)


async def _with_store(args: argparse.Namespace, work: Any) -> int:
    from ctiserver.recording.config import RecordingConfig
    from ctiserver.recording.sql import SqlRecordingStore
    from ctiserver.store.database import Database

    config = load_config(args.config)
    setup_logging(config.log_level, config.log_format)
    rec_cfg = config.section("recording", RecordingConfig)
    db = Database(config.database)
    try:
        await db.migrate()
        return int(await work(SqlRecordingStore(db.sessions), rec_cfg))
    finally:
        await db.close()


def _run(args: argparse.Namespace, work: Any) -> int:
    try:
        return asyncio.run(_with_store(args, work))
    except ConfigError as exc:
        print(f"ctiserver: {exc}", file=sys.stderr)
        return 2


def _purge(args: argparse.Namespace) -> int:
    from ctiserver.recording.purge import purge

    async def work(store: Any, cfg: Any) -> int:
        report = await purge(
            store, cfg, args.now if args.now is not None else time.time(), dry_run=args.dry_run
        )
        verb = "would remove" if args.dry_run else "removed"
        for name in report.removed:
            print(f"{verb} {name}")
        for name in report.missing:
            print(f"file already gone: {name}")
        for name in report.kept_live:
            print(f"kept (still recording): {name}")
        print(
            f"{len(report.removed)} {verb}, {len(report.missing)} missing, {len(report.kept_live)} live",
            file=sys.stderr,
        )
        return 0

    return _run(args, work)


def _show(args: argparse.Namespace) -> int:
    async def work(store: Any, cfg: Any) -> int:
        rows = await store.for_call(args.call_id)
        for meta in rows:
            print(json.dumps(meta.to_json(), ensure_ascii=False))
        if not rows:
            print(f"no recordings for call {args.call_id}", file=sys.stderr)
            return 1
        return 0

    return _run(args, work)
