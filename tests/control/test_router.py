"""The Stasis router: dispatch by first app arg, failures isolated, hang-up ends cleanly, exit cancels."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.clock import ManualClock
from ctiserver.control import ChannelGone
from ctiserver.control.router import Incoming, StasisRouter


async def test_dispatch_by_first_arg_and_isolation() -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []
    release = asyncio.Event()

    async def did(incoming: Incoming) -> None:
        seen.append(("did", incoming.args))
        await release.wait()

    async def broken(incoming: Incoming) -> None:
        raise RuntimeError("bug in a handler")

    async def gone(incoming: Incoming) -> None:
        raise ChannelGone(incoming.channel_id)

    router = StasisRouter()
    router.register("did", did)
    router.register("broken", broken)
    router.register("gone", gone)
    with pytest.raises(ValueError):
        router.register("did", did)
    async with router:
        t1 = router.dispatch(Incoming("c1", ("did", "100")))
        assert router.dispatch(Incoming("c1", ("did", "100"))) is None  # same channel twice: first owns it
        t2 = router.dispatch(Incoming("c2", ("broken",)))
        t3 = router.dispatch(Incoming("c3", ("gone",)))
        assert router.dispatch(Incoming("c4", ("nobody",))) is None
        assert t1 and t2 and t3
        await asyncio.wait_for(asyncio.gather(t2, t3), 5)
        assert router.failures == 1 and not t1.done()  # the broken handler did not take the others down
        release.set()
        await asyncio.wait_for(t1, 5)
    assert seen == [("did", ("did", "100"))] and router.active == 0


async def test_leaving_cancels_running_handlers_and_unrouted_hook() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()
    unrouted: list[str] = []

    async def forever(incoming: Incoming) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def hang_up(incoming: Incoming) -> None:
        unrouted.append(incoming.channel_id)

    router = StasisRouter()
    router.grace = 0  # no waiting for a late handler
    router.register("did", forever)
    router.unrouted = hang_up
    async with router:
        router.dispatch(Incoming("c1", ("did", "100")))
        task = router.dispatch(Incoming("c2", ("strange",)))
        await asyncio.wait_for(started.wait(), 5)
        assert task is not None
        await asyncio.wait_for(task, 5)
    assert cancelled.is_set() and unrouted == ["c2"]
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("cti:stasis")] == []


async def test_calls_arriving_before_their_handler_wait_for_it() -> None:
    got: list[str] = []
    unrouted: list[str] = []
    done = asyncio.Event()

    async def did(incoming: Incoming) -> None:
        got.append(incoming.channel_id)

    async def hang_up(incoming: Incoming) -> None:
        unrouted.append(incoming.channel_id)
        done.set()

    router = StasisRouter()
    router.unrouted = hang_up
    router.grace = 0.2
    async with router:
        assert router.dispatch(Incoming("early", ("did", "100"))) is None  # the IVR is not registered yet
        assert router.dispatch(Incoming("odd", ("strange",))) is None
        router.register("did", did)
        await asyncio.wait_for(done.wait(), 5)  # "odd" waited out the grace period, then went to unrouted
        await asyncio.sleep(0)
    assert got == ["early"] and unrouted == ["odd"]


async def test_the_grace_runs_on_the_injected_clock() -> None:
    clock = ManualClock()
    unrouted: list[str] = []

    async def hang_up(incoming: Incoming) -> None:
        unrouted.append(incoming.channel_id)

    router = StasisRouter(clock)
    router.unrouted = hang_up
    async with router:
        router.dispatch(Incoming("odd", ("strange",)))
        assert router.dispatch(Incoming("odd", ("strange",))) is None  # repeated while it waits: still waiting
        await asyncio.sleep(0.05)  # real time passes, the daemon's clock does not
        await clock.advance(9.9)
        assert unrouted == []
        await clock.advance(0.1)
        for _ in range(5):
            await asyncio.sleep(0)
        assert unrouted == ["odd"]
