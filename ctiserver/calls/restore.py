"""A call in progress back from its checkpoint: ``call_from_checkpoint(dict)`` is the inverse of
``checkpoint_of(call)`` (``Call.snapshot()`` plus what only the tracker keeps: each leg's bridges, a blind
transfer under way).

A daemon that stops or dies while calls go on (app_queue calls outlive us; a killed daemon's Stasis calls too)
must not lose what it knew of them — when the call started, its IVR path, attached data, queue stays and who
answered — or the next run adopts their channels as new calls and the reports lose the queue stays (see
``calls/checkpoints.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctiserver.calls.call_state import CallState, call_machine
from ctiserver.calls.leg_state import LegState, leg_machine
from ctiserver.calls.model import Call, HoldSpan, Leg, QueueSegment, Role, Transfer


def checkpoint_of(call: Call) -> dict[str, Any]:
    snap = call.snapshot()
    snap["bridges"] = {uid: sorted(leg.bridges) for uid, leg in call.legs.items() if leg.bridges}
    snap["pending_transfer"] = call.pending_transfer  # the next leg is a blind transfer's target
    return snap


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def leg_from(d: Mapping[str, Any], bridges: list[str] | None = None) -> Leg:
    leg = Leg(
        uniqueid=str(d["uniqueid"]),
        linkedid=str(d.get("linkedid") or d["uniqueid"]),
        channel=str(d.get("channel") or d["uniqueid"]),
        role=Role(d.get("role") or Role.AGENT.value),
        direction=str(d.get("direction") or "out"),
        created=float(d["created"]),
        caller_num=str(d.get("caller_num") or ""),
        caller_name=str(d.get("caller_name") or ""),
        callee_num=str(d.get("callee_num") or ""),
        callee_name=str(d.get("callee_name") or ""),
        ringing=_float(d.get("ringing")),
        answered=_float(d.get("answered")),
        bridged=_float(d.get("bridged")),
        ended=_float(d.get("ended")),
        hold=[HoldSpan(float(s), _float(e)) for s, e in d.get("hold") or []],
        hangup_cause=None if d.get("hangup_cause") is None else int(d["hangup_cause"]),
        hangup_cause_txt=str(d.get("hangup_cause_txt") or ""),
        hangup_source=_str(d.get("hangup_source")),
        dialstatus=str(d.get("dialstatus") or ""),
        dialed_by=_str(d.get("dialed_by")),
        queue=_str(d.get("queue")),
        agent=_str(d.get("agent")),
        end_reason=_str(d.get("end_reason")),
        recordings=[str(r) for r in d.get("recordings") or []],
        bridges=set(bridges or ()),
        fsm=leg_machine(LegState(d.get("state") or LegState.NEW.value)),
    )
    return leg


def segment_from(d: Mapping[str, Any]) -> QueueSegment:
    return QueueSegment(
        queue=str(d["queue"]),
        caller_uniqueid=str(d.get("caller_uniqueid") or ""),
        entered=float(d["entered"]),
        position=int(d.get("position") or 0),
        left=_float(d.get("left")),
        outcome=_str(d.get("outcome")),
        answered=_float(d.get("answered")),
        agent=_str(d.get("agent")),
        agent_uniqueid=_str(d.get("agent_uniqueid")),
        talk_seconds=_float(d.get("talk_seconds")),
        complete_reason=_str(d.get("complete_reason")),
        transfer_kind=_str(d.get("transfer_kind")),
        abandon_position=None if d.get("abandon_position") is None else int(d["abandon_position"]),
        offered_agents=[str(a) for a in d.get("offered_agents") or []],
        outbound=bool(d.get("outbound")),
        restored=d.get("outcome") is None and d.get("left") is None,
    )


def transfer_from(d: Mapping[str, Any]) -> Transfer:
    return Transfer(
        kind=str(d["kind"]),
        at=float(d["at"]),
        transferer=_str(d.get("transferer")),
        transferee=_str(d.get("transferee")),
        target=_str(d.get("target")),
        result=str(d.get("result") or "Success"),
    )


def call_from_checkpoint(d: Mapping[str, Any]) -> Call:
    """The call as it was at its checkpoint (a live call: ``ENDED`` is not a state a checkpoint holds)."""
    bridges: Mapping[str, list[str]] = d.get("bridges") or {}
    state = CallState(d.get("state") or CallState.ACTIVE.value)
    fsm = call_machine()
    fsm.state = CallState.ACTIVE if state is CallState.ENDED else state
    call = Call(
        call_id=str(d["call_id"]),
        started=float(d["started"]),
        queues=[segment_from(q) for q in d.get("queues") or []],
        transfers=[transfer_from(t) for t in d.get("transfers") or []],
        ivr_path=[dict(s) for s in d.get("ivr_path") or []],
        self_service=_str(d.get("self_service")),
        disposition=_str(d.get("disposition")),
        wrapup_seconds=float(d.get("wrapup_seconds") or 0.0),
        data={str(k): str(v) for k, v in (d.get("data") or {}).items()},
        answered=_float(d.get("answered")),
        connected=_float(d.get("connected")),
        merged_from=[str(m) for m in d.get("merged_from") or []],
        pending_transfer=bool(d.get("pending_transfer")),
        fsm=fsm,
    )
    for raw in d.get("legs") or []:
        leg = leg_from(raw, bridges.get(str(raw["uniqueid"])))
        call.legs[leg.uniqueid] = leg
    return call
