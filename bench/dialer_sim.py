"""Discrete-event simulation of outbound pacing (no PBX, injected clock): progressive vs predictive.

    .venv/bin/python bench/dialer_sim.py            # the table of docs/dialer.md (8 h runs, ~2 min)
    .venv/bin/python bench/dialer_sim.py --hours 2  # quicker

Drives the production pacers of ``ctiserver.dialer.pacing`` through ``ctiserver.dialer.desim``.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.dialer.desim import SimParams, SimResult, run

SCENARIOS = ((20, 0.25), (20, 0.10), (20, 0.40), (5, 0.25))


def _one(args: tuple[int, float, float, str, int]) -> tuple[SimResult, float]:
    agents, rate, hours, mode, seed = args
    t0 = time.perf_counter()
    result = run(SimParams(agents=agents, answer_rate=rate, hours=hours, seed=seed), mode)
    return result, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    jobs = [(a, r, args.hours, m, args.seed) for a, r in SCENARIOS for m in ("progressive", "predictive")]
    print(
        "| agents | answer rate | mode | talk min/agent-hour | occupancy | abandoned | worst window rate"
        " | live answers | dialled | predictive share | cpu s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    failures = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for r, secs in pool.map(_one, jobs):
            p = r.params
            print(
                f"| {p.agents} | {p.answer_rate:.0%} | {r.mode} | {r.talk_min_per_agent_hour:.1f} | "
                f"{r.occupancy:.1%} | {r.abandon_rate:.2%} | {r.max_window_rate:.2%} | {r.live} | "
                f"{r.dialled} | "
                f"{r.predictive_share:.0%} | {secs:.1f} |",
                flush=True,
            )
            if r.abandon_rate > 0.03:
                failures.append(f"{p.agents}/{p.answer_rate:.0%}/{r.mode}: abandonment {r.abandon_rate:.2%}")
    for f in failures:
        print("CAP EXCEEDED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
