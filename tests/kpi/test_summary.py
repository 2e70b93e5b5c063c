from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ctiserver.kpi.summary import call_summary, queue_summary
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


def seg(queue: str, at: float, agent: str | None, outcome: str = "answered") -> dict[str, Any]:
    return {
        "queue": queue,
        "caller_uniqueid": "u",
        "entered": at,
        "left": at + 5,
        "outcome": outcome,
        "answered": at + 5 if outcome == "answered" else None,
        "wait_seconds": 5.0,
        "agent": agent,
        "talk_seconds": 40.0 if outcome == "answered" else None,
    }


def queued(
    cid: str, at: float, num: str, segs: list[dict[str, Any]], disposition: str | None = None, direction: str = "in"
) -> Any:
    c = call(cid, at, num, disposition=disposition, direction=direction)
    c["queues"] = [{**s, "caller_uniqueid": cid} for s in segs]
    return c


QUEUED = [
    queued("q1", T0 + 1 * H, "+12125550100", [seg("support", T0 + 1 * H, "a1")], "resolved"),
    queued(  # transferred from support to sales: a contact of both queues
        "q2",
        T0 + 2 * H,
        "+12125550111",
        [seg("support", T0 + 2 * H, None, "transferred"), seg("sales", T0 + 2 * H + 60, "a2")],
        "escalated",
    ),
    queued("q3", T0 + 3 * H, "+12125550100", [seg("sales", T0 + 3 * H, "a2")], "resolved"),  # repeats q1
    queued("q4", T0 + 4 * H, "+12125550122", [seg("support", T0 + 4 * H, "a1")]),
    queued("q5", T0 + 5 * H, "+12125550133", [seg("support", T0 + 5 * H, None, "abandoned")]),
    queued("q7", T0 + 6 * H, "anonymous", [seg("support", T0 + 6 * H, "a3")]),  # no number: never judged
    call("q6", T0 + 27 * H, "+12125550122"),  # next day, 23 h after q4: q4 was not resolved
    # a dialler's call a3 took through the ACD (an outbound stay): a3's call, not one of the sales queue's
    queued("d1", T0 + 7 * H, "+12125550144", [seg("sales", T0 + 7 * H, "a3") | {"outbound": True}], direction="out"),
]


async def test_queue_summary_by_hand(db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, db_url)
    engine = make_engine(db_url)
    try:
        await CallRepository(session_factory(engine)).apply([{"kind": "call", "data": c} for c in QUEUED])
        async with session_factory(engine)() as s:
            rows = await queue_summary(s, T0, T0 + 24 * H, now=T0 + 72 * H)
            overall = await call_summary(s, T0, T0 + 24 * H, now=T0 + 72 * H)
            only_sales = await queue_summary(s, T0, T0 + 24 * H, queue="sales", now=T0 + 72 * H)
            too_early = await queue_summary(s, T0, T0 + 24 * H, now=T0 + 6 * H + 60)
    finally:
        await engine.dispose()
    by = {r["queue"]: r for r in rows}
    assert sorted(by) == ["sales", "support"]
    sup, sales = by["support"], by["sales"]
    # support: q1 (repeated by q3) ✗, q2 ✓, q4 (repeated by q6) ✗, q5 ✓; q7 has no number
    assert (sup["calls"], sup["fcr_repeat_contacts"], sup["fcr_repeat"]) == (5, 4, pytest.approx(1 / 2))
    assert (sup["fcr_disposition_calls"], sup["fcr_disposition"]) == (2, pytest.approx(1 / 2))
    assert (sup["handled"], sup["agents"], sup["calls_per_agent_per_day"]) == (3, 2, pytest.approx(3 / 2))
    # sales: q2 ✓, q3 ✓ (q1 came before it, not after)
    assert (sales["calls"], sales["fcr_repeat_contacts"], sales["fcr_repeat"]) == (2, 2, pytest.approx(1.0))
    assert (sales["fcr_disposition_calls"], sales["fcr_disposition"]) == (2, pytest.approx(1 / 2))
    assert (sales["handled"], sales["agents"], sales["calls_per_agent_per_day"]) == (2, 1, pytest.approx(2.0))
    assert only_sales == [sales]
    # overall: q1 ✗ q2 ✓ q3 ✓ q4 ✗ q5 ✓
    assert (overall["fcr_repeat_contacts"], overall["fcr_repeat"]) == (5, pytest.approx(3 / 5))
    assert overall["calls_per_agent_per_day"] == pytest.approx(6 / 3)  # a1: 2, a2: 2, a3: 2 (1 a dialler's)
    # 6 h in, only q1 (repeated at 3 h) is judged; the others' 24 h windows are still open
    early = {r["queue"]: r for r in too_early}
    assert (early["support"]["fcr_repeat_contacts"], early["support"]["fcr_repeat"]) == (1, 0.0)
    assert early["sales"]["fcr_repeat_contacts"] == 0 and early["sales"]["fcr_repeat"] is None


# Berlin callers written in every form a trunk sends: national, international with 00, E.164 (region DE)
BERLIN = [
    call("b1", T0 + 1 * H, "030 1234567"),
    call("b2", T0 + 2 * H, "+49301234567"),  # repeats b1
    call("b3", T0 + 3 * H, "0049 30 7654321"),
    call("b4", T0 + 3 * H, "+49307654321"),  # at the same second as b3: neither repeats the other
    call("b5", T0 + 4 * H, "anonymous"),
    call("b6", T0 + 5 * H, "0301112223"),
    call("b7", T0 + 30 * H, "+49301112223"),  # 25 h later: b6 was resolved
    call("b8", T0 + 6 * H, "+49309998887", direction="out"),
    call("b9", T0 + 7 * H, "+49309998887"),  # an outbound call to the number before does not count
    call("b10", T0 + 20 * H, "+49305550000"),
    call("b11", T0 + 40 * H, "030 5550000"),  # 20 h later: b10 was not resolved
]


async def test_fcr_from_stored_caller_keys_matches_numbers_read_at_report_time(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls are written with their number normalised (``calls.caller_key``, in the daemon's region) and the
    database finds each call's next contact; rows from before that column are read as before. Both give the
    same judgements, on both databases — and the stored keys are not parsed again."""
    from sqlalchemy import update

    from ctiserver.kpi import summary
    from ctiserver.store.models import CallRow

    await asyncio.to_thread(migrate.upgrade, db_url)
    engine = make_engine(db_url)
    try:
        await CallRepository(session_factory(engine), region="DE").apply([{"kind": "call", "data": c} for c in BERLIN])
        with monkeypatch.context() as m:
            m.setattr(summary, "normalise_number", None)  # the stored keys need no parsing
            async with session_factory(engine)() as s:
                keyed = await summary.judge_contacts(s, T0, T0 + 24 * H, now=T0 + 72 * H, region="US")
                early = await summary.judge_contacts(s, T0, T0 + 24 * H, now=T0 + 30 * H, region="US")
                keys = dict((await s.execute(select_keys())).all())
        async with session_factory(engine)() as s, s.begin():  # as written before core_0003
            await s.execute(update(CallRow).values(caller_key=None))
        async with session_factory(engine)() as s:
            legacy = await summary.judge_contacts(s, T0, T0 + 24 * H, now=T0 + 72 * H, region="DE")
    finally:
        await engine.dispose()
    assert keys["b1"] == keys["b2"] == "+49301234567" and keys["b5"] == ""
    assert keyed == {"b1": False, "b2": True, "b3": True, "b4": True, "b6": True, "b9": True, "b10": False}
    assert legacy == keyed
    # at 30 h, the windows of b9 (to 31 h) and b10 (to 44 h) are still open: not judged yet
    assert early == {"b1": False, "b2": True, "b3": True, "b4": True, "b6": True}


def select_keys() -> Any:
    from sqlalchemy import select

    from ctiserver.store.models import CallRow

    return select(CallRow.call_id, CallRow.caller_key)
