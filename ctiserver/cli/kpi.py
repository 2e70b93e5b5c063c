"""``ctiserver kpi report``: historical KPIs from the database.

    ctiserver kpi report --from 2026-11-01 --to 2026-11-30 [--queue support] [--interval 30m]
                         [--by queue|agent] [--format table|csv|json] [--config FILE | --db URL]

Dates are UTC (``YYYY-MM-DD`` or ISO date-time); ``--to`` is exclusive. Ranges longer than two days are
queried day by day with a progress bar on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from ctiserver.config import ConfigError, load_config

INTERVALS = {"15m": 900.0, "30m": 1800.0, "60m": 3600.0, "1h": 3600.0, "day": 86_400.0, "all": None}
DAY = 86_400.0


def parse_when(text: str) -> float:
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_interval(text: str) -> float | None:
    if text not in INTERVALS:
        raise argparse.ArgumentTypeError(f"--interval must be one of {', '.join(INTERVALS)}")
    return INTERVALS[text]


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("kpi", help="historical KPI reports")
    ksub = p.add_subparsers(dest="kpi_command", metavar="COMMAND")
    r: argparse.ArgumentParser = ksub.add_parser("report", help="KPIs by queue/agent and interval")
    r.add_argument("--from", dest="start", type=parse_when, required=True, help="start (UTC), inclusive")
    r.add_argument("--to", dest="end", type=parse_when, required=True, help="end (UTC), exclusive")
    r.add_argument("--queue", help="one queue only")
    r.add_argument(
        "--interval", type=parse_interval, default=1800.0, help="15m|30m|60m|day|all (default 30m)"
    )
    r.add_argument("--by", choices=("queue", "agent"), default="queue")
    r.add_argument("--format", choices=("table", "csv", "json"), default="table")
    r.add_argument("--sl", type=float, help="service-level seconds (default: kpi.sl_seconds, per queue)")
    r.add_argument("--config", "-c", help="ctiserver.yaml (database.url, kpi:)")
    r.add_argument("--db", help="database URL (overrides the configuration)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    r.set_defaults(func=_report)
    p.set_defaults(func=lambda _a: _help(p))


def _help(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def _fmt_time(epoch: float | None) -> str:
    if epoch is None:
        return "all"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _pct(x: Any) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _secs(x: Any) -> str:
    return "-" if x is None else f"{x:.1f}"


QUEUE_COLUMNS = (
    "queue",
    "interval",
    "offered",
    "answered",
    "abandoned",
    "service_level",
    "lost_rate",
    "abandon_rate",
    "asa",
    "avg_abandon_wait",
    "aht",
    "max_wait",
)


_SECONDS = (
    "asa", "avg_abandon_wait", "aht", "max_wait", "talk", "hold", "wrap",
    "logged_in", "busy", "ready_idle", "not_ready",
)  # fmt: skip


def _write(
    rows: list[dict[str, Any]], by: str, fmt: str, out: TextIO, summary: dict[str, Any] | None = None
) -> None:
    from ctiserver.kpi.agent_history import AGENT_COLUMNS, csv_cell, reasons_text

    cols = QUEUE_COLUMNS if by == "queue" else AGENT_COLUMNS
    if fmt == "json":
        out.write(json.dumps({"rows": rows, "summary": summary}, indent=1) + "\n")
        return
    if fmt == "csv":
        w = csv.writer(out)
        w.writerow(cols)
        for row in rows:
            w.writerow([csv_cell(row.get(c)) for c in cols])
        return
    cells = [list(cols)]
    for row in rows:
        line = []
        for c in cols:
            v = row.get(c)
            if c in ("service_level", "lost_rate", "abandon_rate", "occupancy"):
                line.append(_pct(v))
            elif c in _SECONDS:
                line.append(_secs(v))
            elif isinstance(v, dict):
                line.append(reasons_text(v) or "-")
            else:
                line.append(str(v))
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
    for r in cells:
        out.write(
            "  ".join(v.rjust(widths[i]) if i > 1 else v.ljust(widths[i]) for i, v in enumerate(r)) + "\n"
        )
    if summary:
        out.write(
            f"\ncalls {summary['calls']} (inbound {summary['inbound']})  "
            f"FCR {_pct(summary['fcr_repeat'])} (repeat, {summary['fcr_repeat_contacts']} judged)  "
            f"FCR {_pct(summary['fcr_disposition'])} (disposition)  "
            f"self-service {_pct(summary['self_service_rate'])}  blocked {_pct(summary['blocked_rate'])}  "
            f"calls/agent/day {_secs(summary['calls_per_agent_per_day'])}\n"
        )


class Progress:
    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None) -> None:
        self.total, self.enabled, self.done = total, enabled and total > 2, 0
        self.stream = stream or sys.stderr

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            filled = int(30 * self.done / self.total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} days")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


async def build_summary(url: str, args: argparse.Namespace, kpi_cfg: Any, region: str) -> dict[str, Any]:
    import time

    from ctiserver.kpi.summary import call_summary
    from ctiserver.store.engine import make_engine, session_factory

    engine = make_engine(url)
    try:
        async with session_factory(engine)() as s:
            return await call_summary(
                s,
                args.start,
                args.end,
                fcr_window=kpi_cfg.fcr_window_hours * 3600,
                now=time.time(),
                region=region,  # the daemon's: rows from before calls.caller_key are read as it would
                resolved=kpi_cfg.fcr_resolved_dispositions,
            )
    finally:
        await engine.dispose()


async def build_report(url: str, args: argparse.Namespace, kpi_cfg: Any) -> list[dict[str, Any]]:
    from ctiserver.kpi.agent_history import agent_days
    from ctiserver.kpi.formulas import SlPolicy
    from ctiserver.kpi.historical import queue_report
    from ctiserver.store.engine import make_engine, session_factory

    engine = make_engine(url)
    rows: list[dict[str, Any]] = []
    try:
        sessions = session_factory(engine)
        if args.by == "agent":
            async with sessions() as s:
                for a in await agent_days(s, args.start, args.end, time.time()):
                    rows.append({**a, "day": _fmt_time(a["day"])[:10]})
            return rows
        # one pass per SL policy: the default for all queues, then each queue with its own settings
        passes: list[tuple[str | None, SlPolicy]]
        if args.sl:
            base = kpi_cfg.policy(args.queue or "")
            passes = [
                (args.queue, SlPolicy(args.sl, base.short_abandon_seconds, base.exclude_short_abandons))
            ]
        elif args.queue:
            passes = [(args.queue, kpi_cfg.policy(args.queue))]
        else:
            passes = [(None, kpi_cfg.policy("")), *((q, kpi_cfg.policy(q)) for q in sorted(kpi_cfg.queues))]
        own = {q for q, _ in passes if q is not None and args.queue is None}
        chunk = (
            DAY if args.interval is not None and args.end - args.start > 2 * DAY else args.end - args.start
        )
        steps = max(1, int((args.end - args.start + chunk - 1) // chunk))
        progress = Progress(steps, not args.no_progress)
        t = args.start
        async with sessions() as s:
            while t < args.end:
                stop = min(args.end, t + chunk)
                for queue, policy in passes:
                    for r in await queue_report(
                        s, t, stop, interval=args.interval, queue=queue, policy=policy
                    ):
                        if queue is None and r.queue in own:
                            continue  # reported by its own pass, with its own SL settings
                        rows.append({"interval": _fmt_time(r.bucket), **r.as_dict()})
                progress.step()
                t = stop
        rows.sort(key=lambda r: (r["queue"], r["interval"]))
        return rows
    finally:
        await engine.dispose()


def _report(args: argparse.Namespace) -> int:
    from ctiserver.kpi.config import KpiConfig

    if args.end <= args.start:
        print("ctiserver kpi report: --to must be after --from", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
        url = args.db or config.database.url.get_secret_value()
        kpi_cfg = config.section("kpi", KpiConfig)
    except ConfigError as exc:
        print(f"ctiserver kpi report: {exc}", file=sys.stderr)
        return 2
    try:
        rows = asyncio.run(build_report(url, args, kpi_cfg))
        summary = None
        if args.by == "queue" and not args.queue:
            summary = asyncio.run(build_summary(url, args, kpi_cfg, config.default_region))
    except Exception as exc:  # one clear line instead of a traceback (DB down, no tables yet...)
        print(
            f"ctiserver kpi report: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", file=sys.stderr
        )
        return 1
    _write(rows, args.by, args.format, sys.stdout, summary)
    return 0
