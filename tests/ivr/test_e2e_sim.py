"""End to end over the wire: a scripted caller dials a DID on the simulator, hears the menu, presses digits;
the IVR (AriCallControl over the ARI WebSocket + REST) takes the call to the right node. The ARI requests and
the IVR path recorded on the call are asserted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from ctiserver.ivr.ports import Contact, MemoryContacts
from ctiserver.ivr.session import IvrEnd
from tests.ivr.e2e import finished, rig

CALLER = "+380441234567"


async def test_menu_to_queue_hand_over(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        joined = asyncio.Event()

        def tap(headers: list[tuple[str, str]]) -> None:
            if ("Event", "QueueCallerJoin") in headers and ("Uniqueid", call.channel_id) in headers:
                joined.set()

        r.sim.hub.ami_taps.append(tap)
        call = r.sim.place_call(from_number=CALLER, from_name="Olena", to="100")
        await asyncio.wait_for(call.placed.wait(), 10)
        ch = call.channel_id
        await r.ari.wait_for(ch, "POST", "/play", media="sound:custom/main-menu")
        call.press("3")
        session = await finished(r, ch)
        assert session.path == ["start", "vip_check", "welcome", "hours", "main_menu", "support"]
        assert (session.end, session.target) == (IvrEnd.QUEUE, "support")
        assert session.steps[4].digits == "3" and session.call.caller_number == CALLER
        sent = [
            (s.method, s.path.split("/")[-1], s.params.get("media") or s.params.get("context", ""))
            for s in r.ari.of(ch)
        ]
        assert sent[0] == ("POST", "answer", "")
        assert ("POST", "play", "sound:custom/welcome") in sent
        assert ("POST", "play", "sound:custom/main-menu") in sent
        assert sent[-1] == ("POST", "continue", "queues")
        assert r.ari.of(ch)[-1].params["extension"] == "support"
        await asyncio.wait_for(joined.wait(), 10)  # the simulated PBX really runs Queue(support) now (AMI)
        call.hangup()


@pytest.fixture
async def billing() -> AsyncIterator[str]:
    async def account(request: web.Request) -> web.Response:
        return web.json_response({"balance": 99, "status": "active", "account": request.match_info["acct"]})

    app = web.Application()
    app.router.add_get("/accounts/{acct}", account)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_vip_account_self_service_and_hangup(tmp_path: Path, billing: str) -> None:
    contacts = MemoryContacts({CALLER: Contact("c-1", "Olena", {"vip": True})})
    async with rig(tmp_path, contacts=contacts, ivr_vars={"billing_url": billing}) as r:
        call = r.sim.place_call(from_number=CALLER, to="100")
        await asyncio.wait_for(call.placed.wait(), 10)
        ch = call.channel_id
        await r.ari.wait_for(ch, "POST", "/play", media="sound:custom/main-menu")
        call.press("2")
        await r.ari.wait_for(ch, "POST", "/play", media="sound:custom/enter-account")
        for d in "23456789#":
            call.press(d)
        await r.ari.wait_for(ch, "POST", "/play", media="sound:custom/anything-else")
        call.press("2")
        session = await finished(r, ch)
        assert session.path == [
            "start",
            "vip_check",
            "vip",
            "hours",
            "main_menu",
            "account",
            "ask_account",
            "balance",
            "say_balance",
            "done",
            "account_done",
            "goodbye_served",
        ]
        assert session.vars["segment"] == "vip" and session.vars["customer"] == "Olena"
        assert session.vars["account"] == "23456789" and session.vars["balance"] == "99"
        assert session.outcome == "self_service" and session.end is IvrEnd.HANGUP
        requests = r.ari.of(ch)
        assert ("POST", "number:99") in [(s.method, s.params.get("media")) for s in requests]
        variables = {
            s.params["variable"]: s.params["value"] for s in requests if s.path.endswith("/variable")
        }
        assert variables["__CTI_SEGMENT"] == "vip" and variables["__CTI_ACCOUNT"] == "23456789"
        assert (requests[-1].method, requests[-1].path) == ("DELETE", f"/channels/{ch}")
        await asyncio.wait_for(call.done.wait(), 10)  # the simulated caller saw the hang-up


async def test_after_hours_callback_offer(tmp_path: Path) -> None:
    async with rig(tmp_path, wall="2026-12-31T23:30:00+02:00") as r:
        call = r.sim.place_call(from_number=CALLER, to="100")
        await asyncio.wait_for(call.placed.wait(), 10)
        ch = call.channel_id
        await r.ari.wait_for(ch, "POST", "/play", media="sound:custom/closed-callback")
        call.press("1")
        session = await finished(r, ch)
        assert (
            session.path[-2:] == ["after_hours", "goodbye_callback"] and session.steps[3].result == "closed"
        )
        assert [(c.number, c.queue) for c in r.callbacks.requests] == [(CALLER, "support")]


async def test_caller_hangs_up_in_the_menu(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with rig(tmp_path) as r:
        events = r.bus.subscribe("ivr.step")
        call = r.sim.place_call(from_number=CALLER, to="100")
        await asyncio.wait_for(call.placed.wait(), 10)
        ch = call.channel_id
        await r.ari.wait_for(ch, "POST", "/play", media="sound:custom/main-menu")
        call.hangup()
        session = await finished(r, ch)
        assert session.end is IvrEnd.CALLER_HANGUP and session.path[-1] == "main_menu"
        assert session.steps[-1].result == "caller_hangup"
        assert r.router.active == 0 and r.router.failures == 0
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("cti:stasis")]
        assert "Traceback" not in caplog.text
        published = []
        while not events.queue.empty():
            published.append(events.queue.get_nowait())
        assert [e.data.get("node") for e in published] == [*session.path, None]
        assert json.dumps([e.to_json() for e in published])  # JSON-serialisable domain events


async def test_hot_reload_during_a_live_call(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        old_version = r.registry.get("main-en").version  # type: ignore[union-attr]
        first = r.sim.place_call(from_number="+100", to="100")
        await asyncio.wait_for(first.placed.wait(), 10)
        await r.ari.wait_for(first.channel_id, "POST", "/play", media="sound:custom/main-menu")
        path = tmp_path / "main-en.yaml"
        text = path.read_text().replace("prompt: [custom/main-menu]", "prompt: [custom/main-menu-v2]")
        text = text.replace('      "3": support', '      "3": operator')
        path.write_text(text)
        report = await r.registry.reload()
        assert report.loaded == ("main-en",)
        new_version = r.registry.get("main-en").version  # type: ignore[union-attr]
        second = r.sim.place_call(from_number="+200", to="100")
        await asyncio.wait_for(second.placed.wait(), 10)
        await r.ari.wait_for(second.channel_id, "POST", "/play", media="sound:custom/main-menu-v2")
        first.press("3")
        second.press("3")
        old = await finished(r, first.channel_id)
        new = await finished(r, second.channel_id)
        assert old.version == old_version and {s.version for s in old.steps} == {old_version}
        assert (old.end, old.target) == (IvrEnd.QUEUE, "support")
        assert new.version == new_version != old_version
        assert (new.end, new.target) == (IvrEnd.TRANSFER, "1001")
        last = r.ari.of(second.channel_id)[-1]
        assert (last.path.split("/")[-1], last.params["context"], last.params["extension"]) == (
            "continue",
            "from-agents",
            "1001",
        )


async def test_post_call_csat_survey(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        updates = r.bus.subscribe("call.updated")
        call = r.sim.place_call(from_number=CALLER, to="150")  # Stasis(ctiserver,survey,csat)
        await asyncio.wait_for(call.placed.wait(), 10)
        ch = call.channel_id
        await r.ari.wait_for(ch, "POST", "/play", media="sound:custom/csat-question")
        call.press("4")
        session = await finished(r, ch)
        assert session.script == "csat" and session.path == ["question", "bye"]
        event = await asyncio.wait_for(updates.get(), 10)
        assert (event.subject, event.data["survey"], event.data["score"], event.data["scale"]) == (
            ch,
            "csat",
            4,
            5,
        )
        assert session.vars["survey_csat"] == "4"
        await asyncio.wait_for(call.done.wait(), 10)
