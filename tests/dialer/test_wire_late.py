"""A live answer whose agent's phone rings instead of answering at once, over the wire (the AMI desk: the
customer's channel is redirected to the agent's extension, whose ``Dial`` rings the phone).

The law counts a call as abandoned unless it is connected to an agent within two seconds of the callee's
greeting. An agent found at once but whose phone answers three seconds later connects the callee too late:
the call is served (the agent talks with the callee) but counts as abandoned in the abandonment ledger, and
the attempt says so (``late``, with ``connected`` — when the agent's phone answered, told by the customer's
channel's ``DialEnd`` with ``DialStatus: ANSWER``). A phone that answers at once (auto-answer) is in time.

The same through the ACD (the default deployment, the whole daemon): the agent's phone rings three seconds; with
``auto_answer`` on the agents and ``auto_answer_header`` on their queue the ACD's INVITE asks the phone to
answer by itself (``Call-Info: answer-after=0``), the simulated phone does, and the call is in time.

A phone that never answers (it rings out, or it is not registered, so ``Dial`` reaches nothing) never connects
the callee at all: the attempt is abandoned, and the seat rests before it is offered again. The screen-pop's
``agent.ringing`` is published when the PBX says the phone rings (``DialState`` ``RINGING``), so the
unreachable phone pops nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctiserver.dialer.model import AttemptRecord, Outcome
from ctiserver.dialer.pacing import AgentPhase
from ctiserver.dialer.service import DialerService
from ctiserver.events import DomainEvent
from ctiserver.pbx.ami.messages import AmiEvent
from tests.dialer import acd_daemon
from tests.dialer.waits import until
from tests.dialer.wire import (
    AGENTS,
    Wire,
    at_the_carrier,
    one_live_answer,
    rendered_agent_steps,
    window_around_now,
    wire,
)

pytestmark = pytest.mark.slow


async def _dial_the_one(w: Wire) -> tuple[list[DomainEvent], AttemptRecord, tuple[int, int], dict[str, int]]:
    """Run the one-contact campaign to its end: (the bus's events, the attempt, the ledger, the counters)."""
    events: list[DomainEvent] = []
    w.bus.listeners.append(events.append)
    await w.runner.start()
    assert await until(lambda: w.runner.counters["dialled"] == 1 and not w.runner._tasks, 30.0)
    [attempt] = await w.store.attempts("ring")
    return events, attempt, w.runner.ledger.totals(w.runner.clock.now()), dict(w.runner.counters)


@pytest.mark.parametrize(("agent_answers_after", "late"), [(3.0, True), (0.1, False)])
async def test_an_agent_phone_that_rings_past_the_two_seconds_makes_an_abandoned_call(
    agent_answers_after: float, late: bool
) -> None:
    callees, contact, settings = one_live_answer("ring")
    async with wire(settings, [contact], callees, factor=1.0, rendered=True) as w:
        for a in AGENTS:
            w.sim.agent(a, answer_after=agent_answers_after)
        events, attempt, ledger, counters = await _dial_the_one(w)
    # the screen-pop's two phases, as through the ACD: the phone rang, then it answered (when DialEnd said so)
    pops = [(e.type, e.subject, e.data["agent"], e.time) for e in events if e.type.startswith("agent.")]
    assert [p[:3] for p in pops] == [(t, attempt.id, attempt.agent) for t in ("agent.ringing", "agent.answered")]
    assert pops[1][3] - pops[0][3] >= agent_answers_after - 0.05
    assert attempt.outcome is Outcome.HUMAN and attempt.agent in AGENTS  # served either way
    assert attempt.talk_seconds is not None and attempt.talk_seconds > 0
    assert attempt.answered is not None and attempt.connected is not None
    # the simulator's AMD says HUMAN 0.8 s after the greeting: 1.2 s left for the agent's phone
    assert (attempt.connected - attempt.answered > 1.2) is late
    assert attempt.late is late
    assert ledger == (1, 1 if late else 0)
    assert (counters["connected"], counters.get("abandoned", 0), counters.get("late", 0)) == (1, 0, int(late))


@pytest.mark.parametrize("phone", ["rings out", "unregistered"])
async def test_an_agent_phone_that_never_answers_makes_an_abandoned_call(phone: str) -> None:
    callees, contact, settings = one_live_answer("ring")
    async with wire(settings, [contact], callees, wrapup=60.0, factor=1.0, rendered=True, ami_filters=False) as w:
        plan = w.sim.engine.config.dialplan["from-agents"]
        plan["_100X"] = rendered_agent_steps(3)  # rings 3 s, gives up
        steps: list[AmiEvent] = []
        w.ami.on_event("Newexten", steps.append)
        for a in AGENTS:
            w.sim.agent(a, answer_after=None)
            if phone == "unregistered":  # gone without the PBX publishing it (the desk has no state to go by)
                w.sim.engine.endpoint(f"PJSIP/{a}").registered = False
        events, attempt, ledger, counters = await _dial_the_one(w)
        phases = sorted(s.phase for s in w.desk._seats.values())
    # a phone that rang pops the contact (never "answered"); one the PBX could not reach pops nothing
    rang = ["agent.ringing"] if phone == "rings out" else []
    assert [e.type for e in events if e.type.startswith("agent.")] == rang
    assert attempt.outcome is Outcome.ABANDONED and attempt.agent is None and attempt.connected is None
    assert ledger == (1, 1)
    assert (counters["connected"], counters["abandoned"]) == (0, 1)
    assert phases.count(AgentPhase.WRAP_UP) == 1 and phases.count(AgentPhase.READY) == len(AGENTS) - 1
    # the customer was held by the agents' extension and heard the message (before session 26 the extension's
    # Hangup() after the Dial ended the call before the daemon could redirect it)
    heard = [e.get("Application") for e in steps if e.get("Uniqueid") == attempt.id]
    assert "Wait" in heard and "Read" in heard, heard


@pytest.mark.parametrize("auto_answer", [False, True])
async def test_through_the_acd_auto_answer_brings_the_agent_in_time(tmp_path: Path, auto_answer: bool) -> None:
    callee, contact, _ = one_live_answer("ring")
    campaign = {
        "name": "ring",
        "mode": "progressive",
        "queue": acd_daemon.QUEUE,
        "ring_timeout": 20,
        "retry": {"max_attempts": 1},
        "windows": window_around_now().model_dump(mode="json"),
    }
    async with acd_daemon.daemon(tmp_path, campaign, factor=1.0, auto_answer=auto_answer) as d:
        for a in (*acd_daemon.AGENTS, acd_daemon.OUTSIDER):
            d.sim.agent(a, answer_after=3.0)  # the phones ring three seconds unless asked to answer by themselves
        at_the_carrier(d.sim, callee)
        dialer = d.ctx.require(DialerService)
        await dialer.add_contacts("ring", [contact])
        await dialer.start("ring")
        runner = dialer.runners["ring"]
        assert await until(lambda: runner.counters["dialled"] == 1 and not runner._tasks, 30.0), runner.live_stats()
        [attempt] = await dialer.store.attempts("ring")
        ledger = runner.ledger.totals(d.clock.now())
    assert attempt.outcome is Outcome.HUMAN and attempt.agent in acd_daemon.AGENTS  # served either way
    assert attempt.answered is not None and attempt.connected is not None
    assert attempt.late is not auto_answer
    assert (attempt.connected - attempt.answered < 1.2) is auto_answer
    assert ledger == (1, 0 if auto_answer else 1)
