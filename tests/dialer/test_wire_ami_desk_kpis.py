"""A campaign on the AMI desk (no ACD) counts for its agents as through the ACD (docs/kpi.md, "Dialler calls"),
over the wire: the daemon's AMI link, ARI application, dialer, call tracker and live KPIs against the simulator,
the rendered dialplan (``Local/<number>@ctiserver-dialer/n``, the simulator's ``AMD()``, the agents' extension).
The connected call is an outbound queue stay of the campaign's queue, answered by the agent whose phone took it,
with its talk and the desk's wrap-up: the agent's handled calls, AHT and ``outbound`` count it; the queue's
offered calls do not. Before (up to session 32) such a call had no stay: the agent showed 0 calls handled."""

from __future__ import annotations

import pytest

from ctiserver.calls.service import CallService
from ctiserver.events import DomainEvent
from ctiserver.kpi.live import LiveKpis
from tests.dialer.waits import until
from tests.dialer.wire import one_live_answer, wire

pytestmark = pytest.mark.slow


async def test_a_connected_call_on_the_ami_desk_counts_for_its_agent_not_for_the_queue() -> None:
    callees, contact, settings = one_live_answer("spring")
    settings = settings.model_copy(update={"queue": "sales"})
    async with wire(settings, [contact], callees, wrapup=3.0, factor=2.0, rendered=True, tracked=True) as w:
        events: list[DomainEvent] = []
        w.bus.listeners.append(events.append)
        await w.runner.start()
        assert await until(lambda: w.runner.counters["dialled"] == 1 and not w.runner._tasks, 30.0)
        [attempt] = await w.store.attempts("spring")
        assert attempt.agent is not None and attempt.connected is not None
        live, calls = w.ctx.require(LiveKpis), w.ctx.require(CallService)
        assert await until(lambda: live.agent(str(attempt.agent))["wrap"] > 0, 10.0), live.agent(str(attempt.agent))
        figures = live.agent(str(attempt.agent))
        call = calls.tracker.call_of(attempt.id)
        queue = live.queue("sales", "today")
    stays = [
        (e.type, e.data["queue"], e.data.get("outcome"), e.data.get("agent"))
        for e in events
        if e.type.startswith("queue.")
    ]
    assert stays == [("queue.entered", "sales", None, None), ("queue.left", "sales", "answered", attempt.agent)]
    assert all(e.data["outbound"] for e in events if e.type.startswith("queue."))
    assert call is not None
    [stay] = call.snapshot()["queues"]
    assert (stay["queue"], stay["outcome"], stay["agent"], stay["outbound"]) == (
        "sales",
        "answered",
        attempt.agent,
        True,
    )
    assert stay["answered"] == pytest.approx(attempt.connected, abs=0.01)  # when the agent's phone answered
    assert stay["talk_seconds"] > 4.0  # the callee talks 8 s after the greeting
    assert (figures["handled"], figures["outbound"], figures["wrap"]) == (1, 1, pytest.approx(3.0))
    assert figures["aht"] == pytest.approx(stay["talk_seconds"] + 3.0, abs=0.01)
    assert (queue.offered, queue.answered) == (0, 0)  # not the queue's: no inbound caller waited there
