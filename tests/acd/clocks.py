"""A wall clock running ``factor`` times faster, shared by the simulator and the engine in e2e tests."""

from __future__ import annotations

import asyncio
import time


class FastClock:
    def __init__(self, factor: float = 5.0, start: float = 1_800_000_000.0) -> None:
        self.factor = factor
        self._real0 = time.monotonic()
        self._start = start

    def monotonic(self) -> float:
        return (time.monotonic() - self._real0) * self.factor

    def now(self) -> float:
        return self._start + self.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.factor)


async def wait_for(cond: object, limit: float = 30.0, poll: float = 0.02) -> None:
    """Wait (real seconds) until ``cond()`` is true; generous timeouts, the machine may be loaded."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():  # type: ignore[operator]
        if loop.time() > end:
            raise AssertionError(f"condition not met within {limit} s")
        await asyncio.sleep(poll)
