"""ACD routing cost: one routing round (``ctiserver.acd.routing.assign``) with W waiting calls and A agents of
whom F are free, for each strategy; the same round as the daemon runs it on a real ``AgentRegistry`` (scanning
every agent vs. the incremental ``AgentIndex``: free agents only, qualification cached per need) for a few
(W, F) mixes; one caller's EWT counts (scan vs. index); and the agent-state write path.

.venv/bin/python bench/acd_routing.py                      # W=200, A=2000, F=50
.venv/bin/python bench/acd_routing.py --waiting 1000 --agents 5000 --free 500
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.acd.agent_state import AgentState, AgentStatus
from ctiserver.acd.agents import AgentRegistry
from ctiserver.acd.config import AgentConfig, RelaxRule, Strategy
from ctiserver.acd.persist import MemoryAgentStore
from ctiserver.acd.routing import Waiting, assign, available, qualifies, req_key
from ctiserver.clock import SystemClock
from ctiserver.events import InMemoryBus

SKILLS = ("billing", "tech", "sales", "english", "russian", "polish")


@dataclass
class A:
    id: str
    skills: dict[str, int]
    state: AgentState
    registered: bool = True
    idle_since: float = 0.0
    calls_today: int = 0
    occupancy: float = 0.0


def population(n: int, free: int, rng: random.Random) -> list[A]:
    out = []
    for i in range(n):
        skills = {s: rng.randint(1, 10) for s in rng.sample(SKILLS, rng.randint(1, 4))}
        state = AgentState.READY if i < free else AgentState.ON_CALL
        out.append(
            A(
                str(i),
                skills,
                state,
                idle_since=rng.random() * 100,
                calls_today=rng.randint(0, 50),
                occupancy=rng.random(),
            )
        )
    return out


def calls(n: int, strategy: Strategy, rng: random.Random) -> list[Waiting]:
    out = []
    for i in range(n):
        req = {s: rng.randint(1, 6) for s in rng.sample(SKILLS, rng.randint(0, 2))}
        out.append(
            Waiting(
                str(i),
                "q",
                req,
                strategy,
                rng.randint(0, 5),
                rng.random() * 100,
                i,
                (RelaxRule(after=30, requirements={}),),
                rng.random() * 100,
            )
        )
    return out


def registry(n: int, free: int, rng: random.Random) -> AgentRegistry:
    reg = AgentRegistry(SystemClock(), InMemoryBus(), MemoryAgentStore())
    for i in range(n):
        skills = {s: rng.randint(1, 10) for s in rng.sample(SKILLS, rng.randint(1, 4))}
        agent = reg.add(AgentConfig(id=f"a{i}", device=f"PJSIP/{i}", skills=skills))
        agent.idle_since, agent.calls_today = rng.random() * 100, rng.randint(0, 50)
        reg.restore(AgentStatus(agent.id, AgentState.READY if i < free else AgentState.ON_CALL))  # files it
    return reg


def timed(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def daemon_rounds(n_agents: int, rounds: int, rng: random.Random) -> None:
    print(f"daemon routing round on an AgentRegistry of {n_agents} agents (median over the 5 strategies x {rounds})")
    print("      W     F   all agents   index: free only   + presorted walk")
    mixes = ((0, 50), (1, 50), (1, 500), (1, 1990), (10, 200), (10, 1990), (200, 50), (1000, 20), (500, 0))
    for w, f in mixes:
        reg = registry(n_agents, f, rng)
        scan, fast, walk = [], [], []
        index = reg.index
        for strategy in Strategy:
            ws = calls(w, strategy, rng)
            scan.append(timed(partial(assign, ws, reg, 50.0, 1.0), rounds))
            fast.append(timed(partial(assign, ws, reg.free, 50.0, 1.0, index.qualified, all_free=True), rounds))
            walk.append(
                timed(
                    partial(
                        assign, ws, reg.free, 50.0, 1.0, index.qualified, all_free=True, presorted=index.presorted
                    ),
                    rounds,
                )
            )
        ms = [statistics.median(x) * 1e3 for x in (scan, fast, walk)]
        print(f"  {w:5d} {f:5d}   {ms[0]:7.3f} ms   {ms[1]:13.3f} ms   {ms[2]:13.3f} ms")
    reg = registry(n_agents, 50, rng)
    need = {"tech": 3}

    def scan_counts() -> tuple[int, int]:
        staffed = [a for a in reg if a.status.logged_in and qualifies(a.skills, need)]
        return len(staffed), sum(1 for a in staffed if available(a))

    def index_counts() -> tuple[int, int]:
        key = req_key(need)
        return reg.index.staffed(key), reg.index.free_qualified(key)

    assert scan_counts() == index_counts()
    print(
        f"one announcement's EWT counts: scan {timed(scan_counts, rounds * 5) * 1e6:.1f} µs, "
        f"index {timed(index_counts, rounds * 5) * 1e6:.1f} µs"
    )


async def state_writes(n: int) -> float:
    clock = SystemClock()
    reg = AgentRegistry(clock, InMemoryBus(), MemoryAgentStore())
    for i in range(100):
        reg.add(AgentConfig(id=str(i), device=f"PJSIP/{i}"))
    for i in range(100):
        await reg.change(str(i), AgentState.READY)
    cycle = (AgentState.RESERVED, AgentState.RINGING, AgentState.ON_CALL, AgentState.READY)
    t0 = time.perf_counter()
    done = 0
    while done < n:
        for i in range(100):
            for st in cycle:
                await reg.change(str(i), st)
                done += 1
    return (time.perf_counter() - t0) / done


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--waiting", type=int, default=200)
    p.add_argument("--agents", type=int, default=2000)
    p.add_argument("--free", type=int, default=50)
    p.add_argument("--rounds", type=int, default=20)
    args = p.parse_args()
    rng = random.Random(7)
    agents = population(args.agents, args.free, rng)
    print(f"routing round: {args.waiting} waiting, {args.agents} agents, {args.free} free")
    for strategy in Strategy:
        waiting = calls(args.waiting, strategy, rng)
        times = []
        matched = 0
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            matched = len(assign(waiting, agents, 50.0, 1.0))
            times.append(time.perf_counter() - t0)
        print(
            f"  {strategy.value:15s} median {statistics.median(times) * 1e3:7.2f} ms  "
            f"max {max(times) * 1e3:7.2f} ms  ({matched} matched)"
        )
    daemon_rounds(args.agents, args.rounds, rng)
    per = asyncio.run(state_writes(20_000))
    print(f"agent state change (transition + memory store + bus): {per * 1e6:.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
