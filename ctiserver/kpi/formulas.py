"""The contact-centre KPIs, as pure functions over facts (one formula each; docs/kpi.md lists them).

A *segment* is one stay of one call in one queue (``SegmentFact``); queue KPIs are sums over segments, so the
live windows (``live.py``), the historical SQL (``historical.py``) and the replay all agree by construction:
they all fill the same ``QueueSums`` and read the KPIs off it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class SlPolicy:
    """Service-level settings of one queue."""

    seconds: float = 20.0  # T: answered within T seconds counts as "in service level"
    short_abandon_seconds: float = 5.0  # abandons within N s are "short"
    exclude_short_abandons: bool = False  # True: short abandons are left out of the SL denominator


@dataclass(frozen=True, slots=True)
class SegmentFact:
    queue: str
    entered: float
    outcome: str  # answered | abandoned | timeout | closed
    wait: float
    talk: float = 0.0
    hold: float = 0.0
    wrap: float = 0.0
    agent: str | None = None
    ended: float | None = None  # when the segment's outcome was known (for live windows)
    # "full": the whole segment (history, replay); live windows split it in two: "queue" when the caller
    # leaves the queue (offered/answered/abandoned/waits, at answer time) and "handle" when the call ends
    # (talk/hold/wrap-up of an answered segment, for AHT); "wrap": a wrap-up that ended after its call did
    kind: str = "full"
    # a dialler's call the ACD gave to an agent: the agent's, not the queue's (docs/kpi.md, "Dialler calls")
    outbound: bool = False

    @classmethod
    def from_snapshot(cls, seg: Mapping[str, Any], *, hold: float = 0.0, wrap: float = 0.0) -> SegmentFact:
        wait = seg.get("wait_seconds")
        talk = seg.get("talk_seconds")
        end = seg.get("left") or seg.get("answered") or seg["entered"]
        if seg.get("outcome") == "answered" and talk is not None:
            end = (seg.get("answered") or end) + float(talk)
        return cls(
            queue=str(seg["queue"]),
            entered=float(seg["entered"]),
            outcome=str(seg.get("outcome") or "closed"),
            wait=float(wait or 0.0),
            talk=float(talk or 0.0),
            hold=hold,
            wrap=wrap,
            agent=seg.get("agent"),
            ended=float(end),
            outbound=bool(seg.get("outbound")),
        )


@dataclass(slots=True)
class QueueSums:
    """Additive counters; ``add``/``remove`` make sliding windows O(1)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    timeouts: int = 0
    answered_in_sl: int = 0
    wait_answered: float = 0.0
    wait_abandoned: float = 0.0
    max_wait: float = 0.0
    talk: float = 0.0
    hold: float = 0.0
    wrap: float = 0.0
    handled: int = 0  # answered segments whose handle time is known
    outbound: int = 0  # of which a dialler's calls (an agent's windows only: a queue's have none)

    def add(self, f: SegmentFact, policy: SlPolicy, sign: int = 1) -> None:
        if f.kind == "wrap":  # handle time of a call already counted as handled
            self.wrap += sign * f.wrap
            return
        if f.kind != "queue" and f.outcome == "answered":
            self.handled += sign
            self.outbound += sign * f.outbound
            self.talk += sign * f.talk
            self.hold += sign * f.hold
            self.wrap += sign * f.wrap
        if f.kind == "handle":
            return
        self.offered += sign
        if f.outcome == "answered":
            self.answered += sign
            self.wait_answered += sign * f.wait
            if f.wait <= policy.seconds:
                self.answered_in_sl += sign
        elif f.outcome == "abandoned":
            self.abandoned += sign
            self.wait_abandoned += sign * f.wait
            if f.wait <= policy.short_abandon_seconds:
                self.short_abandoned += sign
        else:
            self.timeouts += sign
        if sign > 0:
            self.max_wait = max(self.max_wait, f.wait)

    def merge(self, other: QueueSums) -> None:
        for fld in fields(self):
            if fld.name == "max_wait":
                self.max_wait = max(self.max_wait, other.max_wait)
            else:
                setattr(self, fld.name, getattr(self, fld.name) + getattr(other, fld.name))


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass(frozen=True, slots=True)
class QueueKpis:
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timeouts: int
    service_level: float | None  # answered within T / offered (or / offered − short abandons)
    lost_rate: float | None  # 1 − answered / offered
    abandon_rate: float | None  # abandoned / offered
    asa: float | None  # Σ wait of answered / answered
    avg_abandon_wait: float | None  # Σ wait of abandoned / abandoned
    aht: float | None  # (Σ talk + Σ hold + Σ wrap) / handled (answered)
    max_wait: float
    sl_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        out.update(self.extra)
        return out


def kpis_of(sums: QueueSums, policy: SlPolicy) -> QueueKpis:
    sl_den = sums.offered - (sums.short_abandoned if policy.exclude_short_abandons else 0)
    answered_ratio = _ratio(sums.answered, sums.offered)
    return QueueKpis(
        offered=sums.offered,
        answered=sums.answered,
        abandoned=sums.abandoned,
        short_abandoned=sums.short_abandoned,
        timeouts=sums.timeouts,
        service_level=_ratio(sums.answered_in_sl, sl_den),
        lost_rate=None if answered_ratio is None else 1.0 - answered_ratio,
        abandon_rate=_ratio(sums.abandoned, sums.offered),
        asa=_ratio(sums.wait_answered, sums.answered),
        avg_abandon_wait=_ratio(sums.wait_abandoned, sums.abandoned),
        aht=_ratio(sums.talk + sums.hold + sums.wrap, sums.handled),
        max_wait=sums.max_wait,
        sl_seconds=policy.seconds,
    )


def queue_kpis(facts: Iterable[SegmentFact], policy: SlPolicy | None = None) -> QueueKpis:
    pol = policy or SlPolicy()
    sums = QueueSums()
    for f in facts:
        sums.add(f, pol)
    return kpis_of(sums, pol)


def occupancy(busy_seconds: float, ready_idle_seconds: float) -> float | None:
    """(talk + hold + wrap) / (talk + hold + wrap + ready idle)."""
    return _ratio(busy_seconds, busy_seconds + ready_idle_seconds)


def self_service_rate(calls: Iterable[Mapping[str, Any]]) -> float | None:
    """Calls that ended in the IVR with a self-service outcome / calls that entered the IVR."""
    entered = served = 0
    for call in calls:
        if call.get("ivr_path"):
            entered += 1
            if call.get("self_service") and not call.get("queues"):
                served += 1
    return _ratio(served, entered)


def blocked_rate(calls: Iterable[Mapping[str, Any]]) -> float | None:
    """Inbound calls refused at entry (busy/congestion) / inbound calls."""
    total = blocked = 0
    for call in calls:
        if call.get("direction") == "in":
            total += 1
            blocked += bool(call.get("blocked"))
    return _ratio(blocked, total)


def calls_per_agent_per_day(handled_by_agent_day: Mapping[tuple[str, str], int]) -> float | None:
    """Σ handled / number of (agent, day) pairs with at least one handled call."""
    pairs = [n for n in handled_by_agent_day.values() if n > 0]
    return _ratio(sum(pairs), len(pairs))
