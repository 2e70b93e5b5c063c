"""Personal data in the call history (``store/privacy.py``), on SQLite and PostgreSQL: the calls of real Asterisk
22 traces, tracked and stored as the calls component stores them, lose their numbers, names, caller key,
attached data, IVR inputs and the digits of their channel names once older than the cut; the reports over their
period give the same figures; newer calls are untouched; each call is rewritten once."""

from __future__ import annotations

import json

from sqlalchemy import select

from ctiserver.calls.tracker import Tracker
from ctiserver.clock import ManualClock
from ctiserver.kpi.historical import agent_report, queue_report
from ctiserver.pbx.ami.codec import AmiDecoder
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.store.models import CallRow, LegRow, QueueSegmentRow
from ctiserver.store.privacy import anonymise_before, scrub
from ctiserver.store.repository import CallRepository
from tests.conftest import TRACES
from tests.store.migrated import migrated


def _calls(scenario: str) -> list[dict[str, object]]:
    tracker = Tracker(ManualClock(start=0.0))
    for msg in AmiDecoder().feed((TRACES / scenario / "ami.raw").read_bytes()):
        if isinstance(msg, AmiEvent):
            tracker.feed(msg)
    return [c.snapshot() for c in tracker.all_calls()]


def _shifted(call: dict[str, object], by: float, suffix: str) -> dict[str, object]:
    """The same call ``by`` seconds later under other ids (a newer call of the same caller)."""
    text = json.dumps(call)
    for key in ("call_id", "linkedid"):
        value = str(call.get(key) or "")
        if value:
            text = text.replace(value, value + suffix)
    moved = json.loads(text)
    moved["started"] = float(str(moved["started"])) + by
    return dict(moved)


async def test_old_calls_lose_their_personal_data_and_keep_their_figures(db_url: str) -> None:
    calls = _calls("13-load-queue") + _calls("01-stasis-answer-play-dtmf")
    newest = max(float(str(c["started"])) for c in calls)
    newer = _shifted(calls[0], 10 * 86_400.0, "-new")
    card = {"node": "account", "result": "4111111111111111"}
    steps = [{"node": "menu", "kind": "menu", "result": "1", "at": 1.0}, card]
    calls[-1] = {**calls[-1], "ivr_path": steps}  # what our IVR files on a call: the caller keyed in a card number
    async with migrated(db_url) as sessions:
        await CallRepository(sessions).apply([{"kind": "call", "data": c} for c in [*calls, newer]])
        async with sessions() as s:
            start, end = 0.0, newest + 86_400.0
            before = ([r.as_dict() for r in await queue_report(s, start, end)], await agent_report(s, start, end))
            numbers = {r for r in (await s.scalars(select(CallRow.caller_num))).all() if r}
        assert numbers  # the traces' callers have numbers
        assert await anonymise_before(sessions, newest + 1.0, batch=7) == len(calls)
        assert await anonymise_before(sessions, newest + 1.0) == 0  # once
        async with sessions() as s:
            rows = {r.call_id: r for r in (await s.scalars(select(CallRow))).all()}
            legs = (await s.scalars(select(LegRow))).all()
            stays = (await s.scalars(select(QueueSegmentRow))).all()
            after = ([r.as_dict() for r in await queue_report(s, start, end)], await agent_report(s, start, end))
    new_id = str(newer["call_id"])
    old = [r for cid, r in rows.items() if cid != new_id]
    assert all(r.anonymised and (r.caller_num, r.caller_name, r.caller_key, r.data) == ("", "", "", {}) for r in old)
    assert all(set(step) <= {"node", "at", "kind"} for r in old for step in r.ivr_path)
    path = rows[str(calls[-1]["call_id"])].ivr_path
    assert path == [{"node": "menu", "kind": "menu", "at": 1.0}, {"node": "account"}]
    assert not rows[new_id].anonymised and rows[new_id].caller_num in numbers  # a newer call: untouched
    old_legs = [leg for leg in legs if leg.call_id != new_id]
    assert all(
        (leg.caller_num, leg.callee_num, leg.caller_name, leg.callee_name) == ("", "", "", "") for leg in old_legs
    )
    assert all(n not in leg.channel and n.lstrip("+") not in leg.endpoint for leg in old_legs for n in numbers)
    assert all(s.caller_num == "" for s in stays if s.call_id != new_id)
    assert after == before  # the figures of the period do not change


def test_scrub_keeps_a_channels_own_sequence() -> None:
    assert scrub("Local/+4930123456@ctiserver-dialer-00000012;1") == "Local/…@ctiserver-dialer-00000012;1"
    assert scrub("PJSIP/trunk-0000001a") == "PJSIP/trunk-0000001a"
    assert scrub("PJSIP/1001-00000003") == "PJSIP/1001-00000003"  # an agent's extension is no customer's number
    assert scrub("PJSIP/+48221234567") == "PJSIP/…"
