"""The dialer's REST routes for a campaign's life after creation, over real HTTP against the daemon (simulator,
SQLite store, dialer component): edit / delete (refused while running), contacts and attempts page by page,
call-back cancel — with the field named on bad payloads and the roles enforced."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.dialer.model import AttemptRecord, ContactStatus, Outcome
from ctiserver.dialer.service import DialerService
from tests.api.harness import Daemon, daemon
from tests.api.test_dialer_api import COMPONENTS, call

CAMPAIGN = {"name": "autumn", "mode": "progressive", "region": "GB", "ring_timeout": 20}
BASE = "/api/dialer/campaigns/autumn"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[Daemon, aiohttp.ClientSession]]:
    async with (
        daemon(tmp_path, components=COMPONENTS, simulator={"enabled": True}) as d,
        aiohttp.ClientSession() as http,
    ):
        status, body = await call(http, d, "POST", "/api/dialer/campaigns", json=CAMPAIGN)
        assert status == 201, body
        yield d, http


async def test_edit_campaign_merges_validates_and_is_refused_while_running(
    env: tuple[Daemon, aiohttp.ClientSession],
) -> None:
    d, http = env
    service = d.ctx.require(DialerService)
    status, body = await call(http, d, "PATCH", BASE, json={"ring_timeout": 30, "caller_id": "5550200"})
    assert status == 200, body
    assert body["settings"]["ring_timeout"] == 30 and body["settings"]["region"] == "GB"  # the rest kept
    assert body["state"] == "draft"
    assert service.runners["autumn"].settings.ring_timeout == 30
    assert service.runners["autumn"].settings.caller_id == "5550200"
    stored = {name: raw for name, raw, _ in await service.store.campaigns()}
    assert stored["autumn"]["ring_timeout"] == 30  # persisted: survives a restart
    for patch, field in (
        ({"ring_timeout": 5}, "body.ring_timeout"),  # the law: at least 15 s of ringing
        ({"mode": "telepathic"}, "body.mode"),
        ({"name": "winter"}, "body.name"),
    ):
        status, body = await call(http, d, "PATCH", BASE, json=patch)
        assert (status, body["field"]) == (422, field), body
    status, body = await call(http, d, "PATCH", BASE, json=[1, 2])
    assert status == 422 and body["field"].startswith("body"), body
    assert service.runners["autumn"].settings.ring_timeout == 30  # nothing applied
    status, body = await call(http, d, "PATCH", BASE, role="agent", json={"ring_timeout": 40})
    assert (status, body["code"]) == (403, "forbidden")
    status, body = await call(http, d, "PATCH", "/api/dialer/campaigns/nope", json={"ring_timeout": 40})
    assert (status, body["field"]) == (404, "name")
    # running: refused until paused; the state survives the edit
    assert (await call(http, d, "POST", f"{BASE}/start"))[0] == 200
    status, body = await call(http, d, "PATCH", BASE, json={"ring_timeout": 40})
    assert (status, body["code"], body["field"]) == (409, "busy", "name")
    assert (await call(http, d, "POST", f"{BASE}/pause"))[0] == 200
    status, body = await call(http, d, "PATCH", BASE, json={"ring_timeout": 40, "mode": "predictive"})
    assert status == 200 and body["state"] == "paused" and body["settings"]["mode"] == "predictive"
    assert service.runners["autumn"].pacer.name == "predictive"


async def test_contacts_and_attempts_page_by_page(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    service = d.ctx.require(DialerService)
    contacts = [{"number": f"+4420794600{i:02d}", "id": f"k{i:02d}", "fields": {"n": str(i)}} for i in range(25)]
    status, body = await call(http, d, "POST", f"{BASE}/contacts", json={"contacts": contacts})
    assert status == 201 and body["imported"] == 25, body
    seen: list[str] = []
    for offset in (0, 10, 20):
        status, body = await call(http, d, "GET", f"{BASE}/contacts?offset={offset}&limit=10")
        assert status == 200 and body["total"] == 25 and body["offset"] == offset, body
        seen += [c["id"] for c in body["items"]]
    assert seen == [f"k{i:02d}" for i in range(25)]  # every contact once, in a stable order
    assert body["items"][0]["fields"] == {"n": "20"} and body["items"][0]["status"] == "pending"
    status, body = await call(http, d, "GET", f"{BASE}/contacts?status=done")
    assert status == 200 and (body["total"], body["items"]) == (0, [])
    for query, field in (("limit=0", "query.limit"), ("offset=-1", "query.offset"), ("status=odd", "query.status")):
        status, body = await call(http, d, "GET", f"{BASE}/contacts?{query}")
        assert (status, body["field"]) == (422, field), body
    # attempts: newest first, filtered by outcome
    now = time.time()
    for i in range(7):
        outcome = Outcome.MACHINE if i % 3 == 0 else Outcome.NOANSWER
        await service.store.record_attempt(
            AttemptRecord(f"a{i}", "autumn", f"k{i:02d}", contacts[i]["number"], now + i, outcome, now + i + 1)
        )
    status, body = await call(http, d, "GET", f"{BASE}/attempts?limit=3")
    assert status == 200 and body["total"] == 7, body
    assert [a["attempt"] for a in body["items"]] == ["a6", "a5", "a4"]
    status, body = await call(http, d, "GET", f"{BASE}/attempts?outcome=machine&offset=1")
    assert [a["attempt"] for a in body["items"]] == ["a3", "a0"] and body["total"] == 3
    assert body["items"][0]["outcome"] == "machine" and body["items"][0]["contact_id"] == "k03"
    status, body = await call(http, d, "GET", f"{BASE}/attempts?outcome=maybe")
    assert (status, body["field"]) == (422, "query.outcome")
    for path in (f"{BASE}/contacts", f"{BASE}/attempts"):
        status, body = await call(http, d, "GET", path, role="agent")
        assert (status, body["code"]) == (403, "forbidden")


async def test_cancel_callback_own_or_supervisor(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    service = d.ctx.require(DialerService)
    at = time.time() + 3600
    cb = f"{BASE}/callbacks"
    status, mine = await call(http, d, "POST", cb, role="agent", json={"number": "+442079460040", "at": at})
    assert status == 201, mine
    status, queue = await call(http, d, "POST", cb, json={"number": "+442079460041", "at": at})
    assert status == 201, queue
    events = d.ctx.require(type(service.bus)).subscribe("callback.cancelled")
    # another agent may not cancel it, nor may an agent cancel the queue's call-back
    status, body = await call(http, d, "DELETE", f"{cb}/{mine['contact_id']}", role="agent2")
    assert (status, body["code"]) == (403, "forbidden")
    status, body = await call(http, d, "DELETE", f"{cb}/{queue['contact_id']}", role="agent")
    assert (status, body["code"]) == (403, "forbidden")
    status, _ = await call(http, d, "DELETE", f"{cb}/{mine['contact_id']}", role="agent")
    assert status == 204
    stored = await service.store.get_contact("autumn", mine["contact_id"])
    assert stored is not None and stored.status.value == "done"  # never dialled
    ev = await events.queue.get()
    assert ev.subject == mine["contact_id"] and ev.data["campaign"] == "autumn"
    status, body = await call(http, d, "DELETE", f"{cb}/{mine['contact_id']}", role="agent")
    assert (status, body["field"]) == (404, "contact_id")  # cancelled already
    status, _ = await call(http, d, "DELETE", f"{cb}/{queue['contact_id']}")
    assert status == 204
    status, body = await call(http, d, "DELETE", f"{cb}/nope")
    assert (status, body["field"]) == (404, "contact_id")


async def test_pages_of_a_large_list_come_from_the_database(
    env: tuple[Daemon, aiohttp.ClientSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """5,000 contacts imported (CSV, shuffled): page 2 of 1000 is the 1000 ids after the first 1000, the last page
    is partial, past the end is empty; filters count in the database; the whole list is never loaded."""
    d, http = env
    store = d.ctx.require(DialerService).store
    ids = [f"c{i:05d}" for i in range(5000)]
    shuffled = random.Random(5).sample(ids, len(ids))
    csv_text = "id,phone\n" + "".join(f"{cid},+4420794{int(cid[1:]):05d}\n" for cid in shuffled)
    status, body = await call(http, d, "POST", f"{BASE}/import", data=csv_text)
    assert (status, body["imported"], body["rejected"]) == (201, 5000, []), body
    done = [replace(c, status=ContactStatus.DONE) for c in await store.contacts("autumn") if int(c.id[1:]) % 7 == 0]
    await store.add_contacts(done)
    now = time.time()
    for i in range(30):
        outcome = Outcome.HUMAN if i % 4 == 0 else Outcome.BUSY
        rec = AttemptRecord(f"a{i:02d}", "autumn", ids[i], "+442079400000", now + i // 3, outcome, now)
        await store.record_attempt(rec)

    async def whole_list(campaign: str) -> list[Any]:
        raise AssertionError(f"a page loaded the whole list of {campaign!r}")

    monkeypatch.setattr(store, "contacts", whole_list)
    monkeypatch.setattr(store, "attempts", whole_list)
    status, body = await call(http, d, "GET", f"{BASE}/contacts?offset=1000&limit=1000")
    assert status == 200 and (body["total"], body["offset"], body["limit"]) == (5000, 1000, 1000), body
    assert [c["id"] for c in body["items"]] == ids[1000:2000]
    assert body["items"][0]["number"] == "+442079401000" and body["items"][0]["status"] == "pending"
    status, body = await call(http, d, "GET", f"{BASE}/contacts?offset=4500&limit=1000")
    assert body["total"] == 5000 and [c["id"] for c in body["items"]] == ids[4500:]
    status, body = await call(http, d, "GET", f"{BASE}/contacts?offset=5000&limit=1000")
    assert status == 200 and (body["total"], body["items"]) == (5000, [])
    done_ids = [cid for cid in ids if int(cid[1:]) % 7 == 0]
    status, body = await call(http, d, "GET", f"{BASE}/contacts?status=done&offset=500&limit=100")
    assert body["total"] == len(done_ids) == 715 and [c["id"] for c in body["items"]] == done_ids[500:600]
    status, body = await call(http, d, "GET", f"{BASE}/contacts?limit=1001")
    assert (status, body["field"]) == (422, "query.limit")
    # attempts: newest first, three per second, the id breaking the ties
    status, body = await call(http, d, "GET", f"{BASE}/attempts?offset=3&limit=4")
    assert body["total"] == 30 and [a["attempt"] for a in body["items"]] == ["a24", "a25", "a26", "a21"]
    status, body = await call(http, d, "GET", f"{BASE}/attempts?outcome=human&offset=6")
    assert body["total"] == 8 and [a["attempt"] for a in body["items"]] == ["a04", "a00"]


async def test_delete_campaign_refused_while_running(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    service = d.ctx.require(DialerService)
    await call(http, d, "POST", f"{BASE}/contacts", json={"contacts": [{"number": "+442079460050", "id": "z1"}]})
    assert (await call(http, d, "POST", f"{BASE}/start"))[0] == 200
    status, body = await call(http, d, "DELETE", BASE)
    assert (status, body["code"]) == (409, "busy")
    status, body = await call(http, d, "DELETE", BASE, role="agent")
    assert (status, body["code"]) == (403, "forbidden")
    assert (await call(http, d, "POST", f"{BASE}/stop"))[0] == 200
    status, _ = await call(http, d, "DELETE", BASE)
    assert status == 204
    assert "autumn" not in service.runners
    assert await service.store.contacts("autumn") == []
    assert "autumn" not in [name for name, _, _ in await service.store.campaigns()]
    status, body = await call(http, d, "GET", BASE)
    assert (status, body["field"]) == (404, "name")
    await service.sync_once()  # the database agrees: nothing comes back
    assert "autumn" not in service.runners


async def test_disposition_and_callbacks_query_the_store_for_what_they_return(
    env: tuple[Daemon, aiohttp.ClientSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent's disposition looks up the attempts of that one contact, ``GET /api/callbacks`` asks the store
    for the page it returns (filter, order and limit in the query): neither loads a campaign's whole list. The
    attempts carry when they were answered and how long they talked."""
    d, http = env
    store = d.ctx.require(DialerService).store
    contacts = [{"number": f"+4420794601{i:02d}", "id": f"k{i}"} for i in range(3)]
    assert (await call(http, d, "POST", f"{BASE}/contacts", json={"contacts": contacts}))[0] == 201
    now = time.time()
    talked = AttemptRecord("a1", "autumn", "k1", "+442079460101", now, Outcome.HUMAN, now + 60, agent="1001")
    await store.record_attempt(replace(talked, answered=now + 5, talk_seconds=50.0))
    await store.record_attempt(AttemptRecord("a2", "autumn", "k2", "+442079460102", now, Outcome.NOANSWER, now + 25))
    cb = f"{BASE}/callbacks"
    mine: list[str] = []
    for i in range(4):  # 1001's, the earliest last; and the queue's, earlier than all of them
        status, body = await call(
            http, d, "POST", cb, role="agent", json={"number": "+442079460110", "at": now + 900 - i}
        )
        mine.append(body["contact_id"])
        assert (await call(http, d, "POST", cb, json={"number": "+442079460120", "at": now + 60 + i}))[0] == 201

    async def whole_list(*args: Any, **kw: Any) -> Any:
        raise AssertionError(f"a whole list was loaded: {args}")

    asked: list[tuple[Any, ...]] = []
    callbacks = store.callbacks

    async def spy(campaigns: Any, agent: Any, limit: int) -> Any:
        asked.append((sorted(campaigns), agent, limit))
        return await callbacks(campaigns, agent, limit)

    for name in ("attempts", "contacts", "contacts_page"):
        monkeypatch.setattr(store, name, whole_list)
    monkeypatch.setattr(store, "callbacks", spy)
    path = f"{BASE}/contacts/k1/disposition"
    assert (await call(http, d, "POST", path, role="agent2", json={"disposition": "sale"}))[0] == 403
    assert (await call(http, d, "POST", path, role="agent", json={"disposition": "sale"}))[0] == 204
    path = f"{BASE}/contacts/k2/disposition"  # dialled, never talked to 1001
    assert (await call(http, d, "POST", path, role="agent", json={"disposition": "sale"}))[0] == 403
    status, body = await call(http, d, "GET", "/api/callbacks?limit=2", role="agent")
    assert status == 200 and [c["contact_id"] for c in body] == mine[::-1][:2]
    assert asked == [(["autumn"], "1001", 2)]
    status, body = await call(http, d, "GET", f"{BASE}/attempts?outcome=human")
    assert status == 200 and (body["items"][0]["answered"], body["items"][0]["talk_seconds"]) == (now + 5, 50.0)


async def test_numbers_in_several_time_zones(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    """Over HTTP: a Moscow mobile (phonenumbers: any of Russia's zones) keeps them all and is counted as
    spanning; with the campaign's ``default_timezone`` it is Moscow's; a campaign whose window never opens in
    all of them at once rejects it with the reason; an unknown default zone is refused with the field."""
    d, http = env
    mobile = {"contacts": [{"number": "+79161234567", "id": "ru1"}, {"number": "+74951234567", "id": "ru2"}]}
    status, body = await call(http, d, "POST", f"{BASE}/contacts", json=mobile)
    assert (status, body["imported"], body["spanning"], body["rejected"]) == (201, 2, 1, []), body
    status, body = await call(http, d, "GET", f"{BASE}/contacts")
    zones = {c["id"]: c["timezone"] for c in body["items"]}
    assert zones["ru2"] == "Europe/Moscow" and zones["ru1"].split(",")[0] == "Asia/Almaty"
    assert {"Europe/Moscow", "Asia/Vladivostok", "Asia/Kamchatka"} <= set(zones["ru1"].split(","))
    narrow = {"windows": {"days": {"mon": ["10:00-11:00"]}}}
    assert (await call(http, d, "PATCH", BASE, json=narrow))[0] == 200
    again = {"contacts": [{"number": "+79161234568", "id": "ru3"}]}
    status, body = await call(http, d, "POST", f"{BASE}/contacts", json=again)
    assert (status, body["imported"]) == (201, 0) and "never overlap" in body["rejected"][0]["reason"], body
    assert (await call(http, d, "PATCH", BASE, json={"default_timezone": "Europe/Moscow"}))[0] == 200
    status, body = await call(http, d, "POST", f"{BASE}/contacts", json=again)
    assert (status, body["imported"], body["spanning"]) == (201, 1, 0), body
    status, body = await call(http, d, "GET", f"{BASE}/contacts?limit=10")
    assert {c["id"]: c["timezone"] for c in body["items"]}["ru3"] == "Europe/Moscow"
    status, body = await call(http, d, "PATCH", BASE, json={"default_timezone": "Europe/Atlantis"})
    assert (status, body["field"]) == (422, "body.default_timezone"), body


async def test_a_second_list_skips_the_numbers_the_campaign_has(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    """Over HTTP: a second list overlapping the first adds only its new numbers (the others are reported as
    duplicates: the person would be called again after a sale or a "no"); the same contact sent again with its
    id is the list's update of it."""
    d, http = env
    first = {"contacts": [{"number": "+442079460001", "id": "p1"}, {"number": "+442079460002", "id": "p2"}]}
    status, body = await call(http, d, "POST", f"{BASE}/contacts", json=first)
    assert (status, body["imported"], body["duplicates"]) == (201, 2, 0), body
    second = {
        "contacts": [
            {"number": "+44 20 7946 0002", "id": "other"},  # p2's number under another id
            {"number": "+442079460003", "id": "p3"},
            {"number": "+442079460001", "id": "p1", "name": "Ann"},  # p1 again: an update
        ]
    }
    status, body = await call(http, d, "POST", f"{BASE}/contacts", json=second)
    assert (status, body["imported"], body["duplicates"]) == (201, 2, 1), body
    status, body = await call(http, d, "GET", f"{BASE}/contacts")
    got = {c["id"]: c for c in body["items"]}
    assert set(got) == {"p1", "p2", "p3"} and got["p1"]["name"] == "Ann", got
    csv_text = "phone,name\n+442079460003,Twice\n+442079460004,New\n"
    async with http.post(
        d.url + f"{BASE}/import", data=csv_text, headers={**d.auth("supervisor"), "Content-Type": "text/csv"}
    ) as resp:
        body = await resp.json()
    assert (resp.status, body["imported"], body["duplicates"]) == (201, 1, 1), body
