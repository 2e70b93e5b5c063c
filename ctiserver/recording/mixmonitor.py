"""Recording a channel that is not in our Stasis app, by AMI ``MixMonitor``: app_queue calls (observer mode) and
the AMI desk's dialler calls, which leave Stasis by ``Redirect`` and meet their agent in the dialplan. ARI can
record only a channel or bridge of its own application, so these are recorded by the channel's audiohook instead
(it stays with the channel through redirects and bridges and ends with it; the PBX then closes the file).

The recording service keeps one set of metadata, events and rules for both kinds; this only speaks AMI:

* start: ``MixMonitor Channel=<name> File=<directory>/<recording>.<format>`` (the same file name as an ARI
  recording: ``<call id>-<n>.<format>``);
* pause / resume: ``MixMonitorMute Direction=both State=1`` / ``0``. Asterisk writes silence while muted, so the
  file keeps the call's timeline (an ARI pause leaves the paused audio out instead);
* stop: ``StopMixMonitor``. A channel already gone has stopped its recording itself: ``ChannelGone``.
* end: the audiohook ends with its channel, so the channel's AMI ``Hangup`` tells ``gone(<recording>)`` (the
  recording service then reads the file's facts and publishes ``recording.ready``) — whoever started it.
  A ``Hangup`` sent while the AMI link was down reaches nobody: after every login ``resync`` asks
  ``CoreShowChannels`` which of the recorded channels are still up and tells the others ``gone``; the same
  look ends the recordings an earlier run of the daemon left on channels that hung up since (``track``).

Action and parameter names: Asterisk 22's ``app_mixmonitor`` manager documentation (MixMonitor, MixMonitorMute,
StopMixMonitor).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ctiserver.control import ChannelGone, ControlError
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.errors import AmiActionError, AmiError
from ctiserver.pbx.ami.messages import AmiEvent, AmiEventList

log = get_logger(__name__)


class AmiLink(Protocol):
    async def action(self, name: str, headers: Any = (), *, check: bool = False) -> Any: ...

    def on_event(self, name: str, callback: Callable[[AmiEvent], None]) -> Any: ...

    def on_reconnect(self, callback: Callable[[], Awaitable[None] | None]) -> None: ...


class MixMonitorRecorder:
    def __init__(self, ami: AmiLink) -> None:
        self.ami = ami
        self.gone: Callable[[str], None] = lambda name: None  # a recording's channel hung up: it has ended
        self._on: dict[str, list[str]] = {}  # channel name → the recordings running on it
        ami.on_event("Hangup", self._hangup)
        ami.on_reconnect(self.resync)

    async def start(self, channel: str, path: str, name: str) -> None:
        await self._do("MixMonitor", channel, [("File", path)])
        self._on.setdefault(channel, []).append(name)

    async def mute(self, channel: str, on: bool) -> None:
        await self._do("MixMonitorMute", channel, [("Direction", "both"), ("State", "1" if on else "0")])

    async def stop(self, channel: str) -> None:
        await self._do("StopMixMonitor", channel, [])

    def track(self, channel: str, name: str) -> None:
        """A recording this daemon did not start here (an earlier run did): end it with its channel too."""
        self._on.setdefault(channel, []).append(name)

    async def resync(self) -> None:
        """The recordings whose channel is no longer up (its ``Hangup`` was missed) have ended: ``gone``."""
        if not self._on:
            return
        try:
            result = await self.ami.action("CoreShowChannels", [], check=True)
        except AmiError as exc:  # the link is down (again): the next login looks again
            log.warning("recorded channels not checked", error=str(exc))
            return
        if not isinstance(result, AmiEventList):  # not the list the PBX sends: guess nothing
            return
        up = {e.get("Channel") for e in result.events if e.name == "CoreShowChannel"}
        for channel in [c for c in self._on if c not in up]:
            log.info("recorded channel hung up while the AMI link was down", channel=channel)
            for name in self._on.pop(channel):
                self.gone(name)

    def _hangup(self, event: AmiEvent) -> None:
        for name in self._on.pop(event.get("Channel") or "", ()):
            self.gone(name)

    async def _do(self, action: str, channel: str, headers: list[tuple[str, str]]) -> None:
        try:
            await self.ami.action(action, [("Channel", channel), *headers], check=True)
        except AmiActionError as exc:
            message = (exc.response.message or "").lower()
            if "no such channel" in message or "does not exist" in message:
                raise ChannelGone(channel) from exc
            raise ControlError(str(exc)) from exc
        except AmiError as exc:  # the link: the PBX may or may not have done it
            raise ControlError(str(exc)) from exc
