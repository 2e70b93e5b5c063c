"""Agents held for a call that is not in the ACD yet: the dialler's live answers (and its call-backs and
previews), which must reach the agent found free within the legal 2 s.

``reserve(agent, call_id)`` turns a free agent READY → RESERVED for ``call_id`` at once (published as
``agent.state`` with that call id); routing offers calls only to READY agents, so an inbound call waiting for
the same agent is not routed to it meanwhile. ``enqueue`` of that call with ``only_agent=agent`` then offers it
straight to the agent (``_take_reserved``) instead of routing it. ``unreserve(agent, call_id)`` lets the agent
go (RESERVED → READY, or to the pause asked for meanwhile) only while it is still held for that call; a hold
nobody takes or lets go is released after its guard time, so an agent is never lost to a call that never came.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctiserver.acd.agent_state import AgentState, IllegalTransition
from ctiserver.acd.agents import AgentRegistry
from ctiserver.acd.routing import available
from ctiserver.clock import Clock
from ctiserver.logs import get_logger

log = get_logger(__name__)

RESERVE_GUARD = 30.0  # s: a hold that is neither taken nor let go ends after this


@dataclass(slots=True)
class _Held:
    call_id: str
    guard: asyncio.Task[Any] | None = None


class Reservations:
    """Mixed into ``AcdService`` (which owns these attributes)."""

    agents: AgentRegistry
    _clock: Clock
    _held: dict[str, _Held]

    if TYPE_CHECKING:

        def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]: ...

        async def _after_work(self, agent_id: str) -> None: ...

    def reserved_for(self, agent_id: str) -> str | None:
        """The call ``agent_id`` is held for by ``reserve`` (None: not held)."""
        held = self._held.get(agent_id)
        if held is None:
            return None
        agent = self.agents.get(agent_id)
        if agent.state is not AgentState.RESERVED or agent.status.call_id != held.call_id:
            self._drop(agent_id)  # it left the hold some other way (observer, restart): nothing is held
            return None
        return held.call_id

    async def reserve(self, agent_id: str, call_id: str, guard: float = RESERVE_GUARD) -> bool:
        """Hold a free agent (ready and registered) for ``call_id``: READY → RESERVED. False if it is not free."""
        agent = self.agents.get(agent_id)  # UnknownAgent for a stranger
        if not available(agent) or self.reserved_for(agent_id) is not None:
            return False
        # the check above and the state change below run without a suspension in between (the registry's
        # change is synchronous up to its write): nothing can route the agent in the meantime
        self._held[agent_id] = _Held(call_id)
        try:
            await self.agents.change(agent_id, AgentState.RESERVED, call_id=call_id)
        except IllegalTransition:
            self._held.pop(agent_id, None)
            return False
        except Exception:  # not written or not published; the agent is reserved all the same
            log.exception("reservation not recorded", call_id=call_id, agent=agent_id)
        held = self._held.get(agent_id)
        if held is None or held.call_id != call_id:
            return False  # taken or let go while the change was being published
        if agent.state is not AgentState.RESERVED or agent.status.call_id != call_id:
            self._held.pop(agent_id, None)
            return False
        held.guard = self._spawn(self._guard(agent_id, call_id, guard), f"cti:acd-reserve-{agent_id}")
        return True

    async def unreserve(self, agent_id: str, call_id: str) -> bool:
        """Let go of ``agent_id`` if it is still held for ``call_id`` (not yet offered the call): it is READY
        again, or paused if a pause was asked for meanwhile. False if it was not held for that call."""
        if self.reserved_for(agent_id) != call_id:
            return False
        self._drop(agent_id)
        try:
            await self._after_work(agent_id)  # READY, or the pause asked for meanwhile (acd/desk.py)
        except IllegalTransition:
            return False
        return True

    def _take_reserved(self, agent_id: str, call_id: str) -> bool:
        """``call_id`` arrived for the agent held for it: the hold ends, the caller offers it to the agent."""
        if self.reserved_for(agent_id) != call_id:
            return False
        self._drop(agent_id)
        return True

    def _drop(self, agent_id: str) -> None:
        held = self._held.pop(agent_id, None)
        if held is not None and held.guard is not None and held.guard is not asyncio.current_task():
            held.guard.cancel()

    async def _guard(self, agent_id: str, call_id: str, after: float) -> None:
        await self._clock.sleep(after)
        if self.reserved_for(agent_id) == call_id:
            log.warning("reservation expired", call_id=call_id, agent=agent_id, after=after)
            try:
                await self.unreserve(agent_id, call_id)
            except Exception:
                log.exception("reservation not released", call_id=call_id, agent=agent_id)
