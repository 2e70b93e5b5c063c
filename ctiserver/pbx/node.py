"""One Asterisk box: its AMI client, its ARI client and their health.

The node ties the two links together where Asterisk's behaviour needs it: after a restart (``core restart``)
Asterisk forgets the Stasis application; AMI reports ``FullyBooted`` with a small ``Uptime`` when it is back,
and the node then makes the ARI client re-register at once instead of waiting for its back-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ctiserver.clock import Clock, SystemClock
from ctiserver.config import PbxConfig
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.pbx.ari.client import AriClient
from ctiserver.pbx.link import LinkState

log = get_logger(__name__)

BOOT_SLACK = 1.5  # Asterisk's Uptime is in whole seconds: boots closer than this are the same boot


@dataclass(frozen=True, slots=True)
class LinkHealth:
    state: str
    up: bool
    last_error: str | None
    connections: int
    events: int


@dataclass(frozen=True, slots=True)
class NodeHealth:
    name: str
    ami: LinkHealth
    ari: LinkHealth
    ami_backlog: int
    asterisk_restarts: int

    @property
    def ok(self) -> bool:
        return self.ami.up and self.ari.up

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "ami": {**_link(self.ami), "backlog": self.ami_backlog},
            "ari": _link(self.ari),
            "asterisk_restarts": self.asterisk_restarts,
        }


def _link(h: LinkHealth) -> dict[str, Any]:
    return {
        "state": h.state,
        "up": h.up,
        "last_error": h.last_error,
        "connections": h.connections,
        "events": h.events,
    }


class PbxNode:
    """``async with PbxNode(config.pbx, clock) as node:`` connects AMI and ARI (neither being reachable yet is
    not an error: both keep trying; bad credentials are)."""

    def __init__(
        self,
        config: PbxConfig,
        clock: Clock | None = None,
        *,
        ami: AmiClient | None = None,
        ari: AriClient | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.clock: Clock = clock or SystemClock()
        self.ami = ami or AmiClient(config.ami, self.clock, name=f"ami-{config.name}")
        self.ari = ari or AriClient(config.ari, self.clock)
        self.asterisk_restarts = 0
        self._ari_up_since: float | None = None
        self._boot: float | None = None  # our monotonic time of the last Asterisk boot seen
        self.ami.on_event("FullyBooted", self._fully_booted)
        self.ari.on_resync(self._ari_connected)

    async def __aenter__(self) -> PbxNode:
        await self.ami.__aenter__()
        try:
            await self.ari.__aenter__()
        except BaseException:
            await self.ami.close()
            raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.ari.close()
        finally:
            await self.ami.close()

    def health(self) -> NodeHealth:
        return NodeHealth(
            name=self.name,
            ami=LinkHealth(
                self.ami.link.state.value,
                self.ami.link.state is LinkState.UP,
                self.ami.last_error,
                self.ami.logins,
                self.ami.events_received,
            ),
            ari=LinkHealth(
                self.ari.link.state.value,
                self.ari.link.state is LinkState.UP,
                self.ari.last_error,
                self.ari.connections,
                self.ari.events_received,
            ),
            ami_backlog=self.ami.backlog,
            asterisk_restarts=self.asterisk_restarts,
        )

    def _ari_connected(self, _: object) -> None:
        self._ari_up_since = self.clock.monotonic()

    def _fully_booted(self, event: AmiEvent) -> None:
        """Asterisk sends FullyBooted after every AMI login (and once when it finishes booting). ``Uptime``
        dates the boot; a boot not seen before means Asterisk restarted and forgot the Stasis app:
        re-register now. The first boot seen needs it only if our events WebSocket is older than it."""
        try:
            uptime = float(event.get("Uptime") or "0")
        except ValueError:
            uptime = 0.0
        booted_at = self.clock.monotonic() - uptime
        last = self._boot
        if last is not None and abs(booted_at - last) <= BOOT_SLACK:
            return  # the same boot, reported again (another login)
        self._boot = booted_at
        since = self._ari_up_since
        if last is None and (since is None or since >= booted_at - BOOT_SLACK):
            return  # first sight of this Asterisk, and our registration is not older than its boot
        if last is not None:
            self.asterisk_restarts += 1
        log.warning("asterisk (re)booted; re-registering the ARI application", node=self.name, uptime=uptime)
        self._ari_up_since = None
        self.ari.reconnect("AMI FullyBooted: Asterisk restarted")
