"""Abandoned inbound calls called back, end to end over the wire: the whole daemon (IVR, ACD, dialler with the ACD
desk) against the simulator. A caller on DID 100 goes through the IVR into the ACD's queue, nobody is free, the
caller hangs up; the call-back campaign places the call-back through AMI (``Local/<number>@ctiserver-dialer``,
``AMD()``, ``Stasis``), the caller answers at the carrier and the ACD bridges them with an agent, whose screen-pop
names the abandoned call; a second abandon before it does not add another. What is pending is the store's: a
restarted daemon still cancels a call-back when the caller calls again and reaches an agent, and lets one
expire."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ctiserver.acd.service import AcdService
from ctiserver.calls.service import CallService
from ctiserver.calls.tracker import Tracker
from ctiserver.crm.screenpop import ScreenPop
from ctiserver.dialer.model import ContactStatus, Outcome
from ctiserver.dialer.service import DialerService
from ctiserver.events import DomainEvent
from ctiserver.kpi.historical import agent_report, queue_report
from ctiserver.kpi.live import LiveKpis
from ctiserver.store.database import Database
from tests.dialer.acd_daemon import AGENTS, QUEUE, Daemon, daemon, ivr_script, listen
from tests.dialer.waits import until
from tests.dialer.wire import number, window_around_now

pytestmark = pytest.mark.slow

CALLER = number(77)


def _campaign() -> dict[str, Any]:
    return {
        "name": "callbacks",
        "mode": "progressive",
        "queue": QUEUE,
        "caller_id": "5550200",
        "ring_timeout": 15,
        "retry": {"max_attempts": 1},
        "windows": window_around_now().model_dump(mode="json"),
    }


def _callbacks(delay: float, within_minutes: float) -> dict[str, Any]:
    return {"campaign": "callbacks", "min_wait": 2, "delay": delay, "within_minutes": within_minutes}


async def _abandon(d: Daemon, seen: list[DomainEvent]) -> str:
    """The caller dials DID 100, waits in the queue with every agent on a break, and hangs up after 8 s."""
    acd = d.ctx.require(AcdService)
    for a in AGENTS:
        await acd.pause(a, "break")
    before = len([e for e in seen if e.type == "callback.scheduled"])
    call = d.sim.place_call(from_number=CALLER, from_name="Anna Kowalska", to="100", hangup_after=8.0)
    assert await until(lambda: len([e for e in seen if e.type == "callback.scheduled"]) > before, 20.0), [
        e.type for e in seen
    ]
    assert call.channel is not None
    return call.channel.id


async def test_an_abandoned_caller_is_called_back_once_and_reaches_an_agent(tmp_path: Path) -> None:
    ivr_script(tmp_path)
    async with daemon(tmp_path, _campaign(), factor=4.0, callbacks=_callbacks(10.0, 10.0)) as d:
        for a in AGENTS:
            d.sim.agent(a, answer_after=0.3)
        d.sim.customer(CALLER, answer_after=1.0, hangup_after=6.0)
        seen = listen(d)
        dialer = d.ctx.require(DialerService)
        await dialer.start("callbacks")
        first = await _abandon(d, seen)
        # one stay, one verdict: the ACD's (the call tracker, which saw the hang-up too, adds none), counted once
        assert await until(lambda: first not in d.ctx.require(Tracker).calls, 10.0)
        left = [e.data for e in seen if e.type == "queue.left"]
        assert [x["outcome"] for x in left] == ["abandoned"]
        today = d.ctx.require(LiveKpis).queue(QUEUE, "today")
        assert (today.offered, today.abandoned) == (1, 1)
        scheduled = next(e.data for e in seen if e.type == "callback.scheduled")
        assert (scheduled["number"], scheduled["source"]) == (CALLER, "abandoned")
        assert scheduled["at"] - d.clock.now() > 5.0  # the delay runs first
        # the caller tries again before anyone is free and gives up again: still one call-back, the first one
        again = d.sim.place_call(from_number=CALLER, to="100", hangup_after=8.0)
        assert await until(lambda: len([e for e in seen if e.type == "queue.left"]) == 2, 20.0)
        assert again.channel is not None and again.channel.id != first
        acd = d.ctx.require(AcdService)
        await acd.ready(AGENTS[0])  # one agent back from the break
        runner = dialer.runners["callbacks"]
        assert await until(lambda: runner.counters["outcome_human"] >= 1, 40.0), runner.live_stats()
        [attempt] = await dialer.store.attempts("callbacks")
        contacts = await dialer.store.contacts("callbacks")
        ringing = [e.data for e in seen if e.type == "agent.ringing" and e.subject == attempt.id]
        # both calls over, the agent's wrap-up too (it ends after its call): the screen-pop keeps nothing of them
        assert await until(lambda: attempt.id not in d.ctx.require(Tracker).calls, 20.0)
        assert await until(lambda: any(e.type == "call.updated" and e.subject == attempt.id for e in seen), 20.0)
        screen = d.ctx.require(ScreenPop)
        assert await until(lambda: not screen.calls, 5.0), list(screen.calls)
        await asyncio.sleep(1.0)  # nothing else is placed
        assert len(await dialer.store.attempts("callbacks")) == 1
        # the queue's KPIs are its inbound callers': two abandoned, the dialler's call-back not among them; the
        # call-back is its agent's handled call (AHT: talk + the wrap-up that ended after it)
        live = d.ctx.require(LiveKpis)
        today = live.queue(QUEUE, "today")
        assert (today.offered, today.abandoned, today.answered) == (2, 2, 0)
        [stay] = d.ctx.require(Tracker).finished[attempt.id].queues
        assert (stay.queue, stay.outcome, stay.agent, stay.outbound) == (QUEUE, "answered", AGENTS[0], True)
        mine = live.agent(AGENTS[0], "today")
        assert (mine["handled"], mine["outbound"], mine["answered"]) == (1, 1, 1)
        assert mine["wrap"] > 0 and mine["aht"] > 5.0
        assert live.agent(AGENTS[1], "today")["handled"] == 0
        # the same in the stored history (the reports): the queue's two abandons, the agent's one outbound call
        await d.ctx.require(CallService).flush()
        async with d.ctx.require(Database).sessions() as s:
            [row] = await queue_report(s, 0.0, d.clock.now() + 1, interval=None)
            agents = await agent_report(s, 0.0, d.clock.now() + 1)
        assert (row.queue, row.kpis.offered, row.kpis.abandoned, row.kpis.answered) == (QUEUE, 2, 2, 0)
        assert [(a["agent"], a["handled"], a["outbound"]) for a in agents] == [(AGENTS[0], 1, 1)]
        assert agents[0]["aht"] == pytest.approx(mine["aht"])
    assert attempt.outcome is Outcome.HUMAN and attempt.number == CALLER and attempt.agent == AGENTS[0]
    assert attempt.connected is not None
    assert [e.type for e in seen if e.type.startswith("callback.")] == ["callback.scheduled"]
    [contact] = contacts
    assert attempt.contact_id == contact.id and contact.status is ContactStatus.DONE
    assert contact.fields["abandoned_call"] == first
    assert contact.fields["queue"] == QUEUE and int(contact.fields["waited"]) >= 2
    # the agent's screen-pop says which abandoned call this is, and when the caller gave up
    [pop] = ringing
    assert pop["agent"] == AGENTS[0] and pop["attached"]["fields"]["abandoned_call"] == first
    assert pop["attached"]["fields"]["abandoned_at"].endswith("+00:00")


async def _abandoned_in_an_earlier_run(tmp_path: Path, callbacks: dict[str, Any]) -> None:
    ivr_script(tmp_path)
    async with daemon(tmp_path, _campaign(), factor=6.0, callbacks=callbacks) as d:
        seen = listen(d)
        await d.ctx.require(DialerService).start("callbacks")
        await _abandon(d, seen)


async def test_a_restarted_daemon_cancels_a_call_back_when_the_caller_gets_through(tmp_path: Path) -> None:
    await _abandoned_in_an_earlier_run(tmp_path, _callbacks(delay=3600.0, within_minutes=120.0))
    async with daemon(tmp_path, _campaign(), factor=6.0, callbacks=_callbacks(3600.0, 120.0)) as d:
        seen = listen(d)
        dialer = d.ctx.require(DialerService)
        [pending] = await dialer.store.contacts("callbacks")
        assert pending.status is ContactStatus.CALLBACK
        d.sim.agent(AGENTS[0], answer_after=0.3)
        await d.ctx.require(AcdService).ready(AGENTS[0])
        d.sim.place_call(from_number=CALLER, to="100", hangup_after=6.0)  # the caller tries again and gets through
        assert await until(lambda: any(e.type == "callback.cancelled" for e in seen), 20.0), [e.type for e in seen]
        [cancelled] = [e for e in seen if e.type == "callback.cancelled"]
        [contact] = await dialer.store.contacts("callbacks")
    assert cancelled.subject == pending.id and cancelled.data["why"] == "called again"
    assert contact.status is ContactStatus.DONE and not await dialer.store.attempts("callbacks")


async def test_a_restarted_daemon_lets_a_pending_call_back_expire(tmp_path: Path) -> None:
    # every agent stays on the break the earlier run put them on: not placed within the minute, it expires after the
    # restart too
    await _abandoned_in_an_earlier_run(tmp_path, _callbacks(delay=30.0, within_minutes=1.0))
    async with daemon(tmp_path, _campaign(), factor=6.0, callbacks=_callbacks(30.0, 1.0)) as d:
        seen = listen(d)
        dialer = d.ctx.require(DialerService)
        assert await until(lambda: any(e.type == "callback.expired" for e in seen), 20.0), [e.type for e in seen]
        [contact] = await dialer.store.contacts("callbacks")
        assert not await dialer.store.attempts("callbacks")
    assert contact.status is ContactStatus.DONE
