"""A clock that runs ``factor`` times faster than the wall clock (scenario replays at the recorded relative
times, in a fraction of the real time). The one scaled clock of the tests: the ACD and dialer rigs use it too."""

from __future__ import annotations

import asyncio
import time


class ScaledClock:
    def __init__(self, factor: float = 1.0, start: float | None = 1_795_369_941.0) -> None:
        """``start``: the wall-clock time at which the clock starts (``None``: now)."""
        self.factor = factor
        self._real0 = time.monotonic()
        self._start = time.time() if start is None else start

    def monotonic(self) -> float:
        return (time.monotonic() - self._real0) * self.factor

    def now(self) -> float:
        return self._start + self.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.factor)
