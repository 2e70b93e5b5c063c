"""The ACD desk while the daemon's ARI application is away, over the wire (the whole daemon with the ACD against
the simulator): the ACD bridges over ARI, so a live answer cannot reach an agent then. Calls already ringing
answer into a failed ``Stasis`` (``STASISSTATUS`` = ``FAILED``); the rendered dialplan holds each for the
campaign's wait for an agent and plays the campaign's message. Each counts as abandoned, once; no agent's phone
rings for a call it cannot have, nobody is left held for it, and nothing new is dialled until the application
is back."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from ctiserver.acd.agent_state import AgentState
from ctiserver.acd.service import AcdService
from ctiserver.config import AmiConfig
from ctiserver.dialer.model import Contact, Outcome
from ctiserver.dialer.service import DialerService
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ami.messages import AmiEvent
from ctiserver.pbx.ari.client import AriClient
from tests.dialer.acd_daemon import AGENTS, daemon
from tests.dialer.waits import until
from tests.dialer.wire import number, window_around_now

pytestmark = pytest.mark.slow

MESSAGE = "ctiserver/dialer-sorry"


async def test_answers_while_the_ari_app_is_away_hear_the_message_and_no_agent_is_rung(tmp_path: Path) -> None:
    n = 6  # four agents: four calls at once, two contacts left for when the application is back
    campaign = {
        "name": "away",
        "mode": "progressive",
        "queue": "sales",
        "ring_timeout": 20,
        "retry": {"max_attempts": 1},
        "abandon_message": [f"sound:{MESSAGE}"],
        "windows": window_around_now().model_dump(mode="json"),
    }
    contacts = [Contact(f"k{i}", "away", number(i), "Europe/Berlin") for i in range(n)]
    async with daemon(tmp_path, campaign, factor=4.0) as d:
        for a in AGENTS:
            d.sim.agent(a, answer_after=0.4)
        for i in range(n):
            d.sim.customer(number(i), answer_after=3.0, hangup_after=5.0)
        pbx: list[AmiEvent] = []
        spy = AmiClient(AmiConfig(port=d.sim.ami_port, event_filters=()), d.clock)
        spy.on_event("*", pbx.append)
        await spy.start()
        dialer = d.ctx.require(DialerService)
        acd = d.ctx.require(AcdService)
        await dialer.add_contacts("away", contacts)
        await dialer.start("away")
        runner = dialer.runners["away"]
        assert await until(lambda: len(runner.ringing) == len(AGENTS), 10.0), runner.live_stats()
        # the daemon's ARI link goes away while they ring: the PBX has no ctiserver application any more
        await d.ctx.require(AriClient).close()
        assert await until(lambda: "ctiserver" not in d.sim.hub.connected_apps(), 5.0)
        assert await until(lambda: runner.counters["live"] == len(AGENTS) and not runner.ringing, 30.0), (
            runner.live_stats()
        )
        assert await until(lambda: not runner._tasks, 30.0), runner.live_stats()
        # nobody is held for those calls: the agents are ready again at once
        assert all(acd.agents.get(a).state is AgentState.READY for a in AGENTS), [
            (a, acd.agents.get(a).state) for a in AGENTS
        ]
        await asyncio.sleep(1.0)  # pacing ticks with four agents ready and two contacts due
        attempts = await dialer.store.attempts("away")
        assert await until(lambda: not d.sim.engine.channels, 15.0), list(d.sim.engine.channels)
        await spy.close()
    assert len(attempts) == len(AGENTS)  # nothing dialled while the application was away
    assert Counter(a.outcome for a in attempts) == {Outcome.ABANDONED: len(AGENTS)}, attempts
    assert all(a.agent is None for a in attempts)
    assert runner.ledger.totals(runner.clock.now()) == (len(AGENTS), len(AGENTS))
    assert (runner.counters["connected"], runner.counters["abandoned"]) == (0, len(AGENTS))
    # no agent's phone was rung for them
    assert not [e for e in pbx if e.name == "Newchannel" and (e.get("Channel") or "").startswith("PJSIP/100")]
    for a in attempts:
        steps = [
            (e.get("Context"), e.get("Application"), e.get("AppData"))
            for e in pbx
            if e.name == "Newexten" and e.get("Uniqueid") == a.id
        ]
        failed = steps.index(("ctiserver-amd", "GotoIf", "1?ctiserver-dialer-abandon,nostasis,1"))
        assert steps[failed + 2][:2] == ("ctiserver-dialer-abandon", "Wait"), steps
        assert ("ctiserver-dialer-abandon", "Read", f"CTI_OPTOUT,{MESSAGE},1,,1,3") in steps[failed:], steps
