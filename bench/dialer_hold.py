"""Fourth-round experiment (issue #9): abandoned callers who hold for the next agent after the message.

    .venv/bin/python bench/dialer_hold.py --seeds 1,2,3            # 8 h, 20 agents / 25 %, several hold models

VICIdial's "drop action: in-group": the live answer that found no agent within 2 s hears the message and is
counted abandoned all the same, then waits in a queue for the campaign's next free agent (served after the
answers still inside their two seconds). ``stay`` is the share of callers who hold, ``patience`` their mean
wait (exponential) before hanging up. Held callers count as answers waiting for an agent in the pacer's
snapshot. The production pacer is unchanged; only the simulated callee changes.
"""

from __future__ import annotations

import argparse
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.dialer.desim import CampaignSimulation, SimParams, _Ev
from ctiserver.dialer.pacing import PacingSnapshot, Predictive, PredictiveSettings

MODELS = ((0.0, 1.0), (0.5, 30.0), (0.5, 60.0), (1.0, 60.0), (1.0, 1e9))


class HoldSimulation(CampaignSimulation):
    def __init__(self, params: SimParams, stay: float, patience: float) -> None:
        super().__init__(params, lambda stats, ledger: Predictive(stats, ledger, PredictiveSettings()))
        self.stay, self.patience = stay, patience
        self.held: dict[int, float] = {}  # call id → when it started holding
        self.hold_rng = random.Random(f"hold-{params.seed}")
        self.served_held = 0

    def _snapshot(self) -> PacingSnapshot:
        snap = super()._snapshot()
        waiting = snap.waiting_live + len(self.held)
        return PacingSnapshot(snap.now, snap.agents, snap.ringing, waiting, snap.wrap_seconds)

    def _handle(self, ev: _Ev) -> None:
        t = self.clock.t
        if ev.kind == "grace_end":
            if self.waiting.pop(ev.ref, None) is not None:
                self._record_live(True)  # abandoned in the ledger whatever happens next
                if self.hold_rng.random() < self.stay:
                    self.held[ev.ref] = t
                    self._push(self.hold_rng.expovariate(1.0 / self.patience), "held_gone", ev.ref)
        elif ev.kind == "held_gone":
            self.held.pop(ev.ref, None)
        elif ev.kind == "wrap_end" and not self.waiting and self.held:
            self.result.busy_seconds += t - self.agents[ev.ref].since
            del self.held[min(self.held, key=self.held.__getitem__)]
            self.served_held += 1
            self._connect(ev.ref)
        else:
            super()._handle(ev)


def _one(job: tuple[int, float, float, float]) -> str:
    seed, hours, stay, patience = job
    sim = HoldSimulation(SimParams(seed=seed, hours=hours), stay, patience)
    r = sim.run()
    return (
        f"| {seed} | {stay:.0%} | {patience:g} | {r.talk_min_per_agent_hour:.2f} | {r.abandon_rate:.2%} | "
        f"{r.max_window_rate:.2%} | {sim.served_held} of {r.abandoned} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    jobs = [(int(s), args.hours, stay, pat) for s in args.seeds.split(",") for stay, pat in MODELS]
    print("| seed | stay | patience s | talk min/agent-hour | abandoned | worst window | held callers served |")
    print("|---|---|---|---|---|---|---|")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for line in pool.map(_one, jobs):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
