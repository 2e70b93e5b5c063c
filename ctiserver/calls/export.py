"""Tracked calls in the shape of the traces' ``expected.json`` (used by ``ctiserver replay --calls``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ctiserver.calls.model import Call, Leg, QueueSegment


def _ts(value: float | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def queue_log_outcome(seg: QueueSegment) -> str:
    """Our outcome in queue_log words (COMPLETEAGENT, ABANDON, BLINDTRANSFER, EXITWITHTIMEOUT...)."""
    if seg.outcome == "answered":
        if seg.transfer_kind == "blind" or (seg.complete_reason == "transfer" and seg.transfer_kind is None):
            return "BLINDTRANSFER"
        if seg.transfer_kind == "attended":
            return "ATTENDEDTRANSFER"
        return "COMPLETECALLER" if seg.complete_reason == "caller" else "COMPLETEAGENT"
    if seg.outcome == "abandoned":
        return "ABANDON"
    return "EXITWITHTIMEOUT"


def leg_json(leg: Leg) -> dict[str, Any]:
    return {
        "uniqueid": leg.uniqueid,
        "linkedid": leg.linkedid,
        "channel": leg.channel,
        "role": leg.role.value,
        "answered": leg.answered is not None,
        "hangup_cause": leg.hangup_cause,
        "hangup_source": leg.hangup_source or "",
        "dialstatus": leg.dialstatus,
        "start": _ts(leg.created),
        "answer": _ts(leg.answered),
        "end": _ts(leg.ended),
        "end_reason": leg.end_reason,
        "hold_seconds": round(leg.hold_seconds(leg.ended or leg.created), 3),
    }


def queue_json(seg: QueueSegment) -> dict[str, Any]:
    wait = seg.wait_seconds()
    out: dict[str, Any] = {
        "caller_uniqueid": seg.caller_uniqueid,
        "queue": seg.queue,
        "enter_position": seg.position,
        "enter_time": seg.entered,
        "outcome": queue_log_outcome(seg),
        "wait_seconds": None if wait is None else round(wait, 3),
    }
    if seg.agent is not None:
        out["agent"] = seg.agent
        out["agent_uniqueid"] = seg.agent_uniqueid
    if seg.talk_seconds is not None:
        out["talk_seconds"] = seg.talk_seconds
    if seg.abandon_position is not None:
        out["position"] = seg.abandon_position
    return out


def call_json(call: Call) -> dict[str, Any]:
    return {
        "linkedid": call.call_id,
        "legs": [leg_json(leg) for leg in call.legs.values()],
        "queue": queue_json(call.queues[0]) if call.queues else None,
        "queues": [queue_json(q) for q in call.queues],
        "transfers": [t.snapshot() for t in call.transfers],
        "state": call.state.value,
        "end_reason": call.end_reason,
    }


def calls_json(calls: list[Call]) -> dict[str, Any]:
    ordered = sorted(calls, key=lambda c: c.started)
    return {"calls": [call_json(c) for c in ordered]}
