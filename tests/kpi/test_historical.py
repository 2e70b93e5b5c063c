from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ctiserver.kpi.formulas import SlPolicy
from ctiserver.kpi.historical import agent_report, queue_report
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory
from ctiserver.store.models import QueueSegmentRow
from ctiserver.store.upsert import upsert

T0 = 1_795_305_600.0  # 2026-11-22 00:00 UTC


def row(
    i: int,
    queue: str,
    minute: float,
    outcome: str,
    wait: float,
    talk: float = 0.0,
    agent: str | None = None,
    hold: float = 0.0,
    wrap: float = 0.0,
    outbound: bool = False,
) -> dict[str, Any]:
    entered = T0 + minute * 60
    return {
        "call_id": f"c{i}",
        "seq": 0,
        "queue": queue,
        "caller_uniqueid": f"c{i}",
        "caller_num": "",
        "entered": entered,
        "left": entered + wait,
        "position": 1,
        "outcome": outcome,
        "answered": entered + wait if outcome == "answered" else None,
        "wait_seconds": wait,
        "agent": agent,
        "agent_uniqueid": None,
        "talk_seconds": talk if outcome == "answered" else None,
        "hold_seconds": hold,
        "wrapup_seconds": wrap,
        "complete_reason": None,
        "transfer_kind": None,
        "abandon_position": None,
        "outbound": outbound,
    }


ROWS = [
    # 00:00-00:30 support: 3 offered, 2 answered (waits 10, 40), 1 abandoned (3 s)
    row(1, "support", 1, "answered", 10, talk=100, agent="a1", hold=20, wrap=10),
    row(2, "support", 5, "answered", 40, talk=200, agent="a2"),
    row(3, "support", 29.9, "abandoned", 3),
    # 00:30-01:00 support: 1 answered in SL
    row(4, "support", 31, "answered", 5, talk=50, agent="a1"),
    # sales, 00:00-00:30
    row(5, "sales", 2, "timeout", 300),
    # sales, 00:00-00:30: a dialler's call a2 took (through the ACD): a2's handled call, not one of the queue's
    row(7, "sales", 3, "answered", 0.5, talk=120, agent="a2", wrap=6, outbound=True),
    # next day: outside the range
    row(6, "support", 24 * 60 + 1, "answered", 1, talk=10, agent="a1"),
]


async def test_report_by_interval_queue_and_agent(db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url)
    engine = make_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            await upsert(s, QueueSegmentRow, ROWS)
        async with session_factory(engine)() as s:
            rows = await queue_report(s, T0, T0 + 86_400, interval=1800, policy=SlPolicy(seconds=20))
            by = {(r.queue, r.bucket): r.kpis for r in rows}
            assert sorted(by) == [("sales", T0), ("support", T0), ("support", T0 + 1800)]
            k = by[("support", T0)]
            assert (k.offered, k.answered, k.abandoned, k.short_abandoned) == (3, 2, 1, 1)
            assert k.service_level == pytest.approx(1 / 3)
            assert k.asa == pytest.approx(25.0)
            assert k.aht == pytest.approx((100 + 20 + 10 + 200) / 2)
            assert by[("sales", T0)].timeouts == 1 and by[("sales", T0)].lost_rate == 1.0
            assert (by[("sales", T0)].offered, by[("sales", T0)].answered) == (1, 0)
            assert by[("support", T0 + 1800)].service_level == 1.0
            day = await queue_report(s, T0, T0 + 86_400, interval=86_400, queue="support")
            assert [(r.bucket, r.kpis.offered, r.kpis.answered) for r in day] == [(T0, 4, 3)]
            whole = await queue_report(s, T0, T0 + 2 * 86_400, interval=None, queue="support")
            assert [(r.bucket, r.kpis.offered) for r in whole] == [(None, 5)]
            agents = await agent_report(s, T0, T0 + 86_400)
            assert [(a["agent"], a["handled"], a["outbound"]) for a in agents] == [("a1", 2, 0), ("a2", 2, 1)]
            assert agents[0]["aht"] == pytest.approx((100 + 20 + 10 + 50) / 2)
            assert agents[1]["aht"] == pytest.approx((200 + 120 + 6) / 2)
    finally:
        await engine.dispose()
