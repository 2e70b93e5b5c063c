"""Pacing: how many new calls to launch now. The same code drives the real dialer and bench/dialer_sim.py.

* ``Preview`` — never dials by itself (the agent dials from the screen, or after N s via the engine).
* ``Progressive`` — one line per ready agent that has no call in flight: a live answer always finds an agent
  and nothing is abandoned.
* ``Predictive`` — dials ahead of agents becoming free. For each extra call it computes, from the measured
  answer rate, answer delays and talk-time distribution, the probability that if it is answered live no agent
  is free (the other calls answering by then ≥ agents available by then, at several answer-time quantiles).
  It adds calls while that probability stays under a threshold θ; an outer loop moves θ so that the measured
  rolling abandonment rate tracks a target a little below the cap (Predict1PI-like). It falls back to
  progressive while there is too little data, and whenever the abandonment ledger of the regulatory window has
  no headroom left for the abandons that the calls in flight may still cause.

Warm start: predictive needs the answer rate and the answer delays (measured within the first minutes), not
the talk times — a talking agent cannot free within the horizon while the wrap-up is longer than the answer
delays, and until enough talks have ended talking agents count as not free. Risk is taken as soon as the
window's ledger can afford one abandon (no fixed count of live answers), scaled down by the soft stop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ctiserver.dialer.model import CampaignSettings, PacingMode
from ctiserver.dialer.stats import AbandonLedger, DialStats


class AgentPhase(StrEnum):
    READY = "ready"  # idle, waiting for a call
    TALKING = "talking"  # on a call, ``since`` = when the talk started
    WRAP_UP = "wrap_up"  # ``until`` = when wrap-up ends (known to the ACD)
    RESERVED = "reserved"  # held for one of our calls (ringing to the agent)


@dataclass(frozen=True, slots=True)
class AgentView:
    phase: AgentPhase
    since: float = 0.0  # monotonic start of the phase
    until: float = 0.0  # WRAP_UP: monotonic end


@dataclass(frozen=True, slots=True)
class PacingSnapshot:
    now: float  # monotonic
    agents: Sequence[AgentView]
    ringing: Sequence[float]  # for each call in flight: seconds since it was dialled
    waiting_live: int = 0  # answered live calls waiting for an agent right now
    wrap_seconds: float = 15.0  # the campaign's wrap-up, for agents still talking


class Pacer(Protocol):
    name: str

    def decide(self, snap: PacingSnapshot) -> int:
        """How many calls to launch now (>= 0)."""
        ...


class Preview:
    name = "preview"

    def decide(self, snap: PacingSnapshot) -> int:
        return 0


class Progressive:
    name = "progressive"

    def decide(self, snap: PacingSnapshot) -> int:
        ready = sum(1 for a in snap.agents if a.phase is AgentPhase.READY)
        return max(0, ready - len(snap.ringing) - snap.waiting_live)


@dataclass
class PredictiveSettings:
    target: float = 0.027  # the abandonment rate the outer loop aims at (cap and stop are in the ledger)
    theta: float = 0.02  # initial per-call abandon-risk threshold
    theta_min: float = 0.01
    theta_max: float = 0.6
    gain: float = 0.001  # outer-loop step per live answer
    min_outcomes: int = 60  # fewer dial outcomes than this → progressive
    min_answers: int = 10  # fewer measured answer delays than this → progressive
    min_talks: int = 10  # fewer finished talks: talking agents count as not free within the horizon
    min_live: int = 0  # extra floor of live answers in the window; the ledger's headroom is the real gate
    grace: float = 2.0  # a live answer may wait this long for an agent after the greeting (the law: 2 s)
    max_ratio: float = 8.0  # never more calls in flight than this × agents logged in
    soft_headroom: float = 4.0  # below this many abandons of ledger headroom, θ is scaled down towards 0


_QUANTILES = (0.08, 0.25, 0.42, 0.58, 0.75, 0.92)


def _poisson_binomial(probs: Sequence[float], cut: float = 1e-9) -> list[float]:
    dist = [1.0]
    for p in probs:
        if p <= 0.0:
            continue
        nxt = [0.0] * (len(dist) + 1)
        q = 1.0 - p
        for k, mass in enumerate(dist):
            nxt[k] += mass * q
            nxt[k + 1] += mass * p
        while len(nxt) > 1 and nxt[-1] < cut:
            nxt.pop()
        dist = nxt
    return dist


class Predictive:
    name = "predictive"

    def __init__(self, stats: DialStats, ledger: AbandonLedger, settings: PredictiveSettings | None = None) -> None:
        self.stats = stats
        self.ledger = ledger
        self.settings = settings or PredictiveSettings()
        self.theta = self.settings.theta
        self._fallback = Progressive()
        self.last_mode = "progressive"
        self._seen_live = 0
        self._window_rate = 0.0

    def _ready_for_prediction(self, wall_now: float) -> bool:
        s = self.settings
        return (
            len(self.stats.outcomes) >= s.min_outcomes
            and len(self.stats.answer_delay) >= s.min_answers
            and self.stats.answer_rate > 0.0
            and self.ledger.totals(wall_now)[0] >= s.min_live
            and self.ledger.would_allow_risk(wall_now)
        )

    def _adapt(self) -> None:
        """Outer loop: move θ by the error between the target and the recent measured abandonment rate."""
        fresh = self.stats.live_count - self._seen_live
        if fresh <= 0:
            return
        self._seen_live = self.stats.live_count
        err = self.settings.target - max(self.stats.recent_abandon_rate, self._window_rate)
        self.theta *= math.exp(fresh * self.settings.gain * err / self.settings.target)
        self.theta = min(self.settings.theta_max, max(self.settings.theta_min, self.theta))

    def decide(self, snap: PacingSnapshot, wall_now: float | None = None) -> int:
        if not self._ready_for_prediction(snap.now if wall_now is None else wall_now):
            self.last_mode = "progressive"
            return self._fallback.decide(snap)
        self.last_mode = "predictive"
        wall = snap.now if wall_now is None else wall_now
        self._window_rate = self.ledger.rate(wall)
        self._adapt()
        # the closer the window is to its stop, the less risk per call (a soft stop before the hard one)
        theta = self.theta * min(1.0, max(0.0, (self.ledger.headroom(wall) - 1.0) / self.settings.soft_headroom))
        stats = self.stats
        # when would a call dialled now be answered? a few quantiles of the measured answer delays; for each,
        # the agents free by then (+ grace) against the other calls answered by then
        grace = max(0.0, self.settings.grace - stats.grace_used.mean(0.0))
        times = [stats.answer_delay.quantile(q, 5.0) for q in _QUANTILES]
        base = -snap.waiting_live
        busy: list[AgentView] = []
        for a in snap.agents:
            if a.phase is AgentPhase.READY:
                base += 1
            elif a.phase in (AgentPhase.WRAP_UP, AgentPhase.TALKING):
                busy.append(a)
        talks_known = len(stats.talk) >= self.settings.min_talks
        avail = [_poisson_binomial([_p_free_by(stats, a, snap, t + grace, talks_known) for a in busy]) for t in times]
        ringing = list(snap.ringing)
        answers = [_poisson_binomial([stats.p_answer_within(e, t) for e in ringing]) for t in times]
        new_by = [stats.answer_rate * stats.answer_delay.cdf(t) for t in times]
        room = int(self.settings.max_ratio * len(snap.agents)) - len(ringing)
        # the legal budget: abandons the window still tolerates, minus those the calls in flight may cause
        budget = self.ledger.headroom(snap.now if wall_now is None else wall_now) - 1.0
        launched = 0
        n = len(times)
        while launched < room:
            # P(answers of the others by then >= agents available by then): the new call finds no agent
            risk = sum(_p_at_least(answers[i], avail[i], base) for i in range(n)) / n
            if risk > theta:
                break
            after = [_add_bernoulli(answers[i], new_by[i]) for i in range(n)]
            if _expected_excess(after[-1], avail[-1], base) > budget:
                break
            launched += 1
            answers = after
        # never dial less than progressive would
        return max(launched, self._fallback.decide(snap))


def _p_free_by(stats: DialStats, a: AgentView, snap: PacingSnapshot, t: float, talks_known: bool = True) -> float:
    """P(agent ``a`` is free within ``t`` s). Wrap-up ends are known; a talking agent needs its talk to end and
    the wrap-up to pass, which only the talk-time samples can tell: with too few of them it counts as not free
    (the safe side — fewer agents forecast means fewer calls dialled ahead)."""
    if a.phase is AgentPhase.WRAP_UP:
        return 1.0 if a.until - snap.now <= t else 0.0
    if not talks_known:
        return 0.0
    return stats.p_talk_ends_within(snap.now - a.since, t - snap.wrap_seconds)


def _add_bernoulli(dist: list[float], p: float) -> list[float]:
    nxt = [0.0] * (len(dist) + 1)
    q = 1.0 - p
    for k, mass in enumerate(dist):
        nxt[k] += mass * q
        nxt[k + 1] += mass * p
    while len(nxt) > 1 and nxt[-1] < 1e-9:
        nxt.pop()
    return nxt


def _expected_excess(answers: list[float], freed: list[float], base_free: int) -> float:
    """E[max(0, X - base_free - Y)]: the expected number of live answers that find no agent."""
    total = 0.0
    for y, ym in enumerate(freed):
        need = base_free + y
        for x in range(max(0, need + 1), len(answers)):
            total += ym * answers[x] * (x - need)
    return total


def _p_at_least(answers: list[float], freed: list[float], base_free: int) -> float:
    """P(X >= base_free + Y) for independent X ~ answers, Y ~ freed."""
    # cumulative tail of X
    tail = [0.0] * (len(answers) + 1)
    acc = 0.0
    for k in range(len(answers) - 1, -1, -1):
        acc += answers[k]
        tail[k] = acc
    total = 0.0
    for y, mass in enumerate(freed):
        need = base_free + y
        if need <= 0:
            total += mass
        elif need < len(tail):
            total += mass * tail[need]
    return min(1.0, total)


def for_campaign(settings: CampaignSettings, stats: DialStats, ledger: AbandonLedger) -> Pacer:
    """The pacer of a campaign's mode, with its settings."""
    if settings.mode is PacingMode.PREVIEW:
        return Preview()
    if settings.mode is PacingMode.PROGRESSIVE:
        return Progressive()
    return Predictive(
        stats,
        ledger,
        PredictiveSettings(
            grace=settings.agent_wait,
            min_outcomes=settings.predictive_min_outcomes,
            min_live=settings.predictive_min_live,
            target=settings.abandon_target,
            max_ratio=settings.max_lines_per_agent,
        ),
    )
