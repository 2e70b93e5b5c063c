"""Waiting on real time in the wire tests (the daemon and the simulator run on their own, scaled clocks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(cond: Callable[[], object], limit: float, step: float = 0.05) -> bool:
    """True as soon as ``cond()`` is true, False if it is still false after ``limit`` real seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(step)
    return False


async def until_read(read: Callable[[], Awaitable[object]], want: object, limit: float, step: float = 0.1) -> bool:
    """True as soon as ``await read()`` gives ``want`` (an API's answer), False if not within ``limit`` real s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await read() == want:
            return True
        await asyncio.sleep(step)
    return False
