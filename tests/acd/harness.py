"""Drives an AcdService on the in-memory fake with a ManualClock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ctiserver.acd.config import AcdConfig
from ctiserver.acd.persist import AgentStateStore, MemoryAgentStore
from ctiserver.acd.service import AcdService
from ctiserver.clock import ManualClock
from ctiserver.events import DomainEvent, InMemoryBus
from tests.acd.fake_control import FakeControl


async def settle(rounds: int = 50) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


class Harness:
    def __init__(
        self, config: dict[str, Any], store: AgentStateStore | None = None, survey: Any = None
    ) -> None:
        self.clock = ManualClock()
        self.bus = InMemoryBus()
        self.events: list[DomainEvent] = []
        self.bus.listeners.append(self.events.append)
        self.control = FakeControl(self.clock)
        self.store = store or MemoryAgentStore()
        self.acd = AcdService(
            AcdConfig.model_validate(config),
            self.control,
            self.clock,
            self.bus,
            self.store,
            survey=survey,
        )

    async def __aenter__(self) -> Harness:
        await self.acd.__aenter__()
        await settle()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.acd.__aexit__(*exc)

    async def run_until(self, cond: Callable[[], bool], step: float = 0.25, limit: float = 600.0) -> None:
        spent = 0.0
        await settle()
        while not cond():
            if spent >= limit:
                raise AssertionError("condition not reached in simulated time")
            await self.clock.advance(step)
            await settle()
            spent += step

    async def advance(self, seconds: float, step: float = 0.25) -> None:
        spent = 0.0
        while spent < seconds:
            await self.clock.advance(step)
            await settle()
            spent += step

    def of(self, type_: str) -> list[DomainEvent]:
        return [e for e in self.events if e.type == type_]

    def states(self, agent: str) -> list[str]:
        return [str(e.data["state"]) for e in self.of("agent.state") if e.subject == agent]
