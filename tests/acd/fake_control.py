"""A small in-memory CallControl for the ACD's unit tests (devices scripted per endpoint)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from ctiserver.acd.dialing import OnRinging
from ctiserver.clock import Clock
from ctiserver.control import (
    BridgeKind,
    ChannelGone,
    Collected,
    DialFailed,
    DialRequest,
    PlayResult,
)


@dataclass
class Device:
    answer_after: float | None = 1.0  # None: never answers
    fail: str | None = None  # "busy" / "unavailable"
    drop_after: float = 0.0  # a dial cancelled while ringing takes this long to clean up (ARI's DELETE)


@dataclass
class Chan:
    id: str
    endpoint: str
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    digits: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    moh: bool = False
    request: DialRequest | None = None


class FakeControl:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.devices: dict[str, Device] = {}
        self.channels: dict[str, Chan] = {}
        self.bridges: dict[str, set[str]] = {}
        self.recordings: dict[str, str] = {}
        self.log: list[tuple[str, ...]] = []
        self.dials: list[DialRequest] = []
        self._ids = itertools.count(1)

    def caller(self, number: str = "5550100") -> str:
        cid = f"caller-{next(self._ids)}"
        self.channels[cid] = Chan(cid, f"PJSIP/{number}")
        return cid

    def press(self, channel: str, digit: str) -> None:
        self.channels[channel].digits.put_nowait(digit)

    def remote_hangup(self, channel: str) -> None:
        self.channels[channel].gone.set()
        for members in self.bridges.values():
            members.discard(channel)

    def _chan(self, channel_id: str) -> Chan:
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone.is_set():
            raise ChannelGone(channel_id)
        return ch

    async def answer(self, channel_id: str) -> None:
        self._chan(channel_id)

    async def play(
        self, channel_id: str, media: Sequence[str], *, language: str | None = None, barge_in: bool = False
    ) -> PlayResult:
        self._chan(channel_id)
        self.log.append(("play", channel_id, *media))
        return PlayResult(True)

    async def stop_playback(self, channel_id: str) -> None:
        self._chan(channel_id)

    async def collect_dtmf(
        self,
        channel_id: str,
        *,
        max_digits: int,
        first_digit_timeout: float,
        inter_digit_timeout: float,
        terminators: str = "#",
    ) -> Collected:
        ch = self._chan(channel_id)
        get = asyncio.create_task(ch.digits.get())
        gone = asyncio.create_task(ch.gone.wait())
        await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not get.done():
            get.cancel()
            raise ChannelGone(channel_id)
        return Collected(get.result())

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        self._chan(channel_id)

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        return None

    async def start_moh(self, channel_id: str, moh_class: str = "default") -> None:
        self._chan(channel_id).moh = True

    async def stop_moh(self, channel_id: str) -> None:
        self._chan(channel_id).moh = False

    async def ring(self, channel_id: str) -> None:
        self._chan(channel_id)

    async def create_bridge(self, kind: BridgeKind = BridgeKind.MIXING, name: str = "") -> str:
        bid = f"bridge-{next(self._ids)}"
        self.bridges[bid] = set()
        return bid

    async def add_to_bridge(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        for c in channel_ids:
            self._chan(c)
        self.bridges[bridge_id].update(channel_ids)
        self.log.append(("bridge", bridge_id, *sorted(channel_ids)))

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        self.bridges.get(bridge_id, set()).discard(channel_id)

    async def destroy_bridge(self, bridge_id: str) -> None:
        self.bridges.pop(bridge_id, None)

    async def dial(self, request: DialRequest) -> str:
        return await self.dial_with_progress(request, None)

    async def dial_with_progress(self, request: DialRequest, on_ringing: OnRinging | None) -> str:
        self.dials.append(request)
        dev = self.devices.get(request.endpoint, Device())
        if dev.fail:
            raise DialFailed(request.endpoint, dev.fail)
        cid = f"{request.endpoint.replace('/', '-')}-{next(self._ids)}"
        ch = Chan(cid, request.endpoint, request=request)
        self.channels[cid] = ch
        if on_ringing is not None:
            await on_ringing(cid)
        try:
            if dev.answer_after is None or dev.answer_after >= request.timeout:
                await self.clock.sleep(request.timeout)
                ch.gone.set()
                raise DialFailed(request.endpoint, "noanswer")
            await self.clock.sleep(dev.answer_after)
        except asyncio.CancelledError:
            ch.gone.set()
            if dev.drop_after:
                await asyncio.shield(self.clock.sleep(dev.drop_after))
            raise
        self.log.append(("answered", cid))
        return cid

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        self._chan(channel_id)
        self.log.append(("continue", channel_id, context, extension))

    async def record(self, target: str, name: str, *, fmt: str = "wav", bridge: bool = False) -> str:
        self.recordings[name] = "recording"
        return name

    async def pause_recording(self, name: str) -> None:
        self.recordings[name] = "paused"

    async def resume_recording(self, name: str) -> None:
        self.recordings[name] = "recording"

    async def stop_recording(self, name: str) -> None:
        self.recordings[name] = "done"

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        self._chan(channel_id)
        self.log.append(("hangup", channel_id))
        self.remote_hangup(channel_id)

    async def wait_hangup(self, channel_id: str) -> None:
        ch = self.channels.get(channel_id)
        if ch is None:
            return
        await ch.gone.wait()
