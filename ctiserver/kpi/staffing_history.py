"""``ctiserver erlang --from-history``: a day's staffing table from the arrival rate and AHT in the database
(per 30-min interval: offered calls, AHT of that interval or ``--aht`` when nothing was handled)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from ctiserver.config import ConfigError, load_config
from ctiserver.kpi.erlang import ErlangError, agents_for

INTERVAL = 1800.0


async def history_rows(
    url: str, day_start: float, queue: str | None
) -> list[tuple[float, int, float | None]]:
    """(interval start, offered, AHT or None) for every interval of the day that had calls."""
    from ctiserver.kpi.historical import queue_report
    from ctiserver.store.engine import make_engine, session_factory

    engine = make_engine(url)
    try:
        async with session_factory(engine)() as s:
            rows = await queue_report(s, day_start, day_start + 86_400, interval=INTERVAL, queue=queue)
    finally:
        await engine.dispose()
    merged: dict[float, list[float]] = {}
    for r in rows:
        assert r.bucket is not None
        m = merged.setdefault(r.bucket, [0, 0, 0.0])  # offered, handled, handle seconds
        m[0] += r.kpis.offered
        m[1] += r.kpis.answered
        m[2] += (r.kpis.aht or 0.0) * r.kpis.answered
    return [(b, int(m[0]), m[2] / m[1] if m[1] else None) for b, m in sorted(merged.items())]


def staffing_table(
    rows: list[tuple[float, int, float | None]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    out = []
    for start, calls, aht in rows:
        use_aht = aht or args.aht or 180.0
        s = agents_for(
            calls,
            INTERVAL,
            use_aht,
            args.target[0],
            args.target[1],
            max_asa=args.max_asa,
            max_occupancy=args.max_occupancy,
            shrinkage=args.shrinkage,
            patience=args.patience,
        )
        out.append(
            {
                "interval": datetime.fromtimestamp(start, UTC).strftime("%H:%M"),
                "calls": calls,
                "aht": round(use_aht, 1),
                "agents": s.agents,
                "scheduled": s.scheduled,
                "service_level": round(s.service_level, 4),
                "asa": round(s.asa, 1),
                "occupancy": round(s.occupancy, 4),
            }
        )
    return out


def run_from_history(args: argparse.Namespace) -> int:
    if not args.day:
        print("ctiserver erlang --from-history: --day YYYY-MM-DD is required", file=sys.stderr)
        return 2
    try:
        day = datetime.strptime(args.day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
        config = load_config(args.config)
    except (ValueError, ConfigError) as exc:
        print(f"ctiserver erlang: {exc}", file=sys.stderr)
        return 2
    url = getattr(args, "db", None) or config.database.url.get_secret_value()
    try:
        rows = asyncio.run(history_rows(url, day, args.queue))
        table = staffing_table(rows, args)
    except ErlangError as exc:
        print(f"ctiserver erlang: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"ctiserver erlang: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps({"day": args.day, "queue": args.queue, "intervals": table}))
        return 0
    print(
        f"{'interval':8}  {'calls':>5}  {'AHT':>6}  {'agents':>6}  {'sched':>5}  {'SL':>6}  {'ASA':>6}  "
        f"{'occ':>6}"
    )
    for r in table:
        print(
            f"{r['interval']:8}  {r['calls']:>5}  {r['aht']:>6.1f}  {r['agents']:>6}  {r['scheduled']:>5}  "
            f"{r['service_level'] * 100:>5.1f}%  {r['asa']:>6.1f}  {r['occupancy'] * 100:>5.1f}%"
        )
    return 0
