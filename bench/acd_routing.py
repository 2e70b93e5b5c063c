"""ACD routing cost: one routing round (``ctiserver.acd.routing.assign``) with W waiting calls and A agents of
whom F are free, for each strategy; and the agent-state write path (transition + persist + publish).

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
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.agents import AgentRegistry
from ctiserver.acd.config import AgentConfig, RelaxRule, Strategy
from ctiserver.acd.persist import MemoryAgentStore
from ctiserver.acd.routing import Waiting, assign
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
    per = asyncio.run(state_writes(20_000))
    print(f"agent state change (transition + memory store + bus): {per * 1e6:.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
