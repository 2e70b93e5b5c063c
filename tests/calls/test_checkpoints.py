"""A daemon restart in the middle of real calls loses nothing of them (``calls/checkpoints.py``).

Each trace of a real Asterisk is cut at many points: a first tracker follows the events up to the cut, its live
calls are checkpointed as ``CallService.checkpoint`` saves them and (through JSON, as in the database) loaded
into a second tracker, which sees the PBX's channels (``CoreShowChannels``) and then the rest of the trace. Every
call must come out as the uninterrupted tracker saw it: when it started, its legs, queue stays, answers, agents.
And a checkpointed call whose channels are gone when the next run looks ends when it was last known alive."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ctiserver.calls.call_state import CallState
from ctiserver.calls.facts import NotTrackedYet
from ctiserver.calls.replay import read_capture
from ctiserver.calls.restore import call_from_checkpoint, checkpoint_of
from ctiserver.calls.service import CallService
from ctiserver.calls.tracker import Tracker
from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent
from tests.calls.test_tracker_rules import chan, ev, feed
from tests.conftest import SCENARIOS, TRACES

CUTS = 12  # cut points per trace, spread over its events
# what a restart may change: the tracker's own bookkeeping, not the call
VOLATILE = {"state"}


def _events(scenario: str) -> list[AmiEvent]:
    decoder = AmiDecoder()
    return [m for m in decoder.feed(read_capture(TRACES / scenario / "ami.raw")) if isinstance(m, AmiEvent)]


def _listing(tracker: Tracker) -> list[AmiEvent]:
    """What ``CoreShowChannels`` answers for the tracker's live legs (nothing happened while no daemon ran)."""
    state = {"new": "0", "ringing": "4", "up": "6", "held": "6"}
    return [
        AmiEvent(
            [
                ("Event", "CoreShowChannel"),
                ("Channel", leg.channel),
                ("Uniqueid", leg.uniqueid),
                ("Linkedid", leg.linkedid),
                ("ChannelState", state[leg.state.value]),
                ("BridgeId", next(iter(leg.bridges), "")),
                ("Duration", "00:00:00"),
            ]
        )
        for leg in tracker.legs.values()
    ]


def _restarted(events: list[AmiEvent], cut: int) -> tuple[Tracker, Tracker]:
    """The tracker of the run killed at ``cut`` and the next run's."""
    first = Tracker()
    for e in events[:cut]:
        first.feed(e)
    saved = json.loads(json.dumps([(first.checkpoint(c), 0.0) for c in first.calls.values()]))
    second = Tracker()
    second.checkpoints.load(saved)
    second.resync(_listing(first))
    for e in events[cut:]:
        second.feed(e)
    return first, second


def _calls(*trackers: Tracker) -> dict[str, dict[str, Any]]:
    out = {}
    for call in [c for t in trackers for c in t.finished.values()]:
        snap = call.snapshot()
        snap["legs"] = sorted(
            ({k: v for k, v in leg.items() if k not in VOLATILE} for leg in snap["legs"]), key=lambda x: x["uniqueid"]
        )
        out[call.call_id] = snap
    return out


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "12-asterisk-restart"])
def test_a_restart_anywhere_in_a_real_call_loses_nothing_of_it(scenario: str) -> None:
    events = _events(scenario)
    whole = Tracker()
    for e in events:
        whole.feed(e)
    assert not whole.calls
    expected = _calls(whole)
    cuts = sorted({len(events) * i // CUTS for i in range(1, CUTS)})
    restored = 0
    for cut in cuts:
        first, second = _restarted(events, cut)
        restored += second.anomalies.get("restored_from_checkpoint", 0)
        assert "adopted_on_resync" not in second.anomalies, cut
        assert not second.calls, cut  # every call of the trace ended
        got = _calls(first, second)
        assert got.keys() == expected.keys(), cut
        for call_id, call in expected.items():
            assert got[call_id] == call, (cut, call_id)
    assert restored >= len(cuts) // 2  # most cuts fall inside a call


def test_a_checkpoint_reads_back_as_the_call_it_was() -> None:
    for scenario in ("04-queue-answered", "07-blind-transfer", "11-mixmonitor-mute"):
        events = _events(scenario)
        tracker = Tracker()
        for e in events[: len(events) * 2 // 3]:
            tracker.feed(e)
        for call in tracker.calls.values():
            back = call_from_checkpoint(json.loads(json.dumps(checkpoint_of(call))))
            assert back.snapshot() == call.snapshot()
            assert {u: x.bridges for u, x in back.legs.items()} == {u: x.bridges for u, x in call.legs.items()}


def _waiting_caller() -> Tracker:
    """Caller ``c`` waiting in queue ``support`` since t=2, agent ``a`` of another call talking since t=1."""
    tr = Tracker()
    feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "c", "c", "4", CallerIDNum="5550100"),
        chan("Newstate", 1, "PJSIP/caller-1", "c", "c", "6"),
        chan("QueueCallerJoin", 2, "PJSIP/caller-1", "c", "c", "6", Queue="support", Position="1"),
    )
    return tr


def test_a_call_that_ended_while_no_daemon_ran_ends_when_it_was_last_seen() -> None:
    first = _waiting_caller()
    [call] = first.calls.values()
    second = Tracker()
    second.checkpoints.load([(checkpoint_of(call), 1_800_000_010.0)])  # alive at t=10
    out = second.resync([], at=1_800_000_600.0)  # the next run, ten minutes later: the caller is gone
    ended = second.finished["c"]
    assert ended.state is CallState.ENDED and ended.end_reason == "vanished"
    assert ended.started == call.started and ended.ended == 1_800_000_010.0
    [seg] = ended.queues
    assert seg.outcome == "closed" and seg.wait_seconds() == pytest.approx(8.0)  # not ten minutes
    assert [e.type for e in out].count("call.ended") == 1
    assert not second.calls and not second.checkpoints


def test_a_caller_still_waiting_keeps_the_stay_that_began_before_the_restart() -> None:
    first = _waiting_caller()
    [call] = first.calls.values()
    second = Tracker()
    second.checkpoints.load([(checkpoint_of(call), 1_800_000_010.0)])
    # an event of the call before the resync brings it back too
    feed(second, ev("QueueCallerLeave", 30, Channel="PJSIP/caller-1", Uniqueid="c", Linkedid="c", Queue="support"))
    second.resync([chan("CoreShowChannel", 30, "PJSIP/caller-1", "c", "c", "6")], at=1_800_000_030.0)
    feed(
        second,
        ev(
            "AgentConnect",
            30,
            Channel="PJSIP/caller-1",
            Uniqueid="c",
            Linkedid="c",
            Queue="support",
            Interface="PJSIP/1001",
            MemberName="1001",
            DestUniqueid="a",
        ),
    )
    [seg] = second.calls["c"].queues
    assert seg.outcome == "answered" and seg.agent == "1001" and seg.wait_seconds() == pytest.approx(28.0)
    assert second.calls["c"].started == call.started


def test_the_engines_acd_routing_a_caller_again_continues_the_stay() -> None:
    """A Stasis caller the next run routes again into the same queue (``control/orphans.py``): one stay, from
    its first entry, whatever wait the ACD measured since the restart."""
    first = _waiting_caller()
    [call] = first.calls.values()
    call.queues.clear()
    first.queue_entered("c", "support", 1, at=1_800_000_002.0)
    second = Tracker()
    second.checkpoints.load([(checkpoint_of(call), 1_800_000_010.0)])
    second.resync([chan("CoreShowChannel", 30, "PJSIP/caller-1", "c", "c", "6")], at=1_800_000_030.0)
    second.queue_entered("c", "support", 1, at=1_800_000_031.0)
    second.queue_left("c", "support", "answered", waited=4.0, agent="1001", at=1_800_000_035.0)
    [seg] = second.calls["c"].queues
    assert seg.outcome == "answered" and seg.wait_seconds() == pytest.approx(33.0)


def test_engine_facts_reported_before_the_call_is_back_are_applied_to_it() -> None:
    """The engine (over ARI) may speak of a call before AMI shows its channel to the next run: the fact is held
    and lands on the call taken back, not on a new one."""
    first = _waiting_caller()
    [call] = first.calls.values()
    second = Tracker()
    second.checkpoints.load([(checkpoint_of(call), 1_800_000_010.0)])
    with pytest.raises(NotTrackedYet):
        second.attach_data("c", "customer", "ACME")
    second.resync([chan("CoreShowChannel", 30, "PJSIP/caller-1", "c", "c", "6")], at=1_800_000_030.0)
    back = second.calls["c"]
    assert back.data == {"customer": "ACME"} and back.started == call.started and len(back.queues) == 1


def test_a_caller_answered_while_no_daemon_ran_has_an_answered_stay() -> None:
    """The ``AgentConnect`` reached nobody; the next run's resync finds the caller in a bridge with an agent
    leg that came meanwhile: answered by that agent, when its channel was created."""
    first = _waiting_caller()
    [call] = first.calls.values()
    second = Tracker()
    second.name_agents({"PJSIP/1001": "1001"})
    second.checkpoints.load([(checkpoint_of(call), 1_800_000_010.0)])
    listing = [
        chan("CoreShowChannel", 0, "PJSIP/caller-1", "c", "c", "6", BridgeId="b1", Duration="00:00:30"),
        chan("CoreShowChannel", 0, "PJSIP/1001-2", "a", "c", "6", BridgeId="b1", Duration="00:00:18"),
    ]
    out = second.resync(listing, at=1_800_000_030.0)
    back = second.calls["c"]
    [seg] = back.queues
    assert (seg.outcome, seg.agent, seg.agent_uniqueid) == ("answered", "1001", "a")
    assert seg.wait_seconds() == pytest.approx(10.0)  # entered at 2, the agent's channel created at 12
    assert back.state is CallState.CONNECTED and back.connected == pytest.approx(1_800_000_012.0)
    assert [e.data["outcome"] for e in out if e.type == "queue.left"] == ["answered"]
    feed(second, chan("Hangup", 40, "PJSIP/caller-1", "c", "c", "6"), chan("Hangup", 40, "PJSIP/1001-2", "a", "c"))
    [seg] = second.finished["c"].queues
    assert seg.talk_seconds == pytest.approx(28.0)


def test_a_caller_still_waiting_alone_is_not_taken_for_answered() -> None:
    first = _waiting_caller()
    [call] = first.calls.values()
    second = Tracker()
    second.checkpoints.load([(checkpoint_of(call), 1_800_000_010.0)])
    second.resync([chan("CoreShowChannel", 0, "PJSIP/caller-1", "c", "c", "6", BridgeId="b1")], at=1_800_000_030.0)
    [seg] = second.calls["c"].queues
    assert seg.outcome is None


def test_agents_named_after_the_resync_rename_the_stays_of_live_calls() -> None:
    """The resync may run before the ACD names the agents' devices (``name_agents``)."""
    first = _waiting_caller()
    [call] = first.calls.values()
    second = Tracker()
    second.checkpoints.load([(checkpoint_of(call), 1_800_000_010.0)])
    listing = [
        chan("CoreShowChannel", 0, "PJSIP/caller-1", "c", "c", "6", BridgeId="b1"),
        chan("CoreShowChannel", 0, "PJSIP/1001-2", "a", "c", "6", BridgeId="b1", Duration="00:00:05"),
    ]
    second.resync(listing, at=1_800_000_030.0)
    [seg] = second.calls["c"].queues
    assert seg.agent == "PJSIP/1001"
    second.name_agents({"PJSIP/1001": "1001"})
    assert seg.agent == "1001" and second.legs["a"].agent == "1001"


def test_a_live_call_is_checkpointed_once_per_round_it_changed_in() -> None:
    """``CallService.checkpoint``: the calls changed since the last round — also by an AMI event the tracker
    publishes nothing for (``QueueCallerLeave``) — and a stamp that every live call was alive."""
    service = CallService(Tracker())
    for e in (
        chan("Newchannel", 0, "PJSIP/caller-1", "c", "c", "4", CallerIDNum="5550100"),
        chan("QueueCallerJoin", 2, "PJSIP/caller-1", "c", "c", "6", Queue="support", Position="1"),
    ):
        service.on_ami_event(e)
    assert service.checkpoint() == 1
    assert service.checkpoint() == 0  # nothing changed since
    service.on_ami_event(chan("QueueCallerLeave", 5, "PJSIP/caller-1", "c", "c", "6", Queue="support"))
    assert service.checkpoint() == 1
    facts = [f for batch in service._facts._queue for f in batch]  # type: ignore[attr-defined]
    rounds = ["live_seen", "live", "live_seen", "live_seen", "live"]
    assert [f["kind"] for f in facts if f["kind"].startswith("live")] == rounds
