"""Polling under a deadline, for tests that watch state other tasks change over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(cond: Callable[[], object], within: float = 20.0, poll: float = 0.01) -> None:
    """Return once ``cond()`` is true; fail the test if it is not within ``within`` real seconds."""
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(poll)
