"""The daemon's event loop: uvloop when it is installed (libuv's loop: socket reads and writes, timers and
callbacks in C; see bench/screen_pop.py for what it takes off the daemon's per-call CPU), else asyncio's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")
LoopKind = Literal["auto", "asyncio", "uvloop"]


def loop_factory(kind: LoopKind = "auto") -> Callable[[], asyncio.AbstractEventLoop] | None:
    """A loop factory for ``asyncio.Runner`` (None: asyncio's default loop)."""
    if kind == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if kind == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


def run_loop(main: Coroutine[Any, Any, T], kind: LoopKind = "auto") -> T:
    """``asyncio.run`` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(main)
