from __future__ import annotations

import pytest

from ctiserver.calls.tracker import Tracker
from ctiserver.clock import ManualClock
from ctiserver.events.envelope import new_event
from ctiserver.kpi.formulas import SegmentFact, SlPolicy
from ctiserver.kpi.live import LiveKpis
from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent
from tests.conftest import TRACES

DAY = 86_400.0


def fact(
    outcome: str, wait: float, ended: float, talk: float = 60.0, agent: str | None = "a1"
) -> SegmentFact:
    return SegmentFact(
        "support",
        ended - wait - talk,
        outcome,
        wait,
        talk if outcome == "answered" else 0.0,
        agent=agent if outcome == "answered" else None,
        ended=ended,
    )


async def test_sliding_windows_expire_facts() -> None:
    start = 10 * DAY + 8 * 3600  # 08:00 UTC
    clock = ManualClock(start=start)
    live = LiveKpis(clock, policy_for=lambda q: SlPolicy(seconds=20))
    live.add_segment(fact("answered", 10, start), start)
    await clock.advance(600)  # 08:10
    live.add_segment(fact("abandoned", 30, clock.now()), clock.now())
    await clock.advance(600)  # 08:20: the first fact is now out of the 15 min window
    k15 = live.queue("support", "15m")
    assert (k15.offered, k15.answered, k15.abandoned) == (1, 0, 1)
    assert k15.max_wait == 30
    k60 = live.queue("support", "60m")
    assert (k60.offered, k60.answered) == (2, 1) and k60.service_level == pytest.approx(0.5)
    await clock.advance(3600)  # 09:20: both out of 60 min, still today
    assert live.queue("support", "60m").offered == 0
    assert live.queue("support", "today").offered == 2
    await clock.advance(DAY)  # next day
    assert live.queue("support", "today").offered == 0
    assert live.agent("a1", "today")["handled"] == 0


async def test_waiting_now_and_longest_wait() -> None:
    clock = ManualClock(start=1000.0)
    live = LiveKpis(clock)
    live.on_event(new_event("queue.entered", "c1", {"queue": "support"}, 1000.0))
    await clock.advance(5)
    live.on_event(new_event("queue.entered", "c2", {"queue": "support"}, 1005.0))
    await clock.advance(10)
    assert live.waiting("support") == {"queue": "support", "waiting": 2, "longest_wait": 15.0}
    live.on_event(new_event("queue.left", "c1", {"queue": "support"}, 1015.0))
    assert live.waiting("support")["waiting"] == 1
    assert live.waiting("support")["longest_wait"] == 10.0


def test_live_kpis_from_the_tracker_events_of_the_load_capture() -> None:
    clock = ManualClock(start=1795370230.0)
    tracker = Tracker(clock)
    live = LiveKpis(clock)
    for msg in AmiDecoder().feed((TRACES / "13-load-queue" / "ami.raw").read_bytes()):
        if isinstance(msg, AmiEvent):
            for ev in tracker.feed(msg):
                live.on_event(ev)
                if ev.type == "queue.entered":
                    assert live.waiting("load")["waiting"] >= 1
    clock._now = 1795370239.0 + 600
    k = live.queue("load", "15m")
    assert (k.offered, k.answered, k.abandoned) == (240, 240, 0)
    assert live.waiting("load")["waiting"] == 0
    agents = live.snapshot()["agents"]
    assert len(agents) == 24
    assert sum(a["today"]["handled"] for a in agents.values()) == 240


async def test_agent_occupancy_from_agent_states() -> None:
    start = 10 * DAY + 9 * 3600
    clock = ManualClock(start=start)
    live = LiveKpis(clock)

    def state(s: str) -> None:
        live.on_event(new_event("agent.state", "alice", {"agent": "alice", "state": s}, clock.now()))

    state("ready")
    await clock.advance(300)  # 5 min ready idle
    state("ringing")
    await clock.advance(10)  # ringing counts as available
    state("on_call")
    await clock.advance(480)  # 8 min talk
    state("wrap_up")
    await clock.advance(60)  # 1 min wrap-up
    state("not_ready")
    await clock.advance(600)  # 10 min break: neither busy nor idle
    a = live.agent("alice", "60m")
    assert a["busy_seconds"] == pytest.approx(540)
    assert a["ready_idle_seconds"] == pytest.approx(310)
    assert a["occupancy"] == pytest.approx(540 / 850)
    a15 = live.agent("alice", "15m")  # window [now-900, now]: 240 s of talk + 60 s wrap, then the break
    assert a15["busy_seconds"] == pytest.approx(300) and a15["ready_idle_seconds"] == 0
    assert a15["occupancy"] == pytest.approx(1.0)


async def test_answer_counts_at_answer_time_and_handle_time_at_the_end() -> None:
    clock = ManualClock(start=10 * DAY + 8 * 3600)
    live = LiveKpis(clock, policy_for=lambda q: SlPolicy(seconds=20))
    t0 = clock.now()
    live.on_event(new_event("queue.entered", "c1", {"queue": "vip"}, t0))
    await clock.advance(12)
    # the ACD's shape: outcome + waited + agent
    live.on_event(
        new_event(
            "queue.left",
            "c1",
            {"queue": "vip", "outcome": "answered", "waited": 12.0, "agent": "alice"},
            clock.now(),
        )
    )
    k = live.queue("vip", "15m")
    assert (k.offered, k.answered, k.service_level, k.asa, k.aht) == (1, 1, 1.0, 12.0, None)
    assert live.agent("alice", "15m")["answered"] == 1 and live.agent("alice", "15m")["handled"] == 0
    await clock.advance(100)
    snapshot = {
        "call_id": "c1",
        "wrapup_seconds": 15.0,
        "legs": [],
        "queues": [
            {
                "queue": "vip",
                "entered": t0,
                "left": t0 + 12,
                "answered": t0 + 12,
                "outcome": "answered",
                "wait_seconds": 12.0,
                "talk_seconds": 100.0,
                "agent": "alice",
            }
        ],
    }
    live.on_event(new_event("call.ended", "c1", snapshot, clock.now()))
    k = live.queue("vip", "15m")
    assert (k.offered, k.answered) == (1, 1)  # not counted twice
    assert k.aht == pytest.approx(115.0)
    assert live.agent("alice", "15m")["handled"] == 1
    # an abandoned call counts when it leaves the queue, with the wait measured from queue.entered
    live.on_event(new_event("queue.entered", "c2", {"queue": "vip"}, clock.now()))
    await clock.advance(30)
    live.on_event(new_event("queue.left", "c2", {"queue": "vip", "outcome": "abandoned"}, clock.now()))
    k = live.queue("vip", "15m")
    assert (k.offered, k.abandoned, k.avg_abandon_wait) == (2, 1, 30.0)


async def test_configured_queues_are_in_the_snapshot_with_zeros() -> None:
    clock = ManualClock(start=1000.0)
    live = LiveKpis(clock, queues=("sales", "support"))
    snap = live.snapshot()["queues"]
    assert sorted(snap) == ["sales", "support"]
    assert snap["sales"]["waiting"] == 0 and snap["sales"]["windows"]["today"]["offered"] == 0
    live.on_event(new_event("queue.entered", "c1", {"queue": "other"}, 1000.0))
    assert sorted(live.snapshot()["queues"]) == ["other", "sales", "support"]
