"""Third-round experiments on predictive pacing (issue #9): a rollout (model-predictive) pacer.

    .venv/bin/python bench/dialer_mpc.py --seeds 1,2,3 [--hours 8] [--set k=16] [--set s=1.0] ...

At each decision (at most every ``every`` s), K futures of the next ``horizon`` s are sampled from the current
state (calls in flight: Bayes posterior of a live answer given their age and the answer/fail time conditional on
it; wrap-up ends; talking agents' remaining talk from the measured talk times), with common random numbers across
the candidate decisions n = 0, 1, 2, … extra calls now. In each future a cheap non-anticipating base policy keeps
dialling every second (expected-pipeline rule with safety stock ``s``), answers are matched to agents first come
first served with the 2-s grace, and the cost is idle agent-seconds + λ × abandons. n minimises the mean cost;
λ is moved by the outer loop (as θ is in ``Predictive``) so that the abandonment rate tracks the target; λ is
divided by the soft-stop factor of the ledger's headroom, the shipped rule runs until ``ramp_live`` live answers.
``base_mode=1 open_loop=0`` is the variant measured in docs/dialer.md (the base policy is progressive, re-run for
each n); ``open_loop=1`` keeps the n = 0 future dial schedule fixed for every n (it procrastinates).
"""

from __future__ import annotations

import argparse
import bisect
import math
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.dialer.desim import CampaignSimulation, SimParams, SimResult
from ctiserver.dialer.pacing import AgentPhase, PacingSnapshot, Predictive, PredictiveSettings
from ctiserver.dialer.stats import AbandonLedger, DialStats


@dataclass
class MpcSettings:
    k: int = 16  # sampled futures
    horizon: float = 20.0
    s: float = 1.0  # base policy's safety stock (agents)
    h: float = 8.0  # base policy looks at agents free by now + h + grace
    lam: float = 150.0  # initial λ (agent-seconds per abandon)
    lam_gain: float = 0.001
    target: float = 0.027
    every: float = 1.0
    n_max: int = 6
    base_step: float = 1.0
    ramp_live: int = 150  # the shipped rule until this many live answers
    base_mode: int = 0  # 0: expected pipeline with safety stock s; 1: progressive
    open_loop: int = 1  # future dials: the base policy's schedule for n = 0, the same for every n


class RolloutPacer(Predictive):
    name = "predictive"

    def __init__(self, stats: DialStats, ledger: AbandonLedger, mpc: MpcSettings) -> None:
        super().__init__(stats, ledger, PredictiveSettings(target=mpc.target))
        self.mpc = mpc
        self.lam = mpc.lam
        self.rng = random.Random(12345)
        self._last = -1e9
        self.cpu = 0.0
        self.calls = 0

    def _adapt_lam(self) -> None:
        fresh = self.stats.live_count - self._seen_live
        if fresh <= 0:
            return
        self._seen_live = self.stats.live_count
        err = self.mpc.target - max(self.stats.recent_abandon_rate, self._window_rate)
        self.lam *= math.exp(-fresh * self.mpc.lam_gain * err / self.mpc.target)
        self.lam = min(1e5, max(5.0, self.lam))

    def decide(self, snap: PacingSnapshot, wall_now: float | None = None) -> int:
        wall = snap.now if wall_now is None else wall_now
        floor = self._fallback.decide(snap)
        if not self._ready_for_prediction(wall):
            self.last_mode = "progressive"
            return floor
        if self.ledger.totals(wall)[0] < self.mpc.ramp_live:
            return super().decide(snap, wall_now)  # the shipped rule while the ledger is tight
        self.last_mode = "predictive"
        self._window_rate = self.ledger.rate(wall)
        self._adapt_lam()
        if snap.now - self._last < self.mpc.every:
            return floor
        self._last = snap.now
        soft = min(1.0, max(1e-3, (self.ledger.headroom(wall) - 1.0) / self.settings.soft_headroom))
        t0 = time.process_time()
        n = self._rollout(snap, self.lam / soft)
        self.cpu += time.process_time() - t0
        self.calls += 1
        return max(n, floor)

    def _rollout(self, snap: PacingSnapshot, lam: float) -> int:
        st, m = self.stats, self.mpc
        p = st.answer_rate
        ans = st.answer_delay._ordered()
        fails = st.fail_delay._ordered()
        talks = st.talk._ordered() if len(st.talk) >= self.settings.min_talks else []
        na, nf, nt = len(ans), len(fails), len(talks)
        grace, horizon, wrap = self.settings.grace, m.horizon, snap.wrap_seconds
        rng = self.rng

        def post(age: float) -> float:
            la = p * (1.0 - bisect.bisect_right(ans, age) / na)
            ld = (1.0 - p) * (1.0 - bisect.bisect_right(fails, age) / nf) if nf else 0.0
            return la / (la + ld) if la + ld > 0 else 0.0

        # posterior table over ages at 0.5-s resolution (ages up to 40 s)
        qtab = [post(0.5 * i) for i in range(81)]

        def q(age: float) -> float:
            i = int(age * 2.0)
            return qtab[i] if i < 81 else 0.0

        ringing = list(snap.ringing)
        # agents: (free time, known-at time)
        fixed_free: list[float] = []
        talking: list[float] = []
        for a in snap.agents:
            if a.phase is AgentPhase.READY:
                fixed_free.append(0.0)
            elif a.phase is AgentPhase.WRAP_UP:
                fixed_free.append(max(0.0, a.until - snap.now))
            elif a.phase is AgentPhase.TALKING:
                talking.append(snap.now - a.since)
        waiting = snap.waiting_live
        scen = []
        for _ in range(m.k):
            # in-flight calls: (resolution time, live, dial time rel. to now)
            calls: list[tuple[float, bool, float]] = []
            for e in ringing:
                u = rng.random()
                if u < q(e):
                    lo = bisect.bisect_right(ans, e)
                    t = ans[lo + int(rng.random() * (na - lo))] - e if lo < na else 0.0
                    calls.append((t, True, -e))
                else:
                    lo = bisect.bisect_right(fails, e)
                    t = fails[lo + int(rng.random() * (nf - lo))] - e if lo < nf else 0.0
                    calls.append((t, False, -e))
            frees = [(f, 0.0) for f in fixed_free]
            for el in talking:
                if nt:
                    lo = bisect.bisect_right(talks, el)
                    rem = talks[lo + int(rng.random() * (nt - lo))] - el if lo < nt else 0.0
                    if rem + wrap < horizon + grace:
                        frees.append((rem + wrap, rem))
            frees.sort()
            news = [(rng.random(), rng.random()) for _ in range(80)]
            scen.append((calls, frees, news))

        def new_call(u: float, v: float, at: float) -> tuple[float, bool, float]:
            if u < p:
                return (at + ans[int(v * na)], True, at)
            return (at + (fails[int(v * nf)] if nf else 25.0), False, at)

        def cost(
            sc: tuple[list[tuple[float, bool, float]], list[tuple[float, float]], list[tuple[float, float]]],
            n: int,
            sched: list[float] | None = None,
        ) -> float:
            calls0, frees, news = sc
            calls = list(calls0)
            used = 0
            for _ in range(n):
                calls.append(new_call(*news[used], 0.0))
                used += 1
            if sched is not None:
                for at in sched:
                    if used >= len(news):
                        break
                    calls.append(new_call(*news[used], at))
                    used += 1
            tau = m.base_step
            made: list[float] = []
            while sched is None and tau < horizon - 6.0:
                # base policy, non-anticipating: agents known free by tau + h + grace, minus answers already in
                avail = sum(1 for f, k in frees if k <= tau and f <= tau + m.h + grace)
                answered = sum(1 for r, live, _ in calls if live and r <= tau)
                pend = sum(q(tau - d) for r, _, d in calls if r > tau)
                if m.base_mode == 1:  # progressive: one call per free agent without a call in flight
                    free_now = sum(1 for f, _ in frees if f <= tau)
                    ring = sum(1 for r, _, _ in calls if r > tau)
                    k = max(0, free_now - waiting - answered - ring)
                else:
                    deficit = avail - waiting - answered - pend - m.s
                    k = int(deficit / p) if deficit > 0 else 0
                for _ in range(min(k, 8)):
                    if used >= len(news):
                        break
                    calls.append(new_call(*news[used], tau))
                    made.append(tau)
                    used += 1
                tau += m.base_step
            self.last_sched = made
            # first come first served matching, grace 2 s
            answers = sorted([0.0] * waiting + [r for r, live, _ in calls if live and r < horizon])
            fr = [f for f, _ in frees]
            idle = 0.0
            aband = 0
            j = 0
            for a in answers:
                if j < len(fr) and fr[j] <= a + grace:
                    idle += max(0.0, a - fr[j])
                    j += 1
                else:
                    aband += 1
            while j < len(fr) and fr[j] < horizon:
                idle += horizon - fr[j]
                j += 1
            self.last_ab = aband
            return idle + lam * aband

        best_n, best = 0, math.inf
        self.last_costs: list[float] = []
        scheds: list[list[float] | None] = [None] * len(scen)
        if m.open_loop:
            for i, sc in enumerate(scen):
                cost(sc, 0)
                scheds[i] = self.last_sched
        for n in range(m.n_max + 1):
            c = sum(cost(sc, n, sd) for sc, sd in zip(scen, scheds, strict=True))
            self.last_costs.append(c / len(scen))
            if c < best:
                best_n, best = n, c
            elif c > best:
                break
        return best_n


def _one(job: tuple[int, float, float, dict[str, float]]) -> tuple[SimResult, float, float, float]:
    seed, rate, hours, sets = job
    mpc = MpcSettings()
    for key, v in sets.items():
        setattr(mpc, key, type(getattr(mpc, key))(v))
    params = SimParams(agents=int(sets.get("agents", 20)), answer_rate=rate, hours=hours, seed=seed)
    holder: list[RolloutPacer] = []

    def make(stats: DialStats, ledger: AbandonLedger) -> RolloutPacer:
        holder.append(RolloutPacer(stats, ledger, mpc))
        return holder[0]

    t0 = time.process_time()
    r = CampaignSimulation(params, make).run()
    pacer = holder[0]
    return r, time.process_time() - t0, pacer.cpu / max(1, pacer.calls), pacer.lam


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--rate", type=float, default=0.25)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    sets = {k: float(v) for k, _, v in (s.partition("=") for s in args.set)}
    jobs = [(int(s), args.rate, args.hours, sets) for s in args.seeds.split(",")]
    print(f"settings {sets}")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for r, secs, per, lam in pool.map(_one, jobs):
            print(
                f"seed {r.params.seed}: {r.talk_min_per_agent_hour:.2f} talk-min/agent-h,"
                f" abandoned {r.abandon_rate:.2%},"
                f" worst {r.max_window_rate:.2%}, live {r.live}, pred {r.predictive_share:.0%}, λ {lam:.0f},"
                f" {per * 1000:.1f} ms/decision, cpu {secs:.0f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
