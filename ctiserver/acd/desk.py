"""What agents (and supervisors) ask of the ACD: log in/out, ready, pause with a reason, extend wrap-up,
skills, device registration; and the wrap-up timers that bring an agent back to ready (or to a pause
asked for during the call)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ctiserver.acd.agent_state import AgentState, AgentStatus
from ctiserver.acd.agents import Agent, AgentRegistry, InvalidRequest
from ctiserver.acd.config import AcdConfig
from ctiserver.acd.persist import AgentStateStore
from ctiserver.clock import Clock


class AgentDesk:
    """Mixed into ``AcdService`` (which owns these attributes)."""

    config: AcdConfig
    agents: AgentRegistry
    _clock: Clock
    _store: AgentStateStore
    _kick: asyncio.Event
    _wrapups: dict[str, asyncio.Task[None]]
    _pending_pause: dict[str, str]

    if TYPE_CHECKING:

        async def _phone_after_restart(self, agent: Agent, busy: bool | None) -> None: ...

    def queue_config_wrapup(self, queue: str | None) -> float:
        if queue is not None:
            return self.config.queue(queue).wrapup
        return max((q.wrapup for q in self.config.queues), default=0.0)

    def _arm_wrapup(self, agent_id: str, until: float) -> None:
        old = self._wrapups.pop(agent_id, None)
        if old is not None:
            old.cancel()
        self._wrapups[agent_id] = asyncio.create_task(self._wrapup_timer(agent_id, until))

    async def _wrapup_timer(self, agent_id: str, until: float) -> None:
        await self._clock.sleep(max(0.0, until - self._clock.now()))
        agent = self.agents.get(agent_id)
        if agent.state is AgentState.WRAP_UP and agent.status.until == until:
            self._wrapups.pop(agent_id, None)
            await self._after_work(agent_id)

    async def _wrap_up(self, agent_id: str, seconds: float) -> None:
        """After a call: wrap-up for ``seconds`` (its timer armed), or straight to what comes after work."""
        if seconds > 0:
            until = self._clock.now() + seconds
            await self.agents.change(agent_id, AgentState.WRAP_UP, until=until)
            self._arm_wrapup(agent_id, until)
        else:
            await self._after_work(agent_id)

    async def _after_work(self, agent_id: str) -> None:
        reason = self._pending_pause.pop(agent_id, None)
        if reason is not None:
            await self.agents.change(agent_id, AgentState.NOT_READY, reason=reason)
        else:
            await self.agents.change(agent_id, AgentState.READY)

    # ---- agent requests (API / console) -----------------------------------------------------------------
    async def login(self, agent_id: str, *, ready: bool = True, reason: str = "login") -> AgentStatus:
        agent = self.agents.get(agent_id)
        if agent.state is not AgentState.LOGGED_OUT:
            raise InvalidRequest(f"agent {agent_id} is already logged in")
        if ready:
            return await self.agents.change(agent_id, AgentState.READY)
        return await self.agents.change(
            agent_id, AgentState.NOT_READY, reason=self._reason(reason, allow=True)
        )

    async def logout(self, agent_id: str) -> AgentStatus:
        return await self.agents.change(agent_id, AgentState.LOGGED_OUT)

    async def ready(self, agent_id: str) -> AgentStatus:
        """Ready now; a busy agent (reserved, ringing, on a call) only drops a pause asked for meanwhile and is
        ready after the call and its wrap-up — never READY while talking (the router would offer a second call)."""
        self._pending_pause.pop(agent_id, None)
        agent = self.agents.get(agent_id)
        if agent.state in (AgentState.RESERVED, AgentState.RINGING, AgentState.ON_CALL):
            return agent.status
        if agent.state is AgentState.WRAP_UP:
            task = self._wrapups.pop(agent_id, None)
            if task is not None:
                task.cancel()
        return await self.agents.change(agent_id, AgentState.READY)

    async def pause(self, agent_id: str, reason: str) -> AgentStatus:
        """not_ready(reason); a busy agent pauses as soon as the call and its wrap-up are over."""
        reason = self._reason(reason)
        agent = self.agents.get(agent_id)
        if agent.state in (AgentState.RESERVED, AgentState.RINGING, AgentState.ON_CALL):
            self._pending_pause[agent_id] = reason
            return agent.status
        if agent.state is AgentState.WRAP_UP:
            task = self._wrapups.pop(agent_id, None)
            if task is not None:
                task.cancel()
        return await self.agents.change(agent_id, AgentState.NOT_READY, reason=reason)

    async def extend_wrapup(self, agent_id: str, seconds: float) -> AgentStatus:
        agent = self.agents.get(agent_id)
        if agent.state is not AgentState.WRAP_UP or agent.status.until is None:
            raise InvalidRequest(f"agent {agent_id} is not in wrap-up")
        if not 0 < seconds <= self.config.wrapup_max_extension:
            raise InvalidRequest(f"extension must be within 0..{self.config.wrapup_max_extension} s")
        until = agent.status.until + seconds
        status = await self.agents.change(
            agent_id, AgentState.WRAP_UP, until=until, call_id=agent.status.call_id
        )
        self._arm_wrapup(agent_id, until)
        return status

    def _reason(self, reason: str, *, allow: bool = False) -> str:
        if reason not in self.config.pause_reasons and not (allow and reason == "login"):
            raise InvalidRequest(
                f"unknown pause reason {reason!r}; known: {', '.join(self.config.pause_reasons)}"
            )
        return reason

    async def device_state(self, device: str, registered: bool, busy: bool | None = None) -> None:
        """Endpoint/contact/device state from the PBX: an unregistered device makes its agent unavailable, and
        so does a phone on a call (``busy``: a call the agent took or made past the ACD — a ready agent's phone
        is not rung twice, as app_queue's ``ringinuse=no``)."""
        agent = self.agents.by_device(device)
        if agent is not None:
            await self.agents.set_registered(agent.id, registered, busy)
            await self._phone_after_restart(agent, busy)
            if registered and not agent.phone_busy:
                self._kick.set()

    async def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> None:
        for skill, level in skills.items():
            if not 1 <= level <= 10:
                raise InvalidRequest(f"skill {skill!r}: level {level} is outside 1..10")
        await self._store.save_skills(agent_id, skills)
        self.agents.set_skills(agent_id, skills)
        self._kick.set()
