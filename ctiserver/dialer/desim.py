"""A discrete-event simulation of an outbound campaign, with no PBX, driving the production pacers.

Time is a ``SimClock`` (an injected clock that the simulation's event loop moves); the pacer sees the same
``PacingSnapshot`` the real dialer builds and is fed the same ``DialStats``/``AbandonLedger``. Used by
``bench/dialer_sim.py`` (the table in docs/dialer.md) and by tests with short runs.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ctiserver.dialer.pacing import (
    AgentPhase,
    AgentView,
    Pacer,
    PacingSnapshot,
    Predictive,
    PredictiveSettings,
    Progressive,
)
from ctiserver.dialer.stats import AbandonLedger, DialStats


class SimClock:
    """The simulation's clock: ``now``/``monotonic`` read the simulated time; nothing ever sleeps for real."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.start = start
        self.t = 0.0

    def now(self) -> float:
        return self.start + self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:  # pragma: no cover - the DES never sleeps
        raise RuntimeError("SimClock is driven by the simulation loop, not by sleeping")


@dataclass(frozen=True)
class SimParams:
    agents: int = 20
    answer_rate: float = 0.25
    talk_mean: float = 180.0
    talk_sigma: float = 0.6  # lognormal shape; mu is chosen so that the mean is talk_mean
    wrap: float = 15.0
    hours: float = 8.0
    ring_timeout: float = 25.0
    answer_delay_mean: float = 8.0  # live: 2 s set-up + lognormal ring (mean - 2 s), < timeout
    answer_delay_sigma: float = 0.4
    busy_share: float = 0.15  # of the calls not answered live: busy / failed after ~3 s
    grace: float = 2.0  # a live answer waits at most this long for an agent, then hears the message
    tick: float = 1.0  # the pacer is asked at least this often
    seed: int = 1
    abandon_cap: float = 0.03  # the ledger's cap (30-day window)


@dataclass
class SimResult:
    mode: str
    params: SimParams
    dialled: int = 0
    live: int = 0
    abandoned: int = 0
    talk_seconds: float = 0.0
    busy_seconds: float = 0.0  # talk + wrap
    max_window_rate: float = 0.0  # worst abandonment rate seen over the run (after 50 live answers)
    predictive_share: float = 0.0
    final_theta: float = 0.0

    @property
    def talk_min_per_agent_hour(self) -> float:
        return self.talk_seconds / 60.0 / (self.params.agents * self.params.hours)

    @property
    def occupancy(self) -> float:
        return self.busy_seconds / (self.params.agents * self.params.hours * 3600.0)

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0


@dataclass(order=True)
class _Ev:
    t: float
    seq: int
    kind: str = field(compare=False)
    ref: int = field(compare=False, default=-1)


class CampaignSimulation:
    def __init__(self, params: SimParams, make_pacer: Callable[[DialStats, AbandonLedger], Pacer]) -> None:
        self.p = params
        self.clock = SimClock()
        # common random numbers: the k-th dial and the k-th connected call draw from streams of their own, so
        # two pacers compared on one seed face the same callees and the same talk times (less noise between them)
        self.call_rng = random.Random(f"calls-{params.seed}")
        self.talk_rng = random.Random(f"talks-{params.seed}")
        self.stats = DialStats()
        self.ledger = AbandonLedger(cap=params.abandon_cap, window_seconds=30 * 86400.0)
        self.pacer = make_pacer(self.stats, self.ledger)
        self.agents = [AgentView(AgentPhase.READY, 0.0) for _ in range(params.agents)]
        self.ringing: dict[int, float] = {}  # call id → dial time
        self.waiting: dict[int, float] = {}  # live calls waiting for an agent → answer time
        self.events: list[_Ev] = []
        self.seq = itertools.count()
        self.result = SimResult(pacer_name(self.pacer), params)
        self._decisions = 0
        self._predictive_decisions = 0
        self._talk_mu = math.log(params.talk_mean) - params.talk_sigma**2 / 2

    def _push(self, dt: float, kind: str, ref: int = -1) -> None:
        heapq.heappush(self.events, _Ev(self.clock.t + dt, next(self.seq), kind, ref))

    def _dial(self) -> None:
        cid = next(self.seq)
        self.ringing[cid] = self.clock.t
        self.result.dialled += 1
        p, rng = self.p, self.call_rng
        live, busy, ring, fail_after = rng.random(), rng.random(), rng.gauss(0.0, 1.0), rng.uniform(1.0, 5.0)
        if live < p.answer_rate:
            ring_mu = math.log(max(0.1, p.answer_delay_mean - 2.0)) - p.answer_delay_sigma**2 / 2
            delay = min(p.ring_timeout - 0.5, 2.0 + math.exp(ring_mu + p.answer_delay_sigma * ring))
            self._push(delay, "answer", cid)
        elif busy < p.busy_share:
            self._push(fail_after, "fail", cid)
        else:
            self._push(p.ring_timeout, "fail", cid)

    def _snapshot(self) -> PacingSnapshot:
        t = self.clock.t
        return PacingSnapshot(
            now=t,
            agents=self.agents,
            ringing=[t - d for d in self.ringing.values()],
            waiting_live=len(self.waiting),
            wrap_seconds=self.p.wrap,
        )

    def _pace(self) -> None:
        snap = self._snapshot()
        if isinstance(self.pacer, Predictive):
            n = self.pacer.decide(snap, self.clock.now())
            self._predictive_decisions += self.pacer.last_mode == "predictive"
        else:
            n = self.pacer.decide(snap)
        self._decisions += 1
        for _ in range(n):
            self._dial()

    def _connect(self, agent: int) -> None:
        t = self.clock.t
        talk = self.talk_rng.lognormvariate(self._talk_mu, self.p.talk_sigma)
        self.agents[agent] = AgentView(AgentPhase.TALKING, t)
        self._push(talk, "talk_end", agent)

    def _record_live(self, abandoned: bool) -> None:
        self.result.live += 1
        self.result.abandoned += abandoned
        self.stats.record_live(abandoned)
        self.ledger.record(self.clock.now(), abandoned)
        if self.result.live >= 50:
            self.result.max_window_rate = max(self.result.max_window_rate, self.ledger.rate(self.clock.now()))

    def _free_agent(self) -> int | None:
        for i, a in enumerate(self.agents):
            if a.phase is AgentPhase.READY:
                return i
        return None

    def _handle(self, ev: _Ev) -> None:
        t = self.clock.t
        if ev.kind == "answer":
            dialled = self.ringing.pop(ev.ref)
            self.stats.record_attempt(True, t - dialled)
            agent = self._free_agent()
            if agent is not None:
                self._record_live(False)
                self._connect(agent)
            else:
                self.waiting[ev.ref] = t
                self._push(self.p.grace, "grace_end", ev.ref)
        elif ev.kind == "fail":
            dialled = self.ringing.pop(ev.ref)
            self.stats.record_attempt(False, t - dialled)
        elif ev.kind == "grace_end":
            if self.waiting.pop(ev.ref, None) is not None:
                self._record_live(True)
        elif ev.kind == "talk_end":
            a = self.agents[ev.ref]
            self.stats.record_talk(t - a.since)
            self.result.talk_seconds += t - a.since
            self.result.busy_seconds += t - a.since
            self.agents[ev.ref] = AgentView(AgentPhase.WRAP_UP, t, t + self.p.wrap)
            self._push(self.p.wrap, "wrap_end", ev.ref)
        elif ev.kind == "wrap_end":
            self.result.busy_seconds += t - self.agents[ev.ref].since
            self.agents[ev.ref] = AgentView(AgentPhase.READY, t)
            if self.waiting:
                cid = min(self.waiting, key=self.waiting.__getitem__)
                del self.waiting[cid]
                self._record_live(False)
                self._connect(ev.ref)

    def run(self) -> SimResult:
        end = self.p.hours * 3600.0
        self._push(0.0, "tick")
        while self.events:
            ev = heapq.heappop(self.events)
            if ev.t > end:
                break
            self.clock.t = ev.t
            if ev.kind == "tick":
                self._push(self.p.tick, "tick")
            else:
                self._handle(ev)
            self._pace()
        # talk and wrap-up still running at the end count up to the end
        for a in self.agents:
            if a.phase is AgentPhase.TALKING:
                self.result.talk_seconds += end - a.since
            if a.phase is not AgentPhase.READY:
                self.result.busy_seconds += end - a.since
        self.result.predictive_share = self._predictive_decisions / max(1, self._decisions)
        if isinstance(self.pacer, Predictive):
            self.result.final_theta = self.pacer.theta
        return self.result


def pacer_name(pacer: Pacer) -> str:
    return pacer.name


def run(params: SimParams, mode: str, settings: PredictiveSettings | None = None) -> SimResult:
    if mode == "progressive":
        return CampaignSimulation(params, lambda stats, ledger: Progressive()).run()
    if mode == "predictive":
        return CampaignSimulation(params, lambda stats, ledger: Predictive(stats, ledger, settings)).run()
    raise ValueError(f"unknown pacing mode {mode!r}")
