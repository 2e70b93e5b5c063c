"""Agents at run time: each agent's state snapshot plus the statistics routing uses, and the registry that
changes states (persisting each change before it is published)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field

from ctiserver.acd.agent_index import AgentIndex
from ctiserver.acd.agent_state import BUSY_STATES, AgentState, AgentStatus
from ctiserver.acd.config import AgentConfig
from ctiserver.acd.persist import AgentStateStore
from ctiserver.clock import Clock
from ctiserver.events import Bus, new_event
from ctiserver.logs import get_logger

log = get_logger(__name__)


class UnknownAgent(KeyError):
    pass


class InvalidRequest(ValueError):
    """A request that cannot be honoured (unknown pause reason, wrap-up extension on a free agent, ...)."""


@dataclass(slots=True)
class Agent:
    id: str
    name: str
    device: str
    skills: dict[str, int]
    auto_answer: bool = False
    status: AgentStatus = field(default_factory=lambda: AgentStatus(""))
    registered: bool = True
    phone_busy: bool = False  # the PBX says the phone is on a call (one the ACD did not give it, when ready)
    idle_since: float = 0.0  # monotonic
    calls_today: int = 0
    busy_seconds: float = 0.0
    logged_in_seconds: float = 0.0
    _mark: float = 0.0  # monotonic of the last accounting

    @property
    def state(self) -> AgentState:
        return self.status.state

    @property
    def occupancy(self) -> float:
        return self.busy_seconds / self.logged_in_seconds if self.logged_in_seconds > 0 else 0.0

    def account(self, mono: float) -> None:
        span = max(0.0, mono - self._mark)
        if self.status.logged_in:
            self.logged_in_seconds += span
            if self.state in BUSY_STATES or self.state is AgentState.WRAP_UP:
                self.busy_seconds += span
        self._mark = mono

    def to_json(self) -> dict[str, object]:
        return {
            **self.status.to_json(),
            "name": self.name,
            "device": self.device,
            "skills": dict(self.skills),
            "registered": self.registered,
            "phone_busy": self.phone_busy,
            "calls_today": self.calls_today,
            "occupancy": round(self.occupancy, 4),
        }


Listener = Callable[[Agent, AgentStatus], Awaitable[None] | None]


class AgentRegistry:
    """All agents; the only place their state changes. Every change is persisted, then published as
    ``agent.state`` on the bus, then passed to listeners (the ACD re-runs routing on it). It keeps ``index``
    (free agents, logged-in agents, qualification per need) up to date with every change it makes."""

    def __init__(self, clock: Clock, bus: Bus, store: AgentStateStore) -> None:
        self._clock = clock
        self._bus = bus
        self._store = store
        self._agents: dict[str, Agent] = {}
        self._by_device: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._published: asyncio.Future[None] | None = None  # the latest transition's publication
        self.index = AgentIndex()
        self.listeners: list[Listener] = []

    def add(self, cfg: AgentConfig, skills: Mapping[str, int] | None = None) -> Agent:
        agent = Agent(
            cfg.id,
            cfg.name or cfg.id,
            cfg.device,
            dict(skills if skills is not None else cfg.skills),
            cfg.auto_answer,
            AgentStatus(cfg.id, since=self._clock.now()),
        )
        agent.idle_since = agent._mark = self._clock.monotonic()
        self._agents[cfg.id] = agent
        self._by_device[cfg.device.lower()] = cfg.id
        self.index.add(agent)
        return agent

    def __iter__(self) -> Iterator[Agent]:
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    @property
    def free(self) -> Collection[Agent]:
        """The agents routing may offer a call to now (ready, registered, phone free), kept incrementally."""
        return self.index.free

    def get(self, agent_id: str) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    def by_device(self, device: str) -> Agent | None:
        agent_id = self._by_device.get(device.lower())
        return self._agents.get(agent_id) if agent_id else None

    def restore(self, status: AgentStatus) -> None:
        """Put back a persisted snapshot at start-up (no event, no transition check)."""
        agent = self._agents.get(status.agent_id)
        if agent is not None:
            agent.status = status
            self.index.update(agent)

    def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> None:
        agent = self.get(agent_id)
        agent.skills = dict(skills)
        self.index.skills_changed(agent)

    async def change(
        self,
        agent_id: str,
        dst: AgentState,
        *,
        reason: str | None = None,
        until: float | None = None,
        call_id: str | None = None,
        allow_not_ready: bool = False,
    ) -> AgentStatus:
        """Apply one transition (raises ``IllegalTransition``), persist it, publish it."""
        async with self._lock:
            agent = self.get(agent_id)
            now, mono = self._clock.now(), self._clock.monotonic()
            new = agent.status.advance(
                dst, now, reason=reason, until=until, call_id=call_id, allow_not_ready=allow_not_ready
            )
            # the write is queued in transition order; the store may commit many agents' changes at once
            written = asyncio.ensure_future(self._store.record(new, agent.status))
            agent.account(mono)
            prev, agent.status = agent.status, new
            if dst is AgentState.READY:
                agent.idle_since = mono
            if dst is AgentState.ON_CALL:
                agent.calls_today += 1
            self.index.update(agent)  # after every field routing sorts by
            snapshot = agent.to_json()  # a later change may land before this one is written
            turn = self._take_turn()
        await self._publish_in_turn(turn, agent.id, snapshot, written)  # persisted before it is published
        for listener in self.listeners:
            res = listener(agent, prev)
            if res is not None:
                await res
        return new

    async def set_registered(self, agent_id: str, registered: bool, phone_busy: bool | None = None) -> None:
        """The phone's state from the PBX: reachable or not, and (when given) on a call or not."""
        agent = self.get(agent_id)
        busy = agent.phone_busy if phone_busy is None else phone_busy
        if agent.registered == registered and agent.phone_busy == busy:
            return
        reach = agent.registered != registered
        agent.registered, agent.phone_busy = registered, busy
        self.index.update(agent)
        if not reach and agent.state is not AgentState.READY:
            return  # the phone of an agent on our call, in wrap-up, paused: a flag for routing, not news
        await self.publish(agent)
        for listener in self.listeners:
            res = listener(agent, agent.status)
            if res is not None:
                await res

    async def publish(self, agent: Agent) -> None:
        """A snapshot without a transition (registration, skills), after the transitions already under way."""
        await self._publish_in_turn(self._take_turn(), agent.id, agent.to_json())

    # ``agent.state`` events go out in the order of the changes, whatever order their writes end in: a change
    # started eagerly (a routing pass) must not overtake an earlier one still being written (an agent's READY),
    # or consumers replaying the events would see a stale state
    def _take_turn(self) -> tuple[asyncio.Future[None] | None, asyncio.Future[None]]:
        """(the previous publication, this one's): taken synchronously, in the order of the changes."""
        previous, self._published = self._published, asyncio.get_running_loop().create_future()
        return previous, self._published

    async def _publish_in_turn(
        self,
        turn: tuple[asyncio.Future[None] | None, asyncio.Future[None]],
        agent_id: str,
        snapshot: dict[str, object],
        written: Awaitable[None] | None = None,
    ) -> None:
        previous, mine = turn
        try:
            if written is not None:
                await written
            if previous is not None and not previous.done():
                await asyncio.shield(previous)
            await self._bus.publish(new_event("agent.state", agent_id, snapshot, self._clock.now()))
        finally:
            mine.set_result(None)

