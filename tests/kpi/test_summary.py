from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ctiserver.kpi.summary import call_summary
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory
from ctiserver.store.repository import CallRepository

T0 = 1_795_305_600.0
H = 3600.0


def call(
    cid: str,
    at: float,
    num: str,
    *,
    direction: str = "in",
    ivr: bool = False,
    self_service: str | None = None,
    queued_by: str | None = None,
    disposition: str | None = None,
    refused: int | None = None,
) -> dict[str, Any]:
    legs = [
        {
            "uniqueid": cid,
            "linkedid": cid,
            "channel": f"PJSIP/x-{cid}",
            "role": "caller",
            "direction": direction,
            "created": at,
            "answered": None if refused else at,
            "ended": at + 60,
            "hangup_cause": refused or 16,
            "hold": [],
        }
    ]
    queues = []
    if queued_by:
        queues = [
            {
                "queue": "support",
                "caller_uniqueid": cid,
                "entered": at + 5,
                "left": at + 10,
                "outcome": "answered",
                "answered": at + 10,
                "wait_seconds": 5.0,
                "agent": queued_by,
                "talk_seconds": 40.0,
            }
        ]
    return {
        "call_id": cid,
        "state": "ended",
        "started": at,
        "answered": None if refused else at,
        "ended": at + 60,
        "direction": direction,
        "caller_num": num,
        "legs": legs,
        "queues": queues,
        "ivr_path": [{"node": "menu"}] if ivr else [],
        "self_service": self_service,
        "disposition": disposition,
    }


CALLS = [
    call("c1", T0 + 1 * H, "+12125550100", ivr=True, self_service="balance"),  # self-served
    call("c2", T0 + 2 * H, "+12125550100", ivr=True, queued_by="a1", disposition="resolved"),  # repeat of c1
    call("c3", T0 + 3 * H, "+12125550111", ivr=True, queued_by="a2", disposition="escalated"),
    call("c4", T0 + 4 * H, "+12125550122", refused=17),  # busy at entry
    call("c5", T0 + 5 * H, "+12125550133", queued_by="a1"),
    call("c6", T0 + 5 * H, "+12125550199", direction="out"),
    call("c7", T0 + 26 * H, "+12125550111"),  # next day, within 24 h of c3: c3 was not resolved
]


async def test_call_summary_by_hand(db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url)
    engine = make_engine(db_url)
    try:
        await CallRepository(session_factory(engine)).apply([{"kind": "call", "data": c} for c in CALLS])
        async with session_factory(engine)() as s:
            out = await call_summary(s, T0, T0 + 24 * H, now=T0 + 72 * H)
    finally:
        await engine.dispose()
    assert (out["calls"], out["inbound"]) == (6, 5)
    assert out["blocked_rate"] == pytest.approx(1 / 5)
    assert out["self_service_rate"] == pytest.approx(1 / 3)  # c1 of the 3 IVR calls (c2, c3 reached a queue)
    # judged: c1 (repeated by c2) ✗, c2 ✓, c3 (repeated by c7) ✗, c4 ✓, c5 ✓
    assert (out["fcr_repeat_contacts"], out["fcr_repeat"]) == (5, pytest.approx(3 / 5))
    assert (out["fcr_disposition_calls"], out["fcr_disposition"]) == (2, pytest.approx(1 / 2))
    assert out["calls_per_agent_per_day"] == pytest.approx(3 / 2)  # a1: 2, a2: 1
