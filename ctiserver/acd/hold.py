"""What a waiting caller hears and may do: music on hold, position / estimated-wait announcements every N
seconds, and the "press 1 to be called back" option (which keeps the caller's place)."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable

from ctiserver.acd.config import QueueConfig
from ctiserver.acd.entries import Entry
from ctiserver.clock import Clock
from ctiserver.control import CallControl, ChannelGone, ControlError
from ctiserver.logs import get_logger

log = get_logger(__name__)

Announce = Callable[[Entry], tuple[int, float | None]]  # → (position, ewt seconds or None)
OnCallback = Callable[[Entry], Awaitable[bool]]  # False: refused (an agent is being rung), keep listening


def announcement_media(position: int, ewt: float | None, cfg: QueueConfig) -> list[str]:
    ann = cfg.announcements
    media: list[str] = []
    if ann is None:
        return media
    if ann.position and position > 0:
        media += (
            ["sound:queue-youarenext"]
            if position == 1
            else ["sound:queue-thereare", f"number:{position - 1}", "sound:queue-callswaiting"]
        )
    if ann.ewt and ewt is not None and position > 1:
        minutes = max(1, math.ceil(ewt / 60.0))
        media += ["sound:queue-holdtime", f"number:{minutes}", "sound:queue-minutes"]
    return media


class Hold:
    """Runs while one caller waits; cancelled when an agent is about to be bridged."""

    def __init__(
        self,
        control: CallControl,
        clock: Clock,
        cfg: Callable[[], QueueConfig],
        announce: Announce,
        on_callback: OnCallback,
    ) -> None:
        self._control = control
        self._clock = clock
        self._cfg = cfg  # the entry's current queue (it changes on overflow)
        self._announce = announce
        self._on_callback = on_callback

    async def run(self, entry: Entry) -> None:
        channel = entry.channel_id
        if channel is None:
            return
        tasks = [asyncio.create_task(self._announcements(entry, channel))]
        if self._cfg().callback.enabled:
            tasks.append(asyncio.create_task(self._callback_digit(entry, channel)))
        try:
            await self._moh(channel, on=True)
            await asyncio.gather(*tasks)
        except ChannelGone:
            pass
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _moh(self, channel: str, *, on: bool) -> None:
        try:
            if on:
                await self._control.start_moh(channel, self._cfg().moh)
            else:
                await self._control.stop_moh(channel)
        except ChannelGone:
            raise
        except ControlError as exc:
            log.warning("moh change failed", channel=channel, error=str(exc))

    async def _announcements(self, entry: Entry, channel: str) -> None:
        ann = self._cfg().announcements
        if ann is None:
            return
        await self._clock.sleep(ann.first_after)
        while True:
            cfg = self._cfg()
            position, ewt = self._announce(entry)
            media = announcement_media(position, ewt, cfg)
            if media:
                await self._moh(channel, on=False)
                await self._control.play(channel, media)
                entry.announced += 1
                await self._moh(channel, on=True)
            await self._clock.sleep(cfg.announcements.every if cfg.announcements else 3600.0)

    async def _callback_digit(self, entry: Entry, channel: str) -> None:
        cb = self._cfg().callback
        if cb.offer_media:
            with contextlib.suppress(ControlError):
                await self._control.play(channel, list(cb.offer_media))
        while True:
            got = await self._control.collect_dtmf(
                channel, max_digits=1, first_digit_timeout=3600.0, inter_digit_timeout=1.0, terminators=""
            )
            if got.digits == cb.digit and await self._on_callback(entry):
                return
