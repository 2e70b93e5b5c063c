from __future__ import annotations

import pytest

from ctiserver.acd.agent_state import TRANSITIONS, AgentState, AgentStatus, IllegalTransition

S = AgentState


def test_a_full_call_cycle() -> None:
    s = AgentStatus("1001")
    s = s.advance(S.READY, 1.0)
    s = s.advance(S.RESERVED, 2.0, call_id="c1")
    s = s.advance(S.RINGING, 3.0)
    assert s.call_id == "c1"
    s = s.advance(S.ON_CALL, 4.0)
    s = s.advance(S.WRAP_UP, 9.0, until=19.0)
    assert (s.state, s.until, s.call_id) == (S.WRAP_UP, 19.0, "c1")
    s = s.advance(S.READY, 19.0)
    assert (s.state, s.until, s.call_id, s.since) == (S.READY, None, None, 19.0)


@pytest.mark.parametrize(
    ("src", "dst"),
    [(src, dst) for src in S for dst in S if dst not in TRANSITIONS[src]],
)
def test_every_transition_outside_the_table_raises(src: AgentState, dst: AgentState) -> None:
    s = AgentStatus("a", src, reason="x" if src is S.NOT_READY else None, until=5.0)
    with pytest.raises(IllegalTransition):
        s.advance(dst, 1.0, reason="break", until=10.0)


def test_not_ready_needs_a_reason_and_wrap_up_an_end() -> None:
    s = AgentStatus("a").advance(S.READY, 0)
    with pytest.raises(ValueError):
        s.advance(S.NOT_READY, 1)
    on_call = s.advance(S.RESERVED, 1).advance(S.ON_CALL, 2)
    with pytest.raises(ValueError):
        on_call.advance(S.WRAP_UP, 3)


def test_a_paused_agent_is_not_reserved_unless_asked() -> None:
    s = AgentStatus("a").advance(S.NOT_READY, 0, reason="lunch")
    with pytest.raises(IllegalTransition):
        s.advance(S.RESERVED, 1)
    assert s.advance(S.RESERVED, 1, allow_not_ready=True).state is S.RESERVED


def test_reason_is_kept_only_while_not_ready() -> None:
    s = AgentStatus("a").advance(S.NOT_READY, 0, reason="lunch")
    assert s.reason == "lunch"
    assert s.advance(S.NOT_READY, 1, reason="training").reason == "training"
    assert s.advance(S.READY, 2).reason is None
