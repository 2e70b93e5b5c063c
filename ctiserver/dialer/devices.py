"""Which agent phones the PBX can reach, for the AMI desk (the ACD follows its own agents' devices).

Asterisk publishes a device's state on every change as AMI ``DeviceStateChange`` (``Device: PJSIP/1001``,
``State: NOT_INUSE`` …); a PJSIP endpoint whose contacts are all gone (unregistered) is ``UNAVAILABLE``. After
every (re)connect ``DeviceStateList`` (res_manager_devicestate, Asterisk 13+) lists the states known then, as
``DeviceStateChange`` events followed by ``DeviceStateListComplete``, so a phone that unregistered while the
link was down is known too. A device never heard of counts as reachable (an older PBX, a device outside the
cache); the desk rests a seat whose phone fails all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.errors import AmiError
from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList

log = get_logger(__name__)

DOWN = frozenset({"UNAVAILABLE", "INVALID"})  # ast_devstate_str: no contact / no such device


@dataclass
class DeviceWatch:
    ami: AmiClient
    devices: frozenset[str]  # the ones we care about (others are ignored)
    on_up: Callable[[str], None] = lambda device: None  # a device reachable again
    _down: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.ami.on_event("DeviceStateChange", self._on_change)
        self.ami.on_reconnect(self.refresh)

    def up(self, device: str) -> bool:
        return device not in self._down

    async def refresh(self) -> None:
        try:
            result = await self.ami.action("DeviceStateList", [])
        except AmiError as exc:  # an older PBX, or the link went again: events still tell every change
            log.info("device states not listed", error=str(exc))
            return
        if isinstance(result, AmiEventList):
            for event in result.events:
                if event.name == "DeviceStateChange":
                    self._on_change(event)

    def _on_change(self, event: AmiEvent) -> None:
        device = event.get("Device") or ""
        if device not in self.devices:
            return
        if (event.get("State") or "").upper() in DOWN:
            if device not in self._down:
                log.warning("agent phone unreachable: no calls offered to it", device=device)
            self._down.add(device)
        elif device in self._down:
            self._down.discard(device)
            log.info("agent phone reachable again", device=device)
            self.on_up(device)
