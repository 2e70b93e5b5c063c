"""The ACD e2e rigs' clock and wait helper (the scaled clock and ``until`` shared by all tests)."""

from __future__ import annotations

from functools import partial

from tests.sim.scaled_clock import ScaledClock
from tests.waiting import until


class FastClock(ScaledClock):
    """A wall clock running ``factor`` times faster, shared by the simulator and the engine in e2e tests."""

    def __init__(self, factor: float = 5.0) -> None:
        super().__init__(factor, start=1_800_000_000.0)


# generous timeouts (real seconds): the machine may be loaded
wait_for = partial(until, within=30.0, poll=0.02)
