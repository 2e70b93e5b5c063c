"""Transfers of a live ACD conversation, carrying the call's attached data.

* blind to ``queue:<name>`` or ``agent:<id>``: the agent leaves, the caller waits again (music, announcements)
  with the same call id and attached data (plus ``transferred_from``);
* blind to a number: the caller leaves the ACD for ``<number>@<transfer_context>`` in the dialplan;
* attended (``kind="attended"``) to an agent or a number: the caller is held, the target is rung (an agent
  with the usual ringing/screen-pop), then bridged with the first agent; ``complete_transfer`` hands the
  caller over, ``cancel_transfer`` drops the consulted leg (or stops its ringing). Hang-ups settle it as a
  PBX's attended transfer does (``connect.ConsultEnd``): the first agent's completes it, the consulted party's
  brings the caller back, the caller's ends it.

Events: ``call.transfer_started`` as the target is rung, then ``call.transferred`` or
``call.transfer_cancelled`` (with ``reason``) exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.agents import Agent, AgentRegistry, InvalidRequest
from ctiserver.acd.config import AcdConfig
from ctiserver.acd.connect import Connector, ConsultEnd, OfferResult, Talk
from ctiserver.acd.dialing import dial_agent
from ctiserver.acd.routing import available
from ctiserver.clock import Clock
from ctiserver.control import CallControl, ControlError, DialRequest


def parse_target(target: str) -> tuple[str, str]:
    """``agent:1001`` / ``queue:sales`` / a number → (kind, value)."""
    kind, sep, value = target.partition(":")
    if sep and kind in ("agent", "queue") and value:
        return kind, value
    if target.lstrip("+").replace("*", "").replace("#", "").isdigit():
        return "number", target
    raise InvalidRequest(f"bad transfer target {target!r}: agent:<id>, queue:<name> or a number")


class Transfers:
    """Mixed into ``AcdService``."""

    config: AcdConfig
    agents: AgentRegistry
    connector: Connector
    _control: CallControl
    _clock: Clock

    async def _event(self, type_: str, subject: str, data: Mapping[str, Any]) -> None: ...  # AcdService

    def _talk(self, call_id: str) -> Talk:
        talk = self.connector.talks.get(call_id)
        if talk is None:
            raise InvalidRequest(f"call {call_id} is not talking to an agent of the ACD")
        return talk

    async def transfer(self, call_id: str, target: str, kind: str = "blind") -> None:
        talk = self._talk(call_id)
        what, value = parse_target(target)
        if what == "queue":
            self.config.queue(value)  # KeyError → unknown queue
        if what == "agent":
            self.agents.get(value)
        data = {
            "kind": kind,
            "to": target,
            "from_agent": talk.agent_id,
            "attached": dict(talk.entry.attached),
        }
        if talk.consult is not None or talk.consult_dial is not None:
            raise InvalidRequest("a consultation is in progress: complete or cancel it first")
        if kind == "attended":
            await self._attended(talk, what, value, data)
            return
        if kind != "blind":
            raise InvalidRequest(f"transfer kind must be blind or attended, not {kind!r}")
        talk.entry.attached["transferred_from"] = talk.agent_id
        if what == "number":
            talk.entry.transfer_number = value
            talk.result = OfferResult.TRANSFERRED
        else:
            queue = value if what == "queue" else talk.entry.waiting.queue
            talk.entry.transfer_to = (queue, value if what == "agent" else None)
            talk.result = OfferResult.REQUEUE
        await self._event("call.transferred", call_id, data)
        talk.ended.set()

    async def _attended(self, talk: Talk, what: str, value: str, data: dict[str, Any]) -> None:
        """Returns when the target answered (consultation on) or raises: ``InvalidRequest`` if it was cancelled
        while ringing, ``ControlError`` if it could not be reached."""
        if what == "queue":
            raise InvalidRequest("attended transfers go to an agent or a number")
        call_id = talk.entry.call_id
        agent = None
        if what == "agent":
            agent = self.agents.get(value)
            if not available(agent):
                raise InvalidRequest(f"agent {value} is not ready (or the phone is on another call)")
            await self.agents.change(agent.id, AgentState.RESERVED, call_id=call_id)
        await self._event("call.transfer_started", call_id, data)
        dial = asyncio.ensure_future(self._consult(talk, agent, value))
        talk.consult_dial = dial
        try:
            await dial
        except BaseException:
            if agent is not None and agent.state in (AgentState.RESERVED, AgentState.RINGING):
                await asyncio.shield(self.agents.change(agent.id, AgentState.READY))
            reason = "cancelled" if dial.cancelled() else "failed"
            detail = {"reason": reason, "from_agent": data["from_agent"], "to": data["to"]}
            await asyncio.shield(self._event("call.transfer_cancelled", call_id, detail))
            if dial.cancelled() and not _cancelling():
                raise InvalidRequest("the consultation was cancelled before the target answered") from None
            raise
        finally:
            talk.consult_dial = None

    async def _consult(self, talk: Talk, agent: Agent | None, number: str) -> None:
        """Hold the caller, ring the target (``agent``, reserved, else ``number``) and
        bridge it with the first agent; on any failure the caller is back in the conversation."""
        caller, entry = talk.caller_channel, talk.entry
        await self._control.remove_from_bridge(talk.bridge_id, caller)
        with contextlib.suppress(ControlError):
            await self._control.start_moh(caller)
        channel = None
        try:
            if agent is not None:
                channel = await self._ring_consulted(talk, agent)
                await self.agents.change(agent.id, AgentState.ON_CALL, call_id=entry.call_id)
            else:
                endpoint = f"Local/{number}@{self.config.transfer_context}"
                channel = await self._control.dial(
                    DialRequest(
                        endpoint,
                        entry.request.caller_number,
                        entry.request.caller_name,
                        originator=caller,
                        app_args=("transfer", entry.call_id),
                    )
                )
            entry.legs.append(channel)
            await self._control.add_to_bridge(talk.bridge_id, [channel])
            talk.consult = (channel, agent.id if agent is not None else None)
            talk.changed.set()  # the talk's watch takes the consulted leg in
        except BaseException:
            if channel is not None:
                with contextlib.suppress(ControlError):
                    await asyncio.shield(self._control.hangup(channel))
                if agent is not None:
                    await asyncio.shield(self._release(agent.id))
            with contextlib.suppress(ControlError):
                await self._control.stop_moh(caller)
                await self._control.add_to_bridge(talk.bridge_id, [caller])
            raise

    async def _ring_consulted(self, talk: Talk, agent: Agent) -> str:
        entry = talk.entry

        async def ringing(channel: str) -> None:
            if agent.state is AgentState.RESERVED:
                await self.agents.change(agent.id, AgentState.RINGING, call_id=entry.call_id)
            await self._event(
                "agent.ringing",
                entry.call_id,
                {
                    "agent": agent.id,
                    "call_id": entry.call_id,
                    "channel": channel,
                    "transfer": True,
                    "caller_number": entry.request.caller_number,
                    "caller_name": entry.request.caller_name,
                    "attached": dict(entry.attached),
                },
            )

        request = DialRequest(
            agent.device,
            entry.request.caller_number,
            entry.request.caller_name,
            originator=talk.caller_channel,
            app_args=("agent", entry.call_id, agent.id),
        )
        return await dial_agent(self._control, request, ringing)

    async def complete_transfer(self, call_id: str) -> None:
        """The first agent leaves; the caller joins the consulted party (who keeps the call's data)."""
        talk = self._talk(call_id)
        if talk.consult is None:
            raise InvalidRequest("no consultation in progress (the target may still be ringing)")
        await self._complete(talk, "request")

    async def cancel_transfer(self, call_id: str) -> None:
        """Drop the consulted leg (or stop it ringing); the caller comes back to the agent."""
        talk = self._talk(call_id)
        dial = talk.consult_dial
        if dial is not None:
            dial.cancel()  # ``_attended`` publishes the cancellation and puts the caller back
            await asyncio.wait({dial})
            return
        if talk.consult is None:
            raise InvalidRequest("no consultation in progress")
        await self._end_consult(talk, "cancelled")

    async def _consult_over(self, talk: Talk, how: ConsultEnd) -> None:
        """A hang-up during the consultation (the connector's watch)."""
        if how is ConsultEnd.AGENT_LEFT:
            await self._complete(talk, how.value)
        else:
            await self._end_consult(talk, how.value)

    async def _complete(self, talk: Talk, by: str) -> None:
        assert talk.consult is not None
        channel, agent_id = talk.consult
        old_channel, old_agent = talk.agent_channel, talk.agent_id
        with contextlib.suppress(ControlError):
            await self._control.stop_moh(talk.caller_channel)
        await self._control.add_to_bridge(talk.bridge_id, [talk.caller_channel])
        talk.consult = None
        talk.agent_channel = channel
        talk.agent_id = agent_id or old_agent
        talk.entry.final_agent = agent_id
        talk.entry.attached["transferred_from"] = old_agent
        talk.changed.set()
        with contextlib.suppress(ControlError):
            await self._control.hangup(old_channel)
        if agent_id is None:  # transferred to a number: the ACD's part ends with the first agent
            talk.result = OfferResult.TRANSFERRED
        await self._release(old_agent)
        await self._event(
            "call.transferred",
            talk.entry.call_id,
            {
                "kind": "attended",
                "from_agent": old_agent,
                "to_agent": agent_id,
                "by": by,
                "attached": dict(talk.entry.attached),
            },
        )

    async def _end_consult(self, talk: Talk, reason: str) -> None:
        assert talk.consult is not None
        channel, agent_id = talk.consult
        talk.consult = None
        talk.changed.set()
        with contextlib.suppress(ControlError):
            await self._control.hangup(channel)
        if agent_id is not None:
            await self._release(agent_id)
        if reason != ConsultEnd.CALLER_LEFT.value:
            with contextlib.suppress(ControlError):
                await self._control.stop_moh(talk.caller_channel)
            await self._control.add_to_bridge(talk.bridge_id, [talk.caller_channel])
        await self._event(
            "call.transfer_cancelled",
            talk.entry.call_id,
            {"reason": reason, "from_agent": talk.agent_id, "to_agent": agent_id, "channel": channel},
        )

    async def _release(self, agent_id: str) -> None:
        """An agent who left a call by transfer goes through wrap-up like after any call."""
        raise NotImplementedError  # AcdService


def _cancelling() -> bool:
    """Whether the current task itself is being cancelled (not just a task it awaited)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
