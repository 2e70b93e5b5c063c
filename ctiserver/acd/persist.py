"""What the ACD keeps through a restart. Agent state changes: every change is written (for occupancy/adherence
reports) and the latest snapshot per agent is what a restarted daemon resumes from. Call-backs promised and not
yet made (``PendingCallback``): a restarted daemon puts them back in their queues, in their places. ``MemoryAgentStore``
for tests; the SQL store is in ``ctiserver.acd.sql``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ctiserver.acd.agent_state import AgentStatus


@dataclass(frozen=True, slots=True)
class PendingCallback:
    """A call-back the ACD owes a customer: asked for (the digit while waiting, the IVR's node, the API) and not
    yet connected or given up. ``requested``: wall clock, the start of its wait (its place in the queue)."""

    call_id: str
    queue: str
    number: str
    requested: float
    name: str = ""
    attached: Mapping[str, Any] = field(default_factory=dict)
    priority: int | None = None
    only_agent: str | None = None
    attempts: int = 0  # customer legs that failed so far
    retry_at: float | None = None  # wall clock: waiting out ``retry_after`` until then (a failed dial)


class AgentStateStore(Protocol):
    async def record(self, new: AgentStatus, prev: AgentStatus) -> None:
        """Persist one change (the event row and the current snapshot) before it is acknowledged."""
        ...

    async def load(self) -> Mapping[str, AgentStatus]:
        """The last snapshot of every agent."""
        ...

    async def load_skills(self) -> Mapping[str, Mapping[str, int]]:
        """Skills edited at run time (they win over the configuration file)."""
        ...

    async def save_skills(self, agent_id: str, skills: Mapping[str, int]) -> None: ...

    async def save_callback(self, callback: PendingCallback) -> None:
        """Keep (or update) a pending call-back."""
        ...

    async def drop_callback(self, call_id: str) -> None:
        """The call-back was made (or given up): no longer owed."""
        ...

    async def load_callbacks(self) -> list[PendingCallback]:
        """The pending call-backs, oldest request first."""
        ...


class MemoryAgentStore:
    def __init__(self) -> None:
        self.events: list[tuple[AgentStatus, AgentStatus]] = []
        self.current: dict[str, AgentStatus] = {}
        self.skills: dict[str, dict[str, int]] = {}
        self.callbacks: dict[str, PendingCallback] = {}

    async def record(self, new: AgentStatus, prev: AgentStatus) -> None:
        self.events.append((new, prev))
        self.current[new.agent_id] = new

    async def load(self) -> Mapping[str, AgentStatus]:
        return dict(self.current)

    async def load_skills(self) -> Mapping[str, Mapping[str, int]]:
        return {k: dict(v) for k, v in self.skills.items()}

    async def save_skills(self, agent_id: str, skills: Mapping[str, int]) -> None:
        self.skills[agent_id] = dict(skills)

    async def save_callback(self, callback: PendingCallback) -> None:
        self.callbacks[callback.call_id] = callback

    async def drop_callback(self, call_id: str) -> None:
        self.callbacks.pop(call_id, None)

    async def load_callbacks(self) -> list[PendingCallback]:
        return sorted(self.callbacks.values(), key=lambda c: (c.requested, c.call_id))
