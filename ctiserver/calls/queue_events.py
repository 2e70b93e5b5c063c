"""app_queue facts: QueueCaller{Join,Leave,Abandon}, Agent{Called,RingNoAnswer,Connect,Complete} → segments.

Real Asterisk order (see the traces): on answer ``QueueCallerLeave`` comes just *before* ``AgentConnect``;
on abandon ``QueueCallerAbandon`` comes before ``QueueCallerLeave``. So a Leave only closes the wait; the
outcome is decided by the Connect/Abandon that follows, and a segment left with neither is a ``timeout``
(exit without an agent: timeout, empty queue, exit key) once the caller hangs up, re-queues or the call ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ctiserver.calls.call_state import CallState
from ctiserver.calls.model import Call, QueueSegment, Role

if TYPE_CHECKING:
    from ctiserver.calls.tracker import Tracker
    from ctiserver.pbx.ami.messages import AmiEvent


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or "")
    except ValueError:
        return default


def member_agent(t: Tracker, ev: AmiEvent) -> str:
    """The agent of an app_queue member event: the id configured for its device, else MemberName, else the
    interface."""
    interface = ev.get("Interface") or ""
    return t.agent_ids.get(interface.lower()) or ev.get("MemberName") or interface


def _segment(t: Tracker, ev: AmiEvent, at: float) -> tuple[Call, QueueSegment] | None:
    leg = t.leg_for(ev, at)
    if leg is None:
        return None
    call = t.call_for_leg(leg)
    queue = ev.get("Queue") or ""
    for seg in reversed(call.queues):
        if seg.queue == queue and seg.caller_uniqueid == leg.uniqueid:
            return call, seg
    t.anomaly("queue_event_without_join")
    seg = QueueSegment(queue=queue, caller_uniqueid=leg.uniqueid, entered=at, position=_int(ev.get("Position")))
    call.queues.append(seg)
    return call, seg


def _left(t: Tracker, call: Call, seg: QueueSegment, at: float) -> None:
    t.emit(
        "queue.left",
        call.call_id,
        {
            "call_id": call.call_id,
            "queue": seg.queue,
            "outcome": seg.outcome,
            "wait_seconds": seg.wait_seconds(),
            "agent": seg.agent,
        },
        at,
    )
    if call.state is CallState.QUEUED and seg.outcome != "answered":
        t.set_call_state(call, CallState.ACTIVE, at)


def _join(t: Tracker, ev: AmiEvent, at: float) -> None:
    leg = t.leg_for(ev, at)
    if leg is None:
        return
    call = t.call_for_leg(leg)
    finish_open_segments(t, call, at)
    seg = QueueSegment(
        queue=ev.get("Queue") or "",
        caller_uniqueid=leg.uniqueid,
        entered=at,
        position=_int(ev.get("Position")),
    )
    call.queues.append(seg)
    leg.queue = seg.queue
    t.set_call_state(call, CallState.QUEUED, at)
    t.emit(
        "queue.entered",
        call.call_id,
        {"call_id": call.call_id, "queue": seg.queue, "position": seg.position, "caller_num": leg.caller_num},
        at,
    )


def _leave(t: Tracker, ev: AmiEvent, at: float) -> None:
    found = _segment(t, ev, at)
    if found is None:
        return
    _call, seg = found
    if seg.left is None:
        seg.left = at


def _abandon(t: Tracker, ev: AmiEvent, at: float) -> None:
    found = _segment(t, ev, at)
    if found is None:
        return
    call, seg = found
    if seg.outcome is not None:
        return
    seg.left = seg.left or at
    seg.outcome = "abandoned"
    seg.abandon_position = _int(ev.get("Position"), seg.position)
    _left(t, call, seg, at)


def _agent_called(t: Tracker, ev: AmiEvent, at: float) -> None:
    found = _segment(t, ev, at)
    if found is None:
        return
    call, seg = found
    agent = member_agent(t, ev)
    seg.offered_agents.append(agent)
    dest = t.legs.get(ev.get("DestUniqueid") or "")
    if dest is not None:
        dest.queue, dest.agent = seg.queue, agent
    t.emit(  # subject: the call, as every publisher's agent.* (the agent is in the data)
        "agent.offered",
        call.call_id,
        {
            "call_id": call.call_id,
            "queue": seg.queue,
            "agent": agent,
            "interface": ev.get("Interface"),
            "leg": ev.get("DestUniqueid"),
        },
        at,
    )


def _agent_connect(t: Tracker, ev: AmiEvent, at: float) -> None:
    found = _segment(t, ev, at)
    if found is None:
        return
    call, seg = found
    seg.left = seg.left or at
    seg.answered = at
    seg.outcome = "answered"
    seg.agent = member_agent(t, ev)
    seg.agent_uniqueid = ev.get("DestUniqueid")
    _left(t, call, seg, at)
    t.emit(  # the one agent.answered of an app_queue call (the queue observer publishes none)
        "agent.answered",
        call.call_id,
        {
            "call_id": call.call_id,
            "queue": seg.queue,
            "agent": seg.agent,
            "interface": ev.get("Interface"),
            "leg": seg.agent_uniqueid,
            "agent_channel": ev.get("DestChannel"),
            "channel": ev.get("Channel"),
            "caller_number": ev.get("CallerIDNum"),
            "caller_name": ev.get("CallerIDName"),
            "wait_seconds": seg.wait_seconds(),
            "observed": True,
        },
        at,
    )


def _agent_complete(t: Tracker, ev: AmiEvent, at: float) -> None:
    found = _answered_by(t, ev, at) or _segment(t, ev, at)
    if found is None:
        return
    _call, seg = found
    try:
        seg.talk_seconds = float(ev.get("TalkTime") or "")
    except ValueError:
        seg.talk_seconds = None if seg.answered is None else max(0.0, at - seg.answered)
    seg.complete_reason = ev.get("Reason") or None


def _answered_by(t: Tracker, ev: AmiEvent, at: float) -> tuple[Call, QueueSegment] | None:
    """The stay the member's channel (``DestUniqueid``) answered: app_queue completes a stay from its own stasis
    thread, so after a blind transfer back into the same queue its ``AgentComplete`` may come after the caller
    joined again; the queue and the caller alone would name the new stay."""
    member = ev.get("DestUniqueid")
    leg = t.leg_for(ev, at) if member else None
    if leg is None:
        return None
    call = t.call_for_leg(leg)
    queue = ev.get("Queue") or ""
    for seg in reversed(call.queues):
        if seg.agent_uniqueid == member and seg.queue == queue and seg.caller_uniqueid == leg.uniqueid:
            return call, seg
    return None


def _ring_no_answer(t: Tracker, ev: AmiEvent, at: float) -> None:
    found = _segment(t, ev, at)
    if found is not None:
        t.emit(
            "agent.no_answer",  # the member's phone rang out: not a ring (agent.ringing would pop a screen)
            found[0].call_id,
            {
                "call_id": found[0].call_id,
                "queue": found[1].queue,
                "agent": member_agent(t, ev),
                "result": "no_answer",
                "ring_seconds": _int(ev.get("RingTime")),
            },
            at,
        )


def finish_open_segments(t: Tracker, call: Call, at: float) -> None:
    """Close segments whose caller left without an agent or abandon event (timeout/exit) or never left."""
    for seg in call.queues:
        if seg.outcome == "answered" and seg.talk_seconds is None and seg.answered is not None:
            if call.state.value == "ended" or all(leg.ended is not None for leg in call.legs.values()):
                seg.talk_seconds = max(0.0, at - seg.answered)  # no AgentComplete (ACD call, lost event)
        if seg.outcome is None:
            seg.outcome = "timeout" if seg.left is not None else "closed"
            seg.left = seg.left or at
            if not seg.acd:  # the ACD's own verdict (abandoned …) is on its way: one queue.left per stay
                _left(t, call, seg, at)


def answered_while_away(t: Tracker, call: Call, at: float) -> None:
    """An app_queue caller taken back from its checkpoint while it waited, found by the resync in a bridge with an
    agent leg that came while no daemon ran: the ``AgentConnect`` reached nobody, but the stay was answered — by
    that leg's agent, when its channel was created (its ring, seconds at most, is not known)."""
    for seg in call.queues:
        if not seg.restored or seg.outcome is not None:
            continue
        caller = t.legs.get(seg.caller_uniqueid)
        if caller is None or not caller.bridges:
            continue
        agent = next(
            (x for x in call.party_legs() if x.role is Role.AGENT and x.ended is None and x.bridges & caller.bridges),
            None,
        )
        if agent is None:
            continue
        seg.left = seg.answered = max(seg.entered, agent.created)
        seg.outcome = "answered"
        seg.agent = agent.agent = t.agent_ids.get(agent.endpoint.lower()) or agent.endpoint
        seg.agent_uniqueid = agent.uniqueid
        agent.queue = seg.queue
        if call.connected is None:
            call.connected = seg.answered
        _left(t, call, seg, at)
        t.set_call_state(call, CallState.CONNECTED, at)


def mark_transferred(call: Call, kind: str) -> None:
    for seg in reversed(call.queues):
        if seg.outcome == "answered":
            seg.transfer_kind = seg.transfer_kind or kind
            return


HANDLERS: dict[str, Callable[[Tracker, AmiEvent, float], None]] = {
    "QueueCallerJoin": _join,
    "QueueCallerLeave": _leave,
    "QueueCallerAbandon": _abandon,
    "AgentCalled": _agent_called,
    "AgentConnect": _agent_connect,
    "AgentComplete": _agent_complete,
    "AgentRingNoAnswer": _ring_no_answer,
}
