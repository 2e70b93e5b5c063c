"""``HeldCalls``: whether an answered attempt is in our Stasis application, for the ACD desk (which can only
bridge such calls). The wire test ``test_wire_acd_desk_away`` runs it in the daemon."""

from __future__ import annotations

import asyncio

from ctiserver.clock import ManualClock
from ctiserver.dialer.held import STASIS_WAIT, HeldCalls


async def test_held_at_once_or_when_its_stasis_start_comes_within_the_wait() -> None:
    clock = ManualClock()
    held = HeldCalls(clock, lambda: True)
    held.hold("a-1")
    assert await held.wait("a-1") and "a-1" in held
    later = asyncio.create_task(held.wait("a-2"))
    await asyncio.sleep(0)
    await clock.advance(STASIS_WAIT / 2)
    assert not later.done()
    held.hold("a-2")
    await clock.advance(0.1)
    assert later.done() and later.result()
    held.release("a-2")
    assert "a-2" not in held


async def test_not_held_after_the_wait_and_at_once_while_the_application_is_away() -> None:
    clock = ManualClock()
    up = [True]
    held = HeldCalls(clock, lambda: up[0])
    late = asyncio.create_task(held.wait("a-1"))
    await asyncio.sleep(0)  # it starts waiting now
    await clock.advance(STASIS_WAIT - 0.1)
    assert not late.done()
    await clock.advance(0.2)
    assert late.done() and not late.result()
    up[0] = False
    started = clock.monotonic()
    assert not await held.wait("a-2")
    assert clock.monotonic() == started  # no waiting: Stasis fails while the application is away
