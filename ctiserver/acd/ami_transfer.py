"""Transfers of calls the engine's ACD does not hold — app_queue calls (observer mode) — through Asterisk's own
transfer features over AMI, on the agent's leg (the transferer) whose bridged peer, the caller, is transferred.

* blind: ``BlindTransfer`` to ``<exten>@<context>``;
* attended: ``Atxfer``; Asterisk 22 runs the rest itself (bridge_basic.c): the caller waits on hold while the
  agent talks to the target through a Local pair. ``complete`` hangs up the agent's leg (the transferer's
  hang-up completes the transfer, or makes it "blond" while the target still rings); ``cancel`` hangs up the
  Local channel the agent consults through (a target hang-up brings the caller back: ``AttendedTransfer``
  Result ``Fail``).

The tracker reports what happened (``call.transferred`` from ``BlindTransfer``/``AttendedTransfer``, with Asterisk's
``result``). Targets: a number, or ``agent:<id>`` (the extension of the agent's device, ``PJSIP/1002`` → 1002);
a queue has no extension ctiserver knows here — transfer to the number that reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ctiserver.acd.agents import InvalidRequest
from ctiserver.acd.transfer import parse_target
from ctiserver.calls.model import Leg, Role
from ctiserver.calls.tracker import Tracker
from ctiserver.pbx.ami.errors import AmiError


class PbxRefused(RuntimeError):
    """Asterisk answered the action with an error: HTTP 502."""


class AmiActions(Protocol):
    async def action(self, name: str, headers: Any = (), *, check: bool = False) -> Any: ...


class AmiTransfers:
    def __init__(self, ami: AmiActions, tracker: Tracker, context: str, devices: Mapping[str, str]) -> None:
        """``devices``: agent id → device (``acd.agents``), for ``agent:<id>`` targets."""
        self.ami = ami
        self.tracker = tracker
        self.context = context
        self.devices = dict(devices)

    def knows(self, call_id: str) -> bool:
        return self.tracker.call_of(call_id) is not None

    def _exten(self, target: str) -> str:
        kind, value = parse_target(target)
        if kind == "queue":
            raise InvalidRequest("an app_queue call is transferred to a number; use the number of the queue")
        if kind == "number":
            return value
        device = self.devices.get(value, value)
        exten = device.rpartition("/")[2]
        if not exten.isdigit():
            raise InvalidRequest(f"agent {value!r} has no extension to transfer to (device {device!r})")
        return exten

    def _legs(self, call_id: str) -> list[Leg]:
        call = self.tracker.call_of(call_id)
        if call is None:
            raise KeyError(f"unknown call {call_id!r}")
        return sorted((leg for leg in call.legs.values() if leg.ended is None), key=lambda leg: leg.created)

    def _agent_leg(self, call_id: str) -> Leg:
        """The agent who has the caller: the oldest live answered agent leg (a consulted target is newer; the
        legs of agents the call left have ended)."""
        legs = [
            leg
            for leg in self._legs(call_id)
            if leg.role is Role.AGENT and leg.answered is not None and not leg.channel.startswith("Local/")
        ]
        if not legs:
            raise InvalidRequest(f"call {call_id} has no answered agent leg to transfer from")
        return legs[0]

    async def _act(self, name: str, headers: list[tuple[str, str]]) -> None:
        try:
            await self.ami.action(name, headers, check=True)
        except AmiError as exc:  # refused (no such channel: the call moved on), or the link is down
            raise PbxRefused(f"{name}: {exc}") from exc

    async def transfer(self, call_id: str, target: str, kind: str) -> None:
        exten = self._exten(target)
        agent = self._agent_leg(call_id)
        action = {"blind": "BlindTransfer", "attended": "Atxfer"}.get(kind)
        if action is None:
            raise InvalidRequest(f"transfer kind must be blind or attended, not {kind!r}")
        await self._act(action, [("Channel", agent.channel), ("Exten", exten), ("Context", self.context)])

    async def settle(self, call_id: str, complete: bool) -> None:
        """Complete: the transferer (the agent) hangs up. Cancel: the consulted Local channel does."""
        agent = self._agent_leg(call_id)
        local = self._consulted(call_id)
        if local is None:
            raise InvalidRequest("no consultation in progress")
        await self._act("Hangup", [("Channel", (agent if complete else local).channel)])

    def _consulted(self, call_id: str) -> Leg | None:
        """The Local channel the agent consults through (``Local/<exten>@<context>-…;1``), newest first."""
        found = [
            leg
            for leg in self._legs(call_id)
            if leg.channel.startswith("Local/") and f"@{self.context}-" in leg.channel and leg.channel.endswith(";1")
        ]
        return found[-1] if found else None
