"""What the carrier answers decides the retry, through the dialplan ``ctiserver dialplan render`` writes:
``Originate Local/<number>@ctiserver-dialer/n`` whose ``;2`` half runs ``Dial(PJSIP/<number>@trunk,45)``.

On Asterisk a busy or refused callee does not show in the ``OriginateResponse`` of a Local channel (Reason 0,
as for any failure: pbx_outgoing_attempt sees only ``;1`` hang up); the callee's cause does, carried by
``Dial`` to ``;2`` and by the Local pair to ``;1``'s ``Hangup``. So 486 Busy Here must come out as a busy
attempt, retried after the campaign's busy delay, and 404 Not Found as an invalid number, never retried — not
both as "failed". Asterisk publishes those ``Hangup``s before it sends the response, but sends the response
itself while they go through stasis' router, so on a real PBX they usually come after it: both orders are
tested (``Simulator.originate_response_first``)."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode, RetryPolicy
from ctiserver.pbx.ami.messages import AmiEvent
from tests.dialer.waits import until
from tests.dialer.wire import Callee, number, window_around_now, wire

pytestmark = pytest.mark.slow

BUSY, NOT_FOUND, SILENT, HUMAN = (number(i) for i in range(4))
CALLEES = {
    BUSY: Callee(reachable=True, answers=False, machine=False, ring=0.0, talk=0.0, busy=True),
    NOT_FOUND: Callee(reachable=False, answers=False, machine=False, ring=0.0, talk=0.0),
    SILENT: Callee(reachable=True, answers=False, machine=False, ring=0.0, talk=0.0),
    HUMAN: Callee(reachable=True, answers=True, machine=False, ring=1.0, talk=3.0),
}
RETRY = RetryPolicy(max_attempts=2, busy=6.0, failed=1.0, noanswer=3600.0, abandoned=3600.0)


@pytest.mark.parametrize("response_first", [True, False], ids=["response-first", "hangups-first"])
async def test_busy_and_not_found_at_the_carrier_are_told_apart(response_first: bool) -> None:
    settings = CampaignSettings(
        name="trunk",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RETRY,
        caller_id="5550200",
    )
    contacts = [Contact(f"c{i}", "trunk", num, "Europe/Berlin") for i, num in enumerate(CALLEES)]
    events: list[AmiEvent] = []
    async with wire(settings, contacts, CALLEES, rendered=True, ami_filters=False) as w:
        w.ami.on_event("*", events.append)
        w.sim.originate_response_first = response_first
        await w.runner.start()
        # five attempts: the busy number twice (its retry is due after 6 s), the others once (their next is an
        # hour away)
        assert await until(lambda: w.runner.counters["dialled"] >= 5 and not w.runner._tasks, 60.0), (
            w.runner.live_stats()
        )
        attempts = await w.store.attempts("trunk")
        contacts_after = {c.number: c for c in await w.store.contacts("trunk")}
    by_number: dict[str, list[Outcome]] = {}
    for a in sorted(attempts, key=lambda a: a.started):
        by_number.setdefault(a.number, []).append(a.outcome)
    assert by_number[BUSY] == [Outcome.BUSY, Outcome.BUSY]
    assert by_number[NOT_FOUND] == [Outcome.INVALID]
    assert by_number[SILENT] == [Outcome.NOANSWER]
    assert by_number[HUMAN][0] in (Outcome.HUMAN, Outcome.ABANDONED)
    busy = sorted((a for a in attempts if a.number == BUSY), key=lambda a: a.started)
    assert busy[1].started - busy[0].ended >= RETRY.busy - 0.5  # the busy delay, not the failed one
    assert contacts_after[BUSY].attempts == 2 and contacts_after[BUSY].status is not ContactStatus.PENDING
    assert contacts_after[NOT_FOUND].status is ContactStatus.EXHAUSTED  # a number that does not exist: no retry
    # the PBX's side: the callee's channel is the trunk's, the carrier's answer in its cause and TechCause
    first = busy[0].id
    trunk_legs = [
        e
        for e in events
        if e.name == "DialBegin" and e.get("DestLinkedid") == first and (e.get("DialString") or "") == f"{BUSY}@trunk"
    ]
    assert len(trunk_legs) == 1 and (trunk_legs[0].get("DestChannel") or "").startswith("PJSIP/trunk-")
    callee_uid = trunk_legs[0].get("DestUniqueid")
    [gone] = [e for e in events if e.name == "Hangup" and e.get("Uniqueid") == callee_uid]
    assert (gone.get("Cause"), gone.get("TechCause")) == ("17", "486")
    [dial_end] = [e for e in events if e.name == "DialEnd" and e.get("DestUniqueid") == callee_uid]
    assert dial_end.get("DialStatus") == "BUSY" and dial_end.get("Uniqueid") == f"{first};2"
    [one_gone] = [e for e in events if e.name == "Hangup" and e.get("Uniqueid") == first]
    assert one_gone.get("Cause") == "17"
    response = next(
        e
        for e in events
        if e.name == "OriginateResponse"
        and (e.get("Channel") or "").startswith(f"Local/{BUSY}@")
        and e.get("Response") == "Failure"
    )
    assert response.get("Reason") == "0"
    [two_gone] = [e for e in events if e.name == "Hangup" and e.get("Uniqueid") == f"{first};2"]
    assert two_gone.get("Cause") == "17"
    halves = (events.index(two_gone), events.index(one_gone))
    if response_first:
        assert events.index(response) < min(halves)
    else:
        assert events.index(response) > max(halves)
