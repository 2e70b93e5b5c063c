"""Incremental views of the agents that routing and announcements read all the time.

With 2,000 logged-in agents, scanning every agent on each routing round (after nearly every event) and on
each caller's announcement was a measurable share of the daemon's CPU. ``AgentIndex`` keeps:

* the *free* agents (``routing.available``: ready, registered, phone free), updated by ``AgentRegistry`` on every state
  change, registration change and restore, so a round touches only free agents;
* the logged-in agents (for the "staffed" count of the EWT);
* per requirement set, the ids of the agents qualified for it (all agents, any state), recomputed only after a
  skills change or a new agent — skills rarely change at run time, needs come from a handful of queue rules;
* per requirement set, the number of logged-in qualified agents, dropped on any login/logout/skills change;
* the free agents sorted by each strategy whose order does not depend on the call (all but ``best_skill``):
  an agent's key cannot move while it stays free (idle time, calls, occupancy and skills change only through
  the registry, which re-files it), so a call with most of 2,000 agents free walks a few from the front.

``AgentRegistry`` is the only writer: whoever changes an agent's state, registration or skills goes through it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ctiserver.acd.config import Strategy
from ctiserver.acd.routing import ReqKey, available, qualifies, strategy_key

if TYPE_CHECKING:
    from ctiserver.acd.agents import Agent

MAX_NEEDS = 512  # distinct requirement sets cached; more (unlikely) starts the cache afresh
PRESORTED = (Strategy.LONGEST_IDLE, Strategy.FEWEST_CALLS, Strategy.LEAST_OCCUPIED, Strategy.LEAST_SKILLED)
_KEYS = tuple(strategy_key(s, {}) for s in PRESORTED)


class AgentIndex:
    def __init__(self) -> None:
        self._all: dict[str, Agent] = {}
        self._free: dict[str, Agent] = {}
        self._logged_in: dict[str, Agent] = {}
        self._qualified: dict[ReqKey, frozenset[str]] = {}
        self._staffed: dict[ReqKey, int] = {}
        # per presorted strategy: the free agents' keys and the agents, in the same (sorted) order
        self._sorted: dict[Strategy, tuple[list[tuple[Any, ...]], list[Agent]]] = {s: ([], []) for s in PRESORTED}
        self._filed: dict[str, list[tuple[Any, ...]]] = {}  # free agent id -> its keys when filed

    # ---- writes (AgentRegistry) ----------------------------------------------------------------------
    def add(self, agent: Agent) -> None:
        self._all[agent.id] = agent
        self.skills_changed()
        self.update(agent)

    def update(self, agent: Agent) -> None:
        """The agent's state or registration may have changed."""
        self._unfile(agent.id)
        if available(agent):
            self._free[agent.id] = agent
            self._file(agent)
        else:
            self._free.pop(agent.id, None)
        logged_in = agent.status.logged_in
        if logged_in != (agent.id in self._logged_in):
            if logged_in:
                self._logged_in[agent.id] = agent
            else:
                del self._logged_in[agent.id]
            self._staffed.clear()

    def skills_changed(self, agent: Agent | None = None) -> None:
        self._qualified.clear()
        self._staffed.clear()
        if agent is not None:
            self.update(agent)  # re-filed: least_skilled's key is the sum of the skills

    def _file(self, agent: Agent) -> None:
        keys = [key(agent) for key in _KEYS]
        for strategy, k in zip(PRESORTED, keys, strict=True):
            ks, agents = self._sorted[strategy]
            i = bisect_left(ks, k)
            ks.insert(i, k)
            agents.insert(i, agent)
        self._filed[agent.id] = keys

    def _unfile(self, agent_id: str) -> None:
        keys = self._filed.pop(agent_id, None)
        if keys is None:
            return
        for strategy, k in zip(PRESORTED, keys, strict=True):
            ks, agents = self._sorted[strategy]
            i = bisect_left(ks, k)
            del ks[i], agents[i]

    # ---- reads ---------------------------------------------------------------------------------------
    @property
    def free(self) -> Collection[Agent]:
        """The agents routing may offer a call to now (ready, registered, phone free)."""
        return self._free.values()

    def presorted(self, strategy: Strategy) -> Sequence[Agent] | None:
        """The free agents best first by ``strategy`` (``None`` for a strategy whose order depends on the
        call). The list is live: read it, do not keep it across an await."""
        filed = self._sorted.get(strategy)
        return filed[1] if filed is not None else None

    def is_free(self, agent_id: str) -> bool:
        return agent_id in self._free

    def qualified(self, key: ReqKey) -> frozenset[str]:
        """Ids of the agents (any state) whose skills meet ``key`` (``routing.req_key`` of the needs)."""
        ids = self._qualified.get(key)
        if ids is None:
            requirements: Mapping[str, int] = dict(key)
            ids = frozenset(a.id for a in self._all.values() if qualifies(a.skills, requirements))
            if len(self._qualified) >= MAX_NEEDS:
                self._qualified.clear()
            self._qualified[key] = ids
        return ids

    def staffed(self, key: ReqKey) -> int:
        """Logged-in agents qualified for ``key``."""
        n = self._staffed.get(key)
        if n is None:
            ids = self.qualified(key)
            n = sum(1 for agent_id in self._logged_in if agent_id in ids)
            if len(self._staffed) >= MAX_NEEDS:
                self._staffed.clear()
            self._staffed[key] = n
        return n

    def free_qualified(self, key: ReqKey) -> int:
        """Free agents qualified for ``key`` (a pass over the free agents only)."""
        ids = self.qualified(key)
        return sum(1 for agent_id in self._free if agent_id in ids)
