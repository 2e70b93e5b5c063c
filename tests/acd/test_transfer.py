from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.agents import InvalidRequest
from ctiserver.acd.entries import Outcome
from ctiserver.acd.transfer import parse_target
from tests.acd.harness import Harness
from tests.acd.test_service import config, request


def three_agents() -> dict[str, Any]:
    cfg = config(strategy="least_skilled")
    cfg["agents"].append({"id": "a3", "device": "PJSIP/1003", "skills": {"billing": 5}, "login": True})
    return cfg


async def talking(h: Harness, agent: str, **kw: Any) -> tuple[Any, asyncio.Task[Any]]:
    req = request(h, attached={"account": "42"}, **kw)
    task = asyncio.create_task(h.acd.enqueue(req))
    await h.run_until(lambda: h.acd.agents.get(agent).state is AgentState.ON_CALL)
    return req, task


async def test_blind_transfer_to_an_agent_keeps_call_id_and_data() -> None:
    async with Harness(three_agents()) as h:
        req, task = await talking(h, "a1")
        await h.acd.transfer(req.call_id, "agent:a2")
        await h.run_until(lambda: h.acd.agents.get("a2").state is AgentState.ON_CALL)
        assert h.acd.agents.get("a1").state is AgentState.WRAP_UP
        rings = [e for e in h.of("agent.ringing") if e.data["agent"] == "a2"]
        assert rings[0].subject == req.call_id
        assert rings[0].data["attached"] == {"account": "42", "transferred_from": "a1"}
        assert not h.control.channels[req.channel_id].gone.is_set()
        h.control.remote_hangup(req.channel_id)
        result = await asyncio.wait_for(task, 5)
        assert result.outcome is Outcome.ANSWERED and result.agent == "a2"
        assert [e.type for e in h.events if e.type == "call.transferred"] == ["call.transferred"]


async def test_blind_transfer_to_a_queue_and_to_a_number() -> None:
    async with Harness(three_agents()) as h:
        req, task = await talking(h, "a1")
        await h.acd.transfer(req.call_id, "queue:tech")
        await h.run_until(
            lambda: h.acd.agents.get("a2").state is AgentState.ON_CALL
        )  # tech 7: the specialist
        assert h.acd.stats["tech"].entered == 1 and h.acd.stats["sales"].transferred == 1
        await h.acd.transfer(req.call_id, "5551234")
        result = await asyncio.wait_for(task, 5)
        assert result.outcome is Outcome.TRANSFERRED
        assert ("continue", req.channel_id, "from-agents", "5551234") in h.control.log
        assert h.acd.agents.get("a2").state is AgentState.WRAP_UP


async def test_attended_transfer_consults_then_completes() -> None:
    async with Harness(three_agents()) as h:
        req, task = await talking(h, "a1")
        await h.acd.pause("a2", "break")
        consult = asyncio.create_task(h.acd.transfer(req.call_id, "agent:a3", kind="attended"))
        await h.run_until(consult.done)
        await consult
        assert h.acd.agents.get("a3").state is AgentState.ON_CALL
        assert h.control.channels[req.channel_id].moh
        talk = h.acd.connector.talks[req.call_id]
        assert req.channel_id not in h.control.bridges[talk.bridge_id]
        with pytest.raises(InvalidRequest):
            await h.acd.transfer(req.call_id, "agent:a2", kind="attended")
        await h.acd.complete_transfer(req.call_id)
        await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.WRAP_UP)
        assert h.acd.agents.get("a3").state is AgentState.ON_CALL
        assert req.channel_id in h.control.bridges[talk.bridge_id]
        h.control.remote_hangup(req.channel_id)
        result = await asyncio.wait_for(task, 5)
        assert result.agent == "a3"  # who had the caller at the end
        await h.run_until(lambda: h.acd.agents.get("a3").state is AgentState.WRAP_UP)


async def test_attended_transfer_cancelled_returns_the_caller() -> None:
    async with Harness(three_agents()) as h:
        req, task = await talking(h, "a1")
        started = asyncio.create_task(h.acd.transfer(req.call_id, "5551234", kind="attended"))
        await h.run_until(started.done)
        await started
        talk = h.acd.connector.talks[req.call_id]
        consult = talk.consult
        assert consult is not None and consult[1] is None
        await h.acd.cancel_transfer(req.call_id)
        assert h.control.channels[consult[0]].gone.is_set()
        assert (
            req.channel_id in h.control.bridges[talk.bridge_id] and not h.control.channels[req.channel_id].moh
        )
        assert h.acd.agents.get("a1").state is AgentState.ON_CALL
        task.cancel()


def test_targets() -> None:
    assert parse_target("agent:1001") == ("agent", "1001")
    assert parse_target("queue:sales") == ("queue", "sales")
    assert parse_target("+15551234") == ("number", "+15551234")
    with pytest.raises(InvalidRequest):
        parse_target("sales")
