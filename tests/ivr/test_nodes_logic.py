"""lookup, branch, hours, set, goto, sub/return, http on the in-memory CallControl (http over a socket)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from ctiserver.ivr.http_fetch import AiohttpFetcher
from ctiserver.ivr.ports import Contact, MemoryContacts
from ctiserver.ivr.run_state import IvrSettings, Services
from ctiserver.ivr.session import IvrEnd
from tests.ivr.util import CALLER, clock_at, run, script_of

VIP = """
script: t
nodes:
  who:
    type: lookup
    found: vip_check
    not_found: anon
  vip_check:
    type: branch
    conditions:
      - if: "contact.vip and now.hour < 12"
        goto: vip_morning
      - if: "contact.vip"
        goto: vip
    else: regular
  vip_morning: {type: set, vars: {segment: "vip-am", customer: "{{ contact.name }}"}, next: bye}
  vip: {type: set, vars: {segment: vip}, next: bye}
  regular: {type: set, vars: {segment: regular}, next: bye}
  anon: {type: set, vars: {segment: unknown}, next: bye}
  bye: {type: hangup}
"""


def contacts() -> MemoryContacts:
    return MemoryContacts({CALLER: Contact("c-1", "Olena", {"vip": True}), "+100": Contact("c-2", "Bob")})


async def test_lookup_and_branch_on_contact_and_time() -> None:
    script = script_of(VIP)
    s1, fake = await run(
        script, services=Services(contacts=contacts()), clock=clock_at("2026-11-23T09:30+02:00")
    )
    assert s1.path == ["who", "vip_check", "vip_morning", "bye"]
    assert s1.vars == {"segment": "vip-am", "customer": "Olena"}
    assert s1.contact is not None and s1.contact.id == "c-1"
    assert s1.steps[0].result == "found c-1" and s1.steps[1].result == "condition 1"
    assert fake.channels["chan-1"].variables["__CTI_CUSTOMER"] == "Olena"
    s2, _ = await run(
        script, services=Services(contacts=contacts()), clock=clock_at("2026-11-23T15:00+02:00")
    )
    assert s2.vars["segment"] == "vip"
    s3, _ = await run(script, services=Services(contacts=contacts()), caller="+100")
    assert s3.vars["segment"] == "regular" and s3.steps[1].result == "else"
    s4, _ = await run(script, services=Services(contacts=contacts()), caller="+999")
    assert s4.path == ["who", "anon", "bye"]


HOURS = """
script: h
timezone: Europe/Kyiv
schedules:
  office:
    timezone: Europe/Kyiv
    weekly: {mon-fri: "09:00-18:00", sat: "10:00-14:00"}
    holidays: [2026-12-25]
nodes:
  check: {type: hours, schedule: office, open: o, closed: c, holiday: h}
  o: {type: hangup}
  c: {type: hangup}
  h: {type: hangup}
"""


@pytest.mark.parametrize(
    ("at", "node"),
    [
        ("2026-11-23T08:59:59+02:00", "c"),  # Monday before opening (Kyiv time)
        ("2026-11-23T09:00:00+02:00", "o"),
        ("2026-11-23T15:59:00Z", "o"),  # 17:59 in Kyiv
        ("2026-11-23T16:00:00Z", "c"),  # 18:00 in Kyiv
        ("2026-11-28T12:00:00+02:00", "o"),  # Saturday
        ("2026-11-29T12:00:00+02:00", "c"),  # Sunday
        ("2026-12-25T12:00:00+02:00", "h"),  # holiday, a Friday
        ("2026-12-24T22:30:00Z", "h"),  # already the 25th in Kyiv
    ],
)
async def test_hours_weekly_holiday_timezone(at: str, node: str) -> None:
    session, _ = await run(script_of(HOURS), clock=clock_at(at))
    assert session.path == ["check", node]


SUB = """
script: main
vars: {greeting: hi}
nodes:
  a: {type: goto, node: b}
  b: {type: sub, script: child, next: c}
  c: {type: set, vars: {after: "{{ vars.child_var }}-{{ vars.greeting }}"}, next: d}
  d: {type: hangup}
"""
CHILD = """
script: child
vars: {child_default: x}
nodes:
  s: {type: set, vars: {child_var: "{{ vars.child_default }}"}, next: r}
  r: {type: return}
"""


async def test_goto_sub_script_and_return() -> None:
    child = script_of(CHILD, "child.yaml")
    services = Services(scripts={"child": child}.get)
    session, _ = await run(script_of(SUB), services=services)
    assert session.path == ["a", "b", "s", "r", "c", "d"]
    assert [s.script for s in session.steps] == ["main", "main", "child", "child", "main", "main"]
    assert session.vars["after"] == "x-hi"


async def test_top_level_return_hangs_up() -> None:
    session, fake = await run(script_of(CHILD))
    assert session.end is IvrEnd.RETURN and fake.methods()[-1] == "hangup"


HTTP = """
script: b
vars: {url: "http://unset"}
nodes:
  get:
    type: http
    url: "{{ vars.url }}/accounts/{{ vars.acct }}"
    timeout: 0.5
    map: {balance: "{{ reply.balance }}", status: "{{ reply.status | upper }}"}
    on_error: err
    next: ok
  ok: {type: hangup}
  err: {type: hangup}
"""


@pytest.fixture
async def backend() -> AsyncIterator[str]:
    release = asyncio.Event()

    async def account(request: web.Request) -> web.StreamResponse:
        acct = request.match_info["acct"]
        if acct == "slow":
            await release.wait()
        if acct == "broken":
            return web.Response(status=500, text="oops")
        if acct == "html":
            return web.Response(text="<html>", content_type="text/html")
        return web.json_response({"balance": 12.5, "status": "active", "acct": acct})

    app = web.Application()
    app.router.add_get("/accounts/{acct}", account)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    release.set()
    await runner.cleanup()


@pytest.mark.parametrize(
    ("acct", "path", "result"),
    [
        ("42", "ok", "ok"),
        ("broken", "err", "error: HttpNodeError"),
        ("html", "err", "error: HttpNodeError"),
        ("slow", "err", "error: timeout"),
    ],
)
async def test_http_maps_json_reply_or_routes_to_on_error(
    backend: str, acct: str, path: str, result: str
) -> None:
    async with AiohttpFetcher() as fetcher:
        settings = IvrSettings(vars={"url": backend, "acct": acct})
        session, _ = await run(script_of(HTTP), services=Services(http=fetcher, settings=settings))
    assert session.path == ["get", path]
    assert session.steps[0].result == result
    if path == "ok":
        assert session.vars["balance"] == "12.5" and session.vars["status"] == "ACTIVE"
