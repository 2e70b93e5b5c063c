"""Injected time. Everything that waits or timestamps takes a ``Clock`` so tests never sleep for real."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock seconds since the epoch (for timestamps)."""

    def monotonic(self) -> float:
        """Monotonic seconds (for durations and timers)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(order=True)
class _Sleeper:
    wake_at: float
    seq: int
    future: asyncio.Future[None] = field(compare=False)


class ManualClock:
    """A clock that only moves when told to: ``await clock.advance(5)`` wakes every sleeper due by then, in order."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._mono = 0.0
        self._sleepers: list[_Sleeper] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, _Sleeper(self._mono + seconds, next(self._seq), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        target = self._mono + seconds
        while self._sleepers and self._sleepers[0].wake_at <= target:
            sleeper = heapq.heappop(self._sleepers)
            self._now += sleeper.wake_at - self._mono
            self._mono = sleeper.wake_at
            if not sleeper.future.done():
                sleeper.future.set_result(None)
            for _ in range(5):  # let woken tasks run and schedule new sleeps
                await asyncio.sleep(0)
        self._now += target - self._mono
        self._mono = target
        await asyncio.sleep(0)
