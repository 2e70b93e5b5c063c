"""The tracker over the wire with CEL's end records before and after the AMI ``Hangup``.

On a real Asterisk the CEL ``HANGUP`` record (``hangupsource``, ``dialstatus``) comes from its own stasis
subscriber and may trail the channel's AMI ``Hangup`` — often after the call's last one (trace 13). The
simulator's ``cel_after_hangup`` sends every channel's end records that way; the tracker then holds each leg
(up to 2 s) for its record. Either way each leg must end with the values CEL stated, in memory and in the
store, and the calls must end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ctiserver.calls.component import wire
from ctiserver.calls.service import CallService
from ctiserver.calls.tracker import Tracker
from ctiserver.config import AmiConfig, DatabaseConfig
from ctiserver.events.bus import InMemoryBus
from ctiserver.kpi.live import LiveKpis
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiEvent, AmiResponse
from ctiserver.sim.simulator import Simulator
from ctiserver.store.database import Database
from ctiserver.store.models import LegRow
from tests.calls.test_wire import Rig, add_member, until

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


@contextlib.asynccontextmanager
async def _rig(tmp_path: Path, filtered: bool) -> AsyncIterator[Rig]:
    """As ``tests.calls.test_wire.rig``, with the daemon's ``release_loop`` and a choice of AMI event filters:
    ``pbx.ami.event_filters``' defaults (``filtered``) or none (every CEL record, ``Newexten`` …)."""
    bus = InMemoryBus()
    db = Database(
        DatabaseConfig(
            url=f"sqlite+aiosqlite:///{tmp_path / 'cti.sqlite'}",  # type: ignore[arg-type]
            spool_dir=str(tmp_path / "spool"),
        )
    )
    await db.migrate()
    try:
        async with Simulator() as sim:
            tracker = Tracker()
            service = CallService(tracker, bus, db.writer)
            config = AmiConfig(port=sim.ami_port, reconnect_min=0.05, reconnect_max=0.3)
            if not filtered:
                config = config.model_copy(update={"event_filters": ()})
            client = AmiClient(config)
            wire(service, client)
            r = Rig(sim, client, tracker, service, db, LiveKpis())
            bus.listeners.append(lambda ev: r.seen.append(f"{ev.type}:{ev.data.get('change', '')}"))
            loops = (service.publish_loop(), service.persist_loop(), service.release_loop())
            tasks = [asyncio.create_task(c) for c in loops]
            try:
                async with client:
                    await until(lambda: service.resyncs >= 1)
                    yield r
                    await service.flush()
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await db.close()


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

    async with _rig(tmp_path, filtered) as r:
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
    corrected = r.seen.count("call.updated:hangup")
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
