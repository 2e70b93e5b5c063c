"""Tracker rules on hand-written AMI events: state machines, out-of-order and duplicate events, linkedid
changes, Local channels, hold, attended transfer, resync, restart, engine facts."""

from __future__ import annotations

import pytest

from ctiserver.calls.call_state import CALL_TRANSITIONS, CallState, call_machine
from ctiserver.calls.fsm import IllegalTransition
from ctiserver.calls.leg_state import LEG_TRANSITIONS, LegState, leg_machine
from ctiserver.calls.model import Role
from ctiserver.calls.tracker import Tracker
from ctiserver.clock import ManualClock
from ctiserver.pbx.ami.messages import AmiEvent

T = 1_800_000_000.0


def ev(name: str, t: float, **headers: str) -> AmiEvent:
    pairs = [("Event", name), ("Timestamp", f"{T + t:.6f}")]
    pairs += [(k.replace("_", "-") if k == "Cause_txt" else k, v) for k, v in headers.items()]
    return AmiEvent(pairs)


def chan(
    name: str, t: float, channel: str, uid: str, linked: str, state: str = "6", **extra: str
) -> AmiEvent:
    return ev(name, t, Channel=channel, Uniqueid=uid, Linkedid=linked, ChannelState=state, **extra)


def feed(tr: Tracker, *events: AmiEvent) -> list[str]:
    return [e.type for x in events for e in tr.feed(x)]


def test_state_machines_are_explicit_and_raise() -> None:
    leg = leg_machine()
    leg.move(LegState.RINGING)
    leg.move(LegState.UP)
    with pytest.raises(IllegalTransition):
        leg.move(LegState.RINGING)
    leg.move(LegState.ENDED)
    assert LEG_TRANSITIONS[LegState.ENDED] == frozenset()
    call = call_machine()
    call.move(CallState.ENDED)
    with pytest.raises(IllegalTransition):
        call.move(CallState.ACTIVE)
    assert all(CallState.ENDED in CALL_TRANSITIONS[s] for s in CallState if s is not CallState.ENDED)


def test_inbound_call_lifecycle_and_events() -> None:
    tr = Tracker()
    types = feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "u1", "u1", "4", CallerIDNum="5550100", Exten="200"),
        chan("Newstate", 0.1, "PJSIP/caller-1", "u1", "u1", "6"),
        chan("Newchannel", 1, "PJSIP/1001-2", "u2", "u1", "0"),
        chan("Newstate", 1.1, "PJSIP/1001-2", "u2", "u1", "5"),
        chan("Newstate", 3, "PJSIP/1001-2", "u2", "u1", "6"),
        ev("BridgeEnter", 3.1, Channel="PJSIP/1001-2", Uniqueid="u2", Linkedid="u1", BridgeUniqueid="b1"),
        ev("BridgeEnter", 3.2, Channel="PJSIP/caller-1", Uniqueid="u1", Linkedid="u1", BridgeUniqueid="b1"),
        ev("Hold", 4, Channel="PJSIP/1001-2", Uniqueid="u2", Linkedid="u1"),
        ev("Unhold", 9, Channel="PJSIP/1001-2", Uniqueid="u2", Linkedid="u1"),
        ev("HangupRequest", 10, Channel="PJSIP/1001-2", Uniqueid="u2", Linkedid="u1"),
        chan("Hangup", 10.1, "PJSIP/1001-2", "u2", "u1", Cause="16", Cause_txt="Normal Clearing"),
        chan("Hangup", 10.2, "PJSIP/caller-1", "u1", "u1", Cause="16"),
    )
    assert types[:2] == ["call.created", "leg.created"]
    assert types.count("call.answered") == 1 and types[-1] == "call.ended"
    call = tr.finished["u1"]
    caller, agent = call.legs["u1"], call.legs["u2"]
    assert (caller.role, caller.direction, agent.role, agent.direction) == (
        Role.CALLER,
        "in",
        Role.AGENT,
        "out",
    )
    assert agent.ringing == pytest.approx(T + 1.1) and agent.answered == pytest.approx(T + 3)
    assert agent.hold_seconds(T + 20) == pytest.approx(5.0)
    assert call.snapshot()["hold_seconds"] == pytest.approx(5.0)
    assert call.connected == pytest.approx(T + 3.2)
    assert caller.hangup_source == "PJSIP/1001-2" and caller.caller_num == "5550100"
    assert call.state is CallState.ENDED and not tr.calls and not tr.legs


def test_duplicate_and_out_of_order_events_are_absorbed() -> None:
    tr = Tracker()
    feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "u1", "u1", "4"),
        chan("Newchannel", 0, "PJSIP/caller-1", "u1", "u1", "4"),  # duplicate
        chan("Newstate", 1, "PJSIP/caller-1", "u1", "u1", "6"),
        chan("Newstate", 1.5, "PJSIP/caller-1", "u1", "u1", "5"),  # late "Ringing" after Up
        ev("Unhold", 2, Channel="PJSIP/caller-1", Uniqueid="u1", Linkedid="u1"),  # never held
        chan("Hangup", 3, "PJSIP/caller-1", "u1", "u1", Cause="16"),
        chan("Hangup", 3.1, "PJSIP/caller-1", "u1", "u1", Cause="16"),  # duplicate hangup
        chan("Newstate", 3.2, "PJSIP/caller-1", "u1", "u1", "6"),  # after the end
    )
    call = tr.finished["u1"]
    assert len(call.legs) == 1 and call.legs["u1"].state is LegState.ENDED
    assert call.legs["u1"].answered == pytest.approx(T + 1)
    assert tr.anomalies["duplicate_newchannel"] == 1
    assert tr.anomalies["leg_up_to_ringing"] == 1
    assert tr.anomalies["unhold_when_not_held"] == 1


def test_events_of_a_channel_seen_before_its_newchannel_are_adopted() -> None:
    tr = Tracker()
    feed(tr, chan("Newstate", 0, "PJSIP/caller-9", "u9", "u9", "6"))
    assert "u9" in tr.legs and tr.anomalies["adopted_leg"] == 1


def test_linkedid_change_moves_the_leg_and_keeps_attached_data() -> None:
    tr = Tracker(ManualClock(T))
    feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "a", "a", "4"),
        chan("Newchannel", 0.5, "PJSIP/1001-1", "b", "b", "4"),
    )
    tr.attach_data("b", "ticket", "42")
    feed(tr, chan("Newstate", 1, "PJSIP/1001-1", "b", "a", "6"))  # b now belongs to a's call
    call = tr.calls["a"]
    assert set(call.legs) == {"a", "b"} and call.data["ticket"] == "42" and call.merged_from == ["b"]
    assert "b" not in tr.calls
    assert [(c["uniqueid"], c["from"], c["to"]) for c in tr.linkedid_changes] == [("b", "b", "a")]


def test_local_channels_are_plumbing_not_parties() -> None:
    tr = Tracker()
    feed(
        tr,
        chan("Newchannel", 0, "Local/1001@agents-00000001;1", "l1", "l1", "0"),
        chan("Newchannel", 0, "Local/1001@agents-00000001;2", "l2", "l1", "4"),
        chan("Newchannel", 0.1, "PJSIP/5551234-00000003", "p1", "l1", "0"),
    )
    call = tr.calls["l1"]
    roles = {leg.channel: leg.role for leg in call.legs.values()}
    assert roles["Local/1001@agents-00000001;1"] is Role.LOCAL
    assert roles["Local/1001@agents-00000001;2"] is Role.LOCAL
    assert roles["PJSIP/5551234-00000003"] is Role.OUTBOUND  # first real party of an originated call
    assert [leg.uniqueid for leg in call.party_legs()] == ["p1"]
    assert call.legs["l1"].endpoint == "Local/1001@agents"


def test_parties_joined_through_a_local_pair_are_connected() -> None:
    """A dialler call: the callee in the Dial bridge with ``;2``, the agent in another bridge with ``;1``
    (``/n``: the pair is not optimised away) — the two parties talk, the call is connected."""
    tr = Tracker()
    feed(
        tr,
        chan("Newchannel", 0, "Local/+4930@ctiserver-dialer-00000001;1", "a1", "a1", "0"),
        chan("Newchannel", 0, "Local/+4930@ctiserver-dialer-00000001;2", "a1;2", "a1", "4"),
        chan("Newchannel", 0.1, "PJSIP/+4930-00000002", "p1", "a1", "0"),
        chan("BridgeEnter", 2.0, "PJSIP/+4930-00000002", "p1", "a1", BridgeUniqueid="dial"),
        chan("BridgeEnter", 2.0, "Local/+4930@ctiserver-dialer-00000001;2", "a1;2", "a1", BridgeUniqueid="dial"),
        chan("Newchannel", 4.0, "PJSIP/1001-00000003", "g1", "a1", "0"),
        chan("BridgeEnter", 5.0, "PJSIP/1001-00000003", "g1", "a1", BridgeUniqueid="acd"),
    )
    assert tr.calls["a1"].connected is None  # the agent alone in the ACD's bridge so far
    feed(tr, chan("BridgeEnter", 5.1, "Local/+4930@ctiserver-dialer-00000001;1", "a1", "a1", BridgeUniqueid="acd"))
    call = tr.calls["a1"]
    assert call.state is CallState.CONNECTED and call.connected == pytest.approx(T + 5.1)
    feed(tr, chan("BridgeLeave", 9.0, "PJSIP/1001-00000003", "g1", "a1", BridgeUniqueid="acd"))
    assert call.state is not CallState.CONNECTED


def test_attended_transfer_marks_the_target_and_the_queue_segment() -> None:
    tr = Tracker()
    feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "c", "c", "4"),
        chan("Newstate", 0, "PJSIP/caller-1", "c", "c", "6"),
        chan("QueueCallerJoin", 0.5, "PJSIP/caller-1", "c", "c", Queue="support", Position="1"),
        chan("Newchannel", 1, "PJSIP/1001-1", "a", "c", "0"),
        chan("QueueCallerLeave", 2, "PJSIP/caller-1", "c", "c", Queue="support"),
        chan(
            "AgentConnect",
            2,
            "PJSIP/caller-1",
            "c",
            "c",
            Queue="support",
            MemberName="Agent 1001",
            DestUniqueid="a",
            HoldTime="2",
        ),
        chan("Newchannel", 5, "PJSIP/1002-2", "t", "c", "0"),  # the agent consults 1002
        ev(
            "AttendedTransfer",
            8,
            Result="Success",
            OrigTransfererUniqueid="a",
            TransfereeUniqueid="c",
            TransferTargetUniqueid="t",
            SecondTransfererUniqueid="a",
        ),
    )
    call = tr.calls["c"]
    assert call.legs["t"].role is Role.TRANSFER_TARGET
    assert call.transfers[0].kind == "attended" and call.transfers[0].target == "t"
    seg = call.queues[0]
    assert seg.outcome == "answered" and seg.transfer_kind == "attended"
    assert seg.wait_seconds() == pytest.approx(1.5)


def test_queue_exit_without_agent_is_a_timeout() -> None:
    tr = Tracker()
    types = feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "c", "c", "4"),
        chan("QueueCallerJoin", 1, "PJSIP/caller-1", "c", "c", Queue="sales", Position="3"),
        chan("QueueCallerLeave", 31, "PJSIP/caller-1", "c", "c", Queue="sales"),
        chan("Hangup", 40, "PJSIP/caller-1", "c", "c", Cause="16"),
    )
    seg = tr.finished["c"].queues[0]
    assert (seg.outcome, seg.position, seg.wait_seconds()) == ("timeout", 3, 30.0)
    assert types.count("queue.left") == 1


def test_resync_adopts_unknown_channels_and_closes_vanished_ones() -> None:
    tr = Tracker(ManualClock(T + 100))
    feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "gone", "gone", "6"),
        chan("Newchannel", 1, "PJSIP/caller-2", "kept", "kept", "6"),
    )
    listed = [
        ev(
            "CoreShowChannel",
            100,
            Channel="PJSIP/caller-2",
            Uniqueid="kept",
            Linkedid="kept",
            ChannelState="6",
        ),
        ev(
            "CoreShowChannel",
            100,
            Channel="PJSIP/caller-3",
            Uniqueid="new",
            Linkedid="new",
            ChannelState="6",
            Duration="00:01:05",
        ),
    ]
    out = tr.resync(listed)
    assert tr.finished["gone"].legs["gone"].end_reason == "vanished"
    assert set(tr.legs) == {"kept", "new"}
    assert tr.legs["new"].created == pytest.approx(T + 100 - 65)
    assert "call.ended" in [e.type for e in out]


def test_restart_closes_every_open_leg() -> None:
    tr = Tracker()
    feed(tr, ev("FullyBooted", 0, Uptime="500"), chan("Newchannel", 1, "PJSIP/caller-1", "u", "u", "6"))
    feed(tr, ev("FullyBooted", 30, Uptime="0"))  # a new Asterisk process
    assert tr.finished["u"].legs["u"].end_reason == "pbx_restart"
    tr2 = Tracker()
    feed(tr2, chan("Newchannel", 1, "PJSIP/caller-1", "u", "u", "6"), ev("Shutdown", 2, Shutdown="Cleanly"))
    assert tr2.finished["u"].end_reason == "pbx_shutdown"


def test_engine_facts_for_stasis_calls() -> None:
    tr = Tracker(ManualClock(T))
    feed(tr, chan("Newchannel", 0, "PJSIP/caller-1", "s", "s", "4"))
    assert [e.type for e in tr.record_ivr_step("s", "menu", "2")] == ["ivr.step"]
    tr.set_self_service("s", "balance")
    tr.set_disposition("s", "resolved")
    tr.attach_data("s", "account", "A-1")
    tr.add_wrapup("s", 12)
    tr.add_recording("s", "rec-1")
    feed(tr, chan("Hangup", 5, "PJSIP/caller-1", "s", "s", Cause="16"))
    snap = tr.finished["s"].snapshot()
    assert snap["ivr_path"][0]["node"] == "menu" and snap["self_service"] == "balance"
    assert snap["disposition"] == "resolved" and snap["data"] == {"account": "A-1"}
    assert snap["wrapup_seconds"] == 12 and snap["legs"][0]["recordings"] == ["rec-1"]
    # facts still land on a call that just ended (wrap-up and disposition come after the hangup)
    sunk: list[dict[str, object]] = []
    tr.late_fact_sink = sunk.append
    late = tr.add_wrapup("s", 3)
    assert tr.finished["s"].wrapup_seconds == 15
    assert late[0].data["call"]["wrapup_seconds"] == 15
    assert sunk == [{"kind": "call", "data": late[0].data["call"]}]  # what the store rewrites
    with pytest.raises(KeyError):
        tr.set_disposition("nope", "resolved")


def test_acd_queue_segments_for_stasis_calls() -> None:
    tr = Tracker(ManualClock(T))
    feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "s", "s", "4"),
        chan("Newstate", 0, "PJSIP/caller-1", "s", "s"),
    )
    tr.queue_entered("s", "vip", position=2, at=T + 5)
    tr.queue_left("s", "vip", "answered", waited=7.5, agent="alice", at=T + 12.5)
    feed(
        tr,
        chan("Newchannel", 12.6, "PJSIP/1001-1", "a", "s", "0"),
        chan("Hangup", 72.5, "PJSIP/1001-1", "a", "s"),
        chan("Hangup", 72.5, "PJSIP/caller-1", "s", "s", Cause="16"),
    )
    [seg] = tr.finished["s"].queues
    assert (seg.queue, seg.outcome, seg.agent, seg.position) == ("vip", "answered", "alice", 2)
    assert seg.wait_seconds() == pytest.approx(7.5)
    assert seg.talk_seconds == pytest.approx(60.0)  # no AgentComplete: answer → end of the call
    tr2 = Tracker(ManualClock(T))
    feed(tr2, chan("Newchannel", 0, "PJSIP/caller-1", "x", "x", "4"))
    tr2.queue_entered("x", "sales", at=T + 1)
    tr2.queue_left("x", "sales", "overflow", waited=30, at=T + 31)
    tr2.queue_entered("x", "support", at=T + 31)
    tr2.queue_left("x", "support", "abandoned", waited=9, at=T + 40)
    assert [(q.queue, q.outcome) for q in tr2.calls["x"].queues] == [
        ("sales", "transferred"),
        ("support", "abandoned"),
    ]


async def test_engine_facts_reported_before_ami_shows_the_call_are_held_and_applied() -> None:
    """ARI and AMI race: the IVR and the ACD may report a Stasis call before its Newchannel reaches the tracker."""
    from ctiserver.calls.facts import NotTrackedYet

    clock = ManualClock(T)
    tr = Tracker(clock)
    with pytest.raises(NotTrackedYet):  # the IVR publishes this step itself; the tracker files it later
        tr.record_ivr_step("s", "menu", "2", at=T + 1)
    with pytest.raises(NotTrackedYet):
        tr.attach_data("s", "account", "A-1")
    with pytest.raises(NotTrackedYet):
        tr.set_self_service("s", "balance")
    with pytest.raises(NotTrackedYet):
        tr.queue_entered("s", "vip", position=2, at=T + 5)
    with pytest.raises(NotTrackedYet):
        tr.queue_left("s", "vip", "answered", waited=7.5, agent="alice", at=T + 12.5)
    with pytest.raises(KeyError):  # a user's fact on an unknown call is refused, not held
        tr.set_disposition("s", "resolved")
    assert len(tr.early) == 1 and "s" not in tr.calls
    out = feed(tr, chan("Newchannel", 0, "PJSIP/caller-1", "s", "s", "4"))
    # the held facts are applied in the order they were reported, after the call's own creation events
    assert out[:2] == ["call.created", "leg.created"]
    assert out.count("call.updated") == 2 and "ivr.step" not in out  # the step was published by the IVR
    call = tr.calls["s"]
    assert [s["node"] for s in call.ivr_path] == ["menu"] and call.ivr_path[0]["at"] == T + 1
    assert call.data == {"account": "A-1"} and call.self_service == "balance" and call.disposition is None
    [seg] = call.queues
    assert (seg.queue, seg.outcome, seg.agent, seg.position) == ("vip", "answered", "alice", 2)
    assert seg.wait_seconds() == pytest.approx(7.5)
    assert len(tr.early) == 0
    # a fact whose call never appears is dropped after max_age, counted
    with pytest.raises(NotTrackedYet):
        tr.attach_data("ghost", "k", "v")
    await clock.advance(tr.early.max_age + 1)
    with pytest.raises(NotTrackedYet):
        tr.attach_data("ghost2", "k", "v")
    assert tr.early.expired == 1 and len(tr.early) == 1


async def test_service_turns_acd_bus_events_into_segments_and_persists_late_facts() -> None:
    import asyncio

    from ctiserver.calls.service import CallService
    from ctiserver.events.bus import InMemoryBus
    from ctiserver.events.envelope import new_event

    class Sink:
        def __init__(self) -> None:
            self.facts: list[dict[str, object]] = []

        async def write(self, facts: list[dict[str, object]]) -> bool:
            self.facts.extend(facts)
            return True

    bus, sink = InMemoryBus(), Sink()
    tracker = Tracker(ManualClock(T))
    service = CallService(tracker, bus, sink)
    sub = bus.subscribe("queue.entered", "queue.left")
    tasks = [
        asyncio.create_task(c)
        for c in (service.publish_loop(), service.persist_loop(), service.engine_events_loop(sub))
    ]
    try:
        service.on_ami_event(chan("Newchannel", 0, "PJSIP/caller-1", "s", "s", "4"))
        await bus.publish(new_event("queue.entered", "s", {"queue": "vip", "position": 1}, T + 1))
        await bus.publish(
            new_event("queue.left", "s", {"queue": "vip", "outcome": "abandoned", "waited": 4.0}, T + 5)
        )
        async with asyncio.timeout(30):
            while not tracker.calls["s"].queues or tracker.calls["s"].queues[0].outcome is None:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        service.on_ami_event(chan("Hangup", 6, "PJSIP/caller-1", "s", "s", Cause="16"))
        await service.flush()
        service.set_disposition("s", "callback")  # after the end: the row is rewritten
        tracker.add_wrapup("s", 20)  # even when reported straight to the tracker (the IVR does that)
        await service.flush()
    finally:
        for t in tasks:
            t.cancel()
    calls = [f["data"] for f in sink.facts if f["kind"] == "call"]
    assert len(calls) == 3
    assert calls[0]["queues"][0]["outcome"] == "abandoned"  # type: ignore[index]
    assert calls[-1]["disposition"] == "callback" and calls[-1]["wrapup_seconds"] == 20


def test_malformed_events_are_counted_not_fatal() -> None:
    tr = Tracker(ManualClock(T))
    feed(
        tr,
        ev("Newchannel", 0, Channel="PJSIP/caller-1"),  # no Uniqueid
        AmiEvent(
            [
                ("Event", "Newchannel"),
                ("Timestamp", "yesterday"),
                ("Channel", "PJSIP/c-2"),
                ("Uniqueid", "u2"),
                ("Linkedid", "u2"),
                ("ChannelState", "4"),
            ]
        ),
        chan("QueueCallerJoin", 1, "PJSIP/c-2", "u2", "u2", Queue="q", Position="first"),
        chan("Hangup", 2, "PJSIP/c-2", "u2", "u2", Cause="sixteen"),
        ev("BlindTransfer", 3, Result="Success"),  # no parties
        ev("CEL", 4, EventName="HANGUP", UniqueID="u9", Extra="{not json"),
    )
    assert tr.anomalies["newchannel_without_ids"] == 1 and tr.anomalies["bad_timestamp"] == 1
    call = tr.finished["u2"]
    assert call.started == T  # the clock's time instead of the bad timestamp
    assert call.queues[0].position == 0 and call.legs["u2"].hangup_cause is None
    assert not [k for k in tr.anomalies if k.startswith("error:")]


def test_a_handler_bug_is_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctiserver.calls import tracker as tracker_module

    def boom(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setitem(tracker_module.HANDLERS, "Hold", boom)
    tr = Tracker()
    feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "u", "u", "6"),
        ev("Hold", 1, Uniqueid="u"),
        chan("Hangup", 2, "PJSIP/caller-1", "u", "u", Cause="16"),
    )
    assert tr.anomalies["error:Hold"] == 1
    assert tr.finished["u"].legs["u"].hangup_cause == 16  # later events still applied


def test_a_call_left_with_only_ended_legs_after_a_relink_ends() -> None:
    tr = Tracker()
    feed(
        tr,
        chan("Newchannel", 0, "PJSIP/caller-1", "a", "a", "4"),
        chan("Newchannel", 1, "Local/x@ctx-00000001;1", "l1", "l1", "0"),
        chan("Newchannel", 1, "PJSIP/1002-2", "b", "l1", "0"),
        chan("Hangup", 2, "Local/x@ctx-00000001;1", "l1", "l1", Cause="16"),
        chan("Newstate", 3, "PJSIP/1002-2", "b", "a", "6"),  # b joins the caller's call
    )
    assert tr.finished["l1"].end_reason == "merged" and "l1" not in tr.calls
    assert set(tr.calls["a"].legs) == {"a", "b"}


def test_a_member_phone_that_rang_out_is_agent_no_answer_not_a_ring() -> None:
    """app_queue's ``AgentRingNoAnswer`` comes when the member's phone stops ringing: published as
    ``agent.no_answer``. As ``agent.ringing`` (up to session 14) it popped a "ringing" screen and set the agent's
    console to ringing after the phone had stopped."""
    tr = Tracker()
    member = {"Queue": "support", "MemberName": "Agent 1001", "Interface": "PJSIP/1001", "DestUniqueid": "a"}
    out = [
        e
        for x in (
            chan("Newchannel", 0, "PJSIP/caller-1", "c", "c", "4"),
            chan("QueueCallerJoin", 0.5, "PJSIP/caller-1", "c", "c", Queue="support", Position="1"),
            chan("AgentCalled", 1, "PJSIP/caller-1", "c", "c", **member),
            chan("AgentRingNoAnswer", 16, "PJSIP/caller-1", "c", "c", RingTime="15", **member),
        )
        for e in tr.feed(x)
    ]
    assert "agent.ringing" not in [e.type for e in out]
    [rang_out] = [e for e in out if e.type == "agent.no_answer"]
    # every agent.* event is about a call: its subject is the call id (webhook order, call:<id> topics)
    assert [(e.type, e.subject) for e in out if e.type.startswith("agent.")] == [
        ("agent.offered", "c"), ("agent.no_answer", "c")
    ]  # fmt: skip
    assert rang_out.data == {
        "call_id": "c", "queue": "support", "agent": "Agent 1001", "result": "no_answer", "ring_seconds": 15
    }  # fmt: skip
