"""WebSocket screen-pop and replay over real sockets, driven by the domain events the IVR/ACD publish."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.api.topics import Topic, matches
from ctiserver.crm.screenpop import ScreenPop
from ctiserver.events.bus import Bus
from ctiserver.events.envelope import new_event
from ctiserver.events.log import EventLog
from tests.api.harness import Daemon, daemon
from tests.servers.redis import wait_for

T = 30.0


async def publish(d: Daemon, type_: str, subject: str, **data: Any) -> None:
    bus = d.ctx.require(Bus)  # type: ignore[type-abstract]
    await bus.publish(new_event(type_, subject, data, d.ctx.clock.now()))


async def next_event(ws: aiohttp.ClientWebSocketResponse, type_: str | None = None) -> dict[str, Any]:
    async with asyncio.timeout(T):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            if frame["op"] == "event" and (type_ is None or frame["event"]["type"] == type_):
                return dict(frame["event"])


async def frame(ws: aiohttp.ClientWebSocketResponse, op: str) -> dict[str, Any]:
    async with asyncio.timeout(T):
        while True:
            f = json.loads((await ws.receive()).data)
            if f["op"] == op:
                return dict(f)


async def arrive(d: Daemon, call_id: str, number: str, agent: str) -> None:
    await publish(d, "call.created", call_id, caller_number=number, caller_name="IVANOV", direction="inbound")
    await publish(d, "ivr.step", call_id, node="welcome")
    await publish(d, "ivr.step", call_id, node="menu", variables={"choice": "2", "account": "A-17"})
    await publish(d, "queue.entered", call_id, queue="support")
    await publish(d, "agent.ringing", call_id, agent=agent, call_id=call_id, queue="support",
                  caller_number=number, caller_name="IVANOV", attached={"choice": "2", "account": "A-17"})


async def test_pop_with_contact_history_transfer_and_replay(tmp_path: Path) -> None:
    async with daemon(tmp_path, crm={"crm_url": "https://crm.example/c/{{ contact.id }}"}) as d:
        async with aiohttp.ClientSession() as http:
            async with http.post(d.url + "/api/contacts", headers=d.auth("crm"), json={
                "name": "Ivan Ivanov", "company": "Romashka", "phones": ["+7 495 123-45-67"], "vip": True,
            }) as resp:
                assert resp.status == 201, await resp.text()
                contact = await resp.json()
            # a previous call of the same customer, with its disposition
            await publish(d, "call.created", "old-1", caller_number="+74951234567")
            await publish(d, "queue.entered", "old-1", queue="sales")
            await publish(d, "agent.answered", "old-1", agent="1003")
            await publish(d, "call.ended", "old-1", duration=42.0)
            async with http.post(d.url + "/api/calls/old-1/disposition", headers=d.auth("supervisor"),
                                 json={"code": "resolved", "notes": "asked about delivery"}) as resp:
                assert resp.status == 200, await resp.text()

            ws_url = d.url.replace("http", "ws") + "/api/ws"
            a1 = await http.ws_connect(ws_url, headers=d.auth("agent"))
            a2 = await http.ws_connect(ws_url, headers=d.auth("agent2"))
            assert (await frame(a1, "subscribed"))["topics"] == ["agent:1001"]
            await frame(a2, "subscribed")

            # an agent may not listen to another agent
            await a1.send_json({"op": "subscribe", "topics": ["agent:1002"]})
            assert (await frame(a1, "error"))["code"] == "forbidden"

            await arrive(d, "call-1", "8 (495) 123-45-67", "1001")
            pop = await next_event(a1, "screen.pop")
            data = pop["data"]
            assert pop["subject"] == "call-1" and data["agent"] == "1001" and data["phase"] == "ringing"
            assert data["known"] is True and data["contact"]["id"] == contact["id"]
            assert data["contact"]["name"] == "Ivan Ivanov" and data["contact"]["vip"] is True
            assert data["caller"]["e164"] == "+74951234567"
            assert data["crm_url"] == f"https://crm.example/c/{contact['id']}"
            assert [h["call_id"] for h in data["history"]] == ["old-1"]
            assert data["history"][0]["disposition"] == "resolved" and data["history"][0]["agent"] == "1003"
            assert data["ivr"]["path"] == ["welcome", "menu"]
            assert data["ivr"]["variables"]["account"] == "A-17"
            assert data["queue"] == "support" and data["wait_seconds"] >= 0

            # transfer: the second agent rings for the same call and gets the same data
            await publish(d, "call.transferred", "call-1", from_agent="1001", to="agent:1002")
            await publish(d, "agent.ringing", "call-1", agent="1002", call_id="call-1", queue="support",
                          caller_number="8 (495) 123-45-67")
            pop2 = (await next_event(a2, "screen.pop"))["data"]
            for key in ("contact", "history", "ivr", "queue", "caller", "crm_url"):
                assert pop2[key] == data[key], key
            assert pop2["agent"] == "1002"

            # an unknown caller: "unknown" with a create link
            await arrive(d, "call-2", "+380 44 123 4567", "1002")
            unknown = (await next_event(a2, "screen.pop"))["data"]
            assert unknown["known"] is False and unknown["contact"] is None
            assert unknown["create_url"].endswith("phone=%2B380441234567")

            # reconnect with the last event id: exactly the missed events, in order, then live
            last = (await next_event(a1))  # the transfer event (from_agent=1001) reached agent 1001
            assert last["type"] == "call.transferred"
            await a1.close()
            pops_before = d.ctx.require(ScreenPop).pops
            await publish(d, "agent.answered", "call-9", agent="1001", call_id="call-9",
                          caller_number="+74951234567")
            await publish(d, "agent.state", "1001", state="on_call")
            await publish(d, "agent.state", "1003", state="ready")  # not for 1001
            await wait_for(lambda: d.ctx.require(ScreenPop).pops > pops_before)  # the answer pop is out
            log = d.ctx.require(EventLog)
            topic = Topic("agent", "1001")
            index = d.api.hub.call_agents  # agent topics carry the events of the calls offered to the agent
            missed = [e for e in await log.replay(last["seq"]) if matches(topic, e, index)]
            assert sorted(e.type for e in missed) == ["agent.answered", "agent.state", "screen.pop"]
            b1 = await http.ws_connect(ws_url + f"?last_event_id={last['id']}", headers=d.auth("agent"))
            sub = await frame(b1, "subscribed")
            assert sub["replayed"] == 3
            got = [await next_event(b1) for _ in range(sub["replayed"])]
            assert [e["id"] for e in got] == [e.id for e in missed]
            assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
            await publish(d, "agent.state", "1001", state="wrap_up")
            live = await next_event(b1)
            assert live["type"] == "agent.state" and live["data"]["state"] == "wrap_up"
            assert live["seq"] > got[-1]["seq"]
            await b1.close()
            await a2.close()


async def test_an_agent_gets_the_events_of_the_calls_it_handles(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(d.url.replace("http", "ws") + "/api/ws", headers=d.auth("agent"))
        await frame(ws, "subscribed")
        await publish(d, "call.created", "c7", caller_number="+12125550100")  # not offered to 1001 yet
        await publish(d, "call.ended", "c6")  # another call
        await publish(d, "agent.offered", "c7", agent="1001", call_id="c7")
        await publish(d, "call.updated", "c7", key="x", value="1")
        await publish(d, "call.ended", "c7", duration=3.0)
        got = [(await next_event(ws))["type"] for _ in range(3)]
        assert got == ["agent.offered", "call.updated", "call.ended"]
        async with http.get(d.url + "/api/events", headers=d.auth("agent")) as resp:
            subjects = {(e["subject"], e["type"]) for e in await resp.json()}
        assert ("c6", "call.ended") not in subjects  # never offered to 1001
        assert {("c7", "call.created"), ("c7", "call.ended")} <= subjects  # the REST feed: the whole call
        await ws.close()


async def test_the_feed_survives_a_daemon_restart(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d:
        for state in ("ready", "not_ready", "ready"):
            await publish(d, "agent.state", "1001", agent="1001", state=state)
        first_ids = [e.id for e in await d.ctx.require(EventLog).replay(0)]
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:  # same database: a restart
        await publish(d, "agent.state", "1001", agent="1001", state="on_call")
        url = d.url.replace("http", "ws") + "/api/ws?last_seq=1"
        ws = await http.ws_connect(url, headers=d.auth("agent"))
        sub = await frame(ws, "subscribed")
        assert sub["replayed"] == 3
        got = [await next_event(ws) for _ in range(3)]
        assert [e["seq"] for e in got] == [2, 3, 4]
        assert [e["id"] for e in got[:2]] == first_ids[1:]
        assert got[2]["data"]["state"] == "on_call"
        await ws.close()


async def test_a_cursor_older_than_the_retention_is_refused_not_replayed_with_a_gap(tmp_path: Path) -> None:
    """``events.retention_days``: the daemon's own purge (every 0.2 s here) deletes the events older than the
    retention; a WebSocket client resuming from before them gets ``cursor_expired``, ``GET /api/events`` a 410
    naming the field — never the later events alone, as if nothing had been missed. A cursor inside the retention
    replays as before."""
    events = {"retention_days": 1.0 / 86_400, "retention_check_seconds": 0.2}  # one second
    async with daemon(tmp_path, events=events) as d, aiohttp.ClientSession() as http:
        for state in ("ready", "not_ready", "ready"):
            await publish(d, "agent.state", "1001", agent="1001", state=state)
        log = d.ctx.require(EventLog)
        await asyncio.sleep(1.2)
        await publish(d, "agent.state", "1001", agent="1001", state="on_call")
        await wait_for(lambda: log.first_seq >= 3)  # purged up to the newest event of a second ago
        keep = log.first_seq
        ws = await http.ws_connect(d.url.replace("http", "ws") + "/api/ws?last_seq=1", headers=d.auth("agent"))
        err = await frame(ws, "error")
        assert err["code"] == "cursor_expired" and "retention_days" in err["message"], err
        await ws.close()
        async with http.get(d.url + "/api/events?after_seq=1", headers=d.auth("admin")) as resp:
            body = await resp.json()
        assert (resp.status, body["field"]) == (410, "query.after_seq"), body
        async with http.get(d.url + f"/api/events?after_seq={keep - 1}", headers=d.auth("admin")) as resp:
            assert resp.status == 200 and [e["seq"] for e in await resp.json()][-1] == log.last_seq
