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
  A channel is known by its name, and Asterisk numbers channels afresh when it restarts (``PJSIP/1001-00000001``
  again): a channel of that name younger (``Duration``) than the recording is another one — the recorded one
  hung up and its recording ended.

Action and parameter names: Asterisk 22's ``app_mixmonitor`` manager documentation (MixMonitor, MixMonitorMute,
StopMixMonitor).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ctiserver.calls.text import hms
from ctiserver.clock import Clock, SystemClock
from ctiserver.control import ChannelGone, ControlError
from ctiserver.logs import get_logger
from ctiserver.pbx.ami.channels import live_channels
from ctiserver.pbx.ami.errors import AmiActionError, AmiError
from ctiserver.pbx.ami.messages import AmiEvent

log = get_logger(__name__)

SLACK = 2.0  # s: CoreShowChannel's Duration is whole seconds, and the action takes a moment


class AmiLink(Protocol):
    async def action(self, name: str, headers: Any = (), *, check: bool = False) -> Any: ...

    def on_event(self, name: str, callback: Callable[[AmiEvent], None]) -> Any: ...

    def on_reconnect(self, callback: Callable[[], Awaitable[None] | None]) -> None: ...


class MixMonitorRecorder:
    def __init__(self, ami: AmiLink, clock: Clock | None = None) -> None:
        self.ami = ami
        self.clock = clock or SystemClock()
        self.gone: Callable[[str], None] = lambda name: None  # a recording's channel hung up: it has ended
        self._on: dict[str, list[str]] = {}  # channel name → the recordings running on it
        self._since: dict[str, float] = {}  # channel name → when its first running recording began
        ami.on_event("Hangup", self._hangup)
        ami.on_reconnect(self.resync)

    async def start(self, channel: str, path: str, name: str) -> None:
        asked = self.clock.now()  # the channel was up by then
        await self._do("MixMonitor", channel, [("File", path)])
        self._add(channel, name, asked)

    async def mute(self, channel: str, on: bool) -> None:
        await self._do("MixMonitorMute", channel, [("Direction", "both"), ("State", "1" if on else "0")])

    async def stop(self, channel: str) -> None:
        await self._do("StopMixMonitor", channel, [])

    def track(self, channel: str, name: str, since: float) -> None:
        """A recording this daemon did not start here (an earlier run did, at ``since``): end it with its channel
        too."""
        self._add(channel, name, since)

    def _add(self, channel: str, name: str, since: float) -> None:
        self._on.setdefault(channel, []).append(name)
        self._since[channel] = min(since, self._since.get(channel, since))

    def _end(self, channel: str) -> None:
        self._since.pop(channel, None)
        for name in self._on.pop(channel, ()):
            self.gone(name)

    async def resync(self) -> None:
        """The recordings whose channel is no longer up (its ``Hangup`` was missed) have ended: ``gone``."""
        if not self._on:
            return
        try:
            listed = await live_channels(self.ami, share=True)  # one action for every component asking now
        except AmiError as exc:  # the link is down (again): the next login looks again
            log.warning("recorded channels not checked", error=str(exc))
            return
        now = self.clock.now()
        up = {e.get("Channel"): hms(e.get("Duration")) for e in listed.values()}
        for channel in list(self._on):
            age = up.get(channel)
            if age is None or age + SLACK < now - self._since[channel]:
                log.info("recorded channel hung up while the AMI link was down", channel=channel)
                self._end(channel)

    def _hangup(self, event: AmiEvent) -> None:
        self._end(event.get("Channel") or "")

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
