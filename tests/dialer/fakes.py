"""In-memory ``Lines`` and ``Desk`` for runner logic tests (the wire is exercised in test_ami_lines.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ctiserver.clock import Clock
from ctiserver.dialer.model import CampaignSettings, Contact, Outcome
from ctiserver.dialer.pacing import AgentPhase, AgentView
from ctiserver.dialer.ports import Blocked, Conversation, DialSpec, LineResult


@dataclass
class Behaviour:
    outcome: Outcome = Outcome.HUMAN
    ring: float = 3.0


class FakeLines:
    """Each number rings ``ring`` s then ends with its outcome (a list: one per attempt, the last repeats)."""

    def __init__(
        self,
        clock: Clock,
        script: Mapping[str, Sequence[Behaviour]] | None = None,
        default: Behaviour | None = None,
    ) -> None:
        self.clock = clock
        self.script = dict(script or {})
        self.default = default or Behaviour()
        self.placed: list[tuple[float, str, str]] = []  # (time, number, attempt id)
        self.abandoned: list[str] = []
        self.hung_up: list[str] = []
        self.dropped: list[str] = []
        self._count: dict[str, int] = {}
        self._ringing: dict[str, asyncio.Future[None]] = {}  # attempt id → set when dropped

    def blocked(self) -> Blocked | None:
        return None

    async def place(self, spec: DialSpec) -> LineResult:
        number = spec.contact.number
        self.placed.append((self.clock.now(), number, spec.attempt_id))
        n = self._count.get(number, 0)
        self._count[number] = n + 1
        plan = self.script.get(number) or [self.default]
        b = plan[min(n, len(plan) - 1)]
        dropped = self._ringing[spec.attempt_id] = asyncio.get_running_loop().create_future()
        ring = asyncio.ensure_future(self.clock.sleep(b.ring))
        try:
            await asyncio.wait({ring, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ring.cancel()
            del self._ringing[spec.attempt_id]
        if dropped.done():
            return LineResult(Outcome.NOANSWER)
        if b.outcome in (Outcome.HUMAN, Outcome.MACHINE):
            return LineResult(
                b.outcome,
                channel=f"ch-{spec.attempt_id}",
                amd_status="MACHINE" if b.outcome is Outcome.MACHINE else "HUMAN",
            )
        return LineResult(b.outcome)

    async def abandon(self, channel: str, media: Sequence[str]) -> None:
        self.abandoned.append(channel)

    async def hangup(self, channel: str) -> None:
        self.hung_up.append(channel)

    async def drop(self, attempt_id: str) -> bool:
        ringing = self._ringing.get(attempt_id)
        if ringing is None or ringing.done():
            return False
        ringing.set_result(None)
        self.dropped.append(attempt_id)
        return True


@dataclass
class _Agent:
    id: str
    phase: AgentPhase = AgentPhase.READY
    since: float = 0.0
    until: float = 0.0


@dataclass
class FakeDesk:
    clock: Clock
    agents: list[_Agent]
    talk: float = 30.0
    wrap: float = 5.0
    pops: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def with_agents(cls, clock: Clock, n: int, **kw: float) -> FakeDesk:
        return cls(clock, [_Agent(f"a{i}") for i in range(n)], **kw)

    def agent_views(self, campaign: CampaignSettings) -> list[AgentView]:
        return [AgentView(a.phase, a.since, a.until) for a in self.agents]

    async def reserve(
        self, campaign: CampaignSettings, wait: float, agent: str | None = None, *, call_id: str = ""
    ) -> str | None:
        deadline = self.clock.now() + wait
        while True:
            for a in self.agents:
                if a.phase is AgentPhase.READY and (agent is None or a.id == agent):
                    a.phase, a.since = AgentPhase.RESERVED, self.clock.now()
                    return a.id
            if self.clock.now() >= deadline:
                return None
            await self.clock.sleep(0.25)

    async def release(self, agent: str) -> None:
        a = next(x for x in self.agents if x.id == agent)
        if a.phase is AgentPhase.RESERVED:
            a.phase, a.since = AgentPhase.READY, self.clock.now()

    async def converse(
        self, campaign: CampaignSettings, agent: str, contact: Contact, call_id: str, channel: str
    ) -> Conversation:
        a = next(x for x in self.agents if x.id == agent)
        self.pops.append((agent, contact.pop_data()))
        connected = self.clock.now()
        a.phase, a.since = AgentPhase.TALKING, self.clock.now()
        await self.clock.sleep(self.talk)
        a.phase, a.since, a.until = AgentPhase.WRAP_UP, self.clock.now(), self.clock.now() + self.wrap
        task = asyncio.create_task(self._wrap(a))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Conversation(self.talk, connected)

    async def _wrap(self, a: _Agent) -> None:
        await self.clock.sleep(self.wrap)
        a.phase, a.since = AgentPhase.READY, self.clock.now()
