"""Agents of app_queue installations (observer mode, ``acd.observer: true``) behind the API's ``AgentsService``.

States come from ``QueueObserver`` (AMI ``QueueMember*``/``Agent*`` events); actions go to Asterisk through
``AppQueueAgents`` (``QueueAdd`` / ``QueuePause`` with a reason / ``QueueRemove``). Asterisk confirms a change with
its own AMI event, which may follow the action's response: after an action the adapter waits a little for the
observed state and answers with ``confirmed`` false when it has not arrived yet (the ``agent.state`` event
follows on the WebSocket).

``AgentsRouter`` serves both kinds in one daemon: agents of our own ACD first, observed app_queue members
otherwise (docs/api.md, "Observer mode").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.config import AcdConfig
from ctiserver.acd.observer import ObservedAgent, QueueObserver
from ctiserver.acd.observer_actions import AppQueueAgents, ObserverActionFailed
from ctiserver.api.errors import ApiError, unavailable
from ctiserver.api.services import AgentsService, Json
from ctiserver.clock import Clock
from ctiserver.pbx.ami.errors import AmiError

if TYPE_CHECKING:
    from ctiserver.app import AppContext

S = AgentState
CONFIRM_POLLS = 50  # x 20 ms of the clock: how long an action waits for Asterisk's event


class ObservedAgents:
    def __init__(
        self,
        observer: QueueObserver,
        actions: AppQueueAgents,
        clock: Clock,
        devices: Mapping[str, str],  # configured agent id -> interface (acd.agents)
        pause_reasons: Sequence[str],
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.observer = observer
        self.actions = actions
        self.clock = clock
        self.devices = dict(devices)
        self.names = dict(names or {})
        self.pause_reasons = tuple(pause_reasons)
        self.last_queues: dict[str, list[str]] = {}  # agent id -> queues at its last logout (next login)

    # ---- reading --------------------------------------------------------------------------------------------
    def _observed(self, agent_id: str) -> ObservedAgent | None:
        return next((a for a in self.observer.agents.values() if a.id == agent_id), None)

    def _interface(self, agent_id: str) -> str | None:
        seen = self._observed(agent_id)
        return seen.interface if seen is not None else self.devices.get(agent_id)

    def _json(self, agent_id: str) -> dict[str, Any]:
        seen = self._observed(agent_id)
        if seen is None:
            return {
                "agent": agent_id,
                "state": S.LOGGED_OUT.value,
                "reason": None,
                "since": None,
                "until": None,
                "call_id": None,
                "name": self.names.get(agent_id, ""),
                "device": self.devices[agent_id],
                "queues": [],
                "registered": None,
                "calls_today": 0,
                "skills": {},
                "observed": True,
            }
        return {
            **seen.status.to_json(),
            "name": self.names.get(agent_id) or seen.name,
            "device": seen.interface,
            "queues": sorted(seen.queues),
            "registered": seen.registered,
            "calls_today": seen.calls_taken,
            "skills": {},
            "observed": True,
        }

    def knows(self, agent_id: str) -> bool:
        return self._interface(agent_id) is not None

    def list_agents(self) -> Sequence[Json]:
        ids = {a.id for a in self.observer.agents.values()} | set(self.devices)
        return [self._json(i) for i in sorted(ids)]

    def get_agent(self, agent_id: str) -> Json | None:
        return self._json(agent_id) if self.knows(agent_id) else None

    # ---- acting ---------------------------------------------------------------------------------------------
    async def agent_action(
        self,
        agent_id: str,
        action: str,
        reason: str | None,
        queues: Sequence[str] | None = None,
        penalty: int = 0,
    ) -> Json:
        iface = self._interface(agent_id)
        if iface is None:
            raise ApiError(404, "not_found", "agent not found", "agent_id")
        if reason is not None and reason not in self.pause_reasons:
            known = ", ".join(self.pause_reasons)
            raise ApiError(422, "invalid", f"unknown pause reason {reason!r}; known: {known}", "body.reason")
        seen = self._observed(agent_id)
        current = sorted(seen.queues) if seen is not None else []
        try:
            want = await self._act(agent_id, iface, action, reason, current, queues, penalty)
        except ObserverActionFailed as exc:
            raise ApiError(409, "pbx_refused", str(exc)) from None
        except AmiError as exc:
            raise ApiError(503, "unavailable", f"the PBX did not take the action: {exc}") from None
        return {**self._json(agent_id), "confirmed": await self._confirmed(agent_id, want)}

    async def _act(
        self,
        agent_id: str,
        iface: str,
        action: str,
        reason: str | None,
        current: list[str],
        queues: Sequence[str] | None,
        penalty: int,
    ) -> Callable[[AgentState], bool]:
        """Send the AMI actions; return the test the observed state passes once Asterisk has done it."""
        only: list[str | None] = list(queues) if queues else [None]  # None: QueuePause in every queue
        if action == "login":
            asked = list(queues or self.last_queues.get(agent_id) or [])
            if not asked:
                raise ApiError(422, "invalid", "which app_queue queues? give them in 'queues'", "body.queues")
            targets = [q for q in asked if q not in current]
            if not targets:
                raise ApiError(409, "already_logged_in", f"the agent is already in {', '.join(asked)}")
            name = self.names.get(agent_id) or agent_id
            await self.actions.login(iface, targets, name=name, penalty=penalty, paused_reason=reason)
            if reason:  # QueueAdd's Reason is recent in app_queue (and the simulator drops it): say it again
                for q in targets:
                    await self.actions.pause(iface, reason, q)
            return (lambda s: s is S.NOT_READY) if reason else (lambda s: s is not S.LOGGED_OUT)
        if action == "logout":
            targets = [q for q in (queues or current) if q in current]
            if not targets:
                raise ApiError(409, "not_logged_in", "the agent is in none of these queues")
            await self.actions.logout(iface, targets)
            self.last_queues[agent_id] = sorted(targets)
            if set(current) - set(targets):
                return lambda s: True  # still a member of other queues
            return lambda s: s is S.LOGGED_OUT
        if action in ("pause", "ready"):
            if not current:
                raise ApiError(409, "not_logged_in", "the agent is not a member of any queue")
            if action == "pause":
                if not reason:
                    raise ApiError(422, "invalid", "a pause needs a reason", "body.reason")
                for one in only:
                    await self.actions.pause(iface, reason, one)
                return lambda s: s is S.NOT_READY
            for one in only:
                await self.actions.ready(iface, one)
            return lambda s: s is not S.NOT_READY
        if action == "wrapup-end":
            raise ApiError(409, "not_supported", "app_queue ends wrap-up by itself (queues.conf wrapuptime)")
        raise ApiError(422, "invalid", f"unknown action {action!r}", "action")

    async def _confirmed(self, agent_id: str, want: Callable[[AgentState], bool]) -> bool:
        for _ in range(CONFIRM_POLLS):
            seen = self._observed(agent_id)
            if seen is not None and want(seen.status.state):
                return True
            await self.clock.sleep(0.02)
        return False

    async def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> Json:
        raise unavailable("skills (app_queue members have penalties, not skills)")


class AgentsRouter:
    """Our ACD's agents first; app_queue members (observer mode) for the ids the ACD does not know."""

    def __init__(self, acd: AgentsService | None, observed: ObservedAgents) -> None:
        self.acd = acd
        self.observed = observed

    def _acd_has(self, agent_id: str) -> bool:
        return self.acd is not None and self.acd.get_agent(agent_id) is not None

    def list_agents(self) -> Sequence[Json]:
        own = list(self.acd.list_agents()) if self.acd is not None else []
        ids = {str(a.get("agent")) for a in own}
        return own + [a for a in self.observed.list_agents() if str(a["agent"]) not in ids]

    def get_agent(self, agent_id: str) -> Json | None:
        if self.acd is not None:
            found = self.acd.get_agent(agent_id)
            if found is not None:
                return found
        return self.observed.get_agent(agent_id)

    async def agent_action(self, agent_id: str, action: str, reason: str | None) -> Json:
        if self.acd is not None and (self._acd_has(agent_id) or not self.observed.knows(agent_id)):
            return await self.acd.agent_action(agent_id, action, reason)
        return await self.observed.agent_action(agent_id, action, reason)

    async def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> Json:
        if self.acd is not None and (self._acd_has(agent_id) or not self.observed.knows(agent_id)):
            return await self.acd.set_skills(agent_id, skills)
        return await self.observed.set_skills(agent_id, skills)


def provide_observed(ctx: AppContext) -> None:
    """Observer mode runs (the acd component provided ``QueueObserver`` and ``AppQueueAgents``): serve its agents
    as ``ObservedAgents`` and, through ``AgentsRouter``, on the generic ``/api/agents`` endpoints too."""
    observer, actions = ctx.maybe(QueueObserver), ctx.maybe(AppQueueAgents)
    if observer is None or actions is None:
        return
    cfg = ctx.config.section("acd", AcdConfig)
    observed = ObservedAgents(
        observer,
        actions,
        ctx.clock,
        {a.id: a.device for a in cfg.agents},
        cfg.pause_reasons,
        {a.id: a.name for a in cfg.agents if a.name},
    )
    acd_agents = ctx.maybe(AgentsService)  # type: ignore[type-abstract]
    ctx.provide(observed)
    ctx.provide(AgentsRouter(acd_agents, observed), as_type=AgentsService)
