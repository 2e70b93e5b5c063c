"""Local presence over the wire: each callee is shown the caller ID of the longest ``caller_ids`` prefix that its
number starts with, others the campaign's ``caller_id`` — as the carrier gets it (the simulator's trunk channel's
connected line, which Asterisk sends as the SIP From), through the rendered dialplan's Local pair and ``Dial``."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, PacingMode, RetryPolicy
from ctiserver.pbx.ami.messages import AmiEvent
from tests.dialer.waits import until
from tests.dialer.wire import Callee, window_around_now, wire

pytestmark = pytest.mark.slow

SHOWN = {  # callee → the caller ID it must see
    "+4930100001": "+493055500100",  # Berlin
    "+49301200002": "+493012000999",  # a longer prefix within Berlin wins
    "+4940100003": "+494055500100",  # Hamburg
    "+33142000004": "5550100",  # no prefix: the campaign's caller ID
}


async def test_each_callee_sees_the_caller_id_of_its_prefix() -> None:
    callees = {n: Callee(reachable=True, answers=True, machine=False, ring=0.3, talk=1.0) for n in SHOWN}
    settings = CampaignSettings(
        name="local",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=1),
        caller_id="5550100",
        caller_ids={"+4930": "+493055500100", "+493012": "+493012000999", "+4940": "+494055500100"},
    )
    contacts = [Contact(f"c{i}", "local", n, "Europe/Berlin") for i, n in enumerate(SHOWN)]
    events: list[AmiEvent] = []
    async with wire(settings, contacts, callees, rendered=True, ami_filters=False) as w:
        w.ami.on_event("DialBegin", events.append)
        await w.runner.start()
        done = (ContactStatus.PENDING, ContactStatus.DIALLING)
        assert await until(
            lambda: all(c.status not in done for c in w.store._contacts.values()) and not w.runner._tasks, 60.0
        ), w.runner.live_stats()
    to_trunk = [e for e in events if str(e.get("DestChannel", "")).startswith("PJSIP/trunk-")]
    seen = {str(e.get("DialString")).removesuffix("@trunk"): e.get("DestConnectedLineNum") for e in to_trunk}
    assert seen == SHOWN, [dict(e.items()) for e in to_trunk]


def test_bad_prefixes_and_caller_ids_are_refused_with_the_key() -> None:
    for bad, said in (({"4930": "+4930555"}, "'4930' is not an E.164 prefix"), ({"+4930": "call us"}, "not a number")):
        with pytest.raises(ValueError, match=said):
            CampaignSettings(name="x", caller_ids=bad)
