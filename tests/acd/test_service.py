from __future__ import annotations

import asyncio
from typing import Any

from ctiserver.acd.agent_state import AgentState, AgentStatus
from ctiserver.acd.entries import Outcome, QueueRequest
from ctiserver.acd.persist import MemoryAgentStore
from ctiserver.acd.resume import RESUME_GRACE
from tests.acd.fake_control import Device
from tests.acd.harness import Harness, settle


def config(tech: dict[str, Any] | None = None, **queue: Any) -> dict[str, Any]:
    q = {"name": "sales", "requirements": {"billing": 2}, "wrapup": 5, "ring_timeout": 10} | queue
    return {
        "skills": ["billing", "tech"],
        "agents": [
            {"id": "a1", "device": "PJSIP/1001", "skills": {"billing": 3}, "login": True},
            {"id": "a2", "device": "PJSIP/1002", "skills": {"billing": 8, "tech": 9}, "login": True},
        ],
        "queues": [q, {"name": "tech", "requirements": {"tech": 7}} | (tech or {})],
    }


def request(h: Harness, queue: str = "sales", **kw: Any) -> QueueRequest:
    ch = h.control.caller()
    return QueueRequest(
        call_id=f"call-{ch}",
        channel_id=ch,
        queue=queue,
        caller_number="5550100",
        caller_name="Test Caller",
        **kw,
    )


async def test_a_call_rings_an_agent_pops_on_ringing_bridges_and_wraps_up() -> None:
    async with Harness(config()) as h:
        req = request(h, attached={"account": "42"})
        task = asyncio.create_task(h.acd.enqueue(req))
        await h.run_until(lambda: any(x[0] == "bridge" for x in h.control.log))
        types = [e.type for e in h.events if e.type.startswith(("agent.o", "agent.r", "agent.a"))]
        assert types == ["agent.offered", "agent.ringing", "agent.answered"]
        ring = h.of("agent.ringing")[0]
        assert ring.data["attached"] == {"account": "42"} and ring.data["caller_number"] == "5550100"
        dial = h.control.dials[0]
        assert (dial.caller_id_number, dial.caller_id_name, dial.originator) == (
            "5550100",
            "Test Caller",
            req.channel_id,
        )
        agent = ring.data["agent"]
        assert h.acd.agents.get(agent).state is AgentState.ON_CALL
        h.control.remote_hangup(req.channel_id)
        result = await asyncio.wait_for(task, 5)
        assert result.outcome is Outcome.ANSWERED and result.agent == agent
        assert h.acd.agents.get(agent).state is AgentState.WRAP_UP
        await h.advance(4.5)
        assert h.acd.agents.get(agent).state is AgentState.WRAP_UP
        await h.advance(1.0)
        assert h.acd.agents.get(agent).state is AgentState.READY
        assert h.states(agent)[-5:] == ["reserved", "ringing", "on_call", "wrap_up", "ready"]


async def test_rona_puts_the_agent_not_ready_missed_and_requeues_at_the_same_place() -> None:
    async with Harness(config(strategy="least_skilled")) as h:
        h.control.devices["PJSIP/1001"] = Device(answer_after=None)
        first = request(h)
        t1 = asyncio.create_task(h.acd.enqueue(first))
        await settle()
        await h.acd.pause("a2", "lunch")
        second = request(h)
        t2 = asyncio.create_task(h.acd.enqueue(second))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.NOT_READY)
        assert h.acd.agents.get("a1").status.reason == "missed"
        assert h.acd.position(first.call_id) == 1 and h.acd.position(second.call_id) == 2
        assert h.acd.stats["sales"].rona == 1
        await h.acd.ready("a2")
        await h.run_until(lambda: h.acd.agents.get("a2").state is AgentState.ON_CALL)
        assert h.acd.agents.get("a2").status.call_id == first.call_id
        for t in (t1, t2):
            t.cancel()


async def test_unreachable_device_and_unregistered_agent() -> None:
    async with Harness(config()) as h:
        await h.acd.device_state("PJSIP/1002", registered=False)
        h.control.devices["PJSIP/1001"] = Device(fail="unavailable")
        req = request(h)
        task = asyncio.create_task(h.acd.enqueue(req))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.NOT_READY)
        assert h.acd.agents.get("a1").status.reason == "unreachable"
        assert [d.endpoint for d in h.control.dials] == ["PJSIP/1001"]
        await h.acd.device_state("PJSIP/1002", registered=True)
        await h.run_until(lambda: h.acd.agents.get("a2").state is AgentState.ON_CALL)
        task.cancel()


async def test_caller_abandons_while_waiting_and_while_agent_rings() -> None:
    async with Harness(config()) as h:
        await h.acd.pause("a1", "break")
        await h.acd.pause("a2", "break")
        req = request(h)
        task = asyncio.create_task(h.acd.enqueue(req))
        await h.advance(3)
        h.control.remote_hangup(req.channel_id)
        result = await asyncio.wait_for(task, 5)
        assert result.outcome is Outcome.ABANDONED
        h.control.devices["PJSIP/1001"] = Device(answer_after=8)
        await h.acd.ready("a1")
        req2 = request(h)
        task2 = asyncio.create_task(h.acd.enqueue(req2))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.RINGING)
        h.control.remote_hangup(req2.channel_id)
        assert (await asyncio.wait_for(task2, 5)).outcome is Outcome.ABANDONED
        assert h.acd.agents.get("a1").state is AgentState.READY
        assert h.acd.stats["sales"].abandoned == 2 and h.acd.stats["sales"].answered == 0


async def test_an_offer_cancelled_while_the_agent_leg_is_being_dropped_ends_cancelled() -> None:
    """The caller hangs up while the agent's phone rings: the offer cancels the agent leg's dial, whose clean-up
    (ARI's DELETE) takes a while. The ACD shutting down meanwhile cancels the offer: it must end cancelled, not
    swallow the cancellation and carry on (a shutdown that waits for it then waits for ever)."""
    async with Harness(config()) as h:
        await h.acd.pause("a2", "break")
        h.control.devices["PJSIP/1001"] = Device(answer_after=None, drop_after=5.0)
        req = request(h)
        call = asyncio.create_task(h.acd.enqueue(req))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.RINGING)
        [offer] = [t for t in asyncio.all_tasks() if t.get_name() == f"cti:acd-offer-{req.call_id}"]
        h.control.remote_hangup(req.channel_id)
        await h.advance(1.0)  # the dial's clean-up is under way
        assert not offer.done()
        offer.cancel()
        await h.advance(6.0)  # the clean-up ends
        assert offer.done() and offer.cancelled()
        call.cancel()


async def test_max_wait_exit_and_overflow() -> None:
    # the max wait counts from the first queue; the queue the call is in decides it
    cfg = config(tech={"max_wait": 30}, max_wait=300, overflow={"after": 10, "queue": "tech"})
    async with Harness(cfg) as h:
        await h.acd.pause("a1", "break")
        await h.acd.pause("a2", "break")
        req = request(h)
        task = asyncio.create_task(h.acd.enqueue(req))
        await h.advance(11)
        left = h.of("queue.left")
        assert left and left[0].data["outcome"] == "overflow"
        result = await asyncio.wait_for(task, 0.1) if task.done() else None
        assert result is None
        await h.run_until(task.done, limit=25)
        assert task.result().outcome is Outcome.TIMEOUT
        assert h.acd.stats["sales"].overflowed == 1 and h.acd.stats["tech"].timeout == 1


async def test_callback_keeps_the_place_and_is_dialled_when_an_agent_frees_up() -> None:
    cfg = config(callback={"enabled": True, "endpoint": "Local/{number}@outbound"})
    async with Harness(cfg) as h:
        await h.acd.pause("a1", "break")
        await h.acd.pause("a2", "break")
        first, second = request(h), request(h)
        t1 = asyncio.create_task(h.acd.enqueue(first))
        await settle()
        t2 = asyncio.create_task(h.acd.enqueue(second))
        await h.advance(2)
        h.control.press(first.channel_id, "1")
        result = await asyncio.wait_for(t1, 5)
        assert result.outcome is Outcome.CALLBACK
        assert h.control.channels[first.channel_id].gone.is_set()
        assert h.acd.position(first.call_id) == 1 and h.acd.position(second.call_id) == 2
        await h.acd.ready("a1")
        await h.run_until(lambda: any(d.endpoint == "Local/5550100@outbound" for d in h.control.dials))
        assert h.control.dials[0].endpoint == "PJSIP/1001"
        await h.run_until(lambda: h.acd.stats["sales"].callbacks_connected == 1)
        assert [e.type for e in h.events if e.type.startswith("callback.")] == [
            "callback.requested",
            "callback.dialing",
            "callback.answered",
        ]
        t2.cancel()


async def _a1_on_a_call_asks_for_lunch(h: Harness) -> tuple[QueueRequest, asyncio.Task[Any]]:
    """a2 on a break, a call to a1, and a1 asks for a break while talking: (the call's request, its task)."""
    await h.acd.pause("a2", "break")
    req = request(h)
    task = asyncio.create_task(h.acd.enqueue(req))
    await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.ON_CALL)
    await h.acd.pause("a1", "lunch")
    return req, task


async def test_pause_while_busy_applies_after_wrap_up_and_wrap_up_can_be_extended() -> None:
    async with Harness(config()) as h:
        req, task = await _a1_on_a_call_asks_for_lunch(h)
        assert h.acd.agents.get("a1").state is AgentState.ON_CALL
        h.control.remote_hangup(req.channel_id)
        await asyncio.wait_for(task, 5)
        until = h.acd.agents.get("a1").status.until
        assert until is not None
        await h.acd.extend_wrapup("a1", 10)
        await h.advance(6)
        assert h.acd.agents.get("a1").state is AgentState.WRAP_UP
        await h.advance(10)
        assert h.acd.agents.get("a1").status.reason == "lunch"


async def test_ready_while_on_a_call_cancels_the_pause_but_keeps_the_call_and_the_wrap_up() -> None:
    """An agent asks for a break during a call, then changes its mind: still on the call (not READY while
    talking: the router would offer it a second call), wrap-up after it, then ready."""
    async with Harness(config()) as h:
        req, task = await _a1_on_a_call_asks_for_lunch(h)
        await h.acd.ready("a1")
        assert h.acd.agents.get("a1").state is AgentState.ON_CALL
        h.control.remote_hangup(req.channel_id)
        await asyncio.wait_for(task, 5)
        assert h.acd.agents.get("a1").state is AgentState.WRAP_UP
        await h.advance(6)
        assert h.acd.agents.get("a1").state is AgentState.READY


async def test_state_survives_a_restart() -> None:
    """Paused stays paused; an agent left on a call stays on it until the PBX says the phone is free (its
    conversation may go on: ``control/orphans.py``), or RESUME_GRACE passes without a word on the phone."""
    store, cfg = MemoryAgentStore(), config()
    cfg["agents"].append({"id": "a3", "device": "PJSIP/1003", "login": True})
    async with Harness(cfg, store=store) as h:
        await h.acd.pause("a1", "training")
    for agent in ("a2", "a3"):
        store.current[agent] = AgentStatus(agent, AgentState.ON_CALL, since=1.0, call_id=f"old-{agent}")
    async with Harness(cfg, store=store) as h2:
        assert h2.acd.agents.get("a1").status.reason == "training"
        assert h2.acd.agents.get("a2").status == store.current["a2"]  # the same call, since the same time
        await h2.acd.device_state("PJSIP/1002", registered=True, busy=True)  # the conversation goes on
        await h2.advance(RESUME_GRACE + 1)
        assert h2.acd.agents.get("a2").state is AgentState.ON_CALL
        assert h2.acd.agents.get("a3").state is AgentState.WRAP_UP  # no word on its phone: as before
        await h2.acd.device_state("PJSIP/1002", registered=True, busy=False)  # it hung up
        assert h2.acd.agents.get("a2").state is AgentState.WRAP_UP
        await h2.advance(9)  # the longest configured wrap-up (tech: 10 s)
        assert h2.acd.agents.get("a2").state is AgentState.WRAP_UP
        await h2.advance(1.5)
        assert h2.acd.agents.get("a2").state is AgentState.READY
        assert h2.acd.agents.get("a3").state is AgentState.READY


async def test_bad_requests_are_refused() -> None:
    import pytest

    from ctiserver.acd.agents import InvalidRequest, UnknownAgent
    from ctiserver.acd.service import UnknownQueue

    async with Harness(config()) as h:
        with pytest.raises(InvalidRequest):
            await h.acd.pause("a1", "nap")
        with pytest.raises(InvalidRequest):
            await h.acd.extend_wrapup("a1", 5)
        with pytest.raises(UnknownAgent):
            await h.acd.pause("zz", "break")
        with pytest.raises(UnknownQueue):
            await h.acd.enqueue(request(h, queue="nope"))
        assert h.acd.agents.get("a1").state is AgentState.READY


async def test_position_and_ewt_announcements_every_n_seconds() -> None:
    cfg = config(announcements={"every": 20, "first_after": 5, "position": True, "ewt": True})
    async with Harness(cfg) as h:
        await h.acd.pause("a2", "break")
        busy = request(h)
        t0 = asyncio.create_task(h.acd.enqueue(busy))
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.ON_CALL)
        first, second = request(h), request(h)
        t1 = asyncio.create_task(h.acd.enqueue(first))
        await settle()
        t2 = asyncio.create_task(h.acd.enqueue(second))
        await h.advance(5.5)
        plays = [x for x in h.control.log if x[0] == "play" and x[1] == second.channel_id]
        # second in line: one caller ahead; 1 agent staffed (a1), default AHT 180 s → 3 minutes
        assert plays == [
            (
                "play",
                second.channel_id,
                "sound:queue-thereare",
                "number:1",
                "sound:queue-callswaiting",
                "sound:queue-holdtime",
                "number:3",
                "sound:queue-minutes",
            )
        ]
        assert [x[2:] for x in h.control.log if x[0] == "play" and x[1] == first.channel_id] == [
            ("sound:queue-youarenext",)
        ]
        assert h.control.channels[second.channel_id].moh  # music again after the announcement
        await h.advance(20)
        assert len([x for x in h.control.log if x[0] == "play" and x[1] == second.channel_id]) == 2
        for t in (t0, t1, t2):
            t.cancel()
