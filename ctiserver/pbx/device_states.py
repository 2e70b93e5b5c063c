"""Device states over AMI, for whoever follows agent phones (the ACD, the dialler's AMI desk).

Asterisk publishes a device's state on every change as AMI ``DeviceStateChange`` (``Device: PJSIP/1001``,
``State: NOT_INUSE`` …); a PJSIP endpoint whose contacts are all gone (unregistered) is ``UNAVAILABLE``. After
every (re)connect ``DeviceStateList`` (res_manager_devicestate, Asterisk 13+) lists the states known then, as
``DeviceStateChange`` events followed by ``DeviceStateListComplete``, so a change made while the link was down
(a phone that unregistered, or hung up) is known too. State names: ``ast_devstate_str``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ctiserver.logs import get_logger
from ctiserver.pbx.ami.errors import AmiError
from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList

log = get_logger(__name__)

DOWN = frozenset({"UNAVAILABLE", "INVALID"})  # no contact / no such device
ON_A_CALL = frozenset({"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"})  # a phone with a call

StateCallback = Callable[[str, str], None]  # (device, STATE)


class AmiLink(Protocol):
    async def action(self, name: str, headers: Any = ()) -> Any: ...

    def on_event(self, name: str, callback: Callable[[AmiEvent], None]) -> Any: ...

    def on_reconnect(self, callback: Callable[[], Awaitable[None] | None]) -> None: ...


def follow(ami: AmiLink, callback: StateCallback) -> None:
    """Call ``callback(device, state)`` for every device state change, and for every state listed after each
    AMI login (the first included)."""

    def changed(event: AmiEvent) -> None:
        callback(event.get("Device") or "", (event.get("State") or "").upper())

    async def relist() -> None:
        try:
            result = await ami.action("DeviceStateList", [])
        except AmiError as exc:  # an older PBX, or the link went again: events still tell every change
            log.info("device states not listed", error=str(exc))
            return
        if isinstance(result, AmiEventList):
            for event in result.events:
                if event.name == "DeviceStateChange":
                    changed(event)

    ami.on_event("DeviceStateChange", changed)
    ami.on_reconnect(relist)
