"""A restarted daemon's agents (the persisted state of the earlier run, ``persist.py``).

A logged-in agent keeps its state (ready, paused with its reason, in wrap-up until the same time). An agent the
earlier run had offered a call (reserved, ringing) lost that offer with the run: wrap-up, then ready. An agent
the earlier run left **on a call** may still be talking: a killed daemon's conversations go on
(``control/orphans.py``). The agent stays ``on_call`` (same call, same since) until the PBX says its phone is
free (a device state other than in use / busy / ringing / on hold), then wraps up as after any call — so the
wallboard shows the conversation as one, the agent is not ``ready`` while talking, and gets its wrap-up after
it. Without any word from the PBX on that phone within ``RESUME_GRACE`` s (no AMI link, a device the PBX does
not list), the agent wraps up then, as before this was known.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ctiserver.acd.agent_state import AgentState, AgentStatus
from ctiserver.acd.agents import Agent, AgentRegistry
from ctiserver.clock import Clock
from ctiserver.logs import get_logger

log = get_logger(__name__)

RESUME_GRACE = 15.0  # s: how long a resumed call waits for the PBX's word on the agent's phone


class Resumption:
    """Mixed into ``AcdService`` (which owns these attributes)."""

    agents: AgentRegistry
    _clock: Clock
    # agent → its call from the earlier run: the timer until RESUME_GRACE, None once the PBX said it is busy
    _held_over: dict[str, asyncio.Task[None] | None]

    if TYPE_CHECKING:

        def queue_config_wrapup(self, queue: str | None) -> float: ...

        def _arm_wrapup(self, agent_id: str, until: float) -> None: ...

        async def _wrap_up(self, agent_id: str, seconds: float) -> None: ...

    async def _resume(self, agent: Agent, status: AgentStatus) -> None:
        if status.state is AgentState.ON_CALL:
            self.agents.restore(status)
            self._held_over[agent.id] = asyncio.create_task(self._grace(agent.id))
            return
        if status.state in (AgentState.RESERVED, AgentState.RINGING):
            self.agents.restore(AgentStatus(agent.id, AgentState.ON_CALL, since=status.since))
            await self._wrap_up(agent.id, self.queue_config_wrapup(None))
            return
        self.agents.restore(status)
        if agent.state is AgentState.WRAP_UP and agent.status.until is not None:
            self._arm_wrapup(agent.id, agent.status.until)

    async def _phone_after_restart(self, agent: Agent, busy: bool | None) -> None:
        """The PBX's word on the phone of an agent resumed on a call: busy — it goes on; free — it is over."""
        if agent.id not in self._held_over or busy is None:
            return
        if busy:
            timer = self._held_over[agent.id]
            if timer is not None:
                timer.cancel()
            self._held_over[agent.id] = None
            return
        await self._end_held_over(agent.id)

    async def _grace(self, agent_id: str) -> None:
        await self._clock.sleep(RESUME_GRACE)
        if self._held_over.get(agent_id) is asyncio.current_task():
            log.info("no word from the PBX on a resumed call's phone: wrap-up", agent=agent_id)
            await self._end_held_over(agent_id)

    async def _end_held_over(self, agent_id: str) -> None:
        timer = self._held_over.pop(agent_id, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        if self.agents.get(agent_id).state is AgentState.ON_CALL:
            await self._wrap_up(agent_id, self.queue_config_wrapup(None))

    def _resume_tasks(self) -> list[asyncio.Task[None]]:
        return [t for t in self._held_over.values() if t is not None]
