"""The AMI desk across an AMI outage, over the wire (the daemon's components against the simulator; the simulator
cuts the AMI link alone and closes new connections for a while, so the events of that time reach nobody):

* a customer who hangs up while the link is down ends the conversation once the link is back (``CoreShowChannels``
  no longer lists the channel): the attempt is stored, the agent wraps up and is ready again — not a seat and an
  attempt held for good by a ``Hangup`` that never came;
* an agent's phone that answers while the link is down is with the customer once the link is back (the channel is
  in a bridge): the screen-pop's ``agent.answered`` goes out and the call is a conversation, not an abandoned
  live answer when the customer hangs up later;
* a ``Redirect`` to the agent cut off by the outage (before it ran, or after it ran but before its response) ends
  as a conversation with the agent once the link is back: still in ``Stasis``, the customer is sent again;
  already with the agent, the call goes on (late either way: when it reached the agent is not known) — not a
  conversation ended at once with no talk while the agent may be talking, and the seat offered again."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ctiserver.dialer.model import Contact, ContactStatus, Outcome
from ctiserver.dialer.pacing import AgentPhase
from ctiserver.events.envelope import DomainEvent
from ctiserver.sim import ami_actions
from tests.dialer.test_wire_ami_desk import _settings
from tests.dialer.waits import until
from tests.dialer.wire import AGENTS, Callee, Wire, cut_ami_in_action, number, wire

pytestmark = pytest.mark.slow


def _one(talk: float, campaign: str) -> tuple[dict[str, Callee], list[Contact]]:
    callees = {number(0): Callee(reachable=True, answers=True, machine=False, ring=1.0, talk=talk)}
    return callees, [Contact("c0", campaign, number(0), "Europe/Berlin", name="Olena")]


def _count_listings(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When the simulator received each ``CoreShowChannels`` (real time)."""
    real, listed = ami_actions.HANDLERS["coreshowchannels"], []

    async def counted(s: Any, aid: str | None, msg: dict[str, str], headers: list[tuple[str, str]]) -> None:
        listed.append(time.monotonic())
        await real(s, aid, msg, headers)

    monkeypatch.setitem(ami_actions.HANDLERS, "coreshowchannels", counted)
    return listed


async def _ended(w: Wire, name: str) -> None:
    key = (name, "c0")  # the store replaces the contact on each change: read it anew
    assert await until(lambda: w.store._contacts[key].status is not ContactStatus.DIALLING, 20.0), w.runner.counters
    assert await until(lambda: not w.runner._tasks, 10.0)
    # every seat free again after its wrap-up (1 s simulated)
    assert await until(lambda: all(v.phase is AgentPhase.READY for v in w.desk.agent_views(_settings(name))), 10.0)


async def test_a_customer_who_hangs_up_during_the_outage_ends_the_conversation() -> None:
    callees, contacts = _one(8.0, "hangup")
    async with wire(_settings("hangup"), contacts, callees) as w:
        await w.runner.start()
        assert await until(lambda: any(c.connected is not None for c in w.desk._calls.values()), 20.0)
        w.sim.ami_outage(3.0)  # 12 s simulated: the customer (8 s of talk) hangs up meanwhile
        assert await until(lambda: not w.sim.engine.channels, 10.0)
        await _ended(w, "hangup")
        [attempt] = await w.store.attempts("hangup")
    assert attempt.outcome is Outcome.HUMAN and attempt.agent in AGENTS, attempt
    assert attempt.talk_seconds is not None and attempt.talk_seconds > 0
    assert w.runner.counters["connected"] == 1 and w.runner.counters["abandoned"] == 0


async def test_an_agent_who_answers_during_the_outage_is_with_the_customer(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the call tracker too: after the login the tracker, the dialler's lines and its desk each ask the
    PBX's channels, and one ``CoreShowChannels`` answers them all (``pbx/ami/channels.py``)."""
    callees, contacts = _one(24.0, "answer")
    listed = _count_listings(monkeypatch)
    async with wire(_settings("answer"), contacts, callees, tracked=True) as w:
        for a in AGENTS:  # the agents' phones ring 8 s (simulated) before they answer
            w.sim.agent(a, answer_after=8.0)
        answered: list[DomainEvent] = []
        w.bus.listeners.append(lambda e: answered.append(e) if e.type == "agent.answered" else None)
        await w.runner.start()
        assert await until(lambda: any(c.rang for c in w.desk._calls.values()), 20.0)
        before = len(listed)
        w.sim.ami_outage(3.0)  # the phone answers 2 s (real) into the outage
        assert await until(lambda: bool(answered), 10.0)  # once the link is back, before the customer hangs up
        assert any(ch.bridge is not None for ch in w.sim.engine.channels.values())
        assert len(listed) - before == 1, listed
        await _ended(w, "answer")
        [attempt] = await w.store.attempts("answer")
    assert attempt.outcome is Outcome.HUMAN and attempt.agent in AGENTS and attempt.connected is not None, attempt
    assert answered[0].data["agent"] == attempt.agent and answered[0].data["caller_name"] == "Olena"
    assert w.runner.counters["connected"] == 1 and w.runner.counters["abandoned"] == 0


@pytest.mark.parametrize("ran", [False, True], ids=["not-run", "run-unanswered"])
async def test_a_redirect_cut_off_by_the_outage_still_reaches_the_agent(
    ran: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "cut-run" if ran else "cut"
    callees, contacts = _one(24.0, name)
    # the first Redirect to an agent: the link goes; Asterisk never read it, or it runs and its response is lost
    cut = cut_ami_in_action(monkeypatch, "redirect", 3.0, lambda msg: msg.get("context") == "from-agents", ran=ran)
    async with wire(_settings(name), contacts, callees) as w:
        answered: list[Any] = []
        w.bus.listeners.append(lambda e: answered.append(e) if e.type == "agent.answered" else None)
        await w.runner.start()
        assert await until(lambda: bool(cut), 20.0)
        assert await until(lambda: bool(answered), 15.0)  # once the link is back
        assert any(ch.bridge is not None for ch in w.sim.engine.channels.values())
        await _ended(w, name)
        [attempt] = await w.store.attempts(name)
    assert attempt.outcome is Outcome.HUMAN and attempt.agent in AGENTS and attempt.connected is not None, attempt
    assert attempt.talk_seconds is not None and attempt.talk_seconds > 20.0, attempt  # 24 s simulated
    assert w.runner.counters["connected"] == 1
    # connected after the outage (sent again), or at a moment in the outage nobody saw (CoreShowChannel has no
    # bridge time): late either way, counted as abandoned — the cap's safe side
    assert w.runner.counters["late"] == 1, w.runner.counters
