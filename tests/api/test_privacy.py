"""``database.personal_data_days`` over the wire: an app_queue call on the simulator, answered, ended and stored;
once older than the retention (one second here, checked every 0.2 s by the daemon itself) its stored row has no
number, name or caller key left, and the API's recent calls no longer list it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from sqlalchemy import select

from ctiserver.events.log import EventLog
from ctiserver.store.database import Database
from ctiserver.store.models import CallRow, LegRow
from tests.api.app_queue import COMPONENTS, answered_call
from tests.api.harness import daemon
from tests.api.test_agent_actions_observer import EXTRA
from tests.servers.redis import wait_for


async def test_a_calls_personal_data_goes_after_the_retention(tmp_path: Path) -> None:
    database = {
        "url": f"sqlite+aiosqlite:///{tmp_path}/cti.sqlite",
        "spool_dir": str(tmp_path / "spool"),
        "personal_data_days": 1.0 / 86_400,
        "personal_data_check_seconds": 0.2,
    }
    async with daemon(tmp_path, COMPONENTS, **EXTRA, database=database) as d:
        async with aiohttp.ClientSession() as http:
            _, call_id = await answered_call(d, http, talk=0.5)
            log = d.ctx.require(EventLog)
            await wait_for(lambda: any(e.type == "call.ended" for e in log._ring))
            db = d.ctx.require(Database)

            async def row() -> CallRow | None:
                async with db.sessions() as s:
                    return await s.get(CallRow, call_id)

            stored = await row()
            for _ in range(100):  # the call is stored, then, a second after its start, anonymised
                if stored is not None and stored.anonymised:
                    break
                await asyncio.sleep(0.1)
                stored = await row()
            assert stored is not None and stored.anonymised, stored
            assert (stored.caller_num, stored.caller_name, stored.caller_key) == ("", "", "")
            async with db.sessions() as s:
                legs = (await s.scalars(select(LegRow).where(LegRow.call_id == call_id))).all()
            assert legs and all("5550123" not in (leg.caller_num + leg.callee_num + leg.channel) for leg in legs)
            recent: list[dict[str, object]] = []
            for _ in range(50):  # the calls component's own loop (every 0.2 s) drops it from memory
                async with http.get(d.url + "/api/calls/history", headers=d.auth("supervisor")) as resp:
                    assert resp.status == 200
                    recent = await resp.json()
                if call_id not in {c["call_id"] for c in recent}:
                    break
                await asyncio.sleep(0.1)
            assert call_id not in {c["call_id"] for c in recent}, recent


async def test_erasure_over_http_admins_only_with_the_field_named(tmp_path: Path) -> None:
    """``POST /api/privacy/erase``: admins only; a text that is no number is refused naming ``body.number``; an
    erasure answers what it found and puts the number on the global do-not-call list."""
    from ctiserver.dialer.tables import DncRow
    from tests.api.harness import daemon as plain_daemon

    async with plain_daemon(tmp_path) as d, aiohttp.ClientSession() as http:

        async def erase(role: str, body: object) -> tuple[int, dict[str, object]]:
            async with http.post(d.url + "/api/privacy/erase", headers=d.auth(role), json=body) as resp:
                return resp.status, await resp.json()

        assert (await erase("supervisor", {"number": "+48221234567"}))[0] == 403
        status, body = await erase("admin", {"number": "anonymous"})
        assert (status, body["field"]) == (422, "body.number"), body
        status, body = await erase("admin", {"number": "+48 22 123 45 67", "sure": True})
        assert (status, body["field"]) == (422, "body.sure"), body
        status, body = await erase("admin", {"number": "+48 22 123 45 67"})
        assert status == 200 and body["number"] == "+48221234567" and body["do_not_call"] is True, body
        async with d.ctx.require(Database).sessions() as s:
            listed = (await s.scalars(select(DncRow.number).where(DncRow.campaign == ""))).all()
        assert list(listed) == ["+48221234567"]


async def test_an_erased_callers_call_is_gone_from_the_recent_calls(tmp_path: Path) -> None:
    """An app_queue call of caller 5550123 on the simulator, ended and stored; its erasure over HTTP clears the
    stored row and takes the call out of the recent calls the API serves from memory."""
    async with daemon(tmp_path, COMPONENTS, **EXTRA) as d, aiohttp.ClientSession() as http:
        _, call_id = await answered_call(d, http, talk=0.5)
        log = d.ctx.require(EventLog)
        await wait_for(lambda: any(e.type == "call.ended" for e in log._ring))
        db = d.ctx.require(Database)
        for _ in range(100):  # stored by the calls component's writer
            async with db.sessions() as s:
                if await s.get(CallRow, call_id) is not None:
                    break
            await asyncio.sleep(0.05)
        async with http.get(d.url + "/api/calls/history", headers=d.auth("supervisor")) as resp:
            assert call_id in {c["call_id"] for c in await resp.json()}
        async with http.post(d.url + "/api/privacy/erase", headers=d.auth("admin"), json={"number": "5550123"}) as resp:
            body = await resp.json()
        assert resp.status == 200 and body["calls"] == 1, body
        async with http.get(d.url + "/api/calls/history", headers=d.auth("supervisor")) as resp:
            assert call_id not in {c["call_id"] for c in await resp.json()}
        async with db.sessions() as s:
            row = await s.get(CallRow, call_id)
        assert row is not None and row.anonymised and row.caller_num == ""


async def test_a_caller_erased_while_on_the_line_is_cleared_when_the_call_ends(tmp_path: Path) -> None:
    """The caller asks to be forgotten during the call: the erasure over HTTP answers that one call of theirs is
    going on; it is stored when it ends, and then cleared (numbers gone, anonymised) and out of the recent
    calls, by the daemon that carried out the erasure (``ctiserver/privacy/on_the_line.py``)."""
    components = (*COMPONENTS[:-1], "ctiserver.privacy.component", COMPONENTS[-1])
    async with daemon(tmp_path, components, **EXTRA) as d, aiohttp.ClientSession() as http:
        call, call_id = await answered_call(d, http, talk=8.0)
        async with http.post(d.url + "/api/privacy/erase", headers=d.auth("admin"), json={"number": "5550123"}) as resp:
            body = await resp.json()
        assert resp.status == 200 and (body["calls"], body["calls_going_on"]) == (0, 1), body
        assert not call.done.is_set()  # still talking
        db = d.ctx.require(Database)

        async def row() -> CallRow | None:
            async with db.sessions() as s:
                return await s.get(CallRow, call_id)

        stored = await row()
        for _ in range(250):  # the call ends (8 s after it was placed), is stored, then cleared
            if stored is not None and stored.anonymised:
                break
            await asyncio.sleep(0.1)
            stored = await row()
        assert call.done.is_set() and stored is not None and stored.anonymised, stored
        assert (stored.caller_num, stored.caller_name, stored.caller_key) == ("", "", "")
        async with db.sessions() as s:
            legs = (await s.scalars(select(LegRow).where(LegRow.call_id == call_id))).all()
        assert legs and all("5550123" not in (leg.caller_num + leg.callee_num + leg.channel) for leg in legs)
        async with http.get(d.url + "/api/calls/history", headers=d.auth("supervisor")) as resp:
            assert call_id not in {c["call_id"] for c in await resp.json()}
