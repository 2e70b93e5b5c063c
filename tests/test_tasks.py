"""Stopping helper tasks (``ctiserver.tasks.cancel_and_wait``) never swallows the caller's own cancellation: the
webhook dispatcher once did, and a daemon shutdown hung on it."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.events.outbox import MemoryOutbox
from ctiserver.events.webhooks import WebhookConfig, WebhookDispatcher
from ctiserver.tasks import cancel_and_wait


async def _slow_to_die() -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        await asyncio.sleep(0.05)  # cleanup that takes a while: the caller waits here
        raise


async def test_the_callers_cancellation_survives_the_wait() -> None:
    child = asyncio.create_task(_slow_to_die())
    await asyncio.sleep(0)
    caller = asyncio.create_task(cancel_and_wait(child))
    await asyncio.sleep(0.01)  # the caller now waits for the child's cleanup
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert caller.cancelled()


async def test_a_failed_task_raises_and_none_is_skipped() -> None:
    async def boom() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            raise ValueError("cleanup failed")

    child = asyncio.create_task(boom())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="cleanup failed"):
        await cancel_and_wait(None, child)
    await cancel_and_wait(None)


class _CancelsWhileIdle:
    """A clock whose first sleep ends at once and, ``depth`` event-loop passes later, cancels the dispatcher: one
    of the depths lands while the dispatcher's idle wait is stopping its helper tasks."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.task: asyncio.Task[None] | None = None
        self.fired = False

    def now(self) -> float:
        return 1_795_369_941.0

    def monotonic(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        if self.fired:
            await asyncio.sleep(seconds)
            return
        self.fired = True
        assert self.task is not None
        loop = asyncio.get_running_loop()

        def later(n: int) -> None:
            assert self.task is not None
            if n == 0:
                self.task.cancel()
            else:
                loop.call_soon(later, n - 1)

        later(self.depth)


@pytest.mark.parametrize("depth", range(8))
async def test_webhook_dispatcher_stops_when_cancelled_in_its_idle_wait(depth: int) -> None:
    clock = _CancelsWhileIdle(depth)
    dispatcher = WebhookDispatcher(MemoryOutbox(), clock, WebhookConfig(idle_poll=0.01))
    task = asyncio.create_task(dispatcher.run())
    clock.task = task
    done, _ = await asyncio.wait({task}, timeout=2.0)
    assert done, f"the dispatcher ignored a cancel {depth} loop passes after its sleep ended"
    assert task.cancelled()
