from __future__ import annotations

import itertools

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.ivr_target import AcdQueueTarget
from ctiserver.ivr.ports import CallbackRequest
from ctiserver.ivr.ports import QueueRequest as IvrQueueRequest
from tests.acd.harness import Harness
from tests.acd.test_service import config


def ivr_request(h: Harness, **kw: object) -> IvrQueueRequest:
    ch = h.control.caller()
    base: dict[str, object] = dict(
        call_id=f"call-{ch}",
        channel_id=ch,
        queue="sales",
        skills={"tech": 7},
        priority=3,
        announcements=(),
        attached={"account": "A-1", "intent": "internet"},
        caller_number="5550100",
        language="en",
        ivr_path=("menu", "tech"),
    )
    return IvrQueueRequest(**(base | kw))  # type: ignore[arg-type]


async def test_the_ivr_queue_node_hands_over_skills_priority_and_attached_data() -> None:
    async with Harness(config()) as h:
        target = AcdQueueTarget(h.acd, h.control)
        req = ivr_request(h)
        await target.enqueue(req)
        await h.run_until(lambda: bool(h.of("agent.answered")))
        ring = h.of("agent.ringing")[0]
        assert ring.data["agent"] == "a2"  # tech 7 asked by the script: only the specialist qualifies
        assert ring.data["attached"] == {"account": "A-1", "intent": "internet", "ivr_path": ["menu", "tech"]}
        assert h.of("queue.entered")[0].data["priority"] == 3
        h.control.remote_hangup(req.channel_id)
        await h.run_until(lambda: h.acd.agents.get("a2").state is AgentState.WRAP_UP)
        await target.close()


async def test_max_wait_continues_at_the_exit_or_says_goodbye() -> None:
    cfg = config(max_wait=5, timeout_exit="voicemail,sales")
    async with Harness(cfg) as h:
        await h.acd.pause("a1", "break")
        await h.acd.pause("a2", "break")
        target = AcdQueueTarget(h.acd, h.control)
        req = ivr_request(h, skills={})
        await target.enqueue(req)
        await h.run_until(lambda: any(x[0] == "continue" for x in h.control.log), limit=20)
        assert ("continue", req.channel_id, "voicemail", "sales") in h.control.log
        await target.close()


async def test_callback_node_request_is_dialled_agent_first() -> None:
    async with Harness(config(callback={"enabled": True, "endpoint": "PJSIP/{number}@trunk"})) as h:
        target = AcdQueueTarget(h.acd, h.control)
        await target.request_callback(
            CallbackRequest("cb-1", "5550199", "sales", h.clock.now(), {"why": "bill"})
        )
        await h.run_until(lambda: h.acd.stats["sales"].callbacks_connected == 1)
        assert [d.endpoint for d in h.control.dials][:1] == ["PJSIP/1001"]
        assert h.control.dials[1].endpoint == "PJSIP/5550199@trunk"
        assert h.of("agent.ringing")[0].data["attached"] == {"why": "bill"}
        await target.close()


async def test_callback_whose_customer_never_answers_is_retried_then_given_up() -> None:
    from tests.acd.fake_control import Device

    cfg = config(callback={"enabled": True, "endpoint": "PJSIP/{number}@trunk", "attempts": 3})
    async with Harness(cfg) as h:
        h.control.devices["PJSIP/5550199@trunk"] = Device(fail="busy")
        target = AcdQueueTarget(h.acd, h.control)
        await target.request_callback(CallbackRequest("cb-2", "5550199", "sales", h.clock.now()))
        await h.run_until(lambda: h.acd.stats["sales"].callbacks_failed == 1, limit=600)
        assert [e.data["attempt"] for e in h.of("callback.retry")] == [1, 2]
        # dialled again only after ``retry_after`` (120 s), not at once: a busy customer is busy for a while
        dialing = [e.time for e in h.of("callback.dialing")]
        assert len(dialing) == 3 and all(b - a >= 120 for a, b in itertools.pairwise(dialing))
        assert len(h.of("callback.failed")) == 3
        assert len([d for d in h.control.dials if d.endpoint == "PJSIP/5550199@trunk"]) == 3
        assert h.acd.stats["sales"].callbacks_connected == 0
        await target.close()
