"""``WaitingCalls``: calls by queue and the cached per-queue position, against ``service_order``."""

from __future__ import annotations

import asyncio

from ctiserver.acd.config import Strategy
from ctiserver.acd.entries import Entry, QueueRequest
from ctiserver.acd.routing import Waiting, service_order
from ctiserver.acd.waiting import WaitingCalls


def entry(call_id: str, queue: str, priority: int, entered: float, seq: int) -> Entry:
    w = Waiting(call_id, queue, {}, Strategy.LONGEST_IDLE, priority, entered, seq, queue_entered=entered)
    done = asyncio.get_running_loop().create_future()
    return Entry(QueueRequest(call_id, f"ch-{call_id}", queue), w, {}, None, done)


def positions(calls: WaitingCalls, queue: str, now: float) -> dict[str, int]:
    return {w.call_id: calls.position(w.call_id, now, 1.0) for w in calls.in_queue(queue)}


def expected(calls: WaitingCalls, queue: str, now: float) -> dict[str, int]:
    order = service_order(calls.in_queue(queue), now, 1.0)
    return {w.call_id: i for i, w in enumerate(order, start=1)}


async def test_positions_follow_joins_leaves_and_moves() -> None:
    calls = WaitingCalls()
    calls.add(entry("a", "sales", 0, 0.0, 1))
    calls.add(entry("b", "sales", 0, 1.0, 2))
    calls.add(entry("x", "tech", 0, 0.0, 3))
    assert positions(calls, "sales", 2.0) == {"a": 1, "b": 2}
    assert calls.position("x", 2.0, 1.0) == 1
    calls.add(entry("vip", "sales", 5, 2.0, 4))  # joins: the cached order is stale at once
    assert positions(calls, "sales", 2.0) == expected(calls, "sales", 2.0) == {"vip": 1, "a": 2, "b": 3}
    calls.pop("vip")
    assert calls.position("vip", 2.0, 1.0) == 0
    assert positions(calls, "sales", 2.0) == {"a": 1, "b": 2}
    moved = calls.get("a")
    assert moved is not None
    moved.waiting.queue = "tech"  # overflow changes the queue in place, then says so
    calls.moved(moved)
    assert [w.call_id for w in calls.in_queue("sales")] == ["b"]
    assert positions(calls, "sales", 2.0) == {"b": 1}
    assert positions(calls, "tech", 2.0) == expected(calls, "tech", 2.0)
    assert len(calls) == 3 and "a" in calls


async def test_the_position_counted_for_a_joining_caller_is_its_place_in_the_sorted_order() -> None:
    import random

    rnd = random.Random(7)
    for _ in range(30):
        calls = WaitingCalls()
        seq = 0
        for i in range(rnd.randint(1, 40)):
            seq += 1
            calls.add(entry(f"c{i}", "q", rnd.choice((0, 0, 1, 5)), rnd.uniform(0.0, 100.0), seq))
            now = 100.0 + i
            # the first question after each join is counted (no sort); it must agree with the full order
            assert calls.position(f"c{i}", now, 1.0) == expected(calls, "q", now)[f"c{i}"]
        now = 200.0
        assert positions(calls, "q", now) == expected(calls, "q", now)
