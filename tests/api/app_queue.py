"""The daemon in observer mode (app_queue on the simulator's AMI) and an app_queue call answered by agent 1001:
what the tests of app_queue calls through the API share."""

from __future__ import annotations

import aiohttp

from ctiserver.events.log import EventLog
from ctiserver.sim.simulator import CallHandle, Simulator
from tests.api.harness import Daemon
from tests.servers.redis import wait_for

COMPONENTS = (
    "ctiserver.sim.component",
    "ctiserver.store.component",
    "ctiserver.events.component",
    "ctiserver.pbx.component",
    "ctiserver.control.component",
    "ctiserver.calls.component",
    "ctiserver.recording.component",
    "ctiserver.acd.component",
    "ctiserver.api.component",
)


async def answered_call(
    d: Daemon, http: aiohttp.ClientSession, talk: float, sim: Simulator | None = None
) -> tuple[CallHandle, str]:
    """Agent 1001 (phone answering after 0.2 s) logs in to app_queue ``support`` through the API; a caller
    dialling 200 reaches it and hangs up after ``talk`` s. Returns once the agent answered: the call and its id.
    ``sim``: a simulator of its own (the daemon's simulator component otherwise)."""
    sim = sim or d.ctx.require(Simulator)
    sim.agent("1001", answer_after=0.2)
    async with http.post(
        d.url + "/api/observer/agents/1001/login", headers=d.auth("agent"), json={"queues": ["support"]}
    ) as resp:
        assert resp.status == 200, await resp.text()
    call = sim.place_call(from_number="5550123", to="200", hangup_after=talk)
    log = d.ctx.require(EventLog)
    await wait_for(lambda: any(e.type == "agent.answered" for e in log._ring))
    assert call.channel is not None
    return call, call.channel.linkedid

