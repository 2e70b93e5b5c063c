"""``CampaignRunner.talking``: from the bridge until the attempt is stored, the runner knows which agent a contact
is connected to (the API lets that agent set the contact's disposition in wrap-up before the record exists)."""

from __future__ import annotations

import asyncio

from ctiserver.clock import ManualClock
from ctiserver.dialer.model import CampaignSettings, Contact, Outcome, RetryPolicy
from ctiserver.dialer.runner import CampaignRunner
from ctiserver.dialer.store import MemoryDialerStore
from ctiserver.dialer.windows import CallingWindows
from ctiserver.events import InMemoryBus
from tests.dialer.fakes import Behaviour, FakeDesk, FakeLines

ALWAYS = CallingWindows(days={d: ("00:00-24:00",) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})


async def test_talking_holds_the_agent_from_the_bridge_until_the_attempt_is_stored() -> None:
    clock = ManualClock()
    store, bus = MemoryDialerStore(), InMemoryBus()
    await store.add_contacts([Contact("k0", "c1", "+49301000000", "Europe/Berlin")])
    lines = FakeLines(clock, default=Behaviour(Outcome.HUMAN, 2.0))
    desk = FakeDesk.with_agents(clock, 1, talk=20.0, wrap=5.0)
    settings = CampaignSettings(name="c1", windows=ALWAYS, retry=RetryPolicy(max_attempts=1))
    runner = CampaignRunner(settings, store, lines, desk, bus, clock)
    await runner.start()
    try:
        for _ in range(60):
            if desk.pops:
                break
            await clock.advance(0.5)
        await asyncio.sleep(0)
        assert desk.pops and runner.talking == {"k0": "a0"}  # in conversation: known before any record
        assert await store.attempts("c1") == []
        for _ in range(120):
            if await store.attempts("c1"):
                break
            await clock.advance(0.5)
        await asyncio.sleep(0)
        assert [a.agent for a in await store.attempts("c1")] == ["a0"]
        assert runner.talking == {}  # the record says it from now on
    finally:
        await runner.close()
