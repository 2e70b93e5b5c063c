"""The API's service Protocols (``services.py``) over the other areas' real services, built by the api
component from what the composition root provides. Thin: each method forwards to the owning area; where
an area offers no such operation, the adapter raises the 503 ``unavailable`` error (never a fake
success).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ctiserver.acd.config import AcdConfig
from ctiserver.api.errors import ApiError, unavailable
from ctiserver.api.services import Json
from ctiserver.control import ChannelGone


class AcdAgents:
    """``AgentsService`` over ``ctiserver.acd.service.AcdService``."""

    def __init__(self, acd: Any) -> None:
        self.acd = acd

    def list_agents(self) -> Sequence[Json]:
        return [a.to_json() for a in self.acd.agents]

    def get_agent(self, agent_id: str) -> Json | None:
        try:
            return dict(self.acd.agents.get(agent_id).to_json())
        except KeyError:
            return None

    async def agent_action(self, agent_id: str, action: str, reason: str | None) -> Json:
        if self.get_agent(agent_id) is None:
            raise ApiError(404, "not_found", "agent not found", "agent_id")
        if action == "login":
            status = await self.acd.login(agent_id, ready=reason is None, reason=reason or "login")
        elif action == "logout":
            status = await self.acd.logout(agent_id)
        elif action in ("ready", "wrapup-end"):
            status = await self.acd.ready(agent_id)
        elif action == "pause":
            if not reason:
                raise ApiError(422, "invalid", "a pause needs a reason", "body.reason")
            status = await self.acd.pause(agent_id, reason)
        else:
            raise ApiError(422, "invalid", f"unknown action {action!r}", "action")
        return dict(status.to_json())

    async def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> Json:
        if self.get_agent(agent_id) is None:
            raise ApiError(404, "not_found", "agent not found", "agent_id")
        await self.acd.set_skills(agent_id, dict(skills))
        return dict(self.acd.agents.get(agent_id).to_json())


class TrackerCalls:
    """``CallsService`` over the call tracker (live + recently finished calls); agents are found from the
    agent legs' devices through the ACD's agent registry."""

    def __init__(self, tracker: Any, acd: Any | None) -> None:
        self.tracker = tracker
        self.acd = acd

    def _with_agents(self, call: Any) -> dict[str, Any]:
        snap = dict(call.snapshot())
        agents: set[str] = {str(q["agent"]) for q in snap.get("queues", []) if q.get("agent")}
        if self.acd is not None:
            for leg in snap.get("legs", []):
                agent = self.acd.agents.by_device(str(leg.get("endpoint") or ""))
                if agent is not None:
                    agents.add(agent.id)
        snap["agents"] = sorted(agents)
        return snap

    def active_calls(self) -> Sequence[Json]:
        return [self._with_agents(c) for c in list(self.tracker.calls.values())]

    def get_call(self, call_id: str) -> Json | None:
        call = self.tracker.call_of(call_id)
        return self._with_agents(call) if call is not None else None

    async def call_history(
        self, *, since: float | None, until: float | None, agent: str | None, queue: str | None, limit: int
    ) -> Sequence[Json]:
        out = []
        for call in reversed(list(self.tracker.finished.values())):
            snap = self._with_agents(call)
            started = float(snap["started"])
            if (since is not None and started < since) or (until is not None and started > until):
                continue
            if agent is not None and agent not in snap["agents"]:
                continue
            if queue is not None and queue not in {q.get("queue") for q in snap.get("queues", [])}:
                continue
            out.append(snap)
            if len(out) >= limit:
                break
        return out


class AcdCallActions:
    """``CallActions``: transfers through the ACD, hang-up through call control on the call's legs, recording
    control through the recording service on the ACD's bridge of the call (else on a channel of it, by
    ``MixMonitor``), click-to-dial as an ACD call-back
    offered to one agent. Hold is not offered by those areas yet: 503."""

    def __init__(
        self,
        acd: Any | None,
        control: Any | None,
        tracker: Any | None,
        pbx_recordings: Any | None = None,
        pbx_transfers: Any | None = None,
    ) -> None:
        self.acd = acd
        self.control = control
        self.tracker = tracker
        self.pbx_recordings = pbx_recordings  # ``acd.ami_recording.PbxRecordings``: calls the ACD does not hold
        self.pbx_transfers = pbx_transfers  # ``acd.ami_transfer.AmiTransfers``: calls the ACD does not hold

    def _transfers(self, call_id: str) -> Any:
        """Who transfers ``call_id``: the ACD when it holds the conversation, else Asterisk over AMI."""
        if self.acd is not None and call_id in self.acd.connector.talks:
            return self.acd
        if self.pbx_transfers is not None and self.pbx_transfers.knows(call_id):
            return self.pbx_transfers
        if self.acd is None:
            raise unavailable("transfers")
        return self.acd  # which refuses: not a conversation of the ACD

    async def click_to_dial(self, agent: str, number: str, caller_id: str | None) -> str:
        """Ring the agent, then dial the customer: the ACD's call-back, offered to this agent only, in the
        first queue whose call-backs are enabled (its ``callback.endpoint`` dials the number)."""
        if self.acd is None:
            raise unavailable("acd")
        try:
            self.acd.agents.get(agent)
        except KeyError:
            raise ApiError(404, "not_found", "agent not found", "body.agent") from None
        queue = next((q.name for q in self.acd.config.queues if q.callback.enabled), None)
        if queue is None:
            raise unavailable("click-to-dial (no queue has call-backs enabled)")
        call_id = f"c2d-{uuid.uuid4().hex[:16]}"
        await self.acd.request_callback(
            call_id, number, queue, name=caller_id or "", attached={"click_to_dial": agent}, only_agent=agent
        )
        return call_id

    async def transfer(self, call_id: str, target: str, kind: str) -> None:
        await self._transfers(call_id).transfer(call_id, target, kind)

    async def settle_transfer(self, call_id: str, complete: bool) -> None:
        who = self._transfers(call_id)
        if self.pbx_transfers is not None and who is self.pbx_transfers:
            await self.pbx_transfers.settle(call_id, complete)
        elif complete:
            await who.complete_transfer(call_id)
        else:
            await who.cancel_transfer(call_id)

    async def hangup(self, call_id: str) -> None:
        if self.control is None or self.tracker is None:
            raise unavailable("call control")
        call = self.tracker.call_of(call_id)
        if call is None:
            raise ApiError(404, "not_found", "call not found", "call_id")
        hung_up, gone = 0, None
        for leg in [leg for leg in call.legs.values() if leg.ended is None]:
            try:
                await self.control.hangup(leg.uniqueid)
                hung_up += 1
            except ChannelGone as exc:  # gone with a leg hung up before it (a Local pair's halves go together)
                gone = exc
        if gone is not None and not hung_up:
            raise gone  # the call was over already

    async def hold(self, call_id: str, on: bool) -> None:
        if self.acd is None or not hasattr(self.acd, "hold"):
            raise unavailable("hold")
        await self.acd.hold(call_id, on)

    async def recording(self, call_id: str, action: str) -> Json:
        """The ACD records its conversations' bridges; any other call (the dialler's AMI desk, app_queue) is
        recorded with ``MixMonitor`` on its channel."""
        held = self.acd is not None and call_id in self.acd.connector.talks
        if self.pbx_recordings is not None and not held:
            return dict(await self.pbx_recordings.action(call_id, action))
        if self.acd is None:
            raise unavailable("recording control by call id")
        return dict(await self.acd.recording_action(call_id, action))


class LiveQueues:
    """``QueuesService`` over the live KPIs (``ctiserver.kpi.live.LiveKpis``), with the call-backs each queue of
    the ACD owes (``callbacks_owed``: asked for and waiting in the queue; 0 without the ACD)."""

    def __init__(self, live: Any, acd: Any = None) -> None:
        self.live = live
        self.acd = acd

    def queue_stats(self) -> Sequence[Json]:
        owed = self.acd.callbacks_owed() if self.acd is not None else {}
        snapshot = self.live.queues_snapshot()  # every configured queue, sorted
        return [{"queue": name, **values, "callbacks_owed": owed.get(name, 0)} for name, values in snapshot.items()]

    def agent_stats(self, agent: str | None = None) -> Sequence[Json]:
        snap = self.live.agents_snapshot(agent)
        return [{"agent": name, "windows": values} for name, values in snap.items()]


class AcdLists:
    """``ConfigLists`` from the ``acd:`` section (read even when the ACD does not run in this daemon)."""

    def __init__(self, cfg: AcdConfig) -> None:
        self.cfg = cfg

    def pause_reasons(self) -> Sequence[Json]:
        automatic = {self.cfg.missed_reason, self.cfg.unreachable_reason}
        return [{"code": r, "label": r, "automatic": r in automatic} for r in self.cfg.pause_reasons]

    def dispositions(self) -> Sequence[Json]:
        return [{"code": d, "label": d} for d in self.cfg.dispositions]
