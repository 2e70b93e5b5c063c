"""Start a coroutine now, in the caller's callback (``eager_start`` of Python 3.12 tasks, for 3.11).

The ACD reserves the agents a routing pass chose this way: each reservation's synchronous part (the state
change, its place in the write queue) happens in the pass itself, so no other agent's change can slip in
between the choice and the reservation (the published order then tells the truth about what routing saw).

The WebSocket hub uses it to write a frame in the bus callback that produced the event: waking the session's
pump task instead costs one more pass of the event loop, and under load one pass is several milliseconds of
other work (the screen-pop's ring → frame latency, bench/screen_pop.py). A frame write usually completes without
suspending; when it must wait (the peer's buffer is full) the rest runs in a task, as it would have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


def eager_future(coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """Run ``coro`` until it first suspends; a future of its outcome (already done if it finished)."""
    try:
        waited = coro.send(None)
    except StopIteration as stop:
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        done.set_result(stop.value)
        return done
    except Exception as exc:
        failed: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        failed.set_exception(exc)
        return failed
    return asyncio.ensure_future(_resume(coro, waited))


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """``eager_future`` for a fire-and-forget step: None if it finished (its exception, if any, is raised
    here); else the task that finishes it."""
    fut = eager_future(coro)
    if fut.done():
        fut.result()
        return None
    return fut


async def _resume(coro: Coroutine[Any, Any, T], waited: Any) -> T:
    """Drive a suspended coroutine as a task would: wait for what it yielded, send the outcome back in."""
    while True:
        try:
            if waited is None:  # a bare yield (asyncio.sleep(0)): let the loop run once
                await asyncio.sleep(0)
            else:
                await _Awaiting(waited)
        except BaseException as exc:  # the awaited future failed or this task was cancelled: raise it inside
            try:
                waited = coro.throw(exc)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            continue
        try:
            waited = coro.send(None)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


class _Awaiting:
    """Await a future a coroutine already yielded (its blocking flag was set by that yield)."""

    def __init__(self, future: Any) -> None:
        self.future = future

    def __await__(self) -> Generator[Any, None, None]:
        if not self.future.done():
            yield self.future
        self.future.result()
