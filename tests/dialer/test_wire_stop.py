"""Stopping a campaign, over the wire (the daemon's components against the simulator): the calls still ringing are
hung up on the PBX, and stored as not answered; a call answered already goes on to its agent. Before (up to
session 29) the runner only cancelled its own task: the callee's phone rang on, and whoever answered was held in
the daemon's ``Stasis`` in silence, counted nowhere."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import Contact, Outcome
from tests.dialer.waits import until
from tests.dialer.wire import Callee, number, one_live_answer, wire

pytestmark = pytest.mark.slow


async def test_stop_hangs_up_the_calls_ringing_and_lets_the_answered_go_on() -> None:
    callees, contact, settings = one_live_answer("stopped")
    callees[number(0)] = Callee(reachable=True, answers=True, machine=False, ring=1.0, talk=40.0)
    callees[number(1)] = Callee(reachable=True, answers=True, machine=False, ring=40.0, talk=30.0)
    later = Contact("c1", "stopped", number(1), "Europe/Berlin")
    settings = settings.model_copy(update={"ring_timeout": 60.0})
    async with wire(settings, [contact, later], callees, rendered=True) as w:
        await w.runner.start()
        assert await until(lambda: w.runner.counters["connected"] == 1 and len(w.runner.ringing) == 1, 20.0)
        [ringing] = list(w.runner.ringing)
        await w.runner.stop()
        assert await until(lambda: ringing not in w.runner._tasks, 10.0)  # 40 s of ringing simulated: 10 s here
        assert ringing not in w.sim.engine.channels and f"{ringing};2" not in w.sim.engine.channels
        assert not any(ch.tags.get("dialled") == number(1) for ch in w.sim.engine.channels.values())
        assert w.runner._tasks, "the answered call goes on"
        assert await until(lambda: not w.runner._tasks, 20.0)
        attempts = {a.contact_id: a for a in await w.store.attempts("stopped")}
    assert attempts["c1"].outcome is Outcome.NOANSWER, attempts["c1"]
    assert attempts["c0"].outcome is Outcome.HUMAN and attempts["c0"].talk_seconds is not None, attempts["c0"]
    assert (attempts["c0"].talk_seconds or 0) > 30.0, attempts["c0"]  # 40 s simulated: not cut by the stop
