"""Post-call CSAT over the wire: a queue with ``survey: csat``; the agent's phone hangs up first, the caller
stays in Stasis, hears the IVR's ``csat`` question, presses 4, and the score is stored against the call."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.config import AcdConfig
from tests.acd.clocks import wait_for
from tests.acd.e2e_rig import JUNIORS, SPECIALISTS, Rig, acd_config, rig


def with_survey(cfg: AcdConfig) -> AcdConfig:
    queues = tuple(q.model_copy(update={"survey": "csat"}) if q.name == "easy" else q for q in cfg.queues)
    return cfg.model_copy(update={"queues": queues})


def played(r: Rig, channel_id: str, media: str) -> bool:
    def match(e: Any) -> bool:
        pb = e.get("playback") or {}
        return (
            e.get("type") == "PlaybackStarted"
            and pb.get("target_uri") == f"channel:{channel_id}"
            and pb.get("media_uri") == media
        )

    return any(match(e) for e in r.ari_events)


def surveys(r: Rig) -> list[Any]:
    return [e for e in r.of("call.updated") if e.data.get("change") == "survey"]


async def test_agent_hangs_up_first_caller_answers_the_csat_survey(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0, acd=with_survey(acd_config()), survey=True) as r:
        assert r.ivr is not None
        for n in JUNIORS[1:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        agent = JUNIORS[0]
        r.sim.agent(agent, answer_after=1.0, hangup_after=3.0)  # the agent ends the conversation
        call = r.sim.place_call(from_number="5550100", to="100")  # the caller stays until the PBX hangs up
        await asyncio.wait_for(call.placed.wait(), 30)
        ch = call.channel_id
        await wait_for(lambda: bool(r.of("agent.answered")))
        await wait_for(lambda: r.acd.agents.get(agent).state is AgentState.WRAP_UP)
        assert not call.done.is_set()  # the ACD did not hang up the caller
        await wait_for(lambda: played(r, ch, "sound:custom/csat-question"))
        call.press("4")
        await wait_for(lambda: bool(surveys(r)))
        [event] = surveys(r)
        assert (event.subject, event.data["change"], event.data["survey"], event.data["score"]) == (
            ch,  # the rig's call id is the caller's channel id: the score is stored against the same call
            "survey",
            "csat",
            4,
        )
        await asyncio.wait_for(call.done.wait(), 30)  # the script says goodbye and hangs up
        await wait_for(lambda: r.ivr is not None and ch in r.ivr.finished)
        session = r.ivr.finished[ch]
        assert session.script == "csat" and session.vars["survey_csat"] == "4"
        assert session.path == ["question", "bye"]
        left = [e for e in r.of("queue.left") if e.subject == ch]
        assert [e.data["outcome"] for e in left] == ["answered"]


async def test_caller_hanging_up_first_gets_no_survey(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0, acd=with_survey(acd_config()), survey=True) as r:
        assert r.ivr is not None
        for n in JUNIORS[1:] + SPECIALISTS:
            await r.acd.pause(n, "break")
        call = r.sim.place_call(from_number="5550100", to="100", hangup_after=5.0)
        await asyncio.wait_for(call.placed.wait(), 30)
        await wait_for(lambda: bool(r.of("agent.answered")))
        await asyncio.wait_for(call.done.wait(), 30)
        await wait_for(lambda: r.acd.agents.get(JUNIORS[0]).state is AgentState.WRAP_UP)
        assert not played(r, call.channel_id, "sound:custom/csat-question") and not surveys(r)
        assert call.channel_id not in r.ivr.active and call.channel_id not in r.ivr.finished
