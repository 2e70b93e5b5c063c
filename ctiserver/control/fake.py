"""An in-memory ``CallControl`` for unit tests and ``ivr simulate``: scripted input, every call recorded.

Caller input is a list of *groups*, one per time the script waits for input (``["2", "12#", "", "!hangup"]``):
digits are typed when the script next listens (``collect_dtmf``), ``""`` lets that wait time out,
``"!hangup"`` hangs the caller up there. Digits left over from a group (typed ahead) barge in on the next
barge-in prompt. With ``live=True`` the fake waits for ``press()`` /
``caller_hangup()`` from the test instead of timing out when the groups run out.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctiserver.clock import Clock, ManualClock
from ctiserver.control import BridgeKind, ChannelGone, Collected, DialFailed, DialRequest, PlayResult

HANGUP = "!hangup"
QUICK = 0.5  # seconds: nobody starts typing a new entry that fast


@dataclass(frozen=True, slots=True)
class FakeCall:
    method: str
    channel: str | None
    args: Mapping[str, Any]


@dataclass(slots=True)
class FakeChannel:
    id: str
    inputs: deque[str] = field(default_factory=deque)
    buffer: str = ""
    live: bool = False
    gone: bool = False
    left: bool = False  # continued in the dialplan (out of our control)
    answered: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    listening: asyncio.Event = field(default_factory=asyncio.Event)  # set while live input is awaited


class FakeControl:
    def __init__(
        self,
        clock: Clock | None = None,
        *,
        play_seconds: float = 1.0,
        dial_results: Mapping[str, str] | None = None,
    ) -> None:
        self.clock = clock
        self.play_seconds = play_seconds
        self.dial_results = dict(dial_results or {})  # endpoint -> "answer" | busy | noanswer | ...
        self.calls: list[FakeCall] = []
        self.channels: dict[str, FakeChannel] = {}
        self.recordings: dict[str, str] = {}  # name -> state
        self._ids = itertools.count(1)

    # ---- test side ------------------------------------------------------------------------------------
    def add_channel(self, channel_id: str, inputs: Iterable[str] = (), *, live: bool = False) -> FakeChannel:
        ch = FakeChannel(channel_id, deque(inputs), live=live)
        self.channels[channel_id] = ch
        return ch

    def press(self, channel_id: str, digits: str) -> None:
        ch = self.channels[channel_id]
        ch.buffer += digits
        ch.changed.set()

    def caller_hangup(self, channel_id: str) -> None:
        ch = self.channels[channel_id]
        ch.gone = True
        ch.changed.set()

    def methods(self, channel_id: str | None = None) -> list[str]:
        return [c.method for c in self.calls if channel_id is None or c.channel == channel_id]

    def played(self, channel_id: str | None = None) -> list[str]:
        return [
            m
            for c in self.calls
            if c.method == "play" and (channel_id in (None, c.channel))
            for m in c.args["media"]
        ]

    # ---- helpers --------------------------------------------------------------------------------------
    def _record(self, method: str, channel: str | None, **args: Any) -> None:
        self.calls.append(FakeCall(method, channel, args))

    def _live(self, channel_id: str) -> FakeChannel:
        ch = self.channels.get(channel_id)
        if ch is None:
            ch = self.add_channel(channel_id)
        if ch.gone or ch.left:
            raise ChannelGone(channel_id)
        return ch

    async def _pass(self, seconds: float) -> None:
        if isinstance(self.clock, ManualClock):
            await self.clock.advance(seconds)
        else:
            await asyncio.sleep(0)

    async def _fill(self, ch: FakeChannel) -> None:
        """Make the next input group available (``collect_dtmf`` is where the caller types)."""
        if ch.buffer:
            return
        if ch.inputs:
            group = ch.inputs.popleft()
            if group == HANGUP:
                ch.gone = True
                raise ChannelGone(ch.id)
            ch.buffer = group
            return
        if ch.live:
            ch.changed.clear()
            ch.listening.set()
            try:
                await ch.changed.wait()
            finally:
                ch.listening.clear()
            if ch.gone:
                raise ChannelGone(ch.id)

    # ---- CallControl ----------------------------------------------------------------------------------
    async def answer(self, channel_id: str) -> None:
        self._record("answer", channel_id)
        self._live(channel_id).answered = True

    async def play(
        self, channel_id: str, media: Sequence[str], *, language: str | None = None, barge_in: bool = False
    ) -> PlayResult:
        self._record("play", channel_id, media=list(media), language=language, barge_in=barge_in)
        ch = self._live(channel_id)
        if barge_in:
            if ch.buffer:  # digits typed ahead interrupt the prompt at once
                digit, ch.buffer = ch.buffer[0], ch.buffer[1:]
                return PlayResult(completed=False, digit=digit)
        await self._pass(self.play_seconds * len(media))
        self._live(channel_id)
        return PlayResult(completed=True)

    async def stop_playback(self, channel_id: str) -> None:
        self._record("stop_playback", channel_id)
        self._live(channel_id)

    async def collect_dtmf(
        self,
        channel_id: str,
        *,
        max_digits: int,
        first_digit_timeout: float,
        inter_digit_timeout: float,
        terminators: str = "#",
    ) -> Collected:
        self._record(
            "collect_dtmf",
            channel_id,
            max_digits=max_digits,
            first_digit_timeout=first_digit_timeout,
            inter_digit_timeout=inter_digit_timeout,
            terminators=terminators,
        )
        ch = self._live(channel_id)
        digits = ""
        while True:
            if first_digit_timeout >= QUICK or ch.buffer:  # a very short wait only takes what was typed ahead
                await self._fill(ch)
            if not ch.buffer:
                await self._pass(inter_digit_timeout if digits else first_digit_timeout)
                return Collected(digits, None, timed_out=True)
            while ch.buffer:
                d, ch.buffer = ch.buffer[0], ch.buffer[1:]
                if terminators and d in terminators:
                    return Collected(digits, d)
                digits += d
                if len(digits) >= max_digits:
                    return Collected(digits)
            if not ch.live:
                await self._pass(inter_digit_timeout)
                return Collected(digits, None, timed_out=True)

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        self._record("set_variable", channel_id, name=name, value=value)
        self._live(channel_id).variables[name] = value

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        self._record("get_variable", channel_id, name=name)
        return self._live(channel_id).variables.get(name)

    async def start_moh(self, channel_id: str, moh_class: str = "default") -> None:
        self._record("start_moh", channel_id, moh_class=moh_class)
        self._live(channel_id)

    async def stop_moh(self, channel_id: str) -> None:
        self._record("stop_moh", channel_id)
        self._live(channel_id)

    async def ring(self, channel_id: str) -> None:
        self._record("ring", channel_id)
        self._live(channel_id)

    async def create_bridge(self, kind: BridgeKind = BridgeKind.MIXING, name: str = "") -> str:
        bridge = f"bridge-{next(self._ids)}"
        self._record("create_bridge", None, kind=kind.value, name=name, bridge=bridge)
        return bridge

    async def add_to_bridge(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        self._record("add_to_bridge", None, bridge=bridge_id, channels=list(channel_ids))
        for c in channel_ids:
            self._live(c)

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        self._record("remove_from_bridge", channel_id, bridge=bridge_id)

    async def destroy_bridge(self, bridge_id: str) -> None:
        self._record("destroy_bridge", None, bridge=bridge_id)

    async def dial(self, request: DialRequest) -> str:
        self._record("dial", None, endpoint=request.endpoint, app_args=list(request.app_args))
        result = self.dial_results.get(request.endpoint, "answer")
        if result != "answer":
            raise DialFailed(request.endpoint, result)
        channel = f"fake-{next(self._ids)}"
        self.add_channel(channel).answered = True
        return channel

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        self._record(
            "continue_in_dialplan", channel_id, context=context, extension=extension, priority=priority
        )
        self._live(channel_id).left = True

    async def record(self, target: str, name: str, *, fmt: str = "wav", bridge: bool = False) -> str:
        self._record("record", target, name=name, fmt=fmt, bridge=bridge)
        if not bridge:
            self._live(target)
        self.recordings[name] = "recording"
        return name

    async def pause_recording(self, name: str) -> None:
        self._record("pause_recording", None, name=name)
        self.recordings[name] = "paused"

    async def resume_recording(self, name: str) -> None:
        self._record("resume_recording", None, name=name)
        self.recordings[name] = "recording"

    async def stop_recording(self, name: str) -> None:
        self._record("stop_recording", None, name=name)
        self.recordings[name] = "done"

    async def recording_live(self, name: str) -> bool:
        return self.recordings.get(name) in ("recording", "paused")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        self._record("hangup", channel_id, reason=reason)
        ch = self._live(channel_id)
        ch.gone = True
        ch.changed.set()

    async def wait_hangup(self, channel_id: str) -> None:
        ch = self.channels.get(channel_id)
        while ch is not None and not (ch.gone or ch.left):
            ch.changed.clear()
            await ch.changed.wait()
