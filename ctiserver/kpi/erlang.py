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

    def metrics(n: int) -> Staffing:
        if patience:
            return erlang_a_metrics(n, calls / interval, aht, patience, target_seconds)
        return erlang_c_metrics(n, traffic, aht, target_seconds)

    def meets(s: Staffing) -> bool:
        return (
            s.service_level >= target_sl - 1e-12
            and (max_asa is None or s.asa <= max_asa)
            and (max_occupancy is None or s.occupancy <= max_occupancy)
        )

    # every target is monotone in the number of agents: double until met, then bisect. Erlang C needs
    # n > A; with patient-less callers (Erlang A) fewer agents than A may already meet the target.
    lo = 0 if patience else math.floor(traffic)  # known not to meet (or impossible)
    step = 1
    hi = lo + step
    while not meets(metrics(hi)):
        lo, step = hi, step * 2
        hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(metrics(mid)):
            hi = mid
        else:
            lo = mid
    return _with_shrinkage(metrics(hi), shrinkage)


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


def _answered_within(agents: int, mu: float, theta: float, jmax: int, t: float) -> list[float]:
    """``out[j]`` = P(a caller who finds ``j`` callers ahead of it in the queue is answered within ``t`` s).

    The tagged caller's pure-death chain (j ahead → j−1 at rate n·μ + j·θ; from 0, answered at rate n·μ; it
    abandons at rate θ from every state), solved for every start state at once by uniformisation:
    ``u_m(j)`` = P(answered within m uniformised steps), ``out[j] = Σ_m Poisson(m; Λt)·u_m(j)``.
    """
    base = agents * mu
    lam_u = base + jmax * theta + theta
    mean = lam_u * t
    down = [(base + j * theta) / lam_u for j in range(jmax + 1)]
    stay = [1.0 - d - theta / lam_u for d in down]
    u = [0.0] * (jmax + 1)
    out = [0.0] * (jmax + 1)
    log_w = -mean
    max_steps = int(mean + 12 * math.sqrt(mean + 1) + 20)
    for step in range(max_steps + 1):
        w = math.exp(log_w)
        if w > 0.0:
            for j in range(jmax + 1):
                out[j] += w * u[j]
        # one more step: from 0 we are answered (absorbing, value 1), from j > 0 someone ahead leaves
        u = [down[0] + stay[0] * u[0]] + [down[j] * u[j - 1] + stay[j] * u[j] for j in range(1, jmax + 1)]
        if mean <= 0:
            break
        log_w += math.log(mean) - math.log(step + 1)
    return [min(1.0, x) for x in out]


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
    waiting = [(k - agents, p) for k, p in enumerate(probs) if k >= agents and p > 1e-12]
    if waiting:
        within = _answered_within(agents, mu, theta, max(j for j, _ in waiting), target_seconds)
        sl += sum(p * within[j] for j, p in waiting)
    busy = sum(min(k, agents) * p for k, p in enumerate(probs))
    asa = queue / lam if lam else 0.0
    return Staffing(agents, agents, lam * aht, sl, asa, busy / agents, wait_p, abandon)
