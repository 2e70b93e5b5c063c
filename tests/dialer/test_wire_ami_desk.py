"""The AMI desk when the answered call cannot reach its agent, over the wire (the daemon's components against the
simulator): the dialplan holds the answer in ``Stasis(ctiserver,dialer,…)``, so

* while the daemon's ARI application is away, nothing new is dialled; calls already ringing answer into a failed
  ``Stasis`` (``STASISSTATUS`` = ``FAILED``) and the rendered dialplan holds each in silence for the campaign's
  wait for an agent (``CTI_GRACE``, set at the Originate), where the AMI desk's ``Redirect`` takes it to a free
  agent; with no agent free it hears the campaign's message (``CTI_MESSAGE``, set at the Originate) and counts
  as abandoned;
* a live answer gone before the desk's ``Redirect`` (the PBX answers ``Channel does not exist: <name>``) is not
  waited for: its ``Hangup`` went by already."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from ctiserver.dialer.model import CampaignSettings, Contact, Outcome, PacingMode, RetryPolicy
from ctiserver.dialer.pacing import AgentPhase
from ctiserver.pbx.ami.messages import AmiEvent
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


async def test_answers_while_the_ari_app_is_away_are_held_by_the_dialplan_then_served_or_given_the_message() -> None:
    n = 16  # ten agents: ten calls at once, six contacts left for later
    callees = {number(i): Callee(reachable=True, answers=True, machine=False, ring=6.0, talk=4.0) for i in range(n)}
    contacts = [Contact(f"c{i}", "away", number(i), "Europe/Berlin") for i in range(n)]
    away = ("sound:ctiserver/away-sorry", "sound:ctiserver/goodbye")
    settings = _settings("away").model_copy(update={"abandon_message": away})
    events: list[AmiEvent] = []
    async with wire(settings, contacts, callees, ami_filters=False) as w:
        w.ami.on_event("Newexten", events.append)
        pops = w.bus.subscribe("agent.ringing")
        await w.runner.start()
        assert await until(lambda: len(w.runner.ringing) == len(AGENTS), 10.0)
        # the daemon's events WebSocket goes away while they ring: the PBX has no ctiserver application any more
        await w.ctx.require(AriClient).close()
        assert await until(lambda: "ctiserver" not in w.sim.hub.connected_apps(), 5.0)
        assert w.runner.live_stats()["waiting"] == {"code": "ari_away", "detail": ""}
        # four agents are taken meanwhile (held for calls of their own): four answers will find nobody
        taken = {await w.desk.reserve(settings, 0.0, call_id=f"other-{i}") for i in range(4)}
        assert None not in taken and len(taken) == 4
        # they answer into a failed Stasis: the dialplan holds each (Wait ${CTI_GRACE}) instead of hanging up
        assert await until(lambda: w.runner.counters["dialled"] == len(AGENTS) and not w.runner._tasks, 30.0), (
            w.runner.live_stats()
        )
        await asyncio.sleep(1.0)  # a few pacing ticks with agents ready and six contacts due
        attempts = await w.store.attempts("away")
        assert await until(lambda: not w.sim.engine.channels, 10.0)
    assert len(w.originated) == len(AGENTS)  # nothing dialled while the application was away
    assert Counter(a.outcome for a in attempts) == {Outcome.HUMAN: 6, Outcome.ABANDONED: 4}, attempts
    served = [a for a in attempts if a.outcome is Outcome.HUMAN]
    assert len({a.agent for a in served}) == 6 and not {a.agent for a in served} & taken
    assert all(a.agent is None for a in attempts if a.outcome is Outcome.ABANDONED)
    assert not w.ari and not w.routed  # none of them reached the application
    assert (w.runner.counters["connected"], w.runner.counters["abandoned"]) == (6, 4)
    assert w.runner.ledger.totals(w.runner.clock.now()) == (len(AGENTS), 4)
    assert pops.queue.qsize() == 6  # a screen-pop for each call an agent took
    message = ("ctiserver-dialer-abandon", "Read", "CTI_OPTOUT,ctiserver/away-sorry&ctiserver/goodbye,1,,1,3")
    for a in attempts:
        mine = [e for e in events if e.get("Uniqueid") == a.id]
        steps = [(e.get("Context"), e.get("Application"), e.get("AppData")) for e in mine]
        # AppData is after substitution, $[...] included (pbx_substitute_variables): the condition came out true
        failed = steps.index(("ctiserver-amd", "GotoIf", "1?ctiserver-dialer-abandon,nostasis,1"))
        # held in silence for the campaign's wait for an agent (CTI_GRACE, set at the Originate)
        # (less the 0.8 s of after-greeting silence AMD() listened to before its HUMAN)
        assert steps[failed + 2] == ("ctiserver-dialer-abandon", "Wait", "1.2"), steps
        if a.outcome is Outcome.HUMAN:  # taken out of the hold by the desk's Redirect to its agent
            assert ("from-agents", "Dial", f"PJSIP/{a.agent},30") in steps and message not in steps, steps
        else:  # nobody: the campaign's message (CTI_MESSAGE, set at the Originate), then the end
            assert message in steps[failed:], steps


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
