"""Per-channel state kept from ARI events: DTMF buffer, playbacks in progress, hang-up, dials in flight.

Sans-I/O: ``feed(event)`` takes one decoded ARI event (the JSON object as received) and returns the calls that
just entered the Stasis app and are not ours (for the router).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ctiserver.control.router import Incoming


@dataclass(slots=True)
class ChannelState:
    id: str
    dtmf: deque[str] = field(default_factory=deque)
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # a digit arrived or the channel went
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    cause: int | None = None
    state: str = ""
    connection: int = 0  # the events connection its StasisStart came on (``AriCallControl.resync``)

    def poke(self) -> None:
        self.changed.set()


@dataclass(slots=True)
class PendingDial:
    channel_id: str
    endpoint: str
    result: asyncio.Future[str]


def _cause_reason(cause: int | None) -> str:
    if cause == 17:
        return "busy"
    if cause in (18, 19, 21):
        return "noanswer"
    if cause in (34, 38, 41, 42, 44):
        return "congestion"
    if cause in (1, 3, 20, 27, 28):
        return "unavailable"
    return "failed"


class DialError(Exception):
    def __init__(self, reason: str, cause: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


class ChannelTable:
    def __init__(self) -> None:
        self.channels: dict[str, ChannelState] = {}
        self.playbacks: dict[str, asyncio.Future[None]] = {}
        self.dials: dict[str, PendingDial] = {}
        self.recordings: dict[str, asyncio.Future[None]] = {}

    def channel(self, channel_id: str) -> ChannelState:
        ch = self.channels.get(channel_id)
        if ch is None:
            ch = self.channels[channel_id] = ChannelState(channel_id)
        return ch

    def forget(self, channel_id: str) -> None:
        self.channels.pop(channel_id, None)

    def feed(self, event: Mapping[str, Any]) -> Incoming | None:
        kind = event.get("type")
        chan = event.get("channel") if isinstance(event.get("channel"), Mapping) else None
        cid = str(chan.get("id", "")) if chan else ""
        if kind == "ChannelDtmfReceived" and cid:
            ch = self.channels.get(cid)
            if ch is not None:
                ch.dtmf.append(str(event.get("digit", "")))
                ch.poke()
        elif kind in ("PlaybackFinished", "PlaybackFailed"):
            pb = event.get("playback") or {}
            fut = self.playbacks.pop(str(pb.get("id", "")), None)
            if fut is not None and not fut.done():
                fut.set_result(None)
            target = str(pb.get("target_uri", ""))
            if target.startswith("channel:") and target[8:] in self.channels:
                self.channels[target[8:]].poke()
        elif kind == "StasisStart" and cid and chan is not None:
            return self._stasis_start(cid, chan, event)
        elif kind == "ChannelStateChange" and cid and cid in self.channels:
            self.channels[cid].state = str(chan.get("state", "")) if chan else ""
        elif kind in ("ChannelHangupRequest", "StasisEnd", "ChannelDestroyed") and cid:
            self._gone(cid, event)
        return None

    def _stasis_start(self, cid: str, chan: Mapping[str, Any], event: Mapping[str, Any]) -> Incoming | None:
        ch = self.channel(cid)
        ch.state = str(chan.get("state", ""))
        dial = self.dials.pop(cid, None)
        if dial is not None:  # a leg we originated has answered and entered the app
            if not dial.result.done():
                dial.result.set_result(cid)
            return None
        caller = chan.get("caller") or {}
        plan = chan.get("dialplan") or {}
        return Incoming(
            channel_id=cid,
            args=tuple(str(a) for a in event.get("args") or ()),
            caller_number=str(caller.get("number", "")),
            caller_name=str(caller.get("name", "")),
            exten=str(plan.get("exten", "")),
            language=str(chan.get("language", "")),
            channel_name=str(chan.get("name", "")),
        )

    def mark_gone(self, cid: str) -> None:
        """The channel left while we were not listening (found at a resync)."""
        self._gone(cid, {"type": "StasisEnd"})

    def _gone(self, cid: str, event: Mapping[str, Any]) -> None:
        cause = event.get("cause")
        dial = self.dials.get(cid)
        if dial is not None and event.get("type") == "ChannelDestroyed":
            self.dials.pop(cid, None)
            if not dial.result.done():
                code = int(cause) if isinstance(cause, int) else None
                dial.result.set_exception(DialError(_cause_reason(code), code))
        ch = self.channels.get(cid)
        if ch is None:
            return
        if event.get("type") == "ChannelDestroyed" and isinstance(cause, int):
            ch.cause = cause
        ch.gone.set()
        ch.poke()
        if event.get("type") != "ChannelHangupRequest":  # out of our app: waiters keep their reference
            self.channels.pop(cid, None)
