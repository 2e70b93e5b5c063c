"""Transfers of a live ACD conversation, carrying the call's attached data.

* blind to ``queue:<name>`` or ``agent:<id>``: the agent leaves, the caller waits again (music, announcements)
  with the same call id and attached data (plus ``transferred_from``);
* blind to a number: the caller leaves the ACD for ``<number>@<transfer_context>`` in the dialplan;
* attended (``kind="attended"``) to an agent or a number: the caller is held, the target is rung (an agent
  with the usual ringing/screen-pop), then bridged with the first agent; ``complete_transfer`` hands the
  caller over, ``cancel_transfer`` drops the consulted leg.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.agents import AgentRegistry, InvalidRequest
from ctiserver.acd.config import AcdConfig
from ctiserver.acd.connect import Connector, OfferResult, Talk
from ctiserver.acd.dialing import dial_agent
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
        if kind == "attended":
            await self._consult(talk, what, value)
            await self._event("call.transfer_started", call_id, data)
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

    async def _consult(self, talk: Talk, what: str, value: str) -> None:
        if talk.consult is not None:
            raise InvalidRequest("a consultation is already in progress")
        if what == "queue":
            raise InvalidRequest("attended transfers go to an agent or a number")
        caller = talk.caller_channel
        await self._control.remove_from_bridge(talk.bridge_id, caller)
        with contextlib.suppress(ControlError):
            await self._control.start_moh(caller)
        entry = talk.entry
        try:
            if what == "agent":
                agent = self.agents.get(value)
                if agent.state is not AgentState.READY or not agent.registered:
                    raise InvalidRequest(f"agent {value} is not ready")
                await self.agents.change(agent.id, AgentState.RESERVED, call_id=entry.call_id)

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
                    originator=caller,
                    app_args=("agent", entry.call_id, agent.id),
                )
                try:
                    channel = await dial_agent(self._control, request, ringing)
                except ControlError:
                    await self.agents.change(agent.id, AgentState.READY)
                    raise
                await self.agents.change(agent.id, AgentState.ON_CALL, call_id=entry.call_id)
                talk.consult = (channel, agent.id)
            else:
                endpoint = f"Local/{value}@{self.config.transfer_context}"
                channel = await self._control.dial(
                    DialRequest(
                        endpoint,
                        entry.request.caller_number,
                        entry.request.caller_name,
                        originator=caller,
                        app_args=("transfer", entry.call_id),
                    )
                )
                talk.consult = (channel, None)
            entry.legs.append(channel)
            await self._control.add_to_bridge(talk.bridge_id, [channel])
        except BaseException:
            with contextlib.suppress(ControlError):
                await self._control.stop_moh(caller)
                await self._control.add_to_bridge(talk.bridge_id, [caller])
            raise

    async def complete_transfer(self, call_id: str) -> None:
        """The first agent leaves; the caller joins the consulted party (who keeps the call's data)."""
        talk = self._talk(call_id)
        if talk.consult is None:
            raise InvalidRequest("no consultation in progress")
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
            call_id,
            {
                "kind": "attended",
                "from_agent": old_agent,
                "to_agent": agent_id,
                "attached": dict(talk.entry.attached),
            },
        )

    async def cancel_transfer(self, call_id: str) -> None:
        talk = self._talk(call_id)
        if talk.consult is None:
            raise InvalidRequest("no consultation in progress")
        channel, agent_id = talk.consult
        talk.consult = None
        with contextlib.suppress(ControlError):
            await self._control.hangup(channel)
        if agent_id is not None:
            await self._release(agent_id)
        with contextlib.suppress(ControlError):
            await self._control.stop_moh(talk.caller_channel)
        await self._control.add_to_bridge(talk.bridge_id, [talk.caller_channel])

    async def _release(self, agent_id: str) -> None:
        """An agent who left a call by transfer goes through wrap-up like after any call."""
        raise NotImplementedError  # AcdService
