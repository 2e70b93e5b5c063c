"""The ACD's call-backs over the wire, the whole daemon (IVR, ACD over ARI, SQLite) against the simulator. A
caller on DID 100 waits in the queue with every agent on a break, presses 1 for a call-back and is hung up.
Across a restart: the daemon stops, the next run puts the call-back back in its queue, and once an agent is
ready the ACD rings the agent, dials the customer through the carrier and bridges them; what is owed is written
down until it is made (``acd_callbacks``). In one run: the agent's screen-pop comes for the caller who hung up."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.persist import AgentStateStore
from ctiserver.acd.service import AcdService
from ctiserver.api.auth import Role, new_token
from ctiserver.cli import main
from ctiserver.crm.screenpop import ScreenPop
from ctiserver.events import DomainEvent
from ctiserver.sim.simulator import CallHandle
from ctiserver.store.database import Database
from ctiserver.store.models import CallRow
from tests.dialer.acd_daemon import AGENTS, QUEUE, Daemon, daemon, ivr_script, listen
from tests.dialer.waits import until, until_read
from tests.dialer.wire import number

pytestmark = pytest.mark.slow

CALLER = number(88)
CAMPAIGN = {"name": "idle", "mode": "progressive", "queue": QUEUE, "caller_id": "5550200"}
# the customer is dialled as on Asterisk: Local/<number>@ctiserver-outbound (rendered), Dial(PJSIP/<number>@trunk)
SALES = {"callback": {"enabled": True, "digit": "1", "endpoint": "Local/{number}@ctiserver-outbound"}}


async def _has(found: Awaitable[set[str]], item: str) -> bool:
    return item in await found


def _store(d: Daemon) -> Any:
    return d.ctx.require(AcdService)._store


async def _ask_for_call_back(d: Daemon, seen: list[DomainEvent]) -> tuple[CallHandle, DomainEvent]:
    """Every agent on a break, the caller dials DID 100 and presses 1 in the queue: the ACD's call-back."""
    acd = d.ctx.require(AcdService)
    for a in AGENTS:
        await acd.pause(a, "break")
    call = d.sim.place_call(from_number=CALLER, from_name="Olena Shevchenko", to="100", dtmf=[(4.0, "1")])
    assert await until(lambda: any(e.type == "callback.requested" for e in seen), 20.0), [e.type for e in seen]
    [requested] = [e for e in seen if e.type == "callback.requested"]
    return call, requested


async def test_a_call_back_asked_for_while_waiting_is_made_after_a_restart(tmp_path: Path) -> None:
    ivr_script(tmp_path)
    async with daemon(tmp_path, CAMPAIGN, factor=4.0, sales=SALES) as d:
        seen = listen(d)
        call, requested = await _ask_for_call_back(d, seen)
        assert await until(call.done.is_set, 10.0)  # the ACD hung the caller up: the call-back keeps the place
        store: AgentStateStore = _store(d)
        [owed] = await store.load_callbacks()
        assert (owed.call_id, owed.queue, owed.number, owed.attempts) == (requested.subject, QUEUE, CALLER, 0)
        stopped = d.clock.now()

    async with daemon(tmp_path, CAMPAIGN, factor=4.0, sales=SALES, start=stopped) as d:
        seen = listen(d)
        d.sim.agent(AGENTS[0], answer_after=0.3)
        d.sim.customer(CALLER, answer_after=1.0, hangup_after=4.0)
        acd = d.ctx.require(AcdService)
        assert requested.subject in acd._waiting  # back in its queue, before anyone is ready
        await acd.ready(AGENTS[0])
        assert await until(lambda: any(e.type == "callback.answered" for e in seen), 30.0), [e.type for e in seen]
        answered = next(e for e in seen if e.type == "queue.left" and e.data["outcome"] == "answered")
        store = _store(d)
        assert await until(lambda: acd.stats[QUEUE].callbacks_connected == 1, 5.0)
        left = await store.load_callbacks()
    assert answered.subject == requested.subject and answered.data["callback"] is True
    assert answered.data["agent"] == AGENTS[0]
    assert answered.data["waited"] >= 3.0  # the wait runs from the entry in run 1 (1 pressed 4 s after the dial)
    assert left == []  # made: no longer owed


async def test_a_call_back_made_in_the_same_run_pops_the_callers_card_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    """The caller hung up (``call.ended``) before the call-back is made under the same call id: the agent's
    screen-pop still comes, with the caller's number and name, and the screen-pop keeps nothing afterwards."""
    ivr_script(tmp_path)
    async with daemon(tmp_path, CAMPAIGN, factor=4.0, sales=SALES) as d:
        seen = listen(d)
        acd = d.ctx.require(AcdService)
        d.sim.agent(AGENTS[0], answer_after=0.3)
        d.sim.customer(CALLER, answer_after=1.0, hangup_after=3.0)
        _call, requested = await _ask_for_call_back(d, seen)
        assert await until(lambda: any(e.type == "call.ended" and e.subject == requested.subject for e in seen), 10.0)
        await acd.ready(AGENTS[0])
        assert await until(lambda: acd.stats[QUEUE].callbacks_connected == 1, 30.0), [e.type for e in seen]
        pops = [e.data for e in seen if e.type == "screen.pop" and e.subject == requested.subject]
        assert await until(lambda: not acd.agents.get(AGENTS[0]).status.call_id, 30.0)
        screen = d.ctx.require(ScreenPop)
        assert await until(lambda: not screen.calls, 5.0), list(screen.calls)
    assert pops and pops[0]["agent"] == AGENTS[0] and pops[0]["caller"]["number"] == CALLER


@pytest.mark.parametrize(
    ("busy", "how"),
    [(False, "api"), (True, "api"), (False, "cli"), (True, "cli")],
    ids=["waiting-api", "retrying-api", "waiting-cli", "retrying-cli"],
)
async def test_an_erasure_request_cancels_the_call_back_owed(tmp_path: Path, busy: bool, how: str) -> None:
    """``POST /api/privacy/erase`` for the caller, or ``ctiserver privacy erase`` on the same database while the
    daemon runs: the call-back owed is not made — waiting in the queue (no agent is rung for it when one comes
    back), or waiting out its ``retry_after`` after a busy customer (not offered again) — and its row goes with
    the rest of the person's data. The wallboard's count follows (at once through the API; within the daemon's
    next read of ``privacy_erasures``, every 5 s, from the command line)."""
    ivr_script(tmp_path)
    sales = {"callback": {**SALES["callback"], "retry_after": 6, "attempts": 3}}
    async with daemon(tmp_path, CAMPAIGN, factor=4.0, sales=sales) as d, aiohttp.ClientSession() as http:
        seen = listen(d)
        acd = d.ctx.require(AcdService)
        _call, requested = await _ask_for_call_back(d, seen)
        if busy:  # an agent comes, answers, the customer is busy: the call-back waits out its retry_after
            d.sim.agent(AGENTS[0], answer_after=0.3)
            d.sim.customer(CALLER, reject=486)
            await acd.ready(AGENTS[0])
            assert await until(lambda: any(e.type == "callback.retry" for e in seen), 20.0), [e.type for e in seen]
        token, record = new_token(Role.ADMIN, "dpo", "data protection", d.clock.now())
        await d.api.auth.store.add(record)
        auth = {"Authorization": f"Bearer {token}"}

        async def owed_in_queues() -> dict[str, int]:
            async with http.get(f"{d.api.url}/api/queues", headers=auth) as resp:
                return {q["queue"]: q["callbacks_owed"] for q in await resp.json()}

        async def recent_calls() -> set[str]:
            async with http.get(f"{d.api.url}/api/calls/history", headers=auth) as resp:
                return {c["call_id"] for c in await resp.json()}

        assert await owed_in_queues() == {QUEUE: 1, "paris": 0}  # what the wallboard shows
        assert await until(_call.done.is_set, 10.0) and await until_read(
            lambda: _has(recent_calls(), requested.subject), True, 10.0
        )  # the caller's call, ended, is among the recent calls the API serves from memory
        if how == "api":
            async with http.post(f"{d.api.url}/api/privacy/erase", json={"number": CALLER}, headers=auth) as resp:
                assert resp.status == 200, await resp.text()
                erased = await resp.json()
            assert await owed_in_queues() == {QUEUE: 0, "paris": 0}
        else:  # the call is over and stored, as when a person asks
            db = d.ctx.require(Database)

            async def stored() -> bool:
                async with db.sessions() as s:
                    return await s.get(CallRow, requested.subject) is not None

            assert await until_read(stored, True, 10.0)
            cfg = tmp_path / "erase.yaml"
            url = d.ctx.config.database.url.get_secret_value()
            cfg.write_text(yaml.safe_dump({"database": {"url": url, "spool_dir": str(tmp_path / "cli")}}), "utf-8")
            argv = ["privacy", "erase", CALLER, "-c", str(cfg)]
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert await asyncio.to_thread(main, argv) == 0
            erased = json.loads(out.getvalue().strip().splitlines()[-1])
            assert await owed_in_queues() == {QUEUE: 1, "paris": 0}  # the database only, so far
            wait = 6.0 / 4 + 1.0  # the daemon's next read (every 5 s at ×4) and a second
            assert await until_read(owed_in_queues, {QUEUE: 0, "paris": 0}, wait), await owed_in_queues()
        assert requested.subject not in await recent_calls()
        offered = len([e for e in seen if e.type == "agent.offered" and e.subject == requested.subject])
        if acd.agents.get(AGENTS[0]).state is not AgentState.READY:  # its wrap-up after the busy dial may be over
            await acd.ready(AGENTS[0])
        await asyncio.sleep(3.0)  # past the retry_after (6 s at ×4)
        rung = [e for e in seen if e.type == "agent.offered" and e.subject == requested.subject][offered:]
        cancelled = [e.data for e in seen if e.type == "callback.cancelled" and e.subject == requested.subject]
        owed = await _store(d).load_callbacks()
    assert erased["acd_callbacks"] == 1 and owed == [] and not rung
    assert cancelled == [{"queue": QUEUE, "why": "erasure"}]


async def test_a_call_back_waiting_out_its_retry_is_offered_no_sooner_after_a_restart(tmp_path: Path) -> None:
    """The customer was busy, and the daemon stops while the call-back waits out its ``retry_after``. The next
    run owes it (the wallboard counts it) and offers it once the ``retry_after`` is over, counted from the
    failed dial — not at once, which would ring the customer again seconds after a busy signal."""
    ivr_script(tmp_path)
    sales = {"callback": {**SALES["callback"], "retry_after": 40, "attempts": 3}}
    async with daemon(tmp_path, CAMPAIGN, factor=4.0, sales=sales) as d:
        seen = listen(d)
        acd = d.ctx.require(AcdService)
        _call, requested = await _ask_for_call_back(d, seen)
        d.sim.agent(AGENTS[0], answer_after=0.3)
        d.sim.customer(CALLER, reject=486)
        await acd.ready(AGENTS[0])
        assert await until(lambda: any(e.type == "callback.retry" for e in seen), 20.0), [e.type for e in seen]
        failed_at = d.clock.now()
        [owed] = await _store(d).load_callbacks()
        stopped = d.clock.now()
    assert owed.attempts == 1 and owed.retry_at is not None and abs(owed.retry_at - (failed_at + 40)) < 2.0

    async with daemon(tmp_path, CAMPAIGN, factor=4.0, sales=sales, start=stopped) as d:
        seen = listen(d)
        d.sim.agent(AGENTS[0], answer_after=0.3)
        d.sim.customer(CALLER, answer_after=1.0, hangup_after=4.0)
        acd = d.ctx.require(AcdService)
        assert acd.callbacks_owed() == {QUEUE: 1}  # owed, not waiting
        if acd.agents.get(AGENTS[0]).state is not AgentState.READY:  # its wrap-up may have ended before the stop
            await acd.ready(AGENTS[0])

        def offered() -> list[DomainEvent]:
            return [e for e in seen if e.type == "agent.offered" and e.subject == requested.subject]

        await asyncio.sleep(3.0)  # 12 s at ×4: a call-back back in its queue at once would have been offered
        assert not offered() and acd.callbacks_owed() == {QUEUE: 1}
        assert await until(lambda: bool(offered()), 20.0), [e.type for e in seen]
        assert offered()[0].time >= owed.retry_at - 0.5
        assert await until(lambda: acd.stats[QUEUE].callbacks_connected == 1, 20.0), [e.type for e in seen]
        left = await _store(d).load_callbacks()
    assert left == []
