from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.config import RelaxRule, Strategy
from ctiserver.acd.routing import Waiting, assign, estimated_wait, position, qualifies, rank, service_order


@dataclass
class A:
    id: str
    skills: Mapping[str, int]
    state: AgentState = AgentState.READY
    registered: bool = True
    phone_busy: bool = False
    idle_since: float = 0.0
    calls_today: int = 0
    occupancy: float = 0.0


@dataclass
class W:
    call_id: str
    requirements: dict[str, int]
    priority: int = 0
    entered: float = 0.0
    seq: int = 0
    relax: tuple[RelaxRule, ...] = ()
    strategy: Strategy = Strategy.LONGEST_IDLE
    excluded: set[str] = field(default_factory=set)

    def build(self) -> Waiting:
        return Waiting(
            self.call_id,
            "q",
            self.requirements,
            self.strategy,
            self.priority,
            self.entered,
            self.seq,
            self.relax,
            self.entered,
            self.excluded,
        )


JUNIOR = {"billing": 3}
SPECIALIST = {"billing": 8, "tech": 9}


def test_qualifies_needs_every_skill_at_its_minimum() -> None:
    assert qualifies(SPECIALIST, {"tech": 7, "billing": 2})
    assert not qualifies(JUNIOR, {"tech": 7})
    assert not qualifies({"tech": 6}, {"tech": 7})
    assert qualifies(JUNIOR, {})


def test_strategies_order_qualified_agents() -> None:
    agents = [
        A("j1", JUNIOR, idle_since=5, calls_today=9, occupancy=0.2),
        A("j2", JUNIOR, idle_since=3, calls_today=1, occupancy=0.9),
        A("s1", SPECIALIST, idle_since=4, calls_today=5, occupancy=0.5),
    ]
    from ctiserver.acd.routing import Need

    def ids(strategy: Strategy, req: dict[str, int]) -> list[str]:
        return [a.id for a in rank(agents, Need(req, strategy))]

    assert ids(Strategy.LONGEST_IDLE, {"billing": 2}) == ["j2", "s1", "j1"]
    assert ids(Strategy.FEWEST_CALLS, {"billing": 2}) == ["j2", "s1", "j1"]
    assert ids(Strategy.BEST_SKILL, {"billing": 2}) == ["s1", "j2", "j1"]
    assert ids(Strategy.LEAST_OCCUPIED, {"billing": 2}) == ["j1", "s1", "j2"]
    assert ids(Strategy.LEAST_SKILLED, {"billing": 2}) == ["j2", "j1", "s1"]
    assert ids(Strategy.BEST_SKILL, {"tech": 7}) == ["s1"]


def test_relaxation_lowers_the_need_after_its_time() -> None:
    rules = (
        RelaxRule(after=10, requirements={"tech": 5}),
        RelaxRule(after=30, requirements={}, strategy=Strategy.BEST_SKILL),
    )
    w = W("c", {"tech": 7}, relax=rules).build()
    assert w.need(9.9).requirements == {"tech": 7} and not w.need(9.9).relaxed
    assert w.need(10).requirements == {"tech": 5} and w.need(10).relaxed
    assert w.need(30).requirements == {} and w.need(30).strategy is Strategy.BEST_SKILL


def test_hard_call_waits_for_a_specialist_until_relaxed() -> None:
    rules = (RelaxRule(after=20, requirements={}, strategy=Strategy.BEST_SKILL),)
    hard = W("hard", {"tech": 7}, relax=rules).build()
    agents = [A("j1", JUNIOR), A("s1", SPECIALIST, state=AgentState.ON_CALL)]
    assert assign([hard], agents, 19.0, 0.0) == []
    [(call, agent)] = assign([hard], agents, 20.0, 0.0)
    assert (call.call_id, agent.id) == ("hard", "j1")


def test_an_unroutable_call_does_not_block_the_calls_behind_it() -> None:
    hard = W("hard", {"tech": 7}, priority=5, seq=1).build()
    easy = W("easy", {"billing": 2}, seq=2).build()
    pairs = assign([hard, easy], [A("j1", JUNIOR)], 0.0, 0.0)
    assert [(c.call_id, a.id) for c, a in pairs] == [("easy", "j1")]


def test_priority_first_then_arrival_and_aging_prevents_starvation() -> None:
    old = W("old", {}, priority=0, entered=0.0, seq=1).build()
    vip = W("vip", {}, priority=5, entered=100.0, seq=2).build()
    # a VIP arriving 100 s after the old call goes first ...
    assert [w.call_id for w in service_order([old, vip], 100.0, 1.0)] == ["vip", "old"]
    # ... but one arriving more than 5 min (5 points at 1 point/min) after it does not: the stream of later
    # VIPs cannot keep the old call waiting forever
    late_vip = W("late-vip", {}, priority=5, entered=400.0, seq=3).build()
    assert [w.call_id for w in service_order([old, late_vip], 400.0, 1.0)] == ["old", "late-vip"]
    # without aging it would
    assert [w.call_id for w in service_order([old, late_vip], 10_000.0, 0.0)] == ["late-vip", "old"]
    assert position([old, vip], "old", 100.0, 1.0) == 2


def test_unavailable_agents_are_never_chosen_and_excluded_ones_skipped() -> None:
    call = W("c", {}, excluded={"a1"}).build()
    agents = [
        A("a1", JUNIOR, idle_since=0),
        A("a2", JUNIOR, registered=False),
        A("a3", JUNIOR, state=AgentState.WRAP_UP),
        A("a4", JUNIOR, state=AgentState.NOT_READY),
        A("a6", JUNIOR, phone_busy=True),  # its phone is on a call past the ACD
        A("a5", JUNIOR, idle_since=9),
    ]
    [(_, agent)] = assign([call], agents, 0.0, 0.0)
    assert agent.id == "a5"


def test_each_agent_gets_at_most_one_call_per_round() -> None:
    calls = [W(f"c{i}", {}, seq=i).build() for i in range(5)]
    pairs = assign(calls, [A("a", {}), A("b", {})], 0.0, 0.0)
    assert sorted(a.id for _, a in pairs) == ["a", "b"]
    assert [c.call_id for c, _ in pairs] == ["c0", "c1"]


def test_estimated_wait() -> None:
    assert estimated_wait(1, 120.0, 2, free=1) == 0.0
    assert estimated_wait(5, 120.0, 2) == 300.0
    assert estimated_wait(3, 120.0, 0) is None
