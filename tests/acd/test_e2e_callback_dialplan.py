"""Call-backs while the PBX lacks the context they dial into, over the wire: on Asterisk a
``Local/<number>@ctiserver-outbound`` channel to a context that is not loaded fails in ``local_call`` with no
cause at all — after the agent answered. So while ``DialplanCheck`` (AMI ``ShowDialPlan``) finds the context
missing, routing does not offer call-backs: no agent is rung for them and they spend no attempts. Once the
check sees the context (the admin ran ``dialplan reload``), the waiting call-back is served."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.ivr_target import AcdQueueTarget
from ctiserver.config import AmiConfig
from ctiserver.ivr.ports import CallbackRequest
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.dialplan_check import DialplanCheck
from ctiserver.pbx.extensions_conf import parse
from tests.acd.clocks import wait_for
from tests.acd.e2e_rig import JUNIORS, SPECIALISTS, rig

NUMBER = "5550188"


async def test_call_backs_wait_while_the_outbound_context_is_missing(tmp_path: Path) -> None:
    async with rig(tmp_path, factor=4.0) as r:
        for n in JUNIORS[1:] + SPECIALISTS:  # one agent could serve the call-back
            await r.acd.pause(n, "break")
        r.sim.customer(NUMBER, answer_after=0.5, hangup_after=3.0)
        outbound = r.sim.engine.config.dialplan.pop("ctiserver-outbound")  # not loaded on this PBX
        async with AmiClient(AmiConfig(port=r.sim.ami_port), r.clock) as ami:
            await asyncio.wait_for(ami.connected.wait(), 10)
            check = DialplanCheck(ami, parse("[ctiserver-outbound]"), r.clock)  # the context, no extensions
            assert (await check.check_once()).missing == ("ctiserver-outbound",)
            r.acd.context_missing = check.lacks  # as the ACD component wires it
            target = AcdQueueTarget(r.acd, r.control)
            await target.request_callback(CallbackRequest("cb-held", NUMBER, "easy", r.clock.now()))
            await asyncio.sleep(2.0)  # ~8 s of ACD time: several routing passes
            agent = r.acd.agents.get(JUNIORS[0])
            assert agent.state is AgentState.READY and not r.of("callback.dialing", "agent.ringing")
            assert not r.sim.engine.channels and r.acd.position("cb-held") == 1  # waiting, in its place

            r.sim.engine.config.dialplan["ctiserver-outbound"] = outbound  # `dialplan reload`
            await check.check_once()
            await wait_for(lambda: r.acd.stats["easy"].callbacks_connected == 1, within=60.0)
            await target.close()
    assert [e.data["agent"] for e in r.of("callback.dialing")] == [JUNIORS[0]]
    assert not r.of("callback.failed", "callback.retry")
