"""Dialer endpoints over real HTTP against the daemon (simulator as the PBX, SQLite store, the dialer component):
campaigns and their state machine, contacts as JSON and CSV (text and multipart) with rejected rows, DNC lists,
agents' dispositions and call-backs, and every role refusal."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from ctiserver.api.handlers import ROUTER
from ctiserver.dialer.service import DialerService
from tests.api.harness import DIALER_COMPONENTS, Daemon, daemon
from tests.dialer.wire import window_around_now

COMPONENTS = DIALER_COMPONENTS
DIALER_EPS = [ep for ep in ROUTER.endpoints if ep.tag == "dialer"]
CAMPAIGN = {"name": "spring", "mode": "progressive", "region": "GB", "ring_timeout": 20}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[Daemon, aiohttp.ClientSession]]:
    async with (
        daemon(tmp_path, components=COMPONENTS, simulator={"enabled": True}) as d,
        aiohttp.ClientSession() as http,
    ):
        yield d, http


async def call(
    http: aiohttp.ClientSession, d: Daemon, method: str, path: str, role: str | None = "supervisor", **kw: Any
) -> tuple[int, Any]:
    headers = dict(kw.pop("headers", {}))
    if role is not None:
        headers.update(d.auth(role))
    async with http.request(method, d.url + path, headers=headers, **kw) as resp:
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, body


async def _campaign(http: aiohttp.ClientSession, d: Daemon, **extra: Any) -> None:
    status, body = await call(http, d, "POST", "/api/dialer/campaigns", json={**CAMPAIGN, **extra})
    assert status == 201, body


async def test_campaign_create_list_and_state_machine(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    status, body = await call(http, d, "POST", "/api/dialer/campaigns", json=CAMPAIGN)
    assert status == 201, body
    assert body["name"] == "spring" and body["state"] == "draft"
    assert body["settings"]["ring_timeout"] == 20 and body["settings"]["region"] == "GB"
    assert d.ctx.require(DialerService).runners["spring"].settings.ring_timeout == 20
    status, body = await call(http, d, "POST", "/api/dialer/campaigns", role="admin", json=CAMPAIGN)
    assert (status, body["code"], body["field"]) == (409, "exists", "body.name")

    status, body = await call(http, d, "GET", "/api/dialer/campaigns")
    assert status == 200 and [c["name"] for c in body] == ["spring"]
    status, body = await call(http, d, "GET", "/api/dialer/campaigns/spring")
    assert status == 200 and body["stats"]["state"] == "draft"
    status, body = await call(http, d, "GET", "/api/dialer/campaigns/nope")
    assert (status, body["field"]) == (404, "name")

    # no agent is ready on the AMI desk, so a progressive campaign dials nothing while running
    for action, state in (("start", "running"), ("pause", "paused"), ("start", "running"), ("stop", "stopped")):
        status, body = await call(http, d, "POST", f"/api/dialer/campaigns/spring/{action}")
        assert status == 200, body
        assert body["state"] == state
        status, stats = await call(http, d, "GET", "/api/dialer/campaigns/spring/stats")
        assert stats["state"] == state and stats["campaign"] == "spring"
    status, body = await call(http, d, "POST", "/api/dialer/campaigns/spring/pause")
    assert (status, body["code"]) == (409, "illegal_transition")
    assert d.ctx.require(DialerService).runners["spring"].state.value == "stopped"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**CAMPAIGN, "ring_timeout": 5}, "body.ring_timeout"),  # the law: at least 15 s of ringing
        ({**CAMPAIGN, "colour": "red"}, "body.colour"),
        ({**CAMPAIGN, "name": "bad name!"}, "body.name"),
        ({**CAMPAIGN, "mode": "psychic"}, "body.mode"),
        ({"mode": "preview"}, "body.name"),
    ],
)
async def test_bad_campaign_payloads_name_the_field(
    env: tuple[Daemon, aiohttp.ClientSession], payload: dict[str, Any], field: str
) -> None:
    d, http = env
    status, body = await call(http, d, "POST", "/api/dialer/campaigns", json=payload)
    assert status == 422 and body["field"] == field, body
    status, body = await call(http, d, "POST", "/api/dialer/campaigns", data="{not json")
    assert (status, body["code"], body["field"]) == (400, "bad_json", "body")
    assert d.ctx.require(DialerService).runners == {}


async def test_contacts_json_and_csv_report_rejected_rows(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    await _campaign(http, d)
    contacts = [
        {"number": "020 7946 0018", "name": "Ann", "id": "c1", "fields": {"plan": "gold"}},
        {"number": "not a number", "name": "Bob"},
        {"number": "+1 212 555 0147", "name": "Cy", "id": "c3"},
    ]
    status, body = await call(http, d, "POST", "/api/dialer/campaigns/spring/contacts", json={"contacts": contacts})
    assert status == 201, body
    assert body["imported"] == 2 and len(body["rejected"]) == 1
    assert body["rejected"][0]["line"] == 1 and body["rejected"][0]["reason"]
    store = d.ctx.require(DialerService).store
    ann = await store.get_contact("spring", "c1")
    assert ann is not None and ann.number == "+442079460018" and ann.fields == {"plan": "gold"}
    assert ann.timezone == "Europe/London"

    csv_text = "Phone,Full Name,city\n+442079460019,Dee,Leeds\n12,Eve,York\n+442079460020,Fay,Bath\n"
    status, body = await call(
        http,
        d,
        "POST",
        "/api/dialer/campaigns/spring/import",
        params={"map": "number=Phone,name=Full Name"},
        data=csv_text,
        headers={"Content-Type": "text/csv"},
    )
    assert status == 201, body
    assert body["imported"] == 2 and [r["line"] for r in body["rejected"]] == [3]
    assert body["rejected"][0]["row"]["Full Name"] == "Eve"

    form = aiohttp.FormData()
    form.add_field("file", "phone,name\n+442079460021,Gus\n", filename="list.csv", content_type="text/csv")
    status, body = await call(http, d, "POST", "/api/dialer/campaigns/spring/import", data=form)
    assert (status, body["imported"], body["rejected"]) == (201, 1, [])
    numbers = sorted(c.number for c in await store.contacts("spring"))
    assert numbers == ["+12125550147", "+442079460018", "+442079460019", "+442079460020", "+442079460021"]

    # bad payloads: the field is named and nothing is added
    status, body = await call(
        http,
        d,
        "POST",
        "/api/dialer/campaigns/spring/import",
        data="tel\n+442079460022\n",
        headers={"Content-Type": "text/csv"},
    )
    assert (status, body["field"]) == (422, "body") and "phone" in body["message"]
    status, body = await call(
        http, d, "POST", "/api/dialer/campaigns/spring/import", params={"map": "bogus"}, data="phone\n1\n"
    )
    assert (status, body["field"]) == (422, "query.map")
    status, body = await call(http, d, "POST", "/api/dialer/campaigns/spring/contacts", json={"contacts": []})
    assert (status, body["field"]) == (422, "body.contacts")
    status, body = await call(
        http, d, "POST", "/api/dialer/campaigns/spring/contacts", json={"contacts": [{"name": "no number"}]}
    )
    assert (status, body["field"]) == (422, "body.contacts.0.number")
    assert len(await store.contacts("spring")) == 5


async def test_dnc_lists_global_and_per_campaign(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    await _campaign(http, d)
    store = d.ctx.require(DialerService).store
    status, body = await call(http, d, "POST", "/api/dialer/dnc", json={"numbers": ["+1 212 555 0100"]})
    assert (status, body) == (201, {"added": 1, "numbers": ["+12125550100"]})
    # a national number on the global list: the daemon's default_region (RU in the test daemon)
    status, body = await call(http, d, "POST", "/api/dialer/dnc", json={"numbers": ["8 912 345-67-89"]})
    assert (status, body) == (201, {"added": 1, "numbers": ["+79123456789"]})
    assert (await call(http, d, "DELETE", "/api/dialer/dnc/89123456789"))[0] == 204
    status, body = await call(
        http,
        d,
        "POST",
        "/api/dialer/campaigns/spring/dnc",
        role="admin",
        json={"numbers": ["020 7946 0018", "+442079460099"], "reason": "asked"},
    )
    assert status == 201 and body["added"] == 2 and body["numbers"][0] == "+442079460018"
    status, body = await call(http, d, "POST", "/api/dialer/campaigns/spring/dnc", json={"numbers": ["+1", "xyz"]})
    assert status == 422 and body["field"] == "body.numbers.0", body

    global_list = {"campaign": "", "numbers": ["+12125550100"], "next": None}
    assert (await call(http, d, "GET", "/api/dialer/dnc"))[1] == global_list
    status, body = await call(http, d, "GET", "/api/dialer/campaigns/spring/dnc")
    assert body == {"campaign": "spring", "numbers": ["+442079460018", "+442079460099"], "next": None}
    # page by page (a registry extract has millions): next is the last number of a page that has more after it
    status, body = await call(http, d, "GET", "/api/dialer/campaigns/spring/dnc?limit=1")
    assert (status, body["numbers"], body["next"]) == (200, ["+442079460018"], "+442079460018")
    status, body = await call(http, d, "GET", "/api/dialer/campaigns/spring/dnc?limit=1&after=%2B442079460018")
    assert (status, body["numbers"], body["next"]) == (200, ["+442079460099"], None)
    status, body = await call(http, d, "GET", "/api/dialer/dnc?limit=0")
    assert (status, body["field"]) == (422, "query.limit"), body
    # is a number listed? (a CRM asks before its own click-to-dial; national numbers read in the list's region)
    status, body = await call(http, d, "GET", "/api/dialer/campaigns/spring/dnc/020%207946%200018", role="crm")
    assert (status, body) == (200, {"number": "+442079460018", "listed": True})
    status, body = await call(http, d, "GET", "/api/dialer/campaigns/spring/dnc/+12125550100")  # the global list
    assert (status, body) == (200, {"number": "+12125550100", "listed": True})
    status, body = await call(http, d, "GET", "/api/dialer/dnc/+442079460018", role="crm")  # a campaign's only
    assert (status, body) == (200, {"number": "+442079460018", "listed": False})
    status, body = await call(http, d, "GET", "/api/dialer/dnc/xyz")
    assert (status, body["field"]) == (422, "number")
    assert (await call(http, d, "GET", "/api/dialer/dnc/+12125550100", role="agent"))[0] == 403
    assert await store.dnc_contains("+12125550100", "spring")  # the global list applies to every campaign

    status, _ = await call(http, d, "DELETE", "/api/dialer/campaigns/spring/dnc/+442079460099")
    assert status == 204
    status, body = await call(http, d, "DELETE", "/api/dialer/campaigns/spring/dnc/+442079460099")
    assert (status, body["field"]) == (404, "number")
    status, _ = await call(http, d, "DELETE", "/api/dialer/dnc/+12125550100")
    assert status == 204
    assert not await store.dnc_contains("+12125550100", "spring")
    assert await store.dnc_list("spring") == ["+442079460018"]


async def test_agent_disposition_do_not_call_and_callbacks(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    await _campaign(http, d)
    service = d.ctx.require(DialerService)
    await call(
        http,
        d,
        "POST",
        "/api/dialer/campaigns/spring/contacts",
        json={"contacts": [{"number": "+442079460018", "id": "c1"}]},
    )
    path = "/api/dialer/campaigns/spring/contacts/c1/disposition"
    status, body = await call(http, d, "POST", path, role="agent", json={"disposition": "psychic"})
    assert (status, body["field"]) == (422, "body.disposition")
    status, body = await call(http, d, "POST", path.replace("c1", "zz"), role="agent", json={"disposition": "sale"})
    assert (status, body["field"]) == (404, "contact_id")
    # an agent sets dispositions only of contacts it talked to (or its own call-backs); a supervisor of any
    status, body = await call(http, d, "POST", path, role="agent", json={"disposition": "do_not_call"})
    assert (status, body["code"]) == (403, "forbidden")
    assert not await service.store.dnc_contains("+442079460018", "spring")
    status, _ = await call(http, d, "POST", path, json={"disposition": "do_not_call"})
    assert status == 204
    assert await service.store.dnc_list("spring") == ["+442079460018"]

    at = time.time() + 3600
    cb = "/api/dialer/campaigns/spring/callbacks"
    status, body = await call(http, d, "POST", cb, role="agent", json={"number": "020 7946 0030", "at": at})
    assert status == 201, body
    assert body["agent"] == "1001" and body["number"] == "+442079460030" and body["at"] == at
    stored = await service.store.get_contact("spring", body["contact_id"])
    assert stored is not None and stored.agent == "1001" and stored.status.value == "callback"
    own = f"/api/dialer/campaigns/spring/contacts/{stored.id}/disposition"
    status, _ = await call(http, d, "POST", own, role="agent2", json={"disposition": "do_not_call"})
    assert status == 403
    status, _ = await call(http, d, "POST", own, role="agent", json={"disposition": "do_not_call"})
    assert status == 204  # the agent's own call-back: the number goes on the campaign's DNC list
    assert await service.store.dnc_list("spring") == ["+442079460018", "+442079460030"]
    status, body = await call(
        http, d, "POST", cb, role="agent", json={"number": "+442079460031", "at": at, "agent": "1002"}
    )
    assert (status, body["code"]) == (403, "forbidden")
    status, body = await call(http, d, "POST", cb, json={"number": "+442079460032", "at": at})
    assert status == 201 and body["agent"] is None  # a supervisor's call-back goes to the campaign's queue
    status, body = await call(http, d, "POST", cb, json={"number": "nope", "at": at})
    assert (status, body["field"]) == (422, "body.number")
    status, body = await call(http, d, "POST", cb, json={"number": "+442079460033", "at": -1})
    assert (status, body["field"]) == (422, "body.at")
    assert sorted(c.number for c in await service.store.contacts("spring") if c.status.value == "callback") == [
        "+442079460030",
        "+442079460032",
    ]


async def test_every_dialer_endpoint_refuses_missing_and_wrong_role_tokens(
    env: tuple[Daemon, aiohttp.ClientSession],
) -> None:
    d, http = env
    await _campaign(http, d)
    assert len(DIALER_EPS) >= 15
    for ep in DIALER_EPS:
        path = ep.path.format(name="spring", number="+442079460018", contact_id="c1")
        status, body = await call(http, d, ep.method, path, role=None, json={})
        assert (status, body["code"]) == (401, "unauthorized"), (ep.method, path)
        if "crm" not in {r.value for r in ep.roles}:  # only the abandonment record is the CRM's too
            status, body = await call(http, d, ep.method, path, role="crm", json={})
            assert (status, body["code"]) == (403, "forbidden"), (ep.method, path)
        if "agent" not in {r.value for r in ep.roles}:
            status, _ = await call(http, d, ep.method, path, role="agent", json={})
            assert status == 403, (ep.method, path)
    assert d.ctx.require(DialerService).runners["spring"].state.value == "draft"


async def test_openapi_document_lists_the_dialer_routes(env: tuple[Daemon, aiohttp.ClientSession]) -> None:
    d, http = env
    status, doc = await call(http, d, "GET", "/api/openapi.json", role="crm")
    assert status == 200
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if ops[m]["tags"] == ["dialer"]}
    assert documented == {(ep.method, ep.path) for ep in DIALER_EPS}
    create = doc["paths"]["/api/dialer/campaigns"]["post"]
    assert "supervisor" in create["description"] and "agent" not in create["description"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "ring_timeout" in doc["components"]["schemas"][ref]["properties"]


def _sim_yaml(path: Path) -> Path:
    conf = {
        "endpoints": [
            {"name": "1001", "callerid_name": "Agent 1001", "callerid_num": "1001", "answer_after": 0.2},
            {"name": "+49301000001", "answer_after": 0.5, "hangup_after": 2.0},
            {"name": "+49301000002", "answer_after": 0.5, "hangup_after": 2.0},
        ],
        "dialplan": {
            "ctiserver-amd": {"s": [{"app": "Wait", "data": "60"}, {"app": "Hangup"}]},
            # the message an abandoned answer hears: without it the daemon's dialplan check lets nothing be dialled
            "ctiserver-dialer-abandon": {"s": [{"app": "Playback", "data": "${CTI_MESSAGE}"}, {"app": "Hangup"}]},
            "from-agents": {"_100X": [{"app": "Dial", "data": "PJSIP/${EXTEN},30"}, {"app": "Hangup"}]},
        },
    }
    path.write_text(yaml.safe_dump(conf), encoding="utf-8")
    return path


async def test_campaign_built_through_the_api_dials_and_skips_dnc(tmp_path: Path) -> None:
    """Create, import, DNC and start only through HTTP: the good contact is dialled and reaches the agent, the
    number put on the global DNC list after the import is never dialled (checked at dial time)."""
    extra = {
        "simulator": {"enabled": True, "config_file": str(_sim_yaml(tmp_path / "sim.yaml"))},
        "dialer": {"lines": {"channel": "PJSIP/{e164}", "amd_wait": 0.5}, "agents": ["1001"], "wrapup": 0.5},
    }
    windows = window_around_now().model_dump(mode="json")
    async with (
        daemon(tmp_path, components=COMPONENTS, **extra) as d,
        aiohttp.ClientSession() as http,
    ):
        await _campaign(http, d, name="live", region="DE", windows=windows)
        csv_text = "id,phone\nk1,+49301000001\nk2,030 1000002\n"
        status, body = await call(http, d, "POST", "/api/dialer/campaigns/live/import", data=csv_text)
        assert (status, body["imported"]) == (201, 2), body
        status, _ = await call(http, d, "POST", "/api/dialer/dnc", json={"numbers": ["+49301000002"]})
        assert status == 201
        status, body = await call(http, d, "POST", "/api/dialer/campaigns/live/start")
        assert (status, body["state"]) == (200, "running")
        store = d.ctx.require(DialerService).store
        async with asyncio.timeout(60):
            while True:
                k2 = await store.get_contact("live", "k2")
                if await store.attempts("live") and k2 is not None and k2.status.value == "dnc":
                    break
                await asyncio.sleep(0.1)
        status, stats = await call(http, d, "GET", "/api/dialer/campaigns/live/stats")
        assert stats["counters"].get("connected") == 1, stats
        # the agent who talked to k1 may set its disposition; another agent may not
        path = "/api/dialer/campaigns/live/contacts/k1/disposition"
        status, _ = await call(http, d, "POST", path, role="agent2", json={"disposition": "sale"})
        assert status == 403
        status, _ = await call(http, d, "POST", path, role="agent", json={"disposition": "sale"})
        assert status == 204
        status, _ = await call(http, d, "POST", "/api/dialer/campaigns/live/stop")
        assert status == 200
        attempts = await store.attempts("live")
        assert [(a.contact_id, a.number, a.outcome.value, a.agent) for a in attempts] == [
            ("k1", "+49301000001", "human", "1001")
        ]


async def test_schemathesis_finds_no_server_error_on_the_dialer(tmp_path: Path) -> None:
    async with daemon(
        tmp_path, components=COMPONENTS, simulator={"enabled": True}, auth={"failure_limit": 1_000_000}
    ) as d:
        args = [
            "-m", "schemathesis.cli", "run", d.url + "/api/openapi.json", "--include-tag", "dialer",
            "--checks", "not_a_server_error,status_code_conformance,response_schema_conformance,"
            "content_type_conformance",
            "--phases", "examples,coverage,fuzzing",
            "-H", f"Authorization: Bearer {d.tokens['admin']}",
            # one worker: with two, hypothesis' lambda descriptions call ast.parse from two threads at once and
            # CPython 3.11 fails with "SystemError: AST constructor recursion depth mismatch" (a Runtime Error)
            "--max-examples", "6", "--workers", "1", "--request-timeout", "20", "--seed", "1",
            "--suppress-health-check", "all", "--no-color",
        ]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 240)
        text = out.decode(errors="replace")
        assert proc.returncode == 0, text[-6000:]
        tested = re.search(r"Tested: (\d+)", text)
        assert tested is not None and int(tested.group(1)) == len(DIALER_EPS), text[-3000:]
