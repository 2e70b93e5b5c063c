"""``ctiserver erlang``: agents needed for a service-level target (Erlang C, or Erlang A with ``--patience``).

ctiserver erlang --calls 100 --interval 1800 --aht 180 --target 80/20 [--patience 120] [--shrinkage 0.3]
ctiserver erlang --from-history --day 2026-11-22 [--queue support] --aht-default 180 --target 80/20
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ctiserver.kpi.erlang import ErlangError, Staffing, agents_for


def parse_target(text: str) -> tuple[float, float]:
    """``80/20`` → (0.80, 20.0): 80 % answered within 20 s."""
    try:
        pct, secs = text.split("/", 1)
        sl, t = float(pct) / 100.0, float(secs)
    except ValueError:
        msg = f"--target must look like 80/20 (percent/seconds), got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not 0 < sl < 1 or t < 0:
        raise argparse.ArgumentTypeError(f"--target {text!r}: percent must be in (0, 100) and seconds >= 0")
    return sl, t


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("erlang", help="staffing: agents needed for a service level")
    p.add_argument("--calls", type=float, help="calls offered per interval")
    p.add_argument("--interval", type=float, default=1800.0, help="interval length in seconds (default 1800)")
    p.add_argument("--aht", type=float, help="average handle time in seconds")
    p.add_argument("--target", type=parse_target, default=(0.8, 20.0), help="service level, e.g. 80/20")
    p.add_argument("--max-asa", type=float, help="also require ASA <= this many seconds")
    p.add_argument("--max-occupancy", type=float, help="also require occupancy <= this (0..1)")
    p.add_argument("--patience", type=float, help="mean caller patience in s (Erlang A: abandon %%)")
    p.add_argument("--shrinkage", type=float, default=0.0, help="share of paid time off the phones (0..1)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--from-history", action="store_true", help="arrival rate and AHT from the DB")
    p.add_argument("--day", help="with --from-history: the day (YYYY-MM-DD, UTC)")
    p.add_argument("--queue", help="with --from-history: one queue")
    p.add_argument("--config", "-c", help="ctiserver.yaml (database location) for --from-history")
    p.add_argument("--db", help="with --from-history: database URL (overrides the configuration)")
    p.set_defaults(func=_run)


def staffing_json(s: Staffing) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agents": s.agents,
        "scheduled": s.scheduled,
        "traffic_erlangs": round(s.traffic, 4),
        "service_level": round(s.service_level, 4),
        "asa_seconds": round(s.asa, 2),
        "occupancy": round(s.occupancy, 4),
        "wait_probability": round(s.wait_probability, 4),
    }
    if s.abandon is not None:
        out["abandon"] = round(s.abandon, 4)
    return out


def format_staffing(s: Staffing, target: tuple[float, float]) -> str:
    lines = [
        f"traffic        {s.traffic:.2f} Erlangs",
        f"agents needed  {s.agents}",
    ]
    if s.scheduled != s.agents:
        lines.append(f"scheduled      {s.scheduled} (after shrinkage)")
    lines += [
        f"service level  {s.service_level * 100:.1f} % answered within {target[1]:g} s",
        f"ASA            {s.asa:.1f} s",
        f"occupancy      {s.occupancy * 100:.1f} %",
    ]
    if s.abandon is not None:
        lines.append(f"abandon        {s.abandon * 100:.1f} %")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    if args.from_history:
        from ctiserver.kpi.staffing_history import run_from_history

        return run_from_history(args)
    if args.calls is None or args.aht is None:
        print("ctiserver erlang: --calls and --aht are required (or use --from-history)", file=sys.stderr)
        return 2
    try:
        s = agents_for(
            args.calls,
            args.interval,
            args.aht,
            args.target[0],
            args.target[1],
            max_asa=args.max_asa,
            max_occupancy=args.max_occupancy,
            shrinkage=args.shrinkage,
            patience=args.patience,
        )
    except ErlangError as exc:
        print(f"ctiserver erlang: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(staffing_json(s)))
    else:
        print(format_staffing(s, args.target))
    return 0
