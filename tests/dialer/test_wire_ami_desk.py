"""The AMI desk when the answered call cannot reach its agent, over the wire (the daemon's components against the
simulator): the dialplan holds the answer in ``Stasis(ctiserver,dialer,…)``, so

* while the daemon's ARI application is away, ``Stasis`` fails and the rendered dialplan hangs up on the customer
  who just answered: nothing new is dialled meanwhile, and the answers lost that way are abandoned live answers
  (not conversations), their agents ready again at once;
* a live answer gone before the desk's ``Redirect`` (the PBX answers ``Channel specified does not exist``) is not
  waited for: its ``Hangup`` went by already."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from ctiserver.dialer.model import CampaignSettings, Contact, Outcome, PacingMode, RetryPolicy
from ctiserver.dialer.pacing import AgentPhase
from ctiserver.pbx.ari.client import AriClient
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, Callee, number, window_around_now, wire

pytestmark = pytest.mark.slow


def _settings(name: str) -> CampaignSettings:
    return CampaignSettings(
        name=name,
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=30.0,
        retry=RetryPolicy(max_attempts=1),
    )


async def test_no_dialling_while_the_ari_app_is_away_and_answers_lost_meanwhile_are_abandoned() -> None:
    n = 16  # ten agents: ten calls at once, six contacts left for later
    callees = {number(i): Callee(reachable=True, answers=True, machine=False, ring=6.0, talk=4.0) for i in range(n)}
    contacts = [Contact(f"c{i}", "away", number(i), "Europe/Berlin") for i in range(n)]
    async with wire(_settings("away"), contacts, callees) as w:
        pops = w.bus.subscribe("agent.ringing")
        await w.runner.start()
        assert await until(lambda: len(w.runner.ringing) == len(AGENTS), 10.0)
        # the daemon's events WebSocket goes away while they ring: the PBX has no ctiserver application any more
        await w.ctx.require(AriClient).close()
        assert await until(lambda: "ctiserver" not in w.sim.hub.connected_apps(), 5.0)
        assert not w.lines.can_dial()
        # they answer into a failed Stasis; the dialplan hangs up; each attempt ends (none waits for ever)
        assert await until(lambda: w.runner.counters["dialled"] == len(AGENTS) and not w.runner._tasks, 30.0), (
            w.runner.live_stats()
        )
        await asyncio.sleep(1.0)  # a few pacing ticks with every agent ready and six contacts due
        attempts = await w.store.attempts("away")
        views = w.desk.agent_views(w.runner.settings)
        assert await until(lambda: not w.sim.engine.channels, 10.0)
    assert len(w.originated) == len(AGENTS)  # nothing dialled while the application was away
    assert Counter(a.outcome for a in attempts) == {Outcome.ABANDONED: len(AGENTS)}, attempts
    assert all(a.agent is None and a.amd_status == "HUMAN" for a in attempts)
    assert not w.ari and not w.routed  # none of them reached the application
    assert w.runner.counters["abandoned"] == len(AGENTS) and w.runner.counters["connected"] == 0
    assert w.runner.ledger.totals(w.runner.clock.now()) == (len(AGENTS), len(AGENTS))
    assert all(v.phase is AgentPhase.READY for v in views)  # nobody left "talking" to a call that never came
    assert pops.queue.empty()  # no screen-pop for a call that never rang an agent


async def test_live_answer_gone_before_the_redirect_is_not_waited_for() -> None:
    callees = {number(0): Callee(reachable=True, answers=True, machine=False, ring=1.0, talk=4.0)}
    contact = Contact("c0", "gone", number(0), "Europe/Berlin")
    settings = _settings("gone")
    async with wire(settings, [contact], callees) as w:
        pops = w.bus.subscribe("agent.ringing")
        agent = await w.desk.reserve(settings, 0.0, call_id="a-1")
        assert agent is not None
        talk = await asyncio.wait_for(w.desk.converse(settings, agent, contact, "a-1", "no-such-channel"), 10.0)
        seat = next(v for a, v in zip(AGENTS, w.desk.agent_views(settings), strict=True) if a == agent)
    assert talk is None  # the agent never had the call: the runner counts an abandoned live answer
    assert seat.phase is AgentPhase.READY  # at once, without a wrap-up
    assert pops.queue.empty()
