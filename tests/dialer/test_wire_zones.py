"""At the moment of dialling, over the wire: a contact whose number may be in several time zones is dialled
only while its calling window is open in every one of them. Berlin's window is open now; Paris shares its
hours, Tokyo's local time is eight hours on, outside the window there."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, PacingMode, RetryPolicy
from tests.dialer.waits import until
from tests.dialer.wire import Callee, number, window_around_now, wire

pytestmark = pytest.mark.slow


async def test_a_number_in_several_zones_is_dialled_only_while_all_are_inside_the_window() -> None:
    callees = {number(i): Callee(reachable=True, answers=True, machine=False, ring=0.5, talk=2.0) for i in (0, 1)}
    contacts = [
        Contact("tokyo", "zones", number(1), "Europe/Berlin,Asia/Tokyo"),  # first in the due order
        Contact("paris", "zones", number(0), "Europe/Berlin,Europe/Paris"),
    ]
    settings = CampaignSettings(
        name="zones",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now("Europe/Berlin"),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=1),
    )
    async with wire(settings, contacts, callees) as w:
        started = w.runner.clock.now()
        await w.runner.start()
        assert await until(lambda: w.store._contacts[("zones", "paris")].status is ContactStatus.DONE, 30.0)
        tokyo = w.store._contacts[("zones", "tokyo")]
        assert [o[1] for o in w.originated] == [number(0)]  # what the PBX was asked to dial
        assert tokyo.status is ContactStatus.PENDING and tokyo.attempts == 0
        # put off to when the window opens in Berlin and Tokyo at once (never, with a window of ±2 h: a day on)
        assert tokyo.next_at > started + 3600.0
        assert w.runner.counters["outside_window"] >= 1
