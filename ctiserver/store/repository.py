"""Writes tracked calls (the ``call.ended`` / ``leg.ended`` snapshots) idempotently: a replayed fact updates
the same rows, never duplicates them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.store.caller_key import caller_key
from ctiserver.store.models import CallRow, LegRow, LiveCallRow, QueueSegmentRow
from ctiserver.store.upsert import upsert

BLOCKING_CAUSES = frozenset({17, 34, 38, 42, 44})  # busy, no circuit, network out of order, congestion


def _hold(spans: Sequence[Sequence[float | None]], end: float | None) -> float:
    total = 0.0
    for start, stop in spans:
        if start is None:
            continue
        stop = stop if stop is not None else end
        if stop is not None:
            total += max(0.0, stop - start)
    return total


def leg_row(call_id: str, leg: dict[str, Any]) -> dict[str, Any]:
    return {
        "uniqueid": leg["uniqueid"],
        "call_id": call_id,
        "linkedid": leg["linkedid"],
        "channel": leg["channel"],
        "endpoint": leg.get("endpoint") or leg["channel"],
        "role": leg["role"],
        "direction": leg["direction"],
        "caller_num": leg.get("caller_num") or "",
        "caller_name": leg.get("caller_name") or "",
        "callee_num": leg.get("callee_num") or "",
        "callee_name": leg.get("callee_name") or "",
        "created": leg["created"],
        "ringing": leg.get("ringing"),
        "answered": leg.get("answered"),
        "bridged": leg.get("bridged"),
        "ended": leg.get("ended"),
        "hold_seconds": _hold(leg.get("hold") or [], leg.get("ended")),
        "hangup_cause": leg.get("hangup_cause"),
        "hangup_cause_txt": leg.get("hangup_cause_txt") or "",
        "hangup_source": leg.get("hangup_source") or "",
        "dialstatus": leg.get("dialstatus") or "",
        "queue": leg.get("queue"),
        "agent": leg.get("agent"),
        "end_reason": leg.get("end_reason"),
        "recordings": list(leg.get("recordings") or []),
    }


def is_blocked(call: dict[str, Any]) -> bool:
    """Blocked at entry: the first leg was refused (busy/congestion) before anything answered it."""
    legs = call.get("legs") or []
    if not legs or call.get("answered") is not None:
        return False
    return legs[0].get("hangup_cause") in BLOCKING_CAUSES


def segment_rows(call: dict[str, Any]) -> list[dict[str, Any]]:
    legs = {leg["uniqueid"]: leg for leg in call.get("legs") or []}
    segs = call.get("queues") or []
    last_answered = max((i for i, s in enumerate(segs) if s.get("outcome") == "answered"), default=None)
    rows = []
    for i, seg in enumerate(segs):
        agent_leg = legs.get(seg.get("agent_uniqueid") or "")
        hold = _hold(agent_leg.get("hold") or [], agent_leg.get("ended")) if agent_leg else 0.0
        rows.append(
            {
                "call_id": call["call_id"],
                "seq": i,
                "queue": seg["queue"],
                "caller_uniqueid": seg["caller_uniqueid"],
                "caller_num": call.get("caller_num") or "",
                "entered": seg["entered"],
                "left": seg.get("left"),
                "position": seg.get("position") or 0,
                "outcome": seg.get("outcome") or "closed",
                "answered": seg.get("answered"),
                "wait_seconds": seg.get("wait_seconds"),
                "agent": seg.get("agent"),
                "agent_uniqueid": seg.get("agent_uniqueid"),
                "talk_seconds": seg.get("talk_seconds"),
                "hold_seconds": hold,
                "wrapup_seconds": float(call.get("wrapup_seconds") or 0.0) if i == last_answered else 0.0,
                "complete_reason": seg.get("complete_reason"),
                "transfer_kind": seg.get("transfer_kind"),
                "abandon_position": seg.get("abandon_position"),
                "outbound": bool(seg.get("outbound")),
            }
        )
    return rows


def call_row(call: dict[str, Any], region: str = "US") -> dict[str, Any]:
    """``region``: the daemon's ``default_region``, which national caller numbers are read in."""
    return {
        "call_id": call["call_id"],
        "state": call.get("state") or "ended",
        "started": call["started"],
        "answered": call.get("answered"),
        "connected": call.get("connected"),
        "ended": call.get("ended"),
        "end_reason": call.get("end_reason"),
        "direction": call.get("direction"),
        "caller_num": call.get("caller_num") or "",
        "caller_name": call.get("caller_name") or "",
        "caller_key": caller_key(call.get("caller_num"), region),
        "self_service": call.get("self_service"),
        "disposition": call.get("disposition"),
        "hold_seconds": float(call.get("hold_seconds") or 0.0),
        "wrapup_seconds": float(call.get("wrapup_seconds") or 0.0),
        "talk_seconds": float(call.get("talk_seconds") or 0.0),
        "blocked": is_blocked(call),
        "data": dict(call.get("data") or {}),
        "ivr_path": list(call.get("ivr_path") or []),
        "transfers": list(call.get("transfers") or []),
    }


class CallRepository:
    """Applies facts: ``{"kind": "call", "data": <call snapshot>}`` or ``{"kind": "leg", "data": <leg>}``; the
    checkpoints of calls in progress: ``{"kind": "live", "data": <checkpoint>, "seen": t}`` and
    ``{"kind": "live_seen", "seen": t, "calls": [call id, …]}`` (those calls were alive at ``t``). A call's end deletes
    its checkpoint."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], region: str = "US") -> None:
        self.sessions = sessions
        self.region = region

    async def apply(self, facts: Sequence[dict[str, Any]]) -> None:
        """One transaction, one statement per table: the newest row per key wins (facts are in order)."""
        calls: dict[str, dict[str, Any]] = {}
        legs: dict[str, dict[str, Any]] = {}
        segments: dict[tuple[str, int], dict[str, Any]] = {}
        live: dict[str, dict[str, Any]] = {}
        stamps: dict[str, float] = {}  # call id → the last time a live_seen said it was alive
        for fact in facts:
            kind, data = fact.get("kind"), fact.get("data") or {}
            if kind == "leg":
                row = leg_row(str(data.get("call_id") or data["linkedid"]), data)
                legs[row["uniqueid"]] = row
            elif kind == "call":
                calls[data["call_id"]] = call_row(data, self.region)
                live.pop(data["call_id"], None)
                for leg in data.get("legs") or []:
                    row = leg_row(data["call_id"], leg)
                    legs[row["uniqueid"]] = row
                for seg in segment_rows(data):
                    segments[(seg["call_id"], seg["seq"])] = seg
            elif kind == "live":
                live[data["call_id"]] = {"call_id": data["call_id"], "checkpoint": data, "seen": fact["seen"]}
            elif kind == "live_seen":  # the rows of this batch too (they are written after the update)
                at = float(fact["seen"])
                for call_id in fact.get("calls") or ():
                    stamps[call_id] = at
                    if call_id in live:
                        live[call_id]["seen"] = max(live[call_id]["seen"], at)
            else:
                raise ValueError(f"unknown fact kind {kind!r}")
        async with self.sessions() as session, session.begin():
            await upsert(session, CallRow, list(calls.values()))
            await upsert(session, LegRow, list(legs.values()))
            await upsert(session, QueueSegmentRow, list(segments.values()))
            by_time: dict[float, list[str]] = {}
            for call_id, at in stamps.items():
                by_time.setdefault(at, []).append(call_id)
            for at, ids in by_time.items():
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    await session.execute(update(LiveCallRow).where(LiveCallRow.call_id.in_(chunk)).values(seen=at))
            await upsert(session, LiveCallRow, list(live.values()))
            if calls:
                await session.execute(delete(LiveCallRow).where(LiveCallRow.call_id.in_(list(calls))))

    async def live_calls(self) -> list[tuple[dict[str, Any], float]]:
        """The checkpoints of the calls in progress when the last run stopped, and when each was last seen."""
        async with self.sessions() as session:
            rows = (await session.execute(select(LiveCallRow.checkpoint, LiveCallRow.seen))).all()
        return [(dict(checkpoint), float(seen)) for checkpoint, seen in rows]

    async def _apply_one(self, session: AsyncSession, fact: dict[str, Any]) -> None:
        kind, data = fact.get("kind"), fact.get("data") or {}
        if kind == "leg":
            await upsert(session, LegRow, [leg_row(str(data.get("call_id") or data["linkedid"]), data)])
        elif kind == "call":
            await upsert(session, CallRow, [call_row(data, self.region)])
            legs = [leg_row(data["call_id"], leg) for leg in data.get("legs") or []]
            await upsert(session, LegRow, legs)
            await upsert(session, QueueSegmentRow, segment_rows(data))
        else:
            raise ValueError(f"unknown fact kind {kind!r}")
