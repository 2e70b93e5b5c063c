"""Third-round experiment (issue #9): the shipped risk rule with a state-dependent θ multiplier learned offline.

    .venv/bin/python bench/dialer_table.py --tune --seeds 4,5,6,7 --hours 4     # coordinate search, prints the table
    .venv/bin/python bench/dialer_table.py --seeds 1,2,3 --table 1,1,0.5,...    # evaluate a table

Cells: (ready agents − waiting answers: 0, 1, 2, ≥ 3) × (expected live answers among the calls in flight,
Σ posterior: < 1, 1–2, ≥ 2). The outer loop still moves θ; the table only shifts risk between states.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.dialer.desim import CampaignSimulation, SimParams, SimResult
from ctiserver.dialer.pacing import AgentPhase, PacingSnapshot, Predictive
from ctiserver.dialer.stats import AbandonLedger, DialStats

CELLS = 12


class TablePredictive(Predictive):
    def __init__(self, stats: DialStats, ledger: AbandonLedger, table: list[float]) -> None:
        super().__init__(stats, ledger)
        self.table = table

    def _cell(self, snap: PacingSnapshot) -> int:
        ready = sum(1 for a in snap.agents if a.phase is AgentPhase.READY) - snap.waiting_live
        pipe = sum(self.stats.p_answer_given_ringing(e) for e in snap.ringing)
        return min(3, max(0, ready)) * 3 + (0 if pipe < 1.0 else 1 if pipe < 2.0 else 2)

    def decide(self, snap: PacingSnapshot, wall_now: float | None = None) -> int:
        wall = snap.now if wall_now is None else wall_now
        if not self._ready_for_prediction(wall):
            return super().decide(snap, wall_now)
        self._window_rate = self.ledger.rate(wall)
        self._adapt()  # outer loop on the base θ, then scale it for this state only
        base = self.theta
        self._seen_live = self.stats.live_count  # super().decide's _adapt is a no-op now
        self.theta = base * self.table[self._cell(snap)]
        try:
            return super().decide(snap, wall_now)
        finally:
            self.theta = base


def _one(job: tuple[int, float, float, tuple[float, ...]]) -> SimResult:
    seed, rate, hours, table = job
    params = SimParams(answer_rate=rate, hours=hours, seed=seed)
    return CampaignSimulation(params, lambda s, led: TablePredictive(s, led, list(table))).run()


def evaluate(pool: ProcessPoolExecutor, seeds: list[int], hours: float, table: list[float]) -> list[SimResult]:
    return list(pool.map(_one, [(s, 0.25, hours, tuple(table)) for s in seeds]))


def score(results: list[SimResult]) -> float:
    talk = sum(r.talk_min_per_agent_hour for r in results) / len(results)
    worst = max(r.max_window_rate for r in results)
    return talk - (10.0 if worst > 0.03 else 0.0)


def show(results: list[SimResult]) -> str:
    return ", ".join(
        f"s{r.params.seed} {r.talk_min_per_agent_hour:.2f}/{r.abandon_rate:.2%}/{r.max_window_rate:.2%}"
        for r in results
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="4,5,6,7")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--table", default=None)
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--passes", type=int, default=1)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    table = [float(x) for x in args.table.split(",")] if args.table else [1.0] * CELLS
    with ProcessPoolExecutor(max_workers=2) as pool:
        res = evaluate(pool, seeds, args.hours, table)
        best = score(res)
        print(f"start {best:.3f}: {show(res)}", flush=True)
        if args.tune:
            for _ in range(args.passes):
                for cell in range(CELLS):
                    for factor in (0.5, 2.0):
                        trial = list(table)
                        trial[cell] *= factor
                        res = evaluate(pool, seeds, args.hours, trial)
                        sc = score(res)
                        print(f"cell {cell} ×{factor}: {sc:.3f} {show(res)}", flush=True)
                        if sc > best + 0.02:
                            best, table = sc, trial
                            print(f"  kept: {','.join(f'{x:g}' for x in table)}", flush=True)
                            break
        print("table", ",".join(f"{x:g}" for x in table), f"score {best:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
