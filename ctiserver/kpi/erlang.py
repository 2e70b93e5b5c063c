"""Staffing maths: Erlang C (with the numerically stable Erlang B recursion) and Erlang A (M/M/n+M, callers
with exponential patience).

Erlang C, for ``A = λ·AHT`` Erlangs offered to ``n`` agents:

* Erlang B by recursion: ``B(0) = 1``, ``B(k) = A·B(k-1) / (k + A·B(k-1))`` — never forms ``A**n`` or
  ``n!``, so it stays exact beyond 1,000 agents.
* probability of waiting ``C = n·B / (n − A·(1 − B))`` (for ``n > A``; otherwise 1),
* service level ``SL(T) = 1 − C·exp(−(n − A)·T / AHT)``,
* average speed of answer ``ASA = C·AHT / (n − A)``, occupancy ``A / n``.

Erlang A is solved exactly as the birth-death chain of the number of callers in the system (arrivals λ,
departures ``min(k, n)·μ + max(k − n, 0)·θ`` with ``μ = 1/AHT``, ``θ = 1/patience``), truncated where the
tail is negligible; abandon % = ``θ·E[queue] / λ``, average wait = ``E[queue] / λ`` (Little; reported as
ASA), SL = share of arrivals answered within T, on the tagged caller's pure-death chain by uniformisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class ErlangError(ValueError):
    """Bad staffing input (negative load, impossible target...)."""


@dataclass(frozen=True, slots=True)
class Staffing:
    agents: int  # agents on the phones
    scheduled: int  # agents to schedule once shrinkage is taken out
    traffic: float  # offered load in Erlangs
    service_level: float  # share answered within the target time, 0..1
    asa: float  # seconds
    occupancy: float  # 0..1
    wait_probability: float  # 0..1
    abandon: float | None = None  # 0..1, Erlang A only


def erlang_b(agents: int, traffic: float) -> float:
    if agents < 0 or traffic < 0:
        raise ErlangError("agents and traffic must be >= 0")
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a caller waits (Erlang C)."""
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1.0 - b))


def traffic_of(calls: float, interval: float, aht: float) -> float:
    if calls < 0 or interval <= 0 or aht <= 0:
        raise ErlangError("calls must be >= 0, interval and AHT > 0")
    return calls / interval * aht


def erlang_c_metrics(agents: int, traffic: float, aht: float, target_seconds: float) -> Staffing:
    c = erlang_c(agents, traffic)
    if agents <= traffic:
        return Staffing(agents, agents, traffic, 0.0, math.inf, 1.0 if agents else 0.0, 1.0)
    sl = 1.0 - c * math.exp(-(agents - traffic) * target_seconds / aht)
    asa = c * aht / (agents - traffic)
    return Staffing(agents, agents, traffic, sl, asa, traffic / agents, c)


def _with_shrinkage(s: Staffing, shrinkage: float) -> Staffing:
    if not 0 <= shrinkage < 1:
        raise ErlangError("shrinkage must be in [0, 1)")
    scheduled = math.ceil(s.agents / (1.0 - shrinkage) - 1e-9)
    return Staffing(
        s.agents, scheduled, s.traffic, s.service_level, s.asa, s.occupancy, s.wait_probability, s.abandon
    )


def _check_targets(sl: float, max_asa: float | None, max_occupancy: float | None) -> None:
    if not 0 < sl < 1:
        raise ErlangError("target service level must be strictly between 0 and 1 (e.g. 0.8)")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ErlangError("maximum occupancy must be in (0, 1]")
    if max_asa is not None and max_asa <= 0:
        raise ErlangError("maximum ASA must be > 0")


def agents_for(
    calls: float,
    interval: float,
    aht: float,
    target_sl: float,
    target_seconds: float,
    *,
    max_asa: float | None = None,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
    patience: float | None = None,
) -> Staffing:
    """The smallest number of agents meeting every target (Erlang C; Erlang A when ``patience`` is set)."""
    _check_targets(target_sl, max_asa, max_occupancy)
    traffic = traffic_of(calls, interval, aht)
    if traffic == 0:
        return _with_shrinkage(Staffing(0, 0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0 if patience else None), shrinkage)
    n = max(1, math.floor(traffic) + (0 if patience else 1))
    while True:
        s = (
            erlang_a_metrics(n, calls / interval, aht, patience, target_seconds)
            if patience
            else erlang_c_metrics(n, traffic, aht, target_seconds)
        )
        ok = s.service_level >= target_sl - 1e-12
        ok = ok and (max_asa is None or s.asa <= max_asa)
        ok = ok and (max_occupancy is None or s.occupancy <= max_occupancy)
        if ok:
            return _with_shrinkage(s, shrinkage)
        n += 1


def _stationary(agents: int, lam: float, mu: float, theta: float) -> list[float]:
    """Stationary distribution of the M/M/n+M chain, truncated once the tail is negligible."""
    probs = [1.0]
    k = 0
    total = 1.0
    while True:
        k += 1
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        p = probs[-1] * lam / death
        probs.append(p)
        total += p
        if k > agents and p < 1e-16 * total:
            break
        if total > 1e250:  # rescale to stay in range far beyond 1,000 agents
            probs = [x / total for x in probs]
            total = 1.0
    return [x / total for x in probs]


def _answered_within(agents: int, mu: float, theta: float, ahead: int, t: float) -> float:
    """P(a caller with ``ahead`` callers before it in the queue is answered within ``t`` s)."""
    # states: i = callers ahead (ahead..0); from i at rate n·mu + i·theta one ahead leaves; at 0 the next
    # server completion (rate n·mu) answers us; we abandon at rate theta from every state.
    base = agents * mu
    lam_u = base + ahead * theta + theta
    steps_mean = lam_u * t
    vec = [0.0] * (ahead + 1)
    vec[ahead] = 1.0
    log_w = -steps_mean
    cum_answered = 0.0
    result = 0.0
    max_steps = int(steps_mean + 12 * math.sqrt(steps_mean + 1) + 20)
    for step in range(max_steps + 1):
        w = math.exp(log_w)
        result += w * cum_answered
        # one uniformised step
        new = [0.0] * (ahead + 1)
        for i, p in enumerate(vec):
            if p == 0.0:
                continue
            out = base + i * theta
            if i == 0:
                cum_answered += p * base / lam_u
            else:
                new[i - 1] += p * out / lam_u
            new[i] += p * (lam_u - out - theta) / lam_u
        vec = new
        log_w += math.log(steps_mean) - math.log(step + 1) if steps_mean > 0 else -math.inf
    return min(1.0, result)


def erlang_a_metrics(
    agents: int, lam: float, aht: float, patience: float | None, target_seconds: float
) -> Staffing:
    """Erlang A: ``lam`` arrivals per second, exponential patience with mean ``patience`` s."""
    if patience is None or patience <= 0:
        raise ErlangError("patience must be > 0 s")
    mu, theta = 1.0 / aht, 1.0 / patience
    probs = _stationary(agents, lam, mu, theta)
    queue = sum((k - agents) * p for k, p in enumerate(probs) if k > agents)
    abandon = theta * queue / lam if lam else 0.0
    wait_p = sum(p for k, p in enumerate(probs) if k >= agents)
    sl = sum(p for k, p in enumerate(probs) if k < agents)
    for k, p in enumerate(probs):
        if k >= agents and p > 1e-12:
            sl += p * _answered_within(agents, mu, theta, k - agents, target_seconds)
    busy = sum(min(k, agents) * p for k, p in enumerate(probs))
    asa = queue / lam if lam else 0.0
    return Staffing(agents, agents, lam * aht, sl, asa, busy / agents, wait_p, abandon)
