"""A call-back whose customer is busy, over the wire as on Asterisk: the agent is rung first, then the customer
is dialled as ``Local/<number>@ctiserver-outbound`` (the rendered context: ``Dial(PJSIP/<number>@trunk)``), and
the carrier answers 486 Busy Here. The busy cause comes back through the Local pair (the ``;1`` channel's
``ChannelDestroyed``, cause 17); the agent is let go, and the customer is dialled again only after
``callback.retry_after`` — then, still busy, the call-back is given up."""

from __future__ import annotations

from pathlib import Path

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.config import AcdConfig
from ctiserver.acd.ivr_target import AcdQueueTarget
from ctiserver.ivr.ports import CallbackRequest
from tests.acd.clocks import wait_for
from tests.acd.e2e_rig import JUNIORS, SPECIALISTS, acd_config, rig

NUMBER = "5550177"
RETRY_AFTER = 6.0


def _config() -> AcdConfig:
    data = acd_config().model_dump(mode="json")
    for queue in data["queues"]:
        if queue["name"] == "easy":
            queue["callback"].update(attempts=2, retry_after=RETRY_AFTER)
    return AcdConfig.model_validate(data)


async def test_a_busy_customer_is_dialled_again_later_then_given_up(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0, acd=_config()) as r:
        for n in JUNIORS[1:] + SPECIALISTS:  # one agent serves the call-back
            await r.acd.pause(n, "break")
        r.sim.customer(NUMBER, reject=486)
        target = AcdQueueTarget(r.acd, r.control)
        await target.request_callback(CallbackRequest("cb-busy", NUMBER, "easy", r.clock.now()))
        await wait_for(lambda: r.acd.stats["easy"].callbacks_failed == 1, within=60.0)
        await wait_for(lambda: not r.sim.engine.channels)
        agent = r.acd.agents.get(JUNIORS[0])
        await wait_for(lambda: agent.state is AgentState.READY)
        await target.close()
    dialing = r.of("callback.dialing")
    failed = r.of("callback.failed")
    assert [e.data["agent"] for e in dialing] == [JUNIORS[0]] * 2
    assert len(failed) == 2 and all("busy" in e.data["error"] and "cause 17" in e.data["error"] for e in failed)
    assert [(e.data["attempt"], e.data["retry_in"]) for e in r.of("callback.retry")] == [(1, RETRY_AFTER)]
    assert dialing[1].time - failed[0].time >= RETRY_AFTER
    # the customer's side: each time a Local pair out through the trunk, refused with 486
    ends = [
        e
        for e in r.ari_events
        if e.get("type") == "ChannelDestroyed" and e["channel"]["name"].startswith(f"Local/{NUMBER}@ctiserver-outbound")
    ]
    assert [e["cause"] for e in ends if e["channel"]["name"].endswith(";1")] == [17, 17]
    assert r.acd.stats["easy"].callbacks_connected == 0
