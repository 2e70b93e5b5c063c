"""End to end over the wire, the whole daemon with the simulator as the PBX: a known caller dials in, goes
through the IVR into the queue, the ACD rings agent 1001's phone and — while it rings — the agent's WebSocket
client gets the pop with contact and history; after a blind transfer, agent 1002 gets the same data; after a
reconnect with the last event id, the client gets exactly the events it missed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.acd.service import AcdService
from ctiserver.api.auth import Role
from ctiserver.api.topics import Topic, matches
from ctiserver.app import COMPONENTS
from ctiserver.crm.ring_hook import RingHook
from ctiserver.events.log import EventLog
from ctiserver.sim.simulator import Simulator
from tests.api.harness import daemon
from tests.servers.redis import wait_for

SCRIPT = """script: pop-e2e
dids: ["100"]
nodes:
  account: {type: set, vars: {account: "A-42", segment: "gold"}, next: menu}
  menu: {type: menu, prompt: [beep], options: {"1": sales}, timeout: 10}
  sales: {type: queue, queue: support}
"""
ALL = COMPONENTS  # the daemon's own composition root, every component
T = 30.0


async def until_event(ws: aiohttp.ClientWebSocketResponse, pred: Any) -> dict[str, Any]:
    async with asyncio.timeout(T):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            if frame["op"] == "event" and pred(frame["event"]):
                return dict(frame["event"])


async def test_pop_while_ringing_transfer_and_replay(tmp_path: Path) -> None:
    (tmp_path / "pop-e2e.yaml").write_text(SCRIPT)
    extra = {
        "simulator": {"enabled": True},
        "ivr": {"scripts_dir": str(tmp_path)},
        "acd": {
            "agents": [
                {"id": "1001", "device": "PJSIP/1001", "login": True},
                {"id": "1002", "device": "PJSIP/1002", "login": True},
            ],
            "queues": [{"name": "support", "ring_timeout": 20}],
        },
        "crm": {"crm_url": "https://crm.example/c/{{ contact.id }}"},
    }
    async with daemon(tmp_path, components=ALL, **extra) as d, aiohttp.ClientSession() as http:
        sim = d.ctx.require(Simulator)
        phone1 = sim.agent("1001", answer_after=None)
        phone2 = sim.agent("1002", answer_after=None)
        await d.ctx.require(AcdService).pause("1002", "lunch")  # the first offer goes to 1001
        async with http.post(
            d.url + "/api/contacts",
            headers=d.auth("crm"),
            json={
                "name": "Anna Kowalska",
                "company": "Acme",
                "phones": ["+48 22 123 45 67"],
                "vip": True,
            },
        ) as resp:
            assert resp.status == 201, await resp.text()
            contact = await resp.json()
        ws_url = d.url.replace("http", "ws") + "/api/ws"
        ws1 = await http.ws_connect(ws_url, headers=d.auth("agent"))
        ws2 = await http.ws_connect(ws_url, headers=d.auth("agent2"))

        call = sim.place_call(from_number="0048221234567", to="100", dtmf=[(1.0, "1")])
        pop = await until_event(ws1, lambda e: e["type"] == "screen.pop")
        assert phone1.ringing(), "the pop arrived while the agent's phone rings"
        data = pop["data"]
        call_id = pop["subject"]
        assert data["phase"] == "ringing" and data["agent"] == "1001"
        assert data["known"] is True and data["contact"]["id"] == contact["id"]
        assert data["contact"]["name"] == "Anna Kowalska" and data["caller"]["e164"] == "+48221234567"
        assert data["crm_url"] == f"https://crm.example/c/{contact['id']}"
        assert data["queue"] == "support" and data["wait_seconds"] >= 0
        assert data["ivr"]["variables"]["account"] == "A-42"
        assert data["ivr"]["path"][:2] == ["account", "menu"]
        assert data["history"] == []  # first contact

        assert phone1.answer()
        # REST over the live services: the agent sees its call, the other agent does not; staff see agents
        async with http.get(d.url + f"/api/calls/{call_id}", headers=d.auth("agent")) as resp:
            assert resp.status == 200 and "1001" in (await resp.json())["agents"]
        async with http.get(d.url + f"/api/calls/{call_id}", headers=d.auth("agent2")) as resp:
            assert resp.status == 404
        async with http.get(d.url + "/api/agents", headers=d.auth("supervisor")) as resp:
            assert sorted(a["agent"] for a in await resp.json()) == ["1001", "1002"]
        async with http.get(d.url + "/api/agents", headers=d.auth("agent2")) as resp:
            assert [a["agent"] for a in await resp.json()] == ["1002"]
        answered = await until_event(ws1, lambda e: e["type"] == "screen.pop" and e["data"]["phase"] == "answered")
        assert answered["data"]["contact"] == data["contact"]

        # recording control by call id (the queue records always: pause and resume the running recording)
        log = d.ctx.require(EventLog)
        await wait_for(lambda: any(e.type == "recording.started" and e.subject == call_id for e in log._ring))
        for action, state in (("pause", "paused"), ("resume", "recording")):
            async with http.post(
                d.url + f"/api/calls/{call_id}/recording", headers=d.auth("agent"), json={"action": action}
            ) as resp:
                assert resp.status == 200, await resp.text()
                assert (await resp.json())["state"] == state

        await d.ctx.require(AcdService).ready("1002")
        async with http.post(
            d.url + f"/api/calls/{call_id}/transfer", headers=d.auth("agent"), json={"target": "agent:1002"}
        ) as resp:
            assert resp.status == 204, await resp.text()
        pop2 = await until_event(ws2, lambda e: e["type"] == "screen.pop")
        assert phone2.ringing()
        for key in ("contact", "queue", "crm_url", "caller", "known"):
            assert pop2["data"][key] == data[key], key
        assert pop2["data"]["ivr"]["path"] == data["ivr"]["path"]
        variables = pop2["data"]["ivr"]["variables"]
        assert variables.pop("transferred_from") == "1001"  # the ACD notes the transfer in the attached data
        assert variables == data["ivr"]["variables"]
        assert pop2["data"]["agent"] == "1002" and pop2["subject"] == call_id
        assert d.ctx.require(RingHook).fast_pops == 2  # both ring pops came from the PBX's ringing event

        # agent 1001 drops off; events for 1001 happen meanwhile; it reconnects with its last event id
        last = await until_event(ws1, lambda e: e["type"] == "call.transferred")
        await ws1.close()
        phone2.answer()
        token = await d.token(Role.AGENT, "1001")
        await d.ctx.require(AcdService).pause("1001", "break")
        log = d.ctx.require(EventLog)
        topic = Topic("agent", "1001")
        def settled() -> bool:  # the pause, and the wrap-up it ended filed on the call (call.updated)
            later = [e for e in log._ring if e.seq > last["seq"]]
            return any(e.type == "agent.state" and e.data.get("reason") == "break" for e in later) and any(
                e.type == "call.updated" and e.data.get("change") == "wrapup_seconds" for e in later
            )

        await wait_for(settled)
        missed = [e.id for e in await log.replay(last["seq"]) if matches(topic, e, d.api.hub.call_agents)]
        assert missed
        ws1b = await http.ws_connect(
            ws_url + f"?last_event_id={last['id']}", headers={"Authorization": f"Bearer {token}"}
        )
        async with asyncio.timeout(T):
            sub = json.loads((await ws1b.receive()).data)
        assert sub["op"] == "subscribed" and sub["replayed"] == len(missed)
        got = [(await until_event(ws1b, lambda e: True))["id"] for _ in missed]
        assert got == missed
        call.hangup()
        await asyncio.wait_for(call.done.wait(), T)

        # wrap-up: agent 1002 sets the disposition; it lands in the contact's history and on the call record
        async with http.post(
            d.url + f"/api/calls/{call_id}/disposition",
            headers=d.auth("agent2"),
            json={"code": "sale", "notes": "upgraded to gold"},
        ) as resp:
            assert resp.status == 200, await resp.text()
        async with http.get(d.url + f"/api/contacts/{contact['id']}/history", headers=d.auth("agent")) as resp:
            (item,) = await resp.json()
            assert (item["call_id"], item["disposition"], item["notes"]) == (
                call_id,
                "sale",
                "upgraded to gold",
            )
        async with http.get(d.url + f"/api/calls/{call_id}", headers=d.auth("supervisor")) as resp:
            assert (await resp.json())["disposition"] == "sale"

        async with http.get(d.url + "/metrics", headers=d.auth("supervisor")) as resp:
            metrics = await resp.text()
        count = "ctiserver_screen_pop_latency_seconds_count"
        pops = [ln for ln in metrics.splitlines() if ln.startswith(count)]
        assert pops and float(pops[0].split()[-1]) >= 3  # ring + answer for 1001, ring for 1002
        assert 'ctiserver_events_total{type="screen.pop"}' in metrics

        # IVR scripts through the registry (admins): list, get, validate with line numbers
        async with http.get(d.url + "/api/ivr/scripts", headers=d.auth("supervisor")) as resp:
            assert [s["name"] for s in await resp.json()] == ["pop-e2e"]
        async with http.get(d.url + "/api/ivr/scripts/pop-e2e", headers=d.auth("admin")) as resp:
            script = await resp.json()
            assert script["source"] == SCRIPT
            assert script["nodes"] and "history" in script  # the IVR's own admin view, in the daemon
        bad = SCRIPT.replace("queue: support", "queue: support, bogus: 1")
        async with http.post(d.url + "/api/ivr/validate", headers=d.auth("admin"), json={"source": bad}) as resp:
            report = await resp.json()
            assert report["valid"] is False and report["problems"][0]["line"] == 6
            assert "path" in report["problems"][0]
        for ws in (ws1b, ws2):
            await ws.close()


async def test_click_to_dial_rings_the_agent_then_dials_the_customer(tmp_path: Path) -> None:
    (tmp_path / "pop-e2e.yaml").write_text(SCRIPT)
    extra = {
        "simulator": {"enabled": True},
        "ivr": {"scripts_dir": str(tmp_path)},
        "acd": {
            "agents": [{"id": "1001", "device": "PJSIP/1001", "login": True}],
            "queues": [{"name": "support", "callback": {"enabled": True, "endpoint": "PJSIP/{number}"}}],
        },
    }
    async with daemon(tmp_path, components=ALL, **extra) as d, aiohttp.ClientSession() as http:
        sim = d.ctx.require(Simulator)
        phone = sim.agent("1001", answer_after=None)
        customer = sim.agent("1005", answer_after=0.5)
        ws = await http.ws_connect(d.url.replace("http", "ws") + "/api/ws", headers=d.auth("agent"))
        async with http.post(
            d.url + "/api/calls/dial", headers=d.auth("agent2"), json={"agent": "1001", "number": "1005"}
        ) as resp:
            assert resp.status == 403  # another agent may not dial from 1001's phone
        async with http.post(d.url + "/api/calls/dial", headers=d.auth("agent"), json={"number": "1005"}) as resp:
            assert resp.status == 201, await resp.text()
            call_id = (await resp.json())["call_id"]
        pop = await until_event(ws, lambda e: e["type"] == "screen.pop")
        assert pop["subject"] == call_id and pop["data"]["caller"]["number"] == "1005"
        assert phone.ringing()  # the agent's phone rings first
        assert not customer.endpoint.channels
        assert phone.answer()
        await wait_for(lambda: bool(customer.endpoint.channels))  # then the customer is dialled
        await ws.close()
