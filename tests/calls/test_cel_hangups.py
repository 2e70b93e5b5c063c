"""Each leg's ``hangup_source``/``dialstatus`` is what Asterisk's CEL ``HANGUP`` record says (``calls/hangups.py``):
whether that record comes before or after the channel's AMI ``Hangup`` (even after the call's last one), and,
on a link without CEL, as the rules Asterisk follows (``ast_set_hangupsource``, cel.c ``save_dialstatus``)
give it — on the scenarios of ``scenarios.py`` and on every real trace with its CEL events removed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ctiserver.calls.replay import read_capture, track_bytes
from ctiserver.calls.tracker import Tracker
from ctiserver.clock import ManualClock
from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent
from tests.calls import scenarios
from tests.calls.scenarios import cel_hangups, without_cel
from tests.conftest import SCENARIOS, TRACES

CAPTURES: dict[str, Callable[[], bytes]] = {
    "attended_transfer_early_cel": lambda: scenarios.attended_transfer(late=False),
    "attended_transfer_late_cel": lambda: scenarios.attended_transfer(late=True),
    "threeway_late_cel": lambda: scenarios.threeway(late=True),
    "ringall_busy_member_late_cel": lambda: scenarios.ringall("busy1", late=True),
    "ringall_answer_while_other_rings_late_cel": lambda: scenarios.ringall("answer2", late=True),
    "ringall_abandon_late_cel": lambda: scenarios.ringall("abandon", late=True),
    "redirect_to_hangup_late_cel": lambda: scenarios.redirect(late=True),
    "blind_to_same_queue": lambda: scenarios.blind_to_same_queue(race=True),
    "originate_local_agent": lambda: scenarios.originate_local("1"),
    "originate_local_callee": lambda: scenarios.originate_local("2"),
    "ari_originate_without_originator": scenarios.ari_originate_without_originator,
}


def _legs(tracker: Tracker) -> dict[str, tuple[str, str]]:
    assert not tracker.calls and not tracker.legs
    return {uid: (leg.hangup_source or "", leg.dialstatus) for c in tracker.all_calls() for uid, leg in c.legs.items()}


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_hangup_details_are_the_cel_records(name: str) -> None:
    capture = CAPTURES[name]()
    tracker = track_bytes([capture])
    assert _legs(tracker) == cel_hangups(capture)
    assert "cel_hangup_missing" not in tracker.anomalies


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_without_cel_the_rules_of_asterisk_give_the_same(name: str) -> None:
    capture = CAPTURES[name]()
    assert _legs(track_bytes([without_cel(capture)])) == cel_hangups(capture)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_without_cel_a_real_trace_gives_what_its_cel_said(scenario: str) -> None:
    data = read_capture(TRACES / scenario / "ami.raw")
    with_cel = _legs(track_bytes([data]))
    assert _legs(track_bytes([without_cel(data)])) == with_cel


def _events(capture: bytes) -> list[AmiEvent]:
    return [m for m in AmiDecoder().feed(capture) if isinstance(m, AmiEvent)]


def test_a_leg_waits_for_its_cel_record_and_the_call_ends_once_right() -> None:
    """The caller's CEL HANGUP comes after its (the call's last) AMI Hangup: ``call.ended`` waits for it."""
    tracker = Tracker()
    published = []
    events = _events(scenarios.ringall("answer2", late=True))
    for i, e in enumerate(events):
        out = tracker.feed(e)
        published += out
        if e.name == "Hangup" and e.get("Channel") == "PJSIP/caller-00000030":
            assert not [x for x in out if x.type == "call.ended"]  # held for its CEL record
            assert list(tracker.cel.held) == [e["Uniqueid"]]
            rest = events[i + 1 :]
            break
    for e in rest:
        published += tracker.feed(e)
    [ended] = [x for x in published if x.type == "call.ended"]
    caller = next(leg for leg in ended.data["legs"] if leg["uniqueid"] == "cti-test-1795371000.50")
    assert (caller["hangup_source"], caller["dialstatus"]) == ("PJSIP/caller-00000030", "ANSWER")
    assert caller["ended"] == pytest.approx(float(events[i]["Timestamp"]))  # the Hangup's time, not the CEL's
    assert not [x for x in published if x.type == "call.updated" and x.data.get("change") == "hangup"]


def test_a_held_leg_ends_without_its_cel_record_after_the_hold() -> None:
    """No CEL HANGUP ever comes (lost): the leg ends at its Hangup, by the next events' time or the local clock."""
    events = [e for e in _events(scenarios.redirect(late=True)) if e.get("EventName") not in ("HANGUP", "CHAN_END")]
    clock = ManualClock(0.0)
    tracker = Tracker(clock)
    for e in events:
        tracker.feed(e)
    [uid] = tracker.cel.held
    assert tracker.release_due() == [] and tracker.calls  # within the hold
    types = [x.type for x in tracker.release_due(clock.now() + tracker.cel.window + 0.1)]
    assert types[-1] == "call.ended" and not tracker.calls
    assert tracker.anomalies["cel_hangup_missing"] == 2  # the agent's by the next events' time, the caller's now
    legs = tracker.finished["cti-test-1795371000.40"].legs
    hangups = {e["Uniqueid"]: float(e["Timestamp"]) for e in events if e.name == "Hangup"}
    assert uid == "cti-test-1795371000.40" and {u: (x.end_reason, x.ended) for u, x in legs.items()} == {
        u: ("hangup", pytest.approx(at)) for u, at in hangups.items()
    }


def test_a_cel_record_after_the_hold_corrects_the_finished_call() -> None:
    """A CEL HANGUP that comes after its leg ended anyway updates the stored call (``call.updated``)."""
    events = _events(scenarios.redirect(late=True))
    hangup_at = next(i for i, e in enumerate(events) if e.get("EventName") == "HANGUP" and "caller" in e["Channel"])
    tracker = Tracker()
    sink: list[dict[str, object]] = []
    tracker.late_fact_sink = sink.append
    for e in events[:hangup_at]:
        tracker.feed(e)
    tracker.release_held()  # as if the hold ran out
    call = tracker.finished["cti-test-1795371000.40"]
    assert call.legs["cti-test-1795371000.40"].hangup_source == "dialplan/builtin"  # the rule already said so
    call.legs["cti-test-1795371000.40"].hangup_source = "?"  # pretend the rules had it wrong
    out = tracker.feed(events[hangup_at])
    assert [x.data["change"] for x in out] == ["hangup"] and out[0].data["call"]["call_id"] == call.call_id
    assert call.legs["cti-test-1795371000.40"].hangup_source == "dialplan/builtin" and len(sink) == 1


def test_hangup_is_not_tracked_by_cel_then_no_leg_waits() -> None:
    """``cel.conf events=`` without HANGUP: a CHAN_END without it releases the leg, and no leg waits again."""
    events = [e for e in _events(scenarios.ringall("answer2", late=True)) if e.get("EventName") != "HANGUP"]
    tracker = Tracker()
    for e in events:
        tracker.feed(e)
    assert tracker.cel.untracked and not tracker.calls
    assert "cel_hangup_missing" not in tracker.anomalies
