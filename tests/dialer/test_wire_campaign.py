"""End to end over the wire: the campaign runner drives the simulator through AMI (Originate with ChannelId,
OriginateResponse, VarSet of the AMD verdict, Redirect to the agent, Hangup), with a seeded callee model.
Every answered call enters ``Stasis(ctiserver,dialer,…)`` and is held there by the daemon's ARI application
until the desk redirects or hangs it up. What the PBX did is read from the simulator's side."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from ctiserver.dialer.campaign_state import CampaignState
from ctiserver.dialer.model import (
    AttemptRecord,
    CampaignSettings,
    Contact,
    ContactStatus,
    Outcome,
    PacingMode,
    RetryPolicy,
)
from tests.dialer.waits import until
from tests.dialer.wire import Wire, callee_model, number, window_around_now, wire

pytestmark = pytest.mark.slow

RETRY = RetryPolicy(max_attempts=2, busy=1.0, noanswer=1.0, machine=1.0, failed=1.0, abandoned=1.0)


def _settings(mode: PacingMode = PacingMode.PREDICTIVE) -> CampaignSettings:
    return CampaignSettings(
        name="spring",
        mode=mode,
        windows=window_around_now(),
        ring_timeout=15.0,
        retry=RETRY,
        caller_id="5550200",
        caller_name="Spring Sale",
        predictive_min_outcomes=20,
        predictive_min_live=40,
    )



def _settled(w: Wire) -> bool:
    active = (ContactStatus.PENDING, ContactStatus.DIALLING, ContactStatus.CALLBACK)
    return not w.runner.ringing and all(
        c.status not in active or c.timezone == "Asia/Tokyo" for c in w.store._contacts.values()
    )


async def test_predictive_campaign_of_500_contacts_with_10_agents() -> None:
    """Runs 40 s of wall time (160 s of simulated time), pauses, lets the calls in flight end, then checks
    everything the PBX was asked to do. The production path: ``Local/<number>@ctiserver-dialer/n`` into the
    rendered dialplan, ``Dial(PJSIP/<number>@trunk)`` to the callees at the carrier (some busy, some numbers that
    do not exist), the simulator's ``AMD()``, ``Stasis``."""
    n = 500
    callees = callee_model(n, p_busy=0.1)
    contacts = [
        Contact(f"c{i}", "spring", number(i), "Europe/Berlin", name=f"Kunde {i}", fields={"offer": f"O-{i % 7}"})
        for i in range(n)
    ]
    # 30 callees whose zone is far outside the window, 40 on do-not-call lists, 10 more put on the list
    # after the start, before they fall due (an agent's "do not call" disposition): checked at dial time
    for i in range(0, 30):
        contacts[i] = Contact(f"c{i}", "spring", number(i), "Asia/Tokyo", name=f"Kunde {i}")
    late_dnc = [number(i) for i in range(70, 80)]
    async with wire(_settings(), contacts, callees, rendered=True) as w:
        for i in range(70, 80):
            contacts[i] = Contact(
                f"c{i}", "spring", number(i), "Europe/Berlin", priority=5, next_at=w.runner.clock.now() + 20.0
            )
        await w.store.add_contacts(contacts[70:80])
        await w.store.dnc_add([number(i) for i in range(30, 50)])
        await w.store.dnc_add([number(i) for i in range(50, 70)], campaign="spring")
        pops = w.bus.subscribe("agent.ringing")
        await w.runner.start()
        await w.store.dnc_add(late_dnc, reason="agent disposition: do not call")
        # ~40 s on an idle machine; longer when the machine is loaded (the simulated clock runs on)
        assert await until(
            lambda: w.runner.counters["dialled"] >= 300 and w.runner.counters["predictive_decisions"] > 20,
            150.0,
        ), w.runner.live_stats()
        await w.runner.pause()
        assert await until(lambda: not w.runner._tasks, 30.0)
        attempts = await w.store.attempts("spring")
        final = await w.store.contacts("spring")
        stats = w.runner.live_stats()
        assert await until(lambda: not w.sim.engine.channels, 30.0)  # nothing left behind on the PBX
    assert len(attempts) >= 250, stats
    _check_stasis(w, attempts)
    dialled = Counter(num for _, num, _ in w.originated)
    # no call outside a callee's window, no DNC number dialled
    assert not any(number(i) in dialled for i in range(0, 70))
    assert not any(num in dialled for num in late_dnc)
    # every attempt is a leg with an outcome: what the PBX created == what the dialer recorded
    assert len(w.originated) == len(attempts) == sum(dialled.values())
    assert Counter(a.number for a in attempts) == dialled
    assert all(isinstance(a.outcome, Outcome) and a.outcome is not Outcome.UNKNOWN for a in attempts)
    # retries as configured: at most 2, the second only after the first ended + the delay, never concurrent
    by_number: dict[str, list] = {}
    for a in sorted(attempts, key=lambda a: a.started):
        by_number.setdefault(a.number, []).append(a)
    assert max(len(v) for v in by_number.values()) <= 2
    for recs in by_number.values():
        if len(recs) == 2:
            assert recs[0].outcome is not Outcome.HUMAN
            assert recs[1].started >= recs[0].ended + 1.0 - 0.05
    # the callee model came through: machines detected, numbers that do not exist invalid (not retried), busy
    # ones busy, humans talked
    outcomes = Counter(a.outcome for a in attempts)
    assert outcomes[Outcome.MACHINE] > 0 and outcomes[Outcome.NOANSWER] > 0
    assert outcomes[Outcome.INVALID] > 0 and outcomes[Outcome.BUSY] > 0
    for a in attempts:
        c = callees[a.number]
        assert (a.outcome is Outcome.INVALID) == (not c.reachable)
        assert (a.outcome is Outcome.BUSY) == c.busy
        if a.outcome is Outcome.MACHINE:
            assert c.machine
        if a.outcome in (Outcome.HUMAN, Outcome.ABANDONED):
            assert c.answers and not c.machine
    # abandonment under the cap; every connected call popped to its agent with the contact's data
    live = outcomes[Outcome.HUMAN] + outcomes[Outcome.ABANDONED]
    assert live > 100
    assert outcomes[Outcome.ABANDONED] / live <= 0.03
    popped = {}
    while not pops.queue.empty():
        ev = pops.queue.get_nowait()
        popped[ev.subject] = ev.data
    humans = [a for a in attempts if a.outcome is Outcome.HUMAN]
    assert {a.id for a in humans} <= set(popped)
    # a pop without a conversation: the callee hung up while the agent's phone rang (a loaded machine's
    # scaled clock lets a short talk time run out during the ring) — abandoned, never anything else
    by_id = {a.id: a for a in attempts}
    assert all(by_id[i].outcome is Outcome.ABANDONED for i in set(popped) - {a.id for a in humans})
    assert len(popped) - len(humans) <= 2
    for a in humans:
        data = popped[a.id]
        assert data["agent"] == a.agent
        assert data["attached"]["contact_id"] == a.contact_id
        assert data["attached"]["number"] == a.number
        assert data["attached"]["fields"]["offer"].startswith("O-")
    # the late additions fell due after they were put on the list: blocked at dial time
    assert {c.number for c in final if c.status is ContactStatus.DNC} >= set(late_dnc)
    assert stats["counters"]["dnc_blocked"] == sum(c.status is ContactStatus.DNC for c in final)
    tokyo = [c for c in final if c.timezone == "Asia/Tokyo"]
    assert all(c.attempts == 0 for c in tokyo)
    checked = [c for c in tokyo if c.next_at > 0]  # moved to the next opening of their window
    assert len(checked) == stats["counters"]["outside_window"] > 0
    assert all(c.next_at > w.runner.clock.now() for c in checked)


def _check_stasis(w: Wire, attempts: list[AttemptRecord]) -> None:
    """Each answer entered Stasis once with its verdict, was handled by the daemon's dialer handler, and left."""
    answered = [a for a in attempts if a.outcome in (Outcome.HUMAN, Outcome.MACHINE, Outcome.ABANDONED)]
    starts = {e["channel"]["id"]: e["args"] for e in w.ari if e["type"] == "StasisStart"}
    assert len(starts) == sum(e["type"] == "StasisStart" for e in w.ari)
    assert set(starts) == {a.id for a in answered}
    ends = Counter(e["channel"]["id"] for e in w.ari if e["type"] == "StasisEnd")
    assert ends == Counter(set(starts))
    handled = {i.channel_id for i, started in w.routed if started and i.kind == "dialer"}
    assert handled == set(starts) and len(w.routed) == len(starts)
    for a in answered:
        assert starts[a.id] == ["dialer", a.id, a.amd_status, a.amd_cause]


async def test_paused_campaign_dials_nothing_more() -> None:
    n = 120
    callees = callee_model(n, seed=3)
    contacts = [Contact(f"c{i}", "spring", number(i), "Europe/Berlin") for i in range(n)]
    async with wire(_settings(PacingMode.PROGRESSIVE), contacts, callees) as w:
        await w.runner.start()
        assert await until(lambda: len(w.originated) >= 12, 30.0)
        await w.runner.pause()
        assert w.runner.state is CampaignState.PAUSED
        launched = w.runner.counters["dialled"]
        await asyncio.sleep(4.0)  # several pacing ticks, agents freeing up meanwhile
        assert len(w.originated) == launched  # what was launched before the pause, nothing after
        await w.runner.resume()
        assert await until(lambda: len(w.originated) > launched, 15.0)


async def test_ami_drop_during_dialling_redials_nobody_twice() -> None:
    n = 150
    callees = callee_model(n, seed=11, p_answer=0.6)
    contacts = [Contact(f"c{i}", "spring", number(i), "Europe/Berlin") for i in range(n)]
    no_retry = RetryPolicy(max_attempts=1)
    settings = _settings(PacingMode.PROGRESSIVE).model_copy(update={"retry": no_retry})
    async with wire(settings, contacts, callees) as w:
        await w.runner.start()
        assert await until(lambda: len(w.runner.ringing) >= 5, 30.0)
        in_flight = set(w.runner.ringing)
        w.sim.drop_connections()
        assert await until(lambda: w.lines.blocked() is not None, 5.0)
        assert (blocked := w.lines.blocked()) is None or blocked.code in ("ami_down", "reconciling"), blocked
        assert await until(lambda: w.lines.reconciliations >= 1 and w.lines.can_dial(), 20.0)
        assert await until(lambda: len(w.originated) >= 40, 40.0)
        await w.runner.pause()
        await until(lambda: not w.runner._tasks, 30.0)
        attempts = await w.store.attempts("spring")
    dialled = Counter(num for _, num, _ in w.originated)
    assert max(dialled.values()) == 1  # max_attempts 1: the PBX saw each number once at most
    placed = {cid for _, _, cid in w.originated}
    assert placed <= {a.id for a in attempts}  # every call the PBX placed is an attempt
    # an Originate written as the link went down may never have reached the PBX: its fate is unknown, and it is
    # stored as such (retried after the `failed` delay, never at once) — nothing else is an attempt without a call
    unseen = [a for a in attempts if a.id not in placed]
    assert all(a.outcome is Outcome.UNKNOWN for a in unseen), unseen
    assert in_flight <= {a.id for a in attempts}  # the attempts caught by the drop were followed to an end
