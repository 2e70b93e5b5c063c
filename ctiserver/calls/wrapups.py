"""Agents' wrap-up spans, from their ``agent.state`` events (the ACD's, or the observer's for app_queue).

Wrap-up (after-call work) ends after the call did, so it cannot be in the ``call.ended`` snapshot: when an
agent leaves ``wrap_up`` the span's seconds are added to the call the wrap-up followed (``add_wrapup``), which
rewrites the ended call's row and segments (AHT in the reports) and tells the live KPIs (``call.updated``).
A wrap-up extended (a new ``wrap_up`` state for the same call) is one span.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WrapUp:
    agent: str
    call_id: str
    seconds: float


class WrapUps:
    def __init__(self) -> None:
        self._open: dict[str, tuple[str, float]] = {}  # agent → (call id, wrap-up start)

    def on_state(self, agent: str, state: str, call_id: str | None, at: float) -> WrapUp | None:
        """An agent's new state; returns the wrap-up it ends, if any."""
        opened = self._open.pop(agent, None)
        if state == "wrap_up" and call_id:
            if opened is not None and opened[0] == call_id:  # extended: the same span goes on
                self._open[agent] = opened
                return None
            self._open[agent] = (call_id, at)
        if opened is None:
            return None
        return WrapUp(agent, opened[0], max(0.0, at - opened[1]))

    def __len__(self) -> int:
        return len(self._open)
