"""Routing decisions, pure: who may take a call, in which order calls are served, and which agent is picked.

Nothing here does I/O or reads a clock: ``now`` (monotonic seconds) is passed in, so tests drive it directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.config import RelaxRule, Strategy

ReqKey = tuple[tuple[str, int], ...]  # a requirement set, sorted (see ``req_key``)


class Candidate(Protocol):
    """What routing needs to know about an agent."""

    @property
    def id(self) -> str: ...
    @property
    def skills(self) -> Mapping[str, int]: ...
    @property
    def state(self) -> AgentState: ...
    @property
    def registered(self) -> bool: ...
    @property
    def phone_busy(self) -> bool: ...
    @property
    def idle_since(self) -> float: ...  # monotonic time the agent last became ready
    @property
    def calls_today(self) -> int: ...
    @property
    def occupancy(self) -> float: ...  # 0..1, busy time / logged-in time today


@dataclass(frozen=True, slots=True)
class Need:
    """Minimum skill levels a call needs (all of them) and how to choose among qualified agents."""

    requirements: Mapping[str, int]
    strategy: Strategy
    relaxed: bool = False


@dataclass(slots=True)
class Waiting:
    """A call waiting for an agent (routing's view of it)."""

    call_id: str
    queue: str
    requirements: Mapping[str, int]
    strategy: Strategy
    priority: int
    entered: float  # monotonic time it entered the first queue (kept through RONA, overflow, call-back)
    seq: int  # arrival order, the tie-breaker: a re-queued call keeps its seq and so its place
    relax: Sequence[RelaxRule] = ()
    queue_entered: float = 0.0  # monotonic time it entered the current queue (relaxation counts from here)
    excluded: set[str] = field(default_factory=set)  # agents who already missed this call
    only: str | None = None  # a transfer to one named agent

    def need(self, now: float) -> Need:
        waited = now - self.queue_entered
        need = Need(dict(self.requirements), self.strategy)
        for rule in self.relax:
            if waited >= rule.after:
                merged = {k: v for k, v in {**need.requirements, **rule.requirements}.items() if v > 0}
                if not rule.requirements:
                    merged = {}
                need = Need(merged, rule.strategy or need.strategy, relaxed=True)
        return need

    def effective_priority(self, now: float, aging_per_minute: float) -> float:
        return self.priority + aging_per_minute * max(0.0, now - self.entered) / 60.0


def qualifies(skills: Mapping[str, int], requirements: Mapping[str, int]) -> bool:
    return all(skills.get(skill, 0) >= level for skill, level in requirements.items())


def available(agent: Candidate) -> bool:
    return agent.state is AgentState.READY and agent.registered and not agent.phone_busy


def _skill_score(agent: Candidate, requirements: Mapping[str, int]) -> int:
    keys = requirements or agent.skills
    return sum(agent.skills.get(k, 0) for k in keys)


def _key(strategy: Strategy, requirements: Mapping[str, int]) -> Callable[[Candidate], tuple[Any, ...]]:
    if strategy is Strategy.LONGEST_IDLE:
        return lambda a: (a.idle_since, a.id)
    if strategy is Strategy.FEWEST_CALLS:
        return lambda a: (a.calls_today, a.idle_since, a.id)
    if strategy is Strategy.BEST_SKILL:
        return lambda a: (-_skill_score(a, requirements), a.idle_since, a.id)
    if strategy is Strategy.LEAST_OCCUPIED:
        return lambda a: (a.occupancy, a.idle_since, a.id)
    if strategy is Strategy.LEAST_SKILLED:
        return lambda a: (sum(a.skills.values()), a.idle_since, a.id)
    raise ValueError(f"unknown strategy {strategy}")  # pragma: no cover


def strategy_key(strategy: Strategy, requirements: Mapping[str, int]) -> Callable[[Candidate], tuple[Any, ...]]:
    """The sort key of ``rank`` (smaller is better; unique, as it ends with the agent id)."""
    return _key(strategy, requirements)


def rank(agents: Iterable[Candidate], need: Need) -> list[Candidate]:
    """Qualified agents, best first, by the need's strategy (ties: longest idle, then id)."""
    pool = [a for a in agents if qualifies(a.skills, need.requirements)]
    return sorted(pool, key=_key(need.strategy, need.requirements))


def best(agents: Iterable[Candidate], need: Need) -> Candidate | None:
    """The first of ``rank`` without sorting everybody (one pass)."""
    pool = [a for a in agents if qualifies(a.skills, need.requirements)]
    return min(pool, key=_key(need.strategy, need.requirements)) if pool else None


def service_order(waiting: Iterable[Waiting], now: float, aging_per_minute: float) -> list[Waiting]:
    """Highest effective priority first (priority + aging), then arrival order."""
    return sorted(waiting, key=lambda w: (-w.effective_priority(now, aging_per_minute), w.seq))


def req_key(requirements: Mapping[str, int]) -> ReqKey:
    """A hashable, canonical form of a requirement set (cache key)."""
    return tuple(sorted(requirements.items()))


class _Pool:
    """The free agents qualified for one need in one round. The first call with that need takes the best
    eligible agent in one pass (``min``); a second call with the same need sorts the pool once and every
    further call walks it, as taken agents only ever accumulate at the front. A pool may also be a walk over
    all free agents already in the strategy's order (``presorted``), keeping those that ``accept``."""

    __slots__ = ("accept", "agents", "key", "sorted", "start", "used")

    def __init__(
        self,
        agents: Sequence[Candidate],
        key: Callable[[Candidate], tuple[Any, ...]],
        accept: Callable[[Candidate], bool] | None = None,
    ) -> None:
        self.agents = agents
        self.key = key
        self.accept = accept
        self.sorted = self.used = accept is not None
        self.start = 0

    def take(self, call: Waiting, taken: set[str]) -> Candidate | None:
        excluded, only = call.excluded, call.only

        def eligible(a: Candidate) -> bool:
            return a.id not in taken and a.id not in excluded and only in (None, a.id)

        if not self.sorted:
            if not self.used:
                self.used = True
                return min(filter(eligible, self.agents), key=self.key, default=None)
            self.agents = sorted(self.agents, key=self.key)
            self.sorted = True
        order, accept = self.agents, self.accept
        while self.start < len(order) and (
            order[self.start].id in taken or (accept is not None and not accept(order[self.start]))
        ):
            self.start += 1  # taken (or, presorted, unqualified) agents: never again this round
        rest: Iterable[Candidate] = itertools.islice(order, self.start, None)
        if accept is not None:
            rest = filter(accept, rest)
        return next(filter(eligible, rest), None)


def _accept(requirements: Mapping[str, int], ids: Container[str] | None) -> Callable[[Candidate], bool]:
    if ids is not None:
        return lambda a: a.id in ids
    return lambda a: qualifies(a.skills, requirements)


def assign(
    waiting: Iterable[Waiting],
    agents: Iterable[Candidate],
    now: float,
    aging_per_minute: float,
    qualified: Callable[[ReqKey], Container[str]] | None = None,
    *,
    all_free: bool = False,
    presorted: Callable[[Strategy], Sequence[Candidate] | None] | None = None,
) -> list[tuple[Waiting, Candidate]]:
    """One routing round: each call in service order takes the best free agent qualified for its current need.

    A call that no free agent qualifies for does not block calls behind it (they may need other skills).
    ``agents`` may be every agent or only the free ones (``AgentIndex.free``, then ``all_free=True`` skips
    re-checking each); ``qualified`` (optional, e.g. ``AgentIndex.qualified``) gives the ids qualified for a
    requirement set instead of checking each agent's skills. ``presorted`` (``AgentIndex.presorted``, with
    ``agents`` the same index's free agents) gives all free agents already in a strategy's order, if kept:
    a call then walks it from the front instead of scanning every free agent.
    """
    calls = list(waiting)
    if not calls:
        return []  # nothing to route: do not touch the agents
    free = list(agents) if all_free else [a for a in agents if available(a)]
    if not free:
        return []
    out: list[tuple[Waiting, Candidate]] = []
    taken: set[str] = set()
    # the free agents are filtered (and, if several calls share it, sorted) once per distinct need, not once
    # per call: 1,000 callers x 2,000 free agents would be 2 M comparisons a round
    pools: dict[tuple[Strategy, ReqKey], _Pool] = {}
    for call in service_order(calls, now, aging_per_minute):
        if len(taken) >= len(free):
            break
        need = call.need(now)
        rkey = req_key(need.requirements)
        pool = pools.get((need.strategy, rkey))
        order = presorted(need.strategy) if pool is None and presorted is not None else None
        if pool is None and order is not None:
            accept = _accept(need.requirements, qualified(rkey) if qualified is not None else None)
            pool = pools[(need.strategy, rkey)] = _Pool(order, _key(need.strategy, need.requirements), accept)
        elif pool is None:
            if qualified is not None:
                ids = qualified(rkey)
                members = [a for a in free if a.id in ids]
            else:
                members = [a for a in free if qualifies(a.skills, need.requirements)]
            pool = pools[(need.strategy, rkey)] = _Pool(members, _key(need.strategy, need.requirements))
        chosen = pool.take(call, taken)
        if chosen is not None:
            taken.add(chosen.id)
            out.append((call, chosen))
    return out


def position(waiting: Iterable[Waiting], call_id: str, now: float, aging_per_minute: float) -> int:
    """1-based place of the call in its queue's service order (0 if not waiting)."""
    for i, w in enumerate(service_order(waiting, now, aging_per_minute), start=1):
        if w.call_id == call_id:
            return i
    return 0


def estimated_wait(position: int, aht: float, staffed: int, free: int = 0) -> float | None:
    """EWT in seconds: callers at and ahead of ``position`` beyond the ``free`` agents, each taking ``aht``
    spread over the ``staffed`` qualified agents; ``None`` when nobody who could serve is logged in."""
    if staffed <= 0:
        return None
    ahead = max(0, position - free)
    return ahead * aht / staffed
