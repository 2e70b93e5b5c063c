"""Discrete-event simulation of outbound pacing (no PBX, injected clock): progressive vs predictive.

    .venv/bin/python bench/dialer_sim.py                      # the table of docs/dialer.md (8 h runs)
    .venv/bin/python bench/dialer_sim.py --seeds 1,2,3 --only 20/0.25 --modes predictive
    .venv/bin/python bench/dialer_sim.py --hours 2            # quicker
    .venv/bin/python bench/dialer_sim.py --only 20/0.25 --fixed-theta 0.01,0.03,0.08   # the pacer's frontier
    .venv/bin/python bench/dialer_sim.py --only 20/0.25 --modes predictive --set min_live=50   # a variant

``--fixed-theta`` is an analysis, not a campaign: the outer loop is off (θ fixed), the ledger's cap is lifted
to 50 % so that nothing but θ limits the risk, and the row shows what throughput each abandonment level buys.
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
from ctiserver.dialer.pacing import PredictiveSettings

SCENARIOS = ((20, 0.25), (20, 0.10), (20, 0.40), (5, 0.25))

_Job = tuple[int, float, float, str, int, float | None, tuple[tuple[str, float], ...]]


def _settings(overrides: tuple[tuple[str, float], ...], **fixed: float) -> PredictiveSettings:
    settings = PredictiveSettings()
    for key, value in (*overrides, *fixed.items()):
        if not hasattr(settings, key):
            raise SystemExit(f"PredictiveSettings has no field {key!r}")
        setattr(settings, key, type(getattr(settings, key))(value))
    return settings


def _one(job: _Job) -> tuple[SimResult, float, float | None]:
    agents, rate, hours, mode, seed, theta, overrides = job
    t0 = time.process_time()
    if theta is None:
        params = SimParams(agents=agents, answer_rate=rate, hours=hours, seed=seed)
        result = run(params, mode, _settings(overrides))
    else:
        params = SimParams(agents=agents, answer_rate=rate, hours=hours, seed=seed, abandon_cap=0.5)
        result = run(params, mode, _settings(overrides, theta=theta, gain=0.0))
    return result, time.process_time() - t0, theta


def _scenarios(only: str | None) -> list[tuple[int, float]]:
    if not only:
        return list(SCENARIOS)
    out = []
    for item in only.split(","):
        agents, rate = item.split("/")
        out.append((int(agents), float(rate)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", default=None, help="comma-separated seeds (default: --seed)")
    ap.add_argument("--only", default=None, help="scenarios as agents/answer-rate, e.g. 20/0.25,5/0.25")
    ap.add_argument("--modes", default="progressive,predictive")
    ap.add_argument("--fixed-theta", default=None, help="predictive with a fixed θ each, no outer loop, no cap")
    ap.add_argument("--set", action="append", default=[], help="a PredictiveSettings field, e.g. min_live=50")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    overrides = tuple((k, float(v)) for k, _, v in (item.partition("=") for item in args.set))
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    thetas: list[float | None] = [None]
    modes = args.modes.split(",")
    if args.fixed_theta:
        thetas, modes = [float(t) for t in args.fixed_theta.split(",")], ["predictive"]
    jobs: list[_Job] = [
        (a, r, args.hours, m, seed, th, overrides)
        for a, r in _scenarios(args.only)
        for m in modes
        for th in thetas
        for seed in seeds
    ]
    print(
        "| agents | answer rate | mode | seed | talk min/agent-hour | occupancy | abandoned | worst window rate"
        " | live answers | dialled | predictive share | cpu s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    failures = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for r, secs, theta in pool.map(_one, jobs):
            p = r.params
            mode = r.mode if theta is None else f"predictive θ={theta:g} (no loop, no cap)"
            print(
                f"| {p.agents} | {p.answer_rate:.0%} | {mode} | {p.seed} | {r.talk_min_per_agent_hour:.2f} | "
                f"{r.occupancy:.1%} | {r.abandon_rate:.2%} | {r.max_window_rate:.2%} | {r.live} | "
                f"{r.dialled} | {r.predictive_share:.0%} | {secs:.1f} |",
                flush=True,
            )
            if theta is None and (r.abandon_rate > 0.03 or r.max_window_rate > 0.03):
                failures.append(
                    f"{p.agents}/{p.answer_rate:.0%}/{r.mode}/seed {p.seed}: abandonment {r.abandon_rate:.2%},"
                    f" worst window {r.max_window_rate:.2%}"
                )
    for f in failures:
        print("CAP EXCEEDED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
