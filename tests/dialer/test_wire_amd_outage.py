"""AMD verdicts given while the AMI link was down, over the wire through the rendered dialplan.

The link is cut (the simulator drops the daemon's AMI session and closes new connections for a while; ARI stays
up) right after the PBX took the ``Originate``s: the callees answer and ``AMD()`` decides while nobody hears the
``VarSet`` events. After the reconnect the daemon reconciles (``CoreShowChannels``: both calls are still there,
``Up``) and must read the verdicts off the channels (``Getvar``): the machine hears the machine message and never
reaches an agent, the person gets AMD's own verdict — not a guess after the AMD wait — and, having waited through
the outage, counts as abandoned: the two seconds for an agent run from when the PBX gave the verdict (the call
entered the daemon's Stasis application then, over ARI, which stayed up), not from the reconnect."""

from __future__ import annotations

import pytest

from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus, Outcome, PacingMode, RetryPolicy
from ctiserver.sim.amd import verdict
from tests.dialer.waits import until
from tests.dialer.wire import Callee, cut_ami_at, number, one_live_answer, window_around_now, wire

pytestmark = pytest.mark.slow

PARAMS = "2500,1500,800,5000,100,50,2,256,5000"  # the rendered AMD() arguments (amd.conf defaults)


async def test_verdicts_given_during_an_ami_outage_are_read_back() -> None:
    machine, person = number(0), number(1)
    callees = {
        machine: Callee(reachable=True, answers=True, machine=True, ring=2.0, talk=60.0),
        person: Callee(reachable=True, answers=True, machine=False, ring=2.0, talk=60.0),
    }
    settings = CampaignSettings(
        name="outage",
        mode=PacingMode.PROGRESSIVE,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RetryPolicy(max_attempts=1),
        machine_message=("sound:ctiserver/dialer-machine",),
    )
    contacts = [Contact(f"c{i}", "outage", n, "Europe/Berlin") for i, n in enumerate((machine, person))]
    async with wire(settings, contacts, callees, rendered=True, amd_wait=6.0) as w:
        # the link goes down as the first callee's AMD() begins; both answer within 0.1 s of each other and AMD()
        # decides in ~1.5 s (simulated, 4× faster); the outage (10 s simulated) outlasts the daemon's AMD wait (6 s),
        # which must not give NOTSURE meanwhile
        cut = cut_ami_at(w, "amd", 2.5)
        await w.runner.start()
        assert await until(lambda: {n for _, n, _ in w.originated} == {machine, person}, 20.0)
        assert await until(lambda: cut, 20.0)
        assert await until(lambda: w.lines.blocked() is not None, 5.0)
        assert await until(lambda: w.lines.reconciliations >= 1 and w.lines.can_dial(), 20.0)
        assert await until(
            lambda: all(c.status is not ContactStatus.DIALLING for c in w.store._contacts.values()), 30.0
        )
        assert await until(lambda: not w.runner._tasks, 30.0)
        attempts = {a.number: a for a in await w.store.attempts("outage")}
    assert w.lines.reconciliations >= 1
    machine_status, machine_cause, _ = verdict("machine", PARAMS)
    human_status, human_cause, _ = verdict("human", PARAMS)
    m, p = attempts[machine], attempts[person]
    assert (m.outcome, m.amd_status, m.amd_cause) == (Outcome.MACHINE, machine_status, machine_cause)
    assert m.agent is None  # no agent's phone rang for the machine
    assert (p.amd_status, p.amd_cause) == (human_status, human_cause)  # AMD's, not NOTSURE/TIMEOUT
    # the person was answered and recognised some 7 s (simulated) before the link came back: the law's two seconds
    # for an agent ran out during the outage, so the call is abandoned in the ledger — given the message, or
    # served by an agent but late — not a fresh live answer with two seconds to go
    assert p.outcome is Outcome.ABANDONED or (p.outcome is Outcome.HUMAN and p.late), p
    assert w.runner.counters["abandoned"] + w.runner.counters["late"] == 1, w.runner.counters


async def test_an_answer_during_the_outage_is_no_sample_for_the_pacer() -> None:
    """The callee answers while the link is down: the reconciliation finds the call ``Up`` after the reconnect.
    When it was answered is not known, so no answer time is stored (it would be the reconnect's) and the pacer
    takes it as no sample of the answer rate and delays (before: a 10-s-too-long answer delay)."""
    callees, contact, settings = one_live_answer("unseen")
    callees[number(0)] = Callee(reachable=True, answers=True, machine=False, ring=4.0, talk=30.0)
    async with wire(settings, [contact], callees, rendered=True) as w:
        cut = cut_ami_at(w, "dial", 3.0)  # as the Local channel's ;2 dials the callee: it answers 1 s later
        await w.runner.start()
        assert await until(lambda: cut, 20.0)
        assert await until(lambda: w.lines.reconciliations >= 1 and w.lines.can_dial(), 20.0)
        assert await until(lambda: not w.runner._tasks and w.store._contacts[("unseen", "c0")].attempts == 1, 30.0)
        [attempt] = await w.store.attempts("unseen")
    assert attempt.outcome in (Outcome.HUMAN, Outcome.ABANDONED) and attempt.answered is None, attempt
    assert len(w.runner.stats.outcomes) == 0 and len(w.runner.stats.answer_delay) == 0
