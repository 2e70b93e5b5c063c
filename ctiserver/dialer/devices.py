"""Which agent phones the PBX can reach, for the AMI desk (the ACD follows its own agents' devices): the device
states of ``ctiserver.pbx.device_states``. A device never heard of counts as reachable (an older PBX, a device
outside the cache); the desk rests a seat whose phone fails all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.device_states import DOWN, follow

log = get_logger(__name__)


@dataclass
class DeviceWatch:
    ami: AmiClient
    devices: frozenset[str]  # the ones we care about (others are ignored)
    on_up: Callable[[str], None] = lambda device: None  # a device reachable again
    _down: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        follow(self.ami, self._on_change)

    def up(self, device: str) -> bool:
        return device not in self._down

    def _on_change(self, device: str, state: str) -> None:
        if device not in self.devices:
            return
        if state in DOWN:
            if device not in self._down:
                log.warning("agent phone unreachable: no calls offered to it", device=device)
            self._down.add(device)
        elif device in self._down:
            self._down.discard(device)
            log.info("agent phone reachable again", device=device)
            self.on_up(device)
