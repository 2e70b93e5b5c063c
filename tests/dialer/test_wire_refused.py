"""An Originate the PBX refuses, over the wire: the admin has not loaded the rendered dialplan, so Asterisk
answers ``Response: Error`` / ``Message: Extension does not exist.`` (manager.c ``action_originate`` checks the
extension before it queues anything: no channel, no ``OriginateResponse``). Every next call would be refused
the same way, so the campaign must not store "failed" attempts and burn its list through the retries: no
attempt, every contact still due, the campaign paused with the PBX's message (live stats, the
``campaign.state`` event, the stored state). Resumed once the dialplan is there, it dials them all."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.dialer.campaign_state import CampaignState
from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode, RetryPolicy
from ctiserver.dialer.service import DialerService
from ctiserver.events import DomainEvent
from ctiserver.pbx.dialplan_check import DialplanCheck
from tests.dialer.waits import until
from tests.dialer.wire import Callee, Wire, number, window_around_now, wire

pytestmark = pytest.mark.slow

N = 4
CALLEES = {number(i): Callee(reachable=True, answers=True, machine=False, ring=0.5, talk=3.0) for i in range(N)}


def _campaign(name: str, retry: RetryPolicy) -> tuple[CampaignSettings, list[Contact]]:
    settings = CampaignSettings(
        name=name, mode=PacingMode.PROGRESSIVE, windows=window_around_now(), ring_timeout=15.0, retry=retry
    )
    return settings, [Contact(f"c{i}", name, num, "Europe/Berlin") for i, num in enumerate(CALLEES)]


async def _all_dialled(w: Wire) -> bool:
    return await until(
        lambda: all(c.status is not ContactStatus.PENDING for c in w.store._contacts.values()) and not w.runner._tasks,
        60.0,
    )


async def test_a_dialplan_the_pbx_lacks_pauses_the_campaign_and_burns_no_contact() -> None:
    settings, contacts = _campaign("nodp", RetryPolicy(max_attempts=2, failed=1.0))
    events: list[DomainEvent] = []
    async with wire(settings, contacts, CALLEES, rendered=True) as w:
        w.bus.listeners.append(events.append)
        plan = w.sim.engine.config.dialplan
        amd = plan.pop("ctiserver-amd")  # `dialplan reload` never ran on this PBX
        service = w.ctx.require(DialerService)
        await service.start("nodp")
        assert await until(lambda: w.runner.state is CampaignState.PAUSED and not w.runner._tasks, 20.0), (
            w.runner.live_stats()
        )
        halted = w.runner.live_stats()["halted"]
        assert "Extension does not exist." in halted and "ctiserver-amd,s,1" in halted, halted
        assert not w.originated  # nothing reached a channel driver
        assert w.runner.counters["dialled"] == 0 and w.runner.counters["not_placed"] >= 1
        assert await w.store.attempts("nodp") == []
        stored = await w.store.contacts("nodp")
        assert [(c.status, c.attempts) for c in stored] == [(ContactStatus.PENDING, 0)] * N
        paused = [e.data for e in events if e.type == "campaign.state" and e.data["state"] == "paused"]
        assert len(paused) == 1 and paused[0]["reason"] == halted  # calls refused together: one pause
        await service.sync_once()
        assert [state for name, _, state in await w.store.campaigns() if name == "nodp"] == ["paused"]

        plan["ctiserver-amd"] = amd  # the admin loads the dialplan and resumes
        await service.start("nodp")
        assert w.runner.live_stats()["halted"] is None
        assert await _all_dialled(w), w.runner.live_stats()
        attempts = await w.store.attempts("nodp")
    assert sorted(a.number for a in attempts) == sorted(CALLEES)  # each dialled once, now
    assert all(a.outcome in (Outcome.HUMAN, Outcome.ABANDONED) for a in attempts)


async def test_an_originate_asterisk_could_not_start_is_tried_again_without_pausing() -> None:
    """``Originate failed`` (async: Asterisk could not start the originate's thread) is passing, not the set-up:
    no attempt, no pause; the contacts are dialled once the PBX takes Originates again."""
    settings, contacts = _campaign("busypbx", RetryPolicy(max_attempts=1))
    async with wire(settings, contacts, CALLEES, rendered=True) as w:
        w.sim.originate_failures = 3
        await w.runner.start()
        assert await _all_dialled(w), w.runner.live_stats()
        stats = w.runner.live_stats()
        attempts = await w.store.attempts("busypbx")
    assert w.sim.originate_failures == 0 and stats["counters"]["not_placed"] == 3
    assert stats["halted"] is None and stats["state"] in ("running", "completed")
    assert sorted(a.number for a in attempts) == sorted(CALLEES)  # max_attempts 1: the refusals cost none


async def test_nothing_is_dialled_through_a_context_the_pbx_lacks() -> None:
    """``ctiserver-dialer`` (where the Local channel rings the customer) is not loaded, ``ctiserver-amd`` is:
    Asterisk takes the Originate, then ``local_call`` fails with no cause — an attempt spent on nothing. With the
    daemon's dialplan check (AMI ``ShowDialPlan``) saying so, the lines dial nothing; after the reload, all."""
    settings, contacts = _campaign("hole", RetryPolicy(max_attempts=1))
    async with wire(settings, contacts, CALLEES, rendered=True) as w:
        plan = w.sim.engine.config.dialplan
        ringing = plan.pop("ctiserver-dialer")
        check = w.ctx.require(DialplanCheck)
        assert "ctiserver-dialer" in (await check.check_once()).missing
        await w.runner.start()
        await asyncio.sleep(2.0)  # ~8 s of campaign time: several pacing ticks
        assert not w.lines.can_dial() and w.runner.counters["dialled"] == 0
        assert w.runner.live_stats()["waiting"] == {"code": "dialplan_missing", "detail": "ctiserver-dialer"}
        assert await w.store.attempts("hole") == [] and not w.originated

        plan["ctiserver-dialer"] = ringing  # `dialplan reload`
        await check.check_once()
        assert w.runner.live_stats()["waiting"] is None
        assert await _all_dialled(w), w.runner.live_stats()
        attempts = await w.store.attempts("hole")
    assert sorted(a.number for a in attempts) == sorted(CALLEES)
    assert all(a.outcome in (Outcome.HUMAN, Outcome.ABANDONED) for a in attempts)
