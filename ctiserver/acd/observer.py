"""Observer mode: app_queue installations tracked from AMI into the same agent states and queue counts as our
own ACD (QueueMember*, AgentCalled/Connect/Complete/RingNoAnswer/Dump, QueueCaller*).

Queue segments (``queue.entered``/``queue.left``) of app_queue calls are the call tracker's (it reads the same
AMI events); the observer keeps its own counts and publishes the agent side. ``feed`` is synchronous (AMI
callbacks are) and updates the in-memory picture at once; the resulting domain events and state rows are
written by ``run`` in wire order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctiserver.acd.agent_state import TRANSITIONS, AgentState, AgentStatus
from ctiserver.acd.persist import AgentStateStore
from ctiserver.clock import Clock
from ctiserver.events import Bus, DomainEvent, new_event
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.messages import AmiEvent

log = get_logger(__name__)
S = AgentState
UNAVAILABLE_STATUS = "5"  # QueueMemberStatus Status: AST_DEVICE_UNAVAILABLE


_ORDER = tuple(AgentState)  # deterministic search: the enum's order


def path_to(src: AgentState, dst: AgentState) -> list[AgentState]:
    """The shortest legal chain of states from ``src`` to ``dst`` (observed events may skip steps)."""
    if src is dst:
        return [dst] if dst in TRANSITIONS[src] else []
    frontier: deque[tuple[AgentState, list[AgentState]]] = deque([(src, [])])
    seen = {src}
    while frontier:
        state, path = frontier.popleft()
        for nxt in _ORDER:
            if nxt not in TRANSITIONS[state]:
                continue
            if nxt in seen:
                continue
            if nxt is dst:
                return [*path, nxt]
            seen.add(nxt)
            frontier.append((nxt, [*path, nxt]))
    raise ValueError(f"no path {src} -> {dst}")


@dataclass(slots=True)
class ObservedAgent:
    id: str
    interface: str
    name: str
    status: AgentStatus
    queues: set[str] = field(default_factory=set)
    registered: bool = True
    wrapup: float = 0.0
    calls_taken: int = 0


@dataclass(slots=True)
class ObservedQueue:
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    waiting: dict[str, float] = field(default_factory=dict)  # caller uniqueid → joined at
    hold_times: list[float] = field(default_factory=list)
    abandon_waits: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "entered": self.entered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "waiting": len(self.waiting),
            "asa": sum(self.hold_times) / len(self.hold_times) if self.hold_times else None,
        }


class QueueObserver:
    def __init__(
        self,
        clock: Clock,
        bus: Bus,
        store: AgentStateStore | None = None,
        agent_ids: Mapping[str, str] | None = None,
    ) -> None:
        self._clock = clock
        self._bus = bus
        self._store = store
        self._ids = {k.lower(): v for k, v in (agent_ids or {}).items()}  # interface → agent id
        self.agents: dict[str, ObservedAgent] = {}  # by interface (lower case)
        self.queues: dict[str, ObservedQueue] = {}
        self._out: asyncio.Queue[tuple[DomainEvent, AgentStatus | None, AgentStatus | None]] = asyncio.Queue()
        self._handlers: dict[str, Callable[[AmiEvent], None]] = {
            "QueueMemberAdded": self._member_added,
            "QueueMemberRemoved": self._member_removed,
            "QueueMemberPause": self._member_pause,
            "QueueMemberPaused": self._member_pause,
            "QueueMemberStatus": self._member_status,
            "AgentCalled": self._agent_called,
            "AgentConnect": self._agent_connect,
            "AgentComplete": self._agent_complete,
            "AgentRingNoAnswer": self._agent_back,
            "AgentDump": self._agent_back,
            "QueueCallerJoin": self._caller_join,
            "QueueCallerLeave": self._caller_leave,
            "QueueCallerAbandon": self._caller_abandon,
        }

    # ---- input ------------------------------------------------------------------------------------------
    def feed(self, event: AmiEvent) -> None:
        handler = self._handlers.get(event.name)
        if handler is not None:
            try:
                handler(event)
            except (KeyError, ValueError) as exc:  # one odd event never stops the observer
                log.warning("observer ignored an event", ami_event=event.name, error=str(exc))

    async def run(self) -> None:
        while True:
            event, new, prev = await self._out.get()
            if new is not None and prev is not None and self._store is not None:
                await self._store.record(new, prev)
            await self._bus.publish(event)

    async def flush(self) -> None:
        """Write everything fed so far (tests, shutdown)."""
        while not self._out.empty():
            event, new, prev = self._out.get_nowait()
            if new is not None and prev is not None and self._store is not None:
                await self._store.record(new, prev)
            await self._bus.publish(event)

    # ---- helpers ----------------------------------------------------------------------------------------
    def _emit(
        self,
        type_: str,
        subject: str,
        data: dict[str, Any],
        new: AgentStatus | None = None,
        prev: AgentStatus | None = None,
    ) -> None:
        self._out.put_nowait(
            (new_event(type_, subject, data, self._clock.now(), source="observer"), new, prev)
        )

    def _agent(self, event: AmiEvent, key: str = "Interface") -> ObservedAgent:
        iface = event[key]
        agent = self.agents.get(iface.lower())
        if agent is None:
            agent_id = self._ids.get(iface.lower(), event.get("MemberName") or iface)
            agent = ObservedAgent(agent_id, iface, event.get("MemberName") or iface, AgentStatus(agent_id))
            self.agents[iface.lower()] = agent
        return agent

    def _go(
        self,
        agent: ObservedAgent,
        dst: AgentState,
        *,
        reason: str | None = None,
        until: float | None = None,
        call_id: str | None = None,
    ) -> None:
        if agent.status.state is dst and dst not in (S.NOT_READY, S.WRAP_UP):
            return
        now = self._clock.now()
        for step in path_to(agent.status.state, dst):
            prev = agent.status
            agent.status = prev.advance(
                step,
                now,
                reason=reason or "paused" if step is S.NOT_READY else None,
                until=until if step is S.WRAP_UP else None,
                call_id=call_id,
                allow_not_ready=True,
            )
            data = {
                **agent.status.to_json(),
                "interface": agent.interface,
                "registered": agent.registered,
                "queues": sorted(agent.queues),
                "observed": True,
            }
            self._emit("agent.state", agent.id, data, agent.status, prev)

    def _queue(self, event: AmiEvent) -> ObservedQueue:
        return self.queues.setdefault(event["Queue"], ObservedQueue())

    def _login_state(self, agent: ObservedAgent, event: AmiEvent) -> None:
        if event.get("Paused") == "1":
            self._go(agent, S.NOT_READY, reason=event.get("PausedReason") or "paused")
        elif agent.status.state in (S.LOGGED_OUT, S.NOT_READY):
            self._go(agent, S.READY)

    # ---- members ----------------------------------------------------------------------------------------
    def _member_added(self, event: AmiEvent) -> None:
        agent = self._agent(event)
        agent.queues.add(event["Queue"])
        agent.wrapup = float(event.get("Wrapuptime") or 0)
        agent.registered = event.get("Status") != UNAVAILABLE_STATUS
        self._login_state(agent, event)

    def _member_removed(self, event: AmiEvent) -> None:
        agent = self._agent(event)
        agent.queues.discard(event["Queue"])
        if not agent.queues and agent.status.state is not S.LOGGED_OUT:
            if agent.status.state in (S.RESERVED, S.RINGING, S.ON_CALL):
                self._go(agent, S.READY)
            self._go(agent, S.LOGGED_OUT)

    def _member_pause(self, event: AmiEvent) -> None:
        agent = self._agent(event)
        if event.get("Paused") == "1":
            if agent.status.state in (S.READY, S.NOT_READY, S.LOGGED_OUT, S.WRAP_UP):
                self._go(agent, S.NOT_READY, reason=event.get("PausedReason") or "paused")
        elif agent.status.state is S.NOT_READY:
            self._go(agent, S.READY)

    def _member_status(self, event: AmiEvent) -> None:
        agent = self._agent(event)
        if event["Queue"] not in agent.queues:  # a member we never saw join (we connected later)
            agent.queues.add(event["Queue"])
            if agent.status.state is S.LOGGED_OUT:
                self._login_state(agent, event)
        agent.wrapup = float(event.get("Wrapuptime") or agent.wrapup)
        agent.calls_taken = int(event.get("CallsTaken") or agent.calls_taken)
        registered = event.get("Status") != UNAVAILABLE_STATUS
        if registered != agent.registered:
            agent.registered = registered
            self._emit(
                "agent.state",
                agent.id,
                {
                    **agent.status.to_json(),
                    "registered": registered,
                    "interface": agent.interface,
                    "observed": True,
                },
            )

    # ---- calls to members -------------------------------------------------------------------------------
    def _caller(self, event: AmiEvent) -> dict[str, Any]:
        return {
            "queue": event.get("Queue"),
            "caller_number": event.get("CallerIDNum"),
            "caller_name": event.get("CallerIDName"),
            "channel": event.get("Channel"),
        }

    def _agent_called(self, event: AmiEvent) -> None:
        agent = self._agent(event)
        call_id = event.get("Linkedid") or event["Uniqueid"]
        if agent.status.state in (S.READY, S.WRAP_UP, S.NOT_READY):
            self._go(agent, S.RINGING, call_id=call_id)
        self._emit(
            "agent.ringing",
            call_id,
            {
                **self._caller(event),
                "agent": agent.id,
                "agent_channel": event.get("DestChannel"),
                "observed": True,
            },
        )

    def _agent_connect(self, event: AmiEvent) -> None:
        agent = self._agent(event)
        call_id = event.get("Linkedid") or event["Uniqueid"]
        self._go(agent, S.ON_CALL, call_id=call_id)
        q = self._queue(event)
        q.answered += 1
        q.hold_times.append(float(event.get("HoldTime") or 0))
        # no agent.answered here: the call tracker publishes the one for AgentConnect (same agent id, with
        # the call's wait and legs); two would pop two screens and tell every consumer twice

    def _agent_complete(self, event: AmiEvent) -> None:
        agent = self._agent(event)
        if agent.status.state is not S.ON_CALL:
            return
        if agent.wrapup > 0:
            self._go(agent, S.WRAP_UP, until=self._clock.now() + agent.wrapup)
        else:
            self._go(agent, S.READY)

    def _agent_back(self, event: AmiEvent) -> None:
        agent = self._agent(event)
        if agent.status.state in (S.RESERVED, S.RINGING):
            self._go(agent, S.READY)

    # ---- callers ----------------------------------------------------------------------------------------
    def _caller_join(self, event: AmiEvent) -> None:
        q = self._queue(event)
        q.entered += 1
        q.waiting[event["Uniqueid"]] = self._clock.now()

    def _caller_abandon(self, event: AmiEvent) -> None:
        q = self._queue(event)
        q.abandoned += 1
        q.abandon_waits.append(float(event.get("HoldTime") or 0))

    def _caller_leave(self, event: AmiEvent) -> None:
        self._queue(event).waiting.pop(event["Uniqueid"], None)

    def wrapups_due(self) -> list[ObservedAgent]:
        now = self._clock.now()
        return [
            a
            for a in self.agents.values()
            if a.status.state is S.WRAP_UP and a.status.until is not None and a.status.until <= now
        ]

    async def wrapup_loop(self, every: float = 1.0) -> None:
        while True:
            await self._clock.sleep(every)
            self.end_wrapups()

    def end_wrapups(self) -> None:
        """app_queue ends wrap-up by itself; mirror it when the time has come."""
        for agent in self.wrapups_due():
            self._go(agent, S.READY)
