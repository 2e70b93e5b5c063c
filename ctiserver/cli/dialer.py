"""``ctiserver dialer import|campaign|dnc`` — contact lists, campaigns and do-not-call lists in the database.

    ctiserver dialer campaign create spring --mode predictive --queue sales --caller-id 5550200
    ctiserver dialer import contacts.csv --campaign spring --map number=Phone,name=Name --rejects bad.csv
    ctiserver dialer dnc add +14155550100 [--campaign spring] | dnc import list.csv | dnc list | dnc remove N
    ctiserver dialer campaign list | stats spring | start|pause|stop spring
    ctiserver dialer campaign abandonment spring --from 2026-11-01 --to 2026-12-01 [--json]
    ctiserver dialer campaign report spring --from 2026-11-01 --to 2026-12-01 [--csv]

``create``/``start``/``pause``/``stop`` write to the database; a running daemon picks the change up within
~2 s (``DialerService.watch``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ctiserver.cli.kpi import parse_when
from ctiserver.config import ConfigError, load_config


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("dialer", help="outbound campaigns, contact lists, DNC")
    p.add_argument("--config", "-c", help="ctiserver.yaml (the database to use)")
    p.add_argument("--db", help="database URL (overrides the configuration)")
    dsub = p.add_subparsers(dest="dialer_cmd", metavar="WHAT")

    imp = dsub.add_parser("import", help="import a CSV contact list into a campaign")
    imp.add_argument("file")
    imp.add_argument("--campaign", required=True)
    imp.add_argument(
        "--map", default="", help="column mapping: number=Phone,name=Name,id=Ref,timezone=TZ,fields=city|plan"
    )
    imp.add_argument(
        "--region", default=None, help="region for numbers without a country code (default: the campaign's)"
    )
    imp.add_argument("--rejects", help="write the rejected rows with their reasons to this CSV")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(func=_import)

    camp = dsub.add_parser("campaign", help="create / list / stats / start / pause / stop")
    csub = camp.add_subparsers(dest="campaign_cmd", metavar="ACTION")
    create = csub.add_parser("create")
    create.add_argument("name")
    create.add_argument("--mode", default="progressive", choices=("preview", "progressive", "predictive"))
    create.add_argument("--queue", default="outbound")
    create.add_argument("--caller-id", default="")
    create.add_argument("--settings", help="a YAML/JSON file with any other campaign settings")
    create.set_defaults(func=_create)
    csub.add_parser("list").set_defaults(func=_list)
    for action, func, about, fmt in (
        ("abandonment", _abandonment, "the abandonment record of a period (per UTC day, worst window)", "json"),
        ("report", _report, "the campaign's productivity per UTC day (attempts, outcomes, talk)", "csv"),
    ):
        period = csub.add_parser(action, help=about)
        period.add_argument("name")
        period.add_argument("--from", dest="start", type=parse_when, required=True, help="start (UTC), inclusive")
        period.add_argument("--to", dest="end", type=parse_when, required=True, help="end (UTC), exclusive")
        period.add_argument(f"--{fmt}", action="store_true", help=f"{fmt.upper()} (as the API's)")
        period.set_defaults(func=func)
    for action in ("stats", "start", "pause", "stop"):
        q = csub.add_parser(action)
        q.add_argument("name")
        q.set_defaults(func=_stats if action == "stats" else _set_state, action=action)

    dnc = dsub.add_parser("dnc", help="do-not-call lists (global, or --campaign)")
    dsub2 = dnc.add_subparsers(dest="dnc_cmd", metavar="ACTION")
    for action in ("add", "remove", "import", "list"):
        q = dsub2.add_parser(action)
        if action in ("add", "remove"):
            q.add_argument("numbers", nargs="+")
        if action == "import":
            q.add_argument("file", help="one number per line, or a CSV whose first column is the number")
        q.add_argument("--campaign", default="")
        q.add_argument("--region", default="US")
        q.add_argument("--reason", default="")
        q.set_defaults(func=_dnc, action=action)

    def usage(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)


def _fail(msg: str) -> int:
    print(f"ctiserver dialer: {msg}", file=sys.stderr)
    return 2


def _url(args: argparse.Namespace) -> str:
    if args.db:
        return str(args.db)
    return load_config(args.config).database.url.get_secret_value()


def _run(args: argparse.Namespace, coro_fn: Any) -> int:
    try:
        url = _url(args)
    except ConfigError as exc:
        return _fail(str(exc))

    async def main() -> int:
        from ctiserver.dialer.sql import SqlDialerStore
        from ctiserver.store import migrate
        from ctiserver.store.engine import make_engine, session_factory

        await asyncio.to_thread(migrate.upgrade, url)
        engine = make_engine(url)
        try:
            return int(await coro_fn(SqlDialerStore(session_factory(engine))))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except KeyError as exc:
        return _fail(str(exc.args[0]) if exc.args else "not found")
    except (ValueError, OSError) as exc:
        return _fail(str(exc))


async def _campaign(store: Any, name: str) -> Any:
    from ctiserver.dialer.model import CampaignSettings

    for n, raw, state in await store.campaigns():
        if n == name:
            return CampaignSettings.model_validate(raw), state
    raise KeyError(f"no campaign {name!r} (create it with: ctiserver dialer campaign create {name})")


def _import(args: argparse.Namespace) -> int:
    from ctiserver.dialer.importer import ColumnMap, ImportReport, Zoning, read_csv
    from ctiserver.dialer.store import drop_known_numbers

    path = Path(args.file)
    try:
        columns = ColumnMap.parse(args.map) if args.map else ColumnMap()
    except ValueError as exc:
        return _fail(str(exc))

    async def go(store: Any) -> int:
        settings, _state = await _campaign(store, args.campaign)
        region = args.region or settings.region
        total = await asyncio.to_thread(lambda: max(0, sum(1 for _ in path.open(encoding="utf-8-sig")) - 1))
        report = ImportReport()

        def progress(done: int) -> None:
            if not args.quiet and total:
                width = 30
                filled = int(width * done / total)
                bar = "#" * filled + "-" * (width - filled)
                print(f"\r[{bar}] {done}/{total} rows", end="", file=sys.stderr, flush=True)

        def parse() -> list[Any]:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                zoning = Zoning(settings, time.time())
                return list(
                    read_csv(fh, args.campaign, columns, region, report=report, progress=progress, zoning=zoning)
                )

        contacts = await asyncio.to_thread(parse)
        contacts, known = await drop_known_numbers(store, args.campaign, contacts)
        report.imported -= known
        report.duplicates += known
        await store.add_contacts(contacts)
        if not args.quiet and total:
            print(file=sys.stderr)
        print(f"{args.campaign}: {report.summary()}")
        for r in report.rejected[:10]:
            print(f"  line {r.line}: {r.reason}")
        if len(report.rejected) > 10:
            print(f"  ... {len(report.rejected) - 10} more")
        if args.rejects:
            await asyncio.to_thread(_write_rejects, args.rejects, report)
            print(f"rejected rows written to {args.rejects}")
        return 0

    return _run(args, go)


def _write_rejects(path: str, report: Any) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        report.write_rejects(out)


def _create(args: argparse.Namespace) -> int:
    import yaml

    from ctiserver.dialer.model import CampaignSettings

    extra: dict[str, Any] = {}
    if args.settings:
        try:
            extra = yaml.safe_load(Path(args.settings).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            return _fail(f"{args.settings}: {exc}")
    try:
        settings = CampaignSettings.model_validate(
            {**extra, "name": args.name, "mode": args.mode, "queue": args.queue, "caller_id": args.caller_id}
        )
    except ValueError as exc:
        return _fail(f"campaign {args.name}: {exc}")

    async def go(store: Any) -> int:
        if any(n == args.name for n, _, _ in await store.campaigns()):
            return _fail(f"campaign {args.name!r} exists already")
        await store.save_campaign(args.name, settings.model_dump(mode="json"), "draft")
        print(f"campaign {args.name} created ({settings.mode.value}, queue {settings.queue})")
        return 0

    return _run(args, go)


def _list(args: argparse.Namespace) -> int:
    async def go(store: Any) -> int:
        for name, raw, state in await store.campaigns():
            statuses, _ = await store.counts(name)
            print(f"{name}\t{raw.get('mode')}\t{state}\t{sum(statuses.values())} contacts")
        return 0

    return _run(args, go)


def _stats(args: argparse.Namespace) -> int:
    from ctiserver.dialer.amd_audit import rate_in_use

    async def go(store: Any) -> int:
        settings, state = await _campaign(store, args.name)
        statuses, counted = await store.counts(args.name)  # counted by the database, not read row by row
        outcomes = Counter(counted)
        fp = await rate_in_use(store, settings, 0.0)  # the AMD audit's measured rate, else the setting
        estimated = fp * outcomes["machine"]  # AMD's false positives: abandoned calls
        live = outcomes["human"] + outcomes["abandoned"] + estimated
        print(
            json.dumps(
                {
                    "campaign": args.name,
                    "state": state,
                    "mode": settings.mode.value,
                    "contacts": statuses,
                    "attempts": sum(outcomes.values()),
                    "outcomes": dict(outcomes),
                    "abandon_rate": round((outcomes["abandoned"] + estimated) / live, 4) if live else 0.0,
                    "abandon_cap": settings.abandon_cap,
                },
                indent=2,
            )
        )
        return 0

    return _run(args, go)


def _abandonment(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ctiserver.dialer.compliance import abandonment_record

    if args.end <= args.start:
        return _fail("--to must be after --from")

    async def go(store: Any) -> int:
        settings, _state = await _campaign(store, args.name)
        rec = await abandonment_record(store, settings, args.start, args.end)
        if args.json:
            print(json.dumps(asdict(rec), indent=2))
            return 0
        print(
            f"campaign {rec.campaign}: cap {rec.cap:.1%} per {rec.window}, AMD false positives estimated at "
            f"{rec.false_positive_rate:.1%} of MACHINE verdicts"
        )
        print("day         live  abandoned  machines  est.FP   rate")
        for d in rec.days:
            print(f"{d.day}  {d.live:5d}  {d.abandoned:9d}  {d.machines:8d}  {d.false_positives:6.1f}  {d.rate:6.2%}")
        if rec.worst is None:
            print("no live answer in any window of the period")
        else:
            end = time.strftime("%Y-%m-%d %H:%M", time.gmtime(rec.worst.end))
            print(
                f"worst {rec.window} window (ending {end} UTC): {rec.worst.rate:.2%} "
                f"({rec.worst.abandoned:.1f} of {rec.worst.live:.1f}); hours over the cap: {rec.hours_over_cap}"
            )
        return 0 if rec.hours_over_cap == 0 else 1

    return _run(args, go)


def _report(args: argparse.Namespace) -> int:
    from ctiserver.dialer.campaign_report import campaign_report, report_csv

    if args.end <= args.start:
        return _fail("--to must be after --from")

    async def go(store: Any) -> int:
        await _campaign(store, args.name)  # exists?
        days = await campaign_report(store, args.name, args.start, args.end)
        if args.csv:
            sys.stdout.write(report_csv(days))
            return 0
        print("day         attempts contacts  human  aband.  machine  connected  answer  connect  avg talk")
        for d in days:
            avg = "-" if d.avg_talk is None else f"{d.avg_talk:.0f} s"
            print(
                f"{d.day}  {d.attempts:8d} {d.contacts:8d} {d.outcomes['human']:6d} {d.abandoned_total:7d} "
                f"{d.outcomes['machine']:8d} {d.connected:10d} {d.answer_rate:7.1%} {d.connect_rate:8.1%} {avg:>9}"
            )
        return 0

    return _run(args, go)


def _set_state(args: argparse.Namespace) -> int:
    from ctiserver.dialer.campaign_state import CampaignState, advance

    target = {"start": CampaignState.RUNNING, "pause": CampaignState.PAUSED, "stop": CampaignState.STOPPED}

    async def go(store: Any) -> int:
        settings, state = await _campaign(store, args.name)
        new = advance(args.name, CampaignState(state), target[args.action])
        await store.save_campaign(args.name, settings.model_dump(mode="json"), new.value)
        print(f"campaign {args.name}: {state} -> {new.value}")
        return 0

    try:
        return _run(args, go)
    except Exception as exc:  # IllegalCampaignTransition
        return _fail(str(exc))


def _dnc(args: argparse.Namespace) -> int:
    from ctiserver.dialer.numbers import BadNumber, to_e164

    async def go(store: Any) -> int:
        if args.action == "list":  # page by page: a registry extract has millions of numbers
            after = None
            while page := await store.dnc_page(args.campaign, after, 10_000):
                print("\n".join(page))
                after = page[-1]
            return 0
        raw = [(f"argument {i}", n) for i, n in enumerate(getattr(args, "numbers", []) or [], 1)]
        if args.action == "import":  # the first column of each line; a rejected line is reported by its number
            text = await asyncio.to_thread(Path(args.file).read_text, encoding="utf-8-sig")
            lines = enumerate(text.splitlines(), 1)
            raw = [(f"line {i}", line.split(",")[0].strip().strip('"')) for i, line in lines if line.strip()]
        good, bad = [], []
        for where, n in raw:
            try:
                good.append(to_e164(n, args.region))
            except BadNumber as exc:
                bad.append(f"{where}: {n!r}: {exc}")
        if args.action == "remove":
            removed = sum([await store.dnc_remove(n, args.campaign) for n in good])
            print(f"{removed} removed")
        else:
            added = await store.dnc_add(good, args.campaign, args.reason)
            print(f"{added} added ({len(good) - added} already listed), {len(bad)} rejected")
        for b in bad[:10]:
            print(f"  {b}")
        return 0 if not bad or good else 2

    return _run(args, go)
