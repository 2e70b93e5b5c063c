"""``ctiserver ivr check|simulate|graph``: validate scripts, dry-run them, draw them."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("ivr", help="IVR scripts: check, simulate, graph")
    cmds = p.add_subparsers(dest="ivr_command", metavar="SUBCOMMAND")
    check = cmds.add_parser("check", help="validate scripts (exit 1 on any error)")
    check.add_argument("paths", nargs="*", help="files or folders (default: ivr.scripts_dir, ivr_scripts)")
    check.add_argument(
        "--config", "-c", help="ctiserver.yaml: takes ivr.scripts_dir and ivr.sound_dirs from it"
    )
    check.add_argument(
        "--sounds",
        action="append",
        default=[],
        metavar="DIR",
        help="sound directory to look for prompts in (repeatable; missing sounds are warnings)",
    )
    check.add_argument("--quiet", "-q", action="store_true", help="print only errors and warnings")
    check.set_defaults(func=_check)
    sim = cmds.add_parser("simulate", help="run a script without a PBX and print the path taken")
    sim.add_argument("script", help="script file")
    sim.add_argument("--caller", default="", help="caller number, e.g. +380441234567")
    sim.add_argument(
        "--dtmf",
        default="",
        help="input per prompt, comma separated: 2,1234#,,hangup (empty = let the prompt time out)",
    )
    sim.add_argument("--at", help="date/time of the call, ISO 8601 (default now, in the script's timezone)")
    sim.add_argument("--contact-file", help="YAML/JSON contacts: {number: {id, name, vip...}}")
    sim.add_argument("--http-reply", help="JSON every http node gets instead of calling the backend")
    sim.add_argument("--scripts", help="folder with the sub-scripts (default: the script's folder)")
    sim.set_defaults(func=_simulate)
    graph = cmds.add_parser("graph", help="print a Mermaid flowchart of a script")
    graph.add_argument("script")
    graph.set_defaults(func=_graph)

    def _help(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=_help)


def _check(args: argparse.Namespace) -> int:
    from ctiserver.config import ConfigError, load_config
    from ctiserver.ivr.config import IvrConfig, acd_queue_names
    from ctiserver.ivr.validate import script_files, validate_files

    try:
        config = load_config(args.config)
        cfg = config.section("ivr", IvrConfig)
    except ConfigError as exc:
        print(f"ctiserver ivr check: {exc}", file=sys.stderr)
        return 2
    args.paths = args.paths or [cfg.scripts_dir]
    args.sounds = [*args.sounds, *cfg.sound_dirs]
    files = script_files(args.paths)
    missing = [p for p in args.paths if not Path(p).exists()]
    for p in missing:
        print(f"{p}: no such file or folder", file=sys.stderr)
    scripts, diags = validate_files(files, sound_dirs=args.sounds, known_queues=acd_queue_names(config))
    for d in diags:
        print(d)
    errors = sum(1 for d in diags if d.is_error)
    if not args.quiet:
        warnings = len(diags) - errors
        print(
            f"{len(files)} file(s), {len(scripts)} valid script(s), {errors} error(s), {warnings} warning(s)",
            file=sys.stderr,
        )
    return 1 if errors or missing or not files else 0


def _load_one(path: str, folder: str | None) -> tuple[Any, dict[str, Any]]:
    from ctiserver.ivr.validate import script_files, validate_files

    target = Path(path)
    others = [f for f in script_files([folder or target.parent]) if f.resolve() != target.resolve()]
    scripts, diags = validate_files([target, *others])
    mine = [d for d in diags if Path(d.file).resolve() == target.resolve()]
    for d in mine:
        print(d, file=sys.stderr)
    script = next((s for s in scripts.values() if Path(s.file).resolve() == target.resolve()), None)
    return script, scripts


def _simulate(args: argparse.Namespace) -> int:
    from ctiserver.ivr.ports import MemoryContacts
    from ctiserver.ivr.simulate import StaticHttp, parse_dtmf, report, simulate

    if not Path(args.script).is_file():
        print(f"{args.script}: no such file", file=sys.stderr)
        return 2
    script, scripts = _load_one(args.script, args.scripts)
    if script is None:
        return 1
    tz = ZoneInfo(script.timezone)
    try:
        at = dt.datetime.fromisoformat(args.at) if args.at else dt.datetime.now(tz)
    except ValueError:
        print(f"--at {args.at!r}: not an ISO 8601 date/time", file=sys.stderr)
        return 2
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    contacts = None
    if args.contact_file:
        try:
            contacts = MemoryContacts.from_data(yaml.safe_load(Path(args.contact_file).read_text("utf-8")))
        except (OSError, yaml.YAMLError, AttributeError, TypeError) as exc:
            print(f"{args.contact_file}: cannot read contacts: {exc}", file=sys.stderr)
            return 2
    http = None
    if args.http_reply:
        try:
            http = StaticHttp(json.loads(args.http_reply))
        except ValueError as exc:
            print(f"--http-reply: not JSON: {exc}", file=sys.stderr)
            return 2
    sim = asyncio.run(
        simulate(
            script,
            caller=args.caller,
            dtmf=parse_dtmf(args.dtmf),
            at=at,
            contacts=contacts,
            scripts=scripts,
            http=http,
        )
    )
    sys.stdout.write(report(sim))
    return 0


def _graph(args: argparse.Namespace) -> int:
    from ctiserver.ivr.graph import mermaid

    if not Path(args.script).is_file():
        print(f"{args.script}: no such file", file=sys.stderr)
        return 2
    script, _ = _load_one(args.script, None)
    if script is None:
        return 1
    sys.stdout.write(mermaid(script))
    return 0
