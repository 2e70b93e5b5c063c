"""The tracker over the wire with CEL's end records before and after the AMI ``Hangup``.

On a real Asterisk the CEL ``HANGUP`` record (``hangupsource``, ``dialstatus``) comes from its own stasis
subscriber and may trail the channel's AMI ``Hangup`` — often after the call's last one (trace 13). The
simulator's ``cel_after_hangup`` sends every channel's end records that way; the tracker then holds each leg
(up to 2 s) for its record. Either way each leg must end with the values CEL stated, in memory and in the
store, and the calls must end."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ctiserver.pbx.ami.messages import AmiEvent, AmiResponse
from ctiserver.store.database import Database
from ctiserver.store.models import LegRow
from tests.calls.test_wire import Rig, add_member, rig, until

Legs = dict[tuple[int, str], tuple[str, str]]  # (call number, endpoint) -> (hangup source, dialstatus)


def _endpoint(channel: str) -> str:
    """``PJSIP/1001-0000000a`` → ``PJSIP/1001`` (channel numbers differ from run to run)."""
    return re.sub(r"-[0-9a-f]{8}$", "", channel)


async def _calls(r: Rig) -> None:
    sim = r.sim
    await add_member(r, "1001")

    async def inbound(to: str, hangup_after: float | None = None) -> None:
        call = sim.place_call(from_number="5550100", to=to, hangup_after=hangup_after)
        await until(lambda: call.done.is_set())

    sim.agent("1001", answer_after=0.2, hangup_after=0.6)
    await inbound("200")  # 1: the agent hangs up
    sim.agent("1001", answer_after=0.2, hangup_after=None)
    await inbound("200", hangup_after=1.2)  # 2: the caller hangs up
    sim.agent("1001", answer_after=None)
    await inbound("200", hangup_after=0.8)  # 3: abandoned while the agent rings
    await inbound("601")  # 4: Playback, then Hangup()
    sim.agent("1001", answer_after=0.2)
    sim.agent("1003", registered=False)
    for n, target in enumerate(("1002", "1003"), start=5):  # 5: Dial, the callee hangs up; 6: CHANUNAVAIL
        sim.agent("1002", answer_after=0.2, hangup_after=0.5)
        res = await r.client.action(
            "Originate",
            {"Channel": "PJSIP/1001", "Context": "from-agents", "Exten": target, "Priority": "1", "Async": "true"},
        )
        assert isinstance(res, AmiResponse) and res.ok, res
        await until(lambda n=n: len(r.tracker.finished) == n and not r.tracker.calls)  # type: ignore[misc]


async def _run(tmp_path: Path, late: bool, filtered: bool) -> tuple[Legs, dict[str, Any]]:
    cel: dict[str, tuple[str, str]] = {}
    order: list[tuple[str, str]] = []  # (Hangup | HANGUP, uniqueid) in wire order

    def on_event(ev: AmiEvent) -> None:
        uid = ev.get("Uniqueid") or ""
        if ev.name == "Hangup":
            order.append(("Hangup", uid))
        elif ev.name == "CEL" and ev.get("EventName") == "HANGUP":
            extra = json.loads(ev.get("Extra") or "{}")
            cel[uid] = (extra["hangupsource"], extra["dialstatus"])
            order.append(("HANGUP", uid))

    async with rig(tmp_path, filtered) as r:
        r.sim.cel_after_hangup = late
        r.client.on_event("*", on_event)
        await _calls(r)
        await until(lambda: len(r.tracker.finished) == 6 and not r.tracker.calls and not r.tracker.cel.held)
    calls = sorted(r.tracker.finished.values(), key=lambda c: c.started)
    legs: Legs = {}
    stored: dict[str, tuple[str, str]] = {}
    db = Database(r.db.config)
    try:
        async with db.sessions() as s:
            for row in (await s.execute(select(LegRow))).scalars():
                stored[row.uniqueid] = (row.hangup_source, row.dialstatus)
    finally:
        await db.close()
    for n, call in enumerate(calls, start=1):
        for leg in call.legs.values():
            assert leg.ended is not None, leg
            values = (leg.hangup_source or "", leg.dialstatus)
            assert values == cel[leg.uniqueid], (late, leg.channel)  # what CEL said, in memory …
            assert stored[leg.uniqueid] == values, (late, leg.channel)  # … and in the store
            legs[(n, _endpoint(leg.channel))] = (_endpoint(values[0]), values[1])
    late_records = sum(1 for uid in cel if order.index(("HANGUP", uid)) > order.index(("Hangup", uid)))
    corrected = sum(1 for e in r.events if e.type == "call.updated" and e.data.get("change") == "hangup")
    return legs, {"late": late_records, "anomalies": dict(r.tracker.anomalies), "cel": len(cel), "fixed": corrected}


EXPECTED: Legs = {
    (1, "PJSIP/caller"): ("PJSIP/1001", "ANSWER"),  # the agent hangs up: named on both (trace 04)
    (1, "PJSIP/1001"): ("PJSIP/1001", ""),
    (2, "PJSIP/caller"): ("PJSIP/caller", "ANSWER"),  # the caller hangs up: named on both (trace 11)
    (2, "PJSIP/1001"): ("PJSIP/caller", ""),
    # abandoned: the caller's CANCEL; app_queue hangs up 1001 and publishes its DialEnd CANCEL (hangupcalls)
    (3, "PJSIP/caller"): ("PJSIP/caller", "CANCEL"),
    (3, "PJSIP/1001"): ("", ""),
    (4, "PJSIP/caller"): ("dialplan/builtin", ""),  # Hangup()
    (5, "PJSIP/1001"): ("PJSIP/1002", "ANSWER"),  # the callee of Dial hangs up
    (5, "PJSIP/1002"): ("PJSIP/1002", ""),
    # Dial cannot reach 1003 (ast_request fails: no dial message for CEL, DIALSTATUS CHANUNAVAIL), Hangup()
    (6, "PJSIP/1001"): ("dialplan/builtin", ""),
}


@pytest.mark.parametrize(
    ("late", "filtered"),
    [
        (False, False),
        (True, False),
        (False, True),
        (True, True),  # the daemon's default AMI filters: only CEL HANGUP records reach the tracker
    ],
)
async def test_hangup_source_and_dialstatus_with_cel_before_or_after_the_hangup(
    tmp_path: Path, late: bool, filtered: bool
) -> None:
    legs, info = await _run(tmp_path, late, filtered)
    assert legs == EXPECTED, info
    # every record trails its Hangup when asked, none otherwise
    assert info["late"] == (info["cel"] if late else 0), info
    assert info["anomalies"].get("cel_hangup_missing", 0) == 0, info  # none waited 2 s in vain
    # each leg was held for its record: ended once, with CEL's values — never corrected after its call ended
    assert info["anomalies"].get("cel_hangup_after_end", 0) == 0 and info["fixed"] == 0, info
