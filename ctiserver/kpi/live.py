"""Live KPIs: per queue and per agent, over sliding windows (15 min, 60 min, today), updated on every event.

Feed it domain events (``on_event``): ``queue.entered``/``queue.left`` keep "calls waiting now" and "longest
wait now"; ``queue.left`` counts the offered call (answered/abandoned, its wait) at once, ``call.ended`` adds
the handle time (talk, hold, wrap-up) of its answered segments. Each window keeps a deque of
facts and running ``QueueSums``: adding is O(1) and facts that slide out are subtracted, so a read is cheap.

Python API (what the web/API layer publishes): ``queue(name, window)``, ``agent(name, window)``,
``waiting(name)``, ``snapshot()``. Configured queues (``queues=``: the ACD's and the ``kpi.queues`` names) are
always in the snapshot, with zero counts while idle, so a wallboard shows every queue, not only busy ones.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ctiserver.clock import Clock, SystemClock
from ctiserver.events.envelope import DomainEvent
from ctiserver.events.queue_left import queue_wait
from ctiserver.kpi.agent_time import AgentTime
from ctiserver.kpi.formulas import QueueKpis, QueueSums, SegmentFact, SlPolicy, kpis_of, occupancy

if TYPE_CHECKING:
    from ctiserver.kpi.agent_history import Change

WINDOWS: dict[str, float | None] = {"15m": 900.0, "60m": 3600.0, "today": None}
DAY = 86_400.0


def day_start(now: float, offset: float) -> float:
    """The start of the day holding ``now`` (epoch s) in a zone ``offset`` seconds east of UTC."""
    return (now + offset) // DAY * DAY - offset


class Window:
    """Facts whose end time is within ``length`` seconds of now (or since the start of the day)."""

    def __init__(self, length: float | None, policy: SlPolicy, day_offset: float = 0.0) -> None:
        self.length = length
        self.policy = policy
        self.day_offset = day_offset
        self.facts: deque[SegmentFact] = deque()
        self.sums = QueueSums()

    def _start(self, now: float) -> float:
        return now - self.length if self.length is not None else day_start(now, self.day_offset)

    def add(self, fact: SegmentFact, now: float) -> None:
        self.facts.append(fact)
        self.sums.add(fact, self.policy)
        self.expire(now)

    def expire(self, now: float) -> None:
        start = self._start(now)
        facts = self.facts
        dropped = False
        while facts and (facts[0].ended or facts[0].entered) < start:
            self.sums.add(facts.popleft(), self.policy, sign=-1)
            dropped = True
        if dropped:  # max_wait is not subtractable: recompute over what is left
            self.sums.max_wait = max((f.wait for f in facts), default=0.0)

    def kpis(self, now: float) -> QueueKpis:
        self.expire(now)
        return kpis_of(self.sums, self.policy)


@dataclass(slots=True)
class Waiting:
    since: dict[str, float]  # call id → entered


class LiveKpis:
    def __init__(
        self,
        clock: Clock | None = None,
        policy_for: Callable[[str], SlPolicy] | None = None,
        utc_offset_seconds: float = 0.0,
        queues: Iterable[str] = (),
    ) -> None:
        self.clock = clock or SystemClock()
        self.configured = frozenset(queues)
        self.policy_for = policy_for or (lambda _q: SlPolicy())
        self.day_offset = utc_offset_seconds
        self.queues: dict[str, dict[str, Window]] = {}
        self.agents: dict[str, dict[str, Window]] = {}
        self._waiting: dict[str, Waiting] = {}
        self.agent_time = AgentTime()
        self.events_seen = 0

    def _windows(self, table: dict[str, dict[str, Window]], key: str, policy: SlPolicy) -> dict[str, Window]:
        wins = table.get(key)
        if wins is None:
            wins = {name: Window(length, policy, self.day_offset) for name, length in WINDOWS.items()}
            table[key] = wins
        return wins

    # ------------------------------------------------------------------ feeding
    def on_event(self, event: DomainEvent) -> None:
        self.events_seen += 1
        data = event.data
        if event.type == "queue.entered" and not data.get("outbound"):  # a dialler's call waits for no one
            self._waiting.setdefault(str(data.get("queue")), Waiting({})).since[event.subject] = event.time
        elif event.type == "queue.left":
            self.queue_left(event.subject, data, event.time)
        elif event.type == "call.ended":
            self.add_call(data, now=event.time)
        elif event.type == "call.updated" and data.get("change") == "wrapup_seconds" and data.get("call"):
            self.add_late_wrap(data["call"], float(data.get("added") or 0.0), data.get("agent"), event.time)
        elif event.type == "agent.state" and data.get("state"):
            self.agent_time.on_state(event.subject, str(data["state"]), event.time)

    def queue_left(self, call_id: str, data: Mapping[str, Any], at: float) -> None:
        """A caller left a queue (tracker: app_queue; ACD: Stasis calls): offered/answered/abandoned and the
        wait count now, at answer time — not when the call ends."""
        queue = str(data.get("queue"))
        w = self._waiting.get(queue)
        since = w.since.pop(call_id, None) if w is not None else None
        wait = queue_wait(data)
        if wait is None:
            wait = at - since if since is not None else 0.0
        raw = str(data.get("outcome") or "closed")
        outcome = (
            raw
            if raw in ("answered", "abandoned", "timeout", "closed")
            else ("transferred" if raw in ("transferred", "overflow") else "timeout")
        )
        agent = data.get("agent")
        fact = SegmentFact(
            queue,
            at - float(wait),
            outcome,
            float(wait),
            agent=str(agent) if agent else None,
            ended=at,
            kind="queue",
            outbound=bool(data.get("outbound")),
        )
        self.add_segment(fact, at)

    def add_call(self, call: Mapping[str, Any], now: float | None = None) -> None:
        """A finished call (``call.ended`` snapshot): the handle time (talk, hold, wrap-up) of its answered
        segments, for AHT. Its queue outcomes were counted when the caller left each queue."""
        at = self.clock.now() if now is None else now
        legs = {leg["uniqueid"]: leg for leg in call.get("legs") or []}
        segs = call.get("queues") or []
        answered = [i for i, s in enumerate(segs) if s.get("outcome") == "answered"]
        for i in answered:
            seg = segs[i]
            agent_leg = legs.get(seg.get("agent_uniqueid") or "")
            hold = _hold_seconds(agent_leg) if agent_leg else 0.0
            wrap = float(call.get("wrapup_seconds") or 0.0) if i == answered[-1] else 0.0
            full = SegmentFact.from_snapshot(seg, hold=hold, wrap=wrap)
            self.add_segment(replace(full, kind="handle", ended=at), at)
        for seg in segs:
            self._waiting.get(str(seg["queue"]), Waiting({})).since.pop(str(call.get("call_id")), None)

    def add_late_wrap(self, call: Mapping[str, Any], seconds: float, agent: Any, at: float) -> None:
        """A wrap-up that ended after its call (``call.updated`` on the ended call): more handle time for the
        queue of the call's last answered segment and for the agent (the call was counted as handled)."""
        seg = next((s for s in reversed(call.get("queues") or []) if s.get("outcome") == "answered"), None)
        if seg is None or seconds <= 0:
            return
        who = str(agent or seg.get("agent") or "") or None
        fact = SegmentFact(
            str(seg["queue"]),
            at,
            "answered",
            0.0,
            wrap=seconds,
            agent=who,
            ended=at,
            kind="wrap",
            outbound=bool(seg.get("outbound")),
        )
        self.add_segment(fact, at)

    def add_segment(self, fact: SegmentFact, now: float) -> None:
        """The fact in its queue's windows and, answered, in its agent's; a dialler's call (``outbound``) in
        its agent's only (docs/kpi.md, "Dialler calls")."""
        policy = self.policy_for(fact.queue)
        if not fact.outbound:
            for win in self._windows(self.queues, fact.queue, policy).values():
                win.add(fact, now)
        if fact.agent and fact.outcome == "answered":
            for win in self._windows(self.agents, fact.agent, policy).values():
                win.add(fact, now)

    def warm(self, facts: Iterable[SegmentFact], changes: Iterable[Change] = ()) -> None:
        """Stored facts, in the order they ended, and the agents' stored state changes, before the live feed
        (``kpi/warm.py``)."""
        now = self.clock.now()
        for fact in facts:
            self.add_segment(fact, now)
        for change in changes:
            self.agent_time.on_state(change.agent, change.state, change.at)

    def day_start(self) -> float:
        """When today began (the "today" window), in the configured time zone offset."""
        return day_start(self.clock.now(), self.day_offset)

    # ------------------------------------------------------------------ reading
    def queue(self, name: str, window: str = "15m") -> QueueKpis:
        wins = self._windows(self.queues, name, self.policy_for(name))
        return wins[window].kpis(self.clock.now())

    def agent(self, name: str, window: str = "today") -> dict[str, Any]:
        """Handled calls, talk/hold/wrap, AHT, and occupancy from the agent's states (``agent.state``)."""
        now = self.clock.now()
        wins = self.agents.get(name)
        out: dict[str, Any] = {
            "agent": name,
            "handled": 0,
            "outbound": 0,  # of the handled calls, a dialler's
            "talk": 0.0,
            "hold": 0.0,
            "wrap": 0.0,
            "aht": None,
        }
        if wins is not None:
            k = wins[window].kpis(now)
            s = wins[window].sums
            out.update(
                answered=k.answered,
                handled=s.handled,
                outbound=s.outbound,
                talk=s.talk,
                hold=s.hold,
                wrap=s.wrap,
                aht=k.aht,
            )
        length = WINDOWS[window]
        start = now - length if length is not None else (now + self.day_offset) // DAY * DAY - self.day_offset
        busy, idle = self.agent_time.seconds(name, start, now)
        out.update(busy_seconds=busy, ready_idle_seconds=idle, occupancy=occupancy(busy, idle))
        return out

    def waiting(self, name: str) -> dict[str, Any]:
        """Calls waiting now in ``name`` and the longest current wait (seconds)."""
        w = self._waiting.get(name)
        now = self.clock.now()
        since = list(w.since.values()) if w else []
        return {
            "queue": name,
            "waiting": len(since),
            "longest_wait": max((now - s for s in since), default=0.0),
        }

    def snapshot(self) -> dict[str, Any]:
        return {"queues": self.queues_snapshot(), "agents": self.agents_snapshot()}

    def queues_snapshot(self) -> dict[str, Any]:
        names = sorted(self.configured | set(self.queues) | set(self._waiting))
        return {q: {"windows": {w: self.queue(q, w).as_dict() for w in WINDOWS}, **self.waiting(q)} for q in names}

    def agents_snapshot(self, only: str | None = None) -> dict[str, Any]:
        """Per agent and window: handled, talk / hold / wrap, AHT, busy and ready-idle seconds, occupancy
        (``only``: that agent alone — an agent's page polls it; every agent's spans are summed on each read)."""
        names = sorted(set(self.agents) | set(self.agent_time.spans))
        return {a: {w: self.agent(a, w) for w in WINDOWS} for a in names if only in (None, a)}


def _hold_seconds(leg: Mapping[str, Any]) -> float:
    total = 0.0
    end = leg.get("ended")
    for start, stop in leg.get("hold") or []:
        stop = stop if stop is not None else end
        if start is not None and stop is not None:
            total += max(0.0, stop - start)
    return total
