"""The agent console's side of the dialer over real HTTP against the daemon (simulator, SQLite store, dialer
component): each campaign's wrap-up dispositions, the pending call-backs across campaigns (agents: only their own
personal ones; supervisors: all or one agent's), and scheduling from an agent token — roles enforced, the field
named on bad input."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ctiserver.dialer.service import DialerService
from tests.api.harness import DIALER_COMPONENTS, Daemon, daemon

COMPONENTS = DIALER_COMPONENTS
SPRING = {"name": "spring", "region": "GB", "ring_timeout": 20}
AUTUMN = {"name": "autumn", "region": "DE", "queue": "sales", "dispositions": ["sale", "do_not_call", "later"]}


async def call(
    http: aiohttp.ClientSession, d: Daemon, method: str, path: str, role: str | None = "supervisor", **kw: Any
) -> tuple[int, Any]:
    headers = d.auth(role) if role is not None else {}
    async with http.request(method, d.url + path, headers=headers, **kw) as resp:
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, body


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[Daemon, aiohttp.ClientSession]]:
    async with (
        daemon(tmp_path, components=COMPONENTS, simulator={"enabled": True}) as d,
        aiohttp.ClientSession() as http,
    ):
        for campaign in (SPRING, AUTUMN):
            status, body = await call(http, d, "POST", "/api/dialer/campaigns", json=campaign)
            assert status == 201, body
        yield d, http


async def test_agents_read_every_campaigns_dispositions(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    for role in ("agent", "supervisor", "admin"):
        status, body = await call(http, d, "GET", "/api/dialer/dispositions", role=role)
        assert status == 200, body
        assert {c["campaign"]: c["dispositions"] for c in body} == {
            "spring": ["sale", "no_interest", "call_back", "do_not_call", "wrong_number", "answering_machine"],
            "autumn": ["sale", "do_not_call", "later"],
        }
        assert {c["campaign"]: (c["state"], c["queue"]) for c in body} == {
            "spring": ("draft", "outbound"),
            "autumn": ("draft", "sales"),
        }
    assert (await call(http, d, "GET", "/api/dialer/dispositions", role="crm"))[0] == 403
    assert (await call(http, d, "GET", "/api/dialer/dispositions", role=None))[0] == 401


async def test_callbacks_list_own_for_agents_all_for_supervisors(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    now = time.time()
    status, mine = await call(
        http,
        d,
        "POST",
        "/api/dialer/campaigns/spring/callbacks",
        role="agent",
        json={"number": "020 7946 0030", "at": now + 7200, "name": "Ann", "fields": {"note": "after lunch"}},
    )
    assert status == 201 and mine["agent"] == "1001", mine
    status, theirs = await call(
        http,
        d,
        "POST",
        "/api/dialer/campaigns/autumn/callbacks",
        role="agent2",
        json={"number": "+49301000001", "at": now + 3600},
    )
    assert status == 201 and theirs["agent"] == "1002", theirs
    status, queued = await call(
        http, d, "POST", "/api/dialer/campaigns/spring/callbacks", json={"number": "+442079460032", "at": now + 60}
    )
    assert status == 201 and queued["agent"] is None
    # an ordinary contact of the list is not a call-back
    status, _ = await call(
        http, d, "POST", "/api/dialer/campaigns/spring/contacts", json={"contacts": [{"number": "+442079460040"}]}
    )
    assert status == 201

    status, body = await call(http, d, "GET", "/api/callbacks", role="agent")
    assert status == 200, body
    assert body == [
        {
            "contact_id": mine["contact_id"],
            "campaign": "spring",
            "number": "+442079460030",
            "at": now + 7200,
            "agent": "1001",
            "name": "Ann",
            "fields": {"note": "after lunch"},
        }
    ]
    assert (await call(http, d, "GET", "/api/callbacks?agent=1001", role="agent"))[1] == body
    status, err = await call(http, d, "GET", "/api/callbacks?agent=1002", role="agent")
    assert (status, err["code"]) == (403, "forbidden")
    status, body = await call(http, d, "GET", "/api/callbacks", role="agent2")
    assert [c["contact_id"] for c in body] == [theirs["contact_id"]]

    status, body = await call(http, d, "GET", "/api/callbacks")  # a supervisor: all, the earliest first
    assert status == 200
    assert [c["contact_id"] for c in body] == [queued["contact_id"], theirs["contact_id"], mine["contact_id"]]
    assert [c["contact_id"] for c in (await call(http, d, "GET", "/api/callbacks?agent=1002", role="admin"))[1]] == [
        theirs["contact_id"]
    ]
    status, body = await call(http, d, "GET", "/api/callbacks?campaign=spring&limit=1")
    assert [c["contact_id"] for c in body] == [queued["contact_id"]]
    for query, field in (
        ("campaign=nope", "query.campaign"),
        ("limit=0", "query.limit"),
        ("colour=red", "query.colour"),
    ):
        status, err = await call(http, d, "GET", f"/api/callbacks?{query}")
        assert (status, err["field"]) == (404 if field == "query.campaign" else 422, field), err
    assert (await call(http, d, "GET", "/api/callbacks", role="crm"))[0] == 403
    assert (await call(http, d, "GET", "/api/callbacks", role=None))[0] == 401

    # cancelled: gone from the list
    status, _ = await call(
        http, d, "DELETE", f"/api/dialer/campaigns/spring/callbacks/{mine['contact_id']}", role="agent"
    )
    assert status == 204
    assert (await call(http, d, "GET", "/api/callbacks", role="agent"))[1] == []


async def test_agent_schedules_personal_only_and_bad_payloads_name_the_field(
    env: tuple[Daemon, aiohttp.ClientSession],
) -> None:
    d, http = env
    cb = "/api/dialer/campaigns/spring/callbacks"
    at = time.time() + 600
    status, err = await call(
        http, d, "POST", cb, role="agent", json={"number": "+442079460031", "at": at, "agent": "1002"}
    )
    assert (status, err["code"]) == (403, "forbidden") and "themselves" in err["message"]
    for payload, field in (
        ({"at": at}, "body.number"),
        ({"number": "+442079460031"}, "body.at"),
        ({"number": "+442079460031", "at": "tomorrow"}, "body.at"),
        ({"number": "nope", "at": at}, "body.number"),
        ({"number": "+442079460031", "at": at, "queue": "x"}, "body.queue"),
    ):
        status, err = await call(http, d, "POST", cb, role="agent", json=payload)
        assert (status, err["field"]) == (422, field), (payload, err)
    status, err = await call(http, d, "POST", cb, role="agent", data="{nope")
    assert (status, err["field"]) == (400, "body")
    status, err = await call(
        http,
        d,
        "POST",
        "/api/dialer/campaigns/nope/callbacks",
        role="agent",
        json={"number": "+442079460031", "at": at},
    )
    assert (status, err["field"]) == (404, "name")
    store = d.ctx.require(DialerService).store
    assert [c for c in await store.contacts("spring")] == []  # nothing was scheduled


async def test_agent_sets_the_disposition_while_its_attempt_is_not_stored_yet(
    env: tuple[Daemon, aiohttp.ClientSession],
) -> None:
    """In wrap-up the attempt's record may not be written yet: the agent the runner connected the contact to may
    set its disposition all the same; another agent may not."""
    d, http = env
    service = d.ctx.require(DialerService)
    status, _ = await call(
        http,
        d,
        "POST",
        "/api/dialer/campaigns/spring/contacts",
        json={"contacts": [{"number": "+442079460050", "id": "k9"}]},
    )
    assert status == 201
    path = "/api/dialer/campaigns/spring/contacts/k9/disposition"
    assert (await call(http, d, "POST", path, role="agent", json={"disposition": "do_not_call"}))[0] == 403
    service.runners["spring"].talking["k9"] = "1001"  # bridged to 1001, the attempt not recorded yet
    assert (await call(http, d, "POST", path, role="agent2", json={"disposition": "do_not_call"}))[0] == 403
    assert await service.store.dnc_list("spring") == []
    assert (await call(http, d, "POST", path, role="agent", json={"disposition": "do_not_call"}))[0] == 204
    assert await service.store.dnc_list("spring") == ["+442079460050"]
