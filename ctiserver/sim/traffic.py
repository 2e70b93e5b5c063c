"""A seeded traffic generator: Poisson arrivals, DID and IVR choices by weight, caller patience (abandonment)
and talk times from exponential distributions, agents answering after a random ring delay."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from ctiserver.sim.simulator import Simulator


class TrafficConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_per_s: float = Field(0.2, gt=0)  # mean arrivals per second (Poisson process)
    max_calls: int | None = None  # stop after this many arrivals (None: until stopped)
    dids: dict[str, float] = Field(default_factory=lambda: {"100": 1.0})  # dialled number -> weight
    ivr_choices: dict[str, float] = Field(default_factory=lambda: {"1": 0.5, "2": 0.5})  # digit -> weight
    ivr_delay: float = 3.0  # seconds after the call starts when the IVR choice is pressed
    patience_mean: float = 60.0  # mean seconds a caller waits for an agent before hanging up
    talk_mean: float = 30.0  # mean seconds of conversation once connected to an agent
    talk_min: float = 2.0
    max_call_seconds: float = 600.0  # hard cap for a simulated caller
    agents: tuple[str, ...] = tuple(str(n) for n in range(1001, 1011))
    ring_delay: tuple[float, float] = (0.5, 1.5)  # agents answer after uniform(min, max) seconds
    number_prefix: str = "+7916"


@dataclass
class TrafficStats:
    placed: int = 0
    connected: int = 0
    abandoned: int = 0
    completed: int = 0
    active: int = 0
    peak_active: int = 0


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class TrafficGenerator:
    def __init__(self, sim: Simulator, config: TrafficConfig | None = None, seed: int = 1) -> None:
        self.sim = sim
        self.config = config or TrafficConfig()
        self.rng = random.Random(seed)  # call parameters, drawn in arrival order (deterministic)
        self.ring_rng = random.Random(seed + 1)  # ring delays (drawn when agents are rung)
        self._idle = asyncio.Event()
        self.stats = TrafficStats()
        self._task: asyncio.Task[None] | None = None
        self._callers: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        cfg = self.config
        lo, hi = cfg.ring_delay
        for name in cfg.agents:
            handle = self.sim.agent(name, answer_after=lo)
            handle.endpoint.answer_sampler = lambda lo=lo, hi=hi: self.ring_rng.uniform(lo, hi)
        self._task = asyncio.get_running_loop().create_task(self._arrivals(), name="sim:traffic")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._callers) if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> TrafficGenerator:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_placed(self) -> None:
        if self._task is not None:
            await asyncio.wait({self._task})

    async def wait_done(self) -> None:
        """Every call placed (``max_calls``) and finished."""
        await self.wait_placed()
        while self.stats.active:
            self._idle.clear()
            await self._idle.wait()

    async def _arrivals(self) -> None:
        cfg = self.config
        clock = self.sim.clock
        next_at = clock.monotonic()
        while cfg.max_calls is None or self.stats.placed < cfg.max_calls:
            next_at += self.rng.expovariate(
                cfg.rate_per_s
            )  # absolute schedule: no drift from sleep overshoot
            await clock.sleep(next_at - clock.monotonic())
            self.stats.placed += 1
            plan = self._plan(self.stats.placed)
            task = asyncio.get_running_loop().create_task(self._one_call(*plan), name="sim:traffic-call")
            self._callers.add(task)
            task.add_done_callback(self._callers.discard)

    def _plan(self, n: int) -> tuple[str, str | None, str, str, float, float]:
        cfg, rng = self.config, self.rng
        did = _weighted(rng, cfg.dids)
        digit = _weighted(rng, cfg.ivr_choices) if cfg.ivr_choices else None
        number = cfg.number_prefix + "".join(str(rng.randrange(10)) for _ in range(7))
        patience = rng.expovariate(1.0 / cfg.patience_mean)
        talk = max(cfg.talk_min, rng.expovariate(1.0 / cfg.talk_mean))
        return did, digit, number, f"Caller {n}", patience, talk

    async def _one_call(
        self, did: str, digit: str | None, number: str, name: str, patience: float, talk: float
    ) -> None:
        cfg, stats = self.config, self.stats
        handle = self.sim.place_call(
            from_number=number,
            from_name=name,
            to=did,
            dtmf=[(cfg.ivr_delay, digit)] if digit else None,
            hangup_after=cfg.max_call_seconds,
        )
        stats.active += 1
        stats.peak_active = max(stats.peak_active, stats.active)
        try:
            await handle.placed.wait()
            ch = handle.channel
            if ch is None:
                return
            connected = ch.tags.setdefault("connected", asyncio.Event())
            outcome = await _first(connected.wait(), self.sim.clock.sleep(patience), ch.done.wait())
            if ch.done.is_set():
                return
            if outcome == 0:
                stats.connected += 1
                await _first(self.sim.clock.sleep(talk), ch.done.wait())
                if not ch.done.is_set():
                    handle.hangup()
                stats.completed += 1
            else:
                stats.abandoned += 1
                handle.hangup()
            await handle.done.wait()
        finally:
            stats.active -= 1
            if not stats.active:
                self._idle.set()


async def _first(*coros: object) -> int:
    tasks = [asyncio.ensure_future(c) for c in coros]  # type: ignore[call-overload]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return min(tasks.index(t) for t in done)
    finally:
        for t in tasks:
            t.cancel()
