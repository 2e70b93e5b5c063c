"""The opt-out line, over the wire: the whole daemon with the simulator as the PBX; callers dial the DID of an
IVR script whose ``do_not_call`` nodes put the caller's number on the dialler's do-not-call lists (the number a
machine message names, 47 CFR 64.1200(b)(3)(ii)) — the global list, or a campaign's, where a national number is
read in the campaign's region. An anonymous caller has no number to add: the script's ``on_error`` path."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from ctiserver.app import running
from ctiserver.config import Config
from ctiserver.control.ari import AriCallControl
from ctiserver.dialer.service import DialerService
from ctiserver.dialer.store import GLOBAL
from ctiserver.events.bus import InMemoryBus
from ctiserver.events.envelope import DomainEvent
from ctiserver.ivr.script import parse
from ctiserver.ivr.simulate import report, simulate
from ctiserver.sim.simulator import Simulator

SCRIPT = """script: optout
dids: ["100"]
nodes:
  menu: {type: menu, prompt: [optout-menu], options: {"1": all, "2": spring}, timeout: 5}
  all: {type: do_not_call, confirm: [removed], next: bye, on_error: sorry}
  spring: {type: do_not_call, campaign: spring, confirm: [removed], next: bye, on_error: sorry}
  sorry: {type: hangup, sounds: [cannot-remove], outcome: opt_out_failed}
  bye: {type: hangup, sounds: [goodbye]}
"""


async def _ivr_end(sub: object, channel_id: str) -> list[DomainEvent]:
    seen: list[DomainEvent] = []
    async with asyncio.timeout(30):
        while not any(e.data.get("kind") == "end" and e.subject == channel_id for e in seen):
            seen.append(await sub.get())  # type: ignore[attr-defined]
    return [e for e in seen if e.subject == channel_id]


async def test_callers_put_their_numbers_on_the_lists_and_an_anonymous_one_cannot(tmp_path: Path) -> None:
    (tmp_path / "optout.yaml").write_text(SCRIPT)
    config = Config.model_validate(
        {
            "simulator": {"enabled": True},
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite", "spool_dir": str(tmp_path / "spool")},
            "data_dir": str(tmp_path),
            "api": {"port": 0},
            "ivr": {"scripts_dir": str(tmp_path)},
            "default_region": "GB",  # the global list reads national numbers as British
            "dialer": {"campaigns": [{"name": "spring", "region": "US"}]},
        }
    )
    async with running(config) as ctx:
        sim = ctx.require(Simulator)
        ari = ctx.require(AriCallControl).ari
        await asyncio.wait_for(ari.connected.wait(), 30)  # type: ignore[attr-defined]
        bus = ctx.require(InMemoryBus)
        sub = bus.subscribe("ivr.*")
        opt_outs = bus.subscribe("dialer.opt_out")
        results = {}
        for who, (number, endpoint, key) in {
            "global": ("+14155550123", "caller", "1"),
            "spring": ("4155550199", "caller", "2"),
            "national": ("02079460123", "caller", "1"),
            "anonymous": ("anonymous", "anonymous", "1"),
        }.items():
            call = sim.place_call(from_number=number, to="100", dtmf=[(1.0, key)], endpoint=endpoint)
            await asyncio.wait_for(call.placed.wait(), 10)
            mine = await _ivr_end(sub, call.channel_id)
            results[who] = [
                (e.data.get("node"), e.data.get("result"))
                for e in mine
                if e.type == "ivr.step" and e.data.get("kind") != "end"
            ]
            await asyncio.wait_for(call.done.wait(), 30)
        store = ctx.require(DialerService).store
        global_list = await store.dnc_list(GLOBAL)
        spring_list = await store.dnc_list("spring")
        published = [opt_outs.queue.get_nowait() for _ in range(opt_outs.queue.qsize())]
    assert global_list == sorted(["+14155550123", "+442079460123"]) and spring_list == ["+14155550199"]
    assert results["global"][1] == ("all", "+14155550123 on the global list")
    assert results["spring"][1] == ("spring", "+14155550199 on the spring list")
    assert results["anonymous"][1][0] == "all" and results["anonymous"][1][1].startswith("refused:")
    assert results["anonymous"][2][0] == "sorry"
    assert [(e.data["number"], e.data["list"], e.data["source"]) for e in published] == [
        ("+14155550123", "global", "ivr"),
        ("+14155550199", "spring", "ivr"),
        ("+442079460123", "global", "ivr"),
    ]


async def test_the_simulator_cli_shows_the_opt_out() -> None:
    script, problems = parse(SCRIPT, "optout.yaml")
    assert script is not None and not problems
    at = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
    sim = await simulate(script, caller="+14155550123", dtmf=["2"], at=at)
    assert sim.dnc.added == [("+14155550123", "spring")] and sim.session.outcome == "do_not_call"
    assert "do-not-call: +14155550123 on the spring list" in report(sim)
    refused = await simulate(script, caller="", dtmf=["1"], at=at)
    assert refused.dnc.added == [] and refused.session.outcome == "opt_out_failed"
