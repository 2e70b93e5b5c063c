"""Where agent state changes go: every change is written (for occupancy/adherence reports) and the latest
snapshot per agent is what a restarted daemon resumes from. ``MemoryAgentStore`` for tests; the SQL store is
in ``ctiserver.acd.sql``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ctiserver.acd.agent_state import AgentStatus


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


class MemoryAgentStore:
    def __init__(self) -> None:
        self.events: list[tuple[AgentStatus, AgentStatus]] = []
        self.current: dict[str, AgentStatus] = {}
        self.skills: dict[str, dict[str, int]] = {}

    async def record(self, new: AgentStatus, prev: AgentStatus) -> None:
        self.events.append((new, prev))
        self.current[new.agent_id] = new

    async def load(self) -> Mapping[str, AgentStatus]:
        return dict(self.current)

    async def load_skills(self) -> Mapping[str, Mapping[str, int]]:
        return {k: dict(v) for k, v in self.skills.items()}

    async def save_skills(self, agent_id: str, skills: Mapping[str, int]) -> None:
        self.skills[agent_id] = dict(skills)
