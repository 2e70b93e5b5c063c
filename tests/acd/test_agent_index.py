"""The incremental agent index (free set, qualification cache, EWT counts) and index-driven routing, checked
against brute force over every agent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctiserver.acd.agent_index import PRESORTED
from ctiserver.acd.agent_state import TRANSITIONS, AgentState
from ctiserver.acd.agents import Agent, AgentRegistry
from ctiserver.acd.config import AgentConfig, RelaxRule, Strategy
from ctiserver.acd.persist import MemoryAgentStore
from ctiserver.acd.routing import Waiting, assign, req_key, strategy_key
from ctiserver.clock import ManualClock
from ctiserver.events import InMemoryBus

S = AgentState
SKILLS = ("billing", "tech", "sales")


def registry(*agents: tuple[str, Mapping[str, int]], clock: ManualClock | None = None) -> AgentRegistry:
    reg = AgentRegistry(clock or ManualClock(), InMemoryBus(), MemoryAgentStore())
    for agent_id, skills in agents:
        reg.add(AgentConfig(id=agent_id, device=f"PJSIP/{agent_id}", skills=dict(skills)))
    return reg


def free_ids(reg: AgentRegistry) -> set[str]:
    return {a.id for a in reg.free}


async def go(reg: AgentRegistry, agent_id: str, dst: AgentState) -> None:
    await reg.change(
        agent_id,
        dst,
        reason="lunch" if dst is S.NOT_READY else None,
        until=1e10 if dst is S.WRAP_UP else None,
        allow_not_ready=True,
    )


async def test_an_agent_enters_and_leaves_the_free_set_with_its_state() -> None:
    reg = registry(("a", {"tech": 5}))
    assert free_ids(reg) == set()  # logged out
    await go(reg, "a", S.READY)
    assert free_ids(reg) == {"a"}
    await go(reg, "a", S.NOT_READY)
    assert free_ids(reg) == set()
    await go(reg, "a", S.READY)
    for busy in (S.RESERVED, S.RINGING, S.ON_CALL, S.WRAP_UP):
        await go(reg, "a", busy)
        assert free_ids(reg) == set(), busy
    await go(reg, "a", S.READY)
    assert free_ids(reg) == {"a"}
    await go(reg, "a", S.LOGGED_OUT)
    assert free_ids(reg) == set()


async def test_an_unregistered_device_takes_the_agent_out_until_it_registers_again() -> None:
    reg = registry(("a", {}), ("b", {}))
    await go(reg, "a", S.READY)
    await go(reg, "b", S.READY)
    await reg.set_registered("a", False)
    assert free_ids(reg) == {"b"}
    await go(reg, "a", S.NOT_READY)
    await reg.set_registered("a", True)
    assert free_ids(reg) == {"b"}  # registered but paused
    await go(reg, "a", S.READY)
    assert free_ids(reg) == {"a", "b"}


def test_a_restored_snapshot_updates_the_index() -> None:
    from ctiserver.acd.agent_state import AgentStatus

    reg = registry(("a", {"tech": 3}))
    reg.restore(AgentStatus("a", S.READY))
    assert free_ids(reg) == {"a"} and reg.index.staffed(req_key({})) == 1
    reg.restore(AgentStatus("a", S.WRAP_UP, until=5.0))
    assert free_ids(reg) == set() and reg.index.staffed(req_key({})) == 1
    reg.restore(AgentStatus("a", S.LOGGED_OUT))
    assert reg.index.staffed(req_key({})) == 0


async def test_a_skills_change_invalidates_the_qualification_cache() -> None:
    reg = registry(("a", {"tech": 3}), ("b", {"tech": 8}))
    await go(reg, "a", S.READY)
    key = req_key({"tech": 5})
    assert reg.index.qualified(key) == {"b"}
    assert (reg.index.staffed(key), reg.index.free_qualified(key)) == (0, 0)
    reg.set_skills("a", {"tech": 6})
    assert reg.index.qualified(key) == {"a", "b"}
    assert (reg.index.staffed(key), reg.index.free_qualified(key)) == (1, 1)


class Untouchable:
    """An agent collection that fails if routing looks at it."""

    def __iter__(self) -> Iterator[Agent]:
        raise AssertionError("a round with nobody waiting looked at the agents")


def test_a_round_with_nobody_waiting_does_not_look_at_the_agents() -> None:
    assert assign([], Untouchable(), 0.0, 1.0) == []


# ---- property: index-driven routing == brute force over every agent ------------------------------------
def reference(calls: list[Waiting], agents: list[Agent], now: float, aging: float) -> list[tuple[str, str]]:
    """Written from the documented rules, independent of ``routing``'s ranking code."""

    def strategy_key(a: Agent, strategy: Strategy, req: Mapping[str, int]) -> tuple[float, float, str]:
        if strategy is Strategy.LONGEST_IDLE:
            first: float = 0.0
        elif strategy is Strategy.FEWEST_CALLS:
            first = a.calls_today
        elif strategy is Strategy.BEST_SKILL:
            first = -sum(a.skills.get(k, 0) for k in (req or a.skills))
        elif strategy is Strategy.LEAST_OCCUPIED:
            first = a.occupancy
        else:
            first = sum(a.skills.values())
        return (first, a.idle_since, a.id)

    order = sorted(calls, key=lambda w: (-(w.priority + aging * max(0.0, now - w.entered) / 60.0), w.seq))
    taken: set[str] = set()
    out = []
    for call in order:
        need = call.need(now)
        candidates = [
            a
            for a in agents
            if a.state is S.READY
            and a.registered
            and a.id not in taken
            and a.id not in call.excluded
            and call.only in (None, a.id)
            and all(a.skills.get(k, 0) >= v for k, v in need.requirements.items())
        ]
        if candidates:
            chosen = min(candidates, key=lambda a: strategy_key(a, need.strategy, need.requirements))
            taken.add(chosen.id)
            out.append((call.call_id, chosen.id))
    return out


skills_st = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=3)
agent_st = st.tuples(skills_st, st.integers(0, 4), st.integers(0, 3), st.integers(0, 4))
op_st = st.one_of(
    st.tuples(st.just("go"), st.integers(0, 11), st.sampled_from(list(S))),
    st.tuples(st.just("reg"), st.integers(0, 11), st.booleans()),
    st.tuples(st.just("skills"), st.integers(0, 11), skills_st),
    st.tuples(st.just("check"), st.just(0), st.just(0)),
)
call_st = st.tuples(
    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=2),
    st.sampled_from(list(Strategy)),
    st.integers(0, 3),  # priority
    st.integers(0, 120),  # entered
    st.booleans(),  # relaxes to "any agent" after 30 s
    st.sets(st.integers(0, 11), max_size=3),  # excluded
    st.one_of(st.none(), st.integers(0, 11)),  # only
)


def build_calls(raw: list[tuple], n_agents: int) -> list[Waiting]:  # type: ignore[type-arg]
    calls = []
    for seq, (req, strategy, priority, entered, relax, excluded, only) in enumerate(raw):
        calls.append(
            Waiting(
                f"c{seq}",
                "q",
                req,
                strategy,
                priority,
                float(entered),
                seq,
                (RelaxRule(after=30, requirements={}),) if relax else (),
                float(entered),
                {f"a{i}" for i in excluded if i < n_agents},
                f"a{only}" if only is not None and only < n_agents else None,
            )
        )
    return calls


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    agents=st.lists(agent_st, min_size=1, max_size=12),
    ops=st.lists(op_st, max_size=40),
    raw_calls=st.lists(call_st, max_size=8),
    aging=st.sampled_from([0.0, 1.0, 5.0]),
)
def test_index_routing_matches_brute_force(
    agents: list[tuple[dict[str, int], int, int, int]],
    ops: list[tuple[str, int, object]],
    raw_calls: list[tuple],  # type: ignore[type-arg]
    aging: float,
) -> None:
    async def scenario() -> None:
        reg = registry(*((f"a{i}", skills) for i, (skills, *_) in enumerate(agents)))
        for i, (_, idle, calls_today, busy) in enumerate(agents):
            a = reg.get(f"a{i}")
            a.idle_since, a.calls_today = float(idle), calls_today
            a.busy_seconds, a.logged_in_seconds = float(busy), 4.0
        calls = build_calls(raw_calls, len(agents))
        for kind, i, arg in [*ops, ("check", 0, 0)]:
            if kind == "check":
                check(reg, calls)
                continue
            agent_id = f"a{i % len(agents)}"
            if kind == "go":
                assert isinstance(arg, AgentState)
                if arg in TRANSITIONS[reg.get(agent_id).state]:
                    await go(reg, agent_id, arg)
            elif kind == "reg":
                await reg.set_registered(agent_id, bool(arg))
            else:
                assert isinstance(arg, dict)
                reg.set_skills(agent_id, arg)

    def check(reg: AgentRegistry, calls: list[Waiting]) -> None:
        everybody = list(reg)
        assert free_ids(reg) == {a.id for a in everybody if a.state is S.READY and a.registered}
        now = 100.0
        expected = reference(calls, everybody, now, aging)
        fast = assign(calls, reg.free, now, aging, reg.index.qualified, all_free=True)
        assert [(w.call_id, a.id) for w, a in fast] == expected
        walked = assign(calls, reg.free, now, aging, reg.index.qualified, all_free=True, presorted=reg.index.presorted)
        assert [(w.call_id, a.id) for w, a in walked] == expected
        for strategy in PRESORTED:
            order = reg.index.presorted(strategy)
            assert order is not None
            assert [a.id for a in order] == [a.id for a in sorted(reg.free, key=strategy_key(strategy, {}))]
        assert reg.index.presorted(Strategy.BEST_SKILL) is None
        assert [(w.call_id, a.id) for w, a in assign(calls, everybody, now, aging)] == expected
        for call in calls:
            req = call.need(now).requirements
            ok = [a for a in everybody if all(a.skills.get(k, 0) >= v for k, v in req.items())]
            staffed = [a for a in ok if a.status.logged_in]
            free = [a for a in staffed if a.state is S.READY and a.registered]
            assert reg.index.staffed(req_key(req)) == len(staffed)
            assert reg.index.free_qualified(req_key(req)) == len(free)

    asyncio.run(scenario())


@pytest.mark.parametrize("strategy", list(Strategy))
def test_many_calls_of_one_need_get_the_sorted_order(strategy: Strategy) -> None:
    """Several calls sharing a need take the sorted path (the first one takes the single-pass ``min``)."""
    reg = registry(*((f"a{i}", {"tech": 1 + (i * 7) % 10}) for i in range(30)))
    for i, a in enumerate(reg):
        a.idle_since, a.calls_today = float((i * 13) % 7), (i * 5) % 4
        a.busy_seconds, a.logged_in_seconds = float((i * 3) % 5), 5.0
    asyncio.run(_all_ready(reg))
    calls = build_calls([({"tech": 3}, strategy, 0, 0, False, set(), None)] * 12, 30)
    expected = reference(calls, list(reg), 10.0, 1.0)
    for presorted in (None, reg.index.presorted):
        pairs = assign(calls, reg.free, 10.0, 1.0, reg.index.qualified, all_free=True, presorted=presorted)
        assert [(w.call_id, a.id) for w, a in pairs] == expected
    assert len(expected) == 12


async def _all_ready(reg: AgentRegistry) -> None:
    for a in list(reg):
        await go(reg, a.id, S.READY)


def test_an_agent_excluded_by_one_call_stays_first_for_the_next_calls_of_that_need() -> None:
    reg = registry(*((f"a{i}", {"tech": 5}) for i in range(5)))
    for i, a in enumerate(reg):
        a.idle_since = float(i)  # a0 idle longest, then a1, ...
    asyncio.run(_all_ready(reg))
    raw = [
        ({"tech": 1}, Strategy.LONGEST_IDLE, 0, 0, False, set(), None),
        ({"tech": 1}, Strategy.LONGEST_IDLE, 0, 0, False, {0, 1}, None),  # a1 missed this one (RONA)
        ({"tech": 1}, Strategy.LONGEST_IDLE, 0, 0, False, set(), None),
    ]
    calls = build_calls(raw, 5)
    for presorted in (None, reg.index.presorted):
        pairs = assign(calls, reg.free, 10.0, 0.0, reg.index.qualified, all_free=True, presorted=presorted)
        got = [(w.call_id, a.id) for w, a in pairs]
        assert got == [("c0", "a0"), ("c1", "a2"), ("c2", "a1")] == reference(calls, list(reg), 10.0, 0.0)


async def test_the_presorted_orders_follow_idle_time_calls_and_skills_edits() -> None:
    clock = ManualClock()
    reg = registry(("a", {"tech": 2}), ("b", {"tech": 9, "sales": 9}), ("c", {"tech": 5}), clock=clock)
    for agent_id in ("a", "b", "c"):
        await go(reg, agent_id, S.READY)
    idle = reg.index.presorted(Strategy.LONGEST_IDLE)
    assert idle is not None and [a.id for a in idle] == ["a", "b", "c"]  # same idle time: by id
    await clock.advance(5)
    await go(reg, "a", S.NOT_READY)
    await go(reg, "a", S.READY)  # a break: "a" has been idle the shortest now
    assert [a.id for a in idle] == ["b", "c", "a"]
    skilled = reg.index.presorted(Strategy.LEAST_SKILLED)
    assert skilled is not None and [a.id for a in skilled] == ["a", "c", "b"]
    reg.set_skills("a", {"tech": 10, "sales": 10})
    assert [a.id for a in skilled] == ["c", "b", "a"]
    await go(reg, "c", S.RESERVED)
    assert [a.id for a in skilled] == ["b", "a"] and [a.id for a in idle] == ["b", "a"]
