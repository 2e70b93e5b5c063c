"""Each KPI formula on small hand-computed data."""

from __future__ import annotations

from typing import Any

import pytest

from ctiserver.kpi.fcr import fcr_disposition, fcr_repeat
from ctiserver.kpi.formulas import (
    SegmentFact,
    SlPolicy,
    blocked_rate,
    calls_per_agent_per_day,
    occupancy,
    queue_kpis,
    self_service_rate,
)


def seg(outcome: str, wait: float, talk: float = 0.0, hold: float = 0.0, wrap: float = 0.0) -> SegmentFact:
    return SegmentFact(
        "support", 0.0, outcome, wait, talk, hold, wrap, agent="a1" if outcome == "answered" else None
    )


# 10 offered: 6 answered (waits 5, 10, 15, 25, 30, 60), 3 abandoned (waits 2, 4, 40), 1 timeout (wait 300)
FACTS = [
    seg("answered", 5, talk=100, hold=10, wrap=20),
    seg("answered", 10, talk=200),
    seg("answered", 15, talk=150, wrap=30),
    seg("answered", 25, talk=120),
    seg("answered", 30, talk=90, hold=30),
    seg("answered", 60, talk=60),
    seg("abandoned", 2),
    seg("abandoned", 4),
    seg("abandoned", 40),
    seg("timeout", 300),
]


def test_queue_kpis_by_hand() -> None:
    k = queue_kpis(FACTS, SlPolicy(seconds=20, short_abandon_seconds=5))
    assert (k.offered, k.answered, k.abandoned, k.short_abandoned, k.timeouts) == (10, 6, 3, 2, 1)
    assert k.service_level == pytest.approx(3 / 10)  # waits 5, 10, 15 within 20 s
    assert k.lost_rate == pytest.approx(1 - 6 / 10)
    assert k.abandon_rate == pytest.approx(3 / 10)
    assert k.asa == pytest.approx((5 + 10 + 15 + 25 + 30 + 60) / 6)
    assert k.avg_abandon_wait == pytest.approx((2 + 4 + 40) / 3)
    assert k.aht == pytest.approx((720 + 40 + 50) / 6)  # (talk + hold + wrap) / handled
    assert k.max_wait == 300


def test_short_abandons_can_be_left_out_of_the_sl() -> None:
    k = queue_kpis(FACTS, SlPolicy(seconds=20, short_abandon_seconds=5, exclude_short_abandons=True))
    assert k.service_level == pytest.approx(3 / (10 - 2))
    k30 = queue_kpis(FACTS, SlPolicy(seconds=30))
    assert k30.service_level == pytest.approx(5 / 10)


def test_empty_is_none_not_zero_division() -> None:
    k = queue_kpis([])
    assert k.offered == 0 and k.service_level is None and k.asa is None and k.aht is None


def test_fcr_repeat_within_window() -> None:
    day = 86_400.0
    contacts = [
        ("+12125550100", 0.0),  # repeats at 3600 → not resolved
        ("(212) 555-0100", 3600.0),  # same number, other format; no repeat within 24 h after → resolved
        ("+12125550199", 100.0),  # repeats after 2 days → resolved
        ("+12125550199", 2 * day + 100),
        ("anonymous", 50.0),  # unknown number: not judged
    ]
    r = fcr_repeat(contacts, window=day, start=0.0, end=day, now=10 * day)
    assert (r.contacts, r.resolved) == (3, 2)
    assert r.rate == pytest.approx(2 / 3)
    # a contact whose window is not over yet is not judged
    r2 = fcr_repeat(contacts, window=day, start=0.0, end=day, now=3600.0 + 10)
    assert (r2.contacts, r2.resolved) == (1, 0)  # only the contact at 0: its repeat is already seen


def test_fcr_by_disposition() -> None:
    r = fcr_disposition(["resolved", "callback", None, "Resolved", "escalated"])
    assert (r.contacts, r.resolved) == (4, 2)


def test_occupancy_self_service_blocked_calls_per_agent() -> None:
    assert occupancy(busy_seconds=2700, ready_idle_seconds=900) == pytest.approx(0.75)
    assert occupancy(0, 0) is None
    calls: list[dict[str, Any]] = [
        {"ivr_path": [{"node": "menu"}], "self_service": "balance", "queues": [], "direction": "in"},
        {"ivr_path": [{"node": "menu"}], "self_service": None, "queues": [{"q": 1}], "direction": "in"},
        {"ivr_path": [], "direction": "in", "blocked": True},
        {"ivr_path": [{"node": "menu"}], "self_service": "hours", "queues": [], "direction": "in"},
        {"direction": "out"},
    ]
    assert self_service_rate(calls) == pytest.approx(2 / 3)
    assert blocked_rate(calls) == pytest.approx(1 / 4)
    assert calls_per_agent_per_day({("a1", "d1"): 30, ("a2", "d1"): 20, ("a1", "d2"): 40}) == pytest.approx(
        30
    )
