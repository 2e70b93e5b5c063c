"""Agent time by state, for occupancy: spans of ``agent.state`` (the ACD's state machine), summed over a
window on read. Busy = on_call + wrap_up; ready idle = ready + reserved + ringing (available, not talking);
not_ready and logged_out count for neither."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

BUSY = frozenset({"on_call", "wrap_up"})
READY_IDLE = frozenset({"ready", "reserved", "ringing"})
KEEP = 2 * 86_400.0  # spans older than this are dropped (windows look back at most one day)


@dataclass(slots=True)
class Span:
    state: str
    start: float
    end: float | None = None


class AgentTime:
    def __init__(self) -> None:
        self.spans: dict[str, deque[Span]] = {}

    def on_state(self, agent: str, state: str, at: float) -> None:
        spans = self.spans.setdefault(agent, deque())
        if spans and at < spans[-1].start:
            return  # older than the agent's latest state: read from the database already (kpi/warm.py)
        if spans and spans[-1].end is None:
            if spans[-1].state == state:
                return
            spans[-1].end = at
        spans.append(Span(state, at))
        while spans and spans[0].end is not None and spans[0].end < at - KEEP:
            spans.popleft()

    def seconds(self, agent: str, start: float, now: float) -> tuple[float, float]:
        """(busy, ready idle) seconds of ``agent`` within [start, now]."""
        busy = idle = 0.0
        for span in self.spans.get(agent, ()):
            lo, hi = max(span.start, start), min(span.end if span.end is not None else now, now)
            if hi <= lo:
                continue
            if span.state in BUSY:
                busy += hi - lo
            elif span.state in READY_IDLE:
                idle += hi - lo
        return busy, idle
