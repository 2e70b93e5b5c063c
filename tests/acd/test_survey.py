"""Post-call survey (queue option ``survey``) on the in-memory fake: the agent hanging up first hands the
caller to the ``PostCallSurvey`` port instead of hanging it up; the caller hanging up first, or a queue
without the option, does not."""

from __future__ import annotations

import asyncio
from typing import Any

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.config import AcdConfig
from ctiserver.acd.entries import Outcome, QueueRequest
from tests.acd.harness import Harness


class RecordingSurvey:
    """The port as the IVR provides it; here it records what it was asked and reads one digit."""

    def __init__(self, harness: Harness | None = None) -> None:
        self.harness = harness
        self.runs: list[tuple[str, str, str]] = []
        self.scores: dict[str, str] = {}

    async def run(self, call_id: str, channel_id: str, script: str) -> None:
        self.runs.append((call_id, channel_id, script))
        assert self.harness is not None
        digit = await self.harness.control.channels[channel_id].digits.get()
        self.scores[call_id] = digit
        await self.harness.control.hangup(channel_id)


def config(**queue: Any) -> dict[str, Any]:
    return {
        "agents": [{"id": "a1", "device": "PJSIP/1001", "login": True}],
        "queues": [{"name": "sales", "wrapup": 2, "ring_timeout": 10} | queue],
    }


def request(h: Harness) -> QueueRequest:
    ch = h.control.caller()
    return QueueRequest(call_id=f"call-{ch}", channel_id=ch, queue="sales", caller_number="5550100")


async def talking(h: Harness) -> tuple[QueueRequest, asyncio.Task[Any], str]:
    req = request(h)
    task = asyncio.create_task(h.acd.enqueue(req))
    await h.run_until(lambda: h.acd.agents.get("a1").state is AgentState.ON_CALL)
    agent_channel = next(c for c in h.control.channels if c.startswith("PJSIP-1001"))
    return req, task, agent_channel


def test_survey_option_is_validated() -> None:
    assert AcdConfig.model_validate(config()).queue("sales").survey is None
    assert AcdConfig.model_validate(config(survey="csat")).queue("sales").survey == "csat"
    try:
        AcdConfig.model_validate(config(survey=""))
    except ValueError:
        pass
    else:
        raise AssertionError("an empty survey script name must be refused")


async def test_agent_hangs_up_first_caller_goes_to_the_survey() -> None:
    survey = RecordingSurvey()
    async with Harness(config(survey="csat"), survey=survey) as h:
        survey.harness = h
        req, task, agent_channel = await talking(h)
        h.control.remote_hangup(agent_channel)
        result = await asyncio.wait_for(task, 5)
        assert result.outcome is Outcome.ANSWERED
        await h.run_until(lambda: bool(survey.runs))
        assert survey.runs == [(req.call_id, req.channel_id, "csat")]
        assert ("hangup", req.channel_id) not in h.control.log  # the ACD left the caller alive
        assert not h.control.channels[req.channel_id].gone.is_set()
        assert all(req.channel_id not in members for members in h.control.bridges.values())
        assert h.acd.agents.get("a1").state is AgentState.WRAP_UP  # the agent does not wait for the survey
        h.control.press(req.channel_id, "4")
        await h.run_until(lambda: req.call_id in survey.scores)
        assert survey.scores[req.call_id] == "4"
        assert ("hangup", req.channel_id) in h.control.log


async def test_caller_hangs_up_first_or_no_option_means_no_survey() -> None:
    survey = RecordingSurvey()
    async with Harness(config(survey="csat"), survey=survey) as h:
        survey.harness = h
        req, task, _ = await talking(h)
        h.control.remote_hangup(req.channel_id)
        await asyncio.wait_for(task, 5)
        await h.advance(1.0)
        assert survey.runs == []
    async with Harness(config(), survey=survey) as h:
        survey.harness = h
        req, task, agent_channel = await talking(h)
        h.control.remote_hangup(agent_channel)
        await asyncio.wait_for(task, 5)
        await h.advance(1.0)
        assert survey.runs == [] and ("hangup", req.channel_id) in h.control.log


async def test_the_component_finds_the_port_the_ivr_provides() -> None:
    from ctiserver.acd.component import post_call_survey
    from ctiserver.acd.survey import PostCallSurvey
    from ctiserver.app import AppContext
    from ctiserver.clock import ManualClock
    from ctiserver.config import Config

    cfg = AcdConfig.model_validate(config(survey="csat"))
    async with asyncio.TaskGroup() as tasks:
        ctx = AppContext(Config(), ManualClock(), tasks)
        assert post_call_survey(ctx, cfg) is None
        port = RecordingSurvey()
        ctx.provide(port, as_type=PostCallSurvey)
        assert post_call_survey(ctx, cfg) is port
