"""The agent state machine: one enum, one transition table; an illegal transition raises.

    logged_out ─login─► ready ◄──────────────► not_ready(reason)
                          │ reserve                ▲ missed (RONA) / unreachable
                          ▼                        │
                       reserved ─dial rings─► ringing ─answer─► on_call ─hangup─► wrap_up(until) ─► ready
                          └───────── answered without ringing ─────┘

``AgentStatus`` is the immutable snapshot (state, reason, since, until);
``advance`` returns the next snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    RESERVED = "reserved"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


S = AgentState

TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.LOGGED_OUT: frozenset({S.READY, S.NOT_READY}),
    S.READY: frozenset({S.NOT_READY, S.RESERVED, S.LOGGED_OUT}),
    S.NOT_READY: frozenset({S.READY, S.NOT_READY, S.LOGGED_OUT, S.RESERVED}),
    # RESERVED → ON_CALL: a device that answers at once (auto-answer) may never report ringing.
    S.RESERVED: frozenset({S.RINGING, S.ON_CALL, S.READY, S.NOT_READY}),
    S.RINGING: frozenset({S.ON_CALL, S.READY, S.NOT_READY}),
    S.ON_CALL: frozenset({S.WRAP_UP, S.READY, S.NOT_READY}),
    S.WRAP_UP: frozenset({S.WRAP_UP, S.READY, S.NOT_READY, S.LOGGED_OUT}),
}

# NOT_READY → RESERVED exists only for outbound work an agent takes while paused (call-backs,
# preview dialling) and is used only when the caller asks for it explicitly (``allow_not_ready``).

BUSY_STATES = frozenset({S.RESERVED, S.RINGING, S.ON_CALL})
LOGGED_IN_STATES = frozenset(set(S) - {S.LOGGED_OUT})


class IllegalTransition(Exception):
    def __init__(self, agent_id: str, src: AgentState, dst: AgentState) -> None:
        super().__init__(f"agent {agent_id}: illegal transition {src.value} -> {dst.value}")
        self.agent_id = agent_id
        self.src = src
        self.dst = dst


@dataclass(frozen=True, slots=True)
class AgentStatus:
    agent_id: str
    state: AgentState = S.LOGGED_OUT
    reason: str | None = None  # not_ready reason ("lunch", "missed", ...)
    since: float = 0.0  # wall clock of the change
    until: float | None = None  # wrap_up end (wall clock)
    call_id: str | None = None  # the call being offered / handled

    def advance(
        self,
        dst: AgentState,
        now: float,
        *,
        reason: str | None = None,
        until: float | None = None,
        call_id: str | None = None,
        allow_not_ready: bool = False,
    ) -> AgentStatus:
        if dst not in TRANSITIONS[self.state]:
            raise IllegalTransition(self.agent_id, self.state, dst)
        if self.state is S.NOT_READY and dst is S.RESERVED and not allow_not_ready:
            raise IllegalTransition(self.agent_id, self.state, dst)
        if dst is S.NOT_READY and not reason:
            raise ValueError("not_ready needs a reason")
        if dst is S.WRAP_UP and until is None:
            raise ValueError("wrap_up needs an end time")
        keep_call = dst in BUSY_STATES or dst is S.WRAP_UP
        return replace(
            self,
            state=dst,
            reason=reason if dst is S.NOT_READY else None,
            since=now,
            until=until if dst is S.WRAP_UP else None,
            call_id=(call_id or self.call_id) if keep_call else None,
        )

    @property
    def logged_in(self) -> bool:
        return self.state in LOGGED_IN_STATES

    def to_json(self) -> dict[str, object]:
        return {
            "agent": self.agent_id,
            "state": self.state.value,
            "reason": self.reason,
            "since": self.since,
            "until": self.until,
            "call_id": self.call_id,
        }
