"""Pacing models, the abandonment ledger, and a short discrete-event run of the production pacers."""

from __future__ import annotations

import pytest

from ctiserver.dialer.desim import SimParams, run
from ctiserver.dialer.model import LedgerCounts
from ctiserver.dialer.pacing import (
    AgentPhase,
    AgentView,
    PacingSnapshot,
    Predictive,
    PredictiveSettings,
    Preview,
    Progressive,
)
from ctiserver.dialer.stats import AbandonLedger, DialStats


def _agents(
    ready: int = 0, wrap_left: tuple[float, ...] = (), talking: int = 0, now: float = 1000.0
) -> list[AgentView]:
    out = [AgentView(AgentPhase.READY, now) for _ in range(ready)]
    out += [AgentView(AgentPhase.WRAP_UP, now - 5, now + left) for left in wrap_left]
    out += [AgentView(AgentPhase.TALKING, now - 60) for _ in range(talking)]
    return out


def _trained_stats(answer_rate: float = 0.25) -> DialStats:
    stats = DialStats()
    for i in range(400):
        live = (i % 100) < answer_rate * 100
        stats.record_attempt(live, 6.0 + (i % 7) if live else 25.0)
    for i in range(100):
        stats.record_talk(120.0 + i)
    return stats


def test_preview_never_dials() -> None:
    assert Preview().decide(PacingSnapshot(0.0, _agents(ready=5), [])) == 0


def test_progressive_one_line_per_ready_agent() -> None:
    assert Progressive().decide(PacingSnapshot(0.0, _agents(ready=5, talking=3), [1.0, 2.0])) == 3
    assert Progressive().decide(PacingSnapshot(0.0, _agents(ready=1), [1.0, 2.0])) == 0
    assert Progressive().decide(PacingSnapshot(0.0, _agents(ready=2), [], waiting_live=1)) == 1


def test_predictive_falls_back_to_progressive_without_data() -> None:
    pacer = Predictive(DialStats(), AbandonLedger())
    snap = PacingSnapshot(1000.0, _agents(ready=2, wrap_left=(3.0, 4.0)), [])
    assert pacer.decide(snap, 1000.0) == 2
    assert pacer.last_mode == "progressive"


def _ledger_with_headroom(now: float) -> AbandonLedger:
    ledger = AbandonLedger(cap=0.03)
    for _ in range(400):
        ledger.record(now, False)
    return ledger


def test_predictive_dials_ahead_for_agents_about_to_free() -> None:
    now = 1000.0
    pacer = Predictive(_trained_stats(), _ledger_with_headroom(now))
    snap = PacingSnapshot(now, _agents(wrap_left=(3.0, 5.0, 8.0), talking=5, now=now), [])
    n = pacer.decide(snap, now)
    assert pacer.last_mode == "predictive"
    assert n > 0  # progressive would dial nothing: nobody is ready yet
    assert Progressive().decide(snap) == 0
    # more calls already ringing → fewer new ones
    busy = PacingSnapshot(now, snap.agents, [1.0] * 12)
    assert pacer.decide(busy, now) < n


def test_predictive_takes_the_grace_already_used_off_the_wait_it_counts_on() -> None:
    """With AMD, a live answer reaches the dialer ~0.8 s after the greeting ended (the silence that made AMD say
    HUMAN): of the two seconds for an agent only the rest is left, and the forecast counts on that."""
    now = 1000.0
    agents = _agents(wrap_left=(7.5, 9.5, 11.5), talking=5, now=now)
    decided = []
    for used in (0.0, 0.8):
        stats = _trained_stats()
        for _ in range(50):
            stats.record_grace_used(used)
        decided.append(Predictive(stats, _ledger_with_headroom(now)).decide(PacingSnapshot(now, agents, []), now))
    assert decided[0] > decided[1]


def test_predictive_stops_when_the_window_has_no_headroom() -> None:
    now = 1000.0
    ledger = AbandonLedger(cap=0.03)
    for i in range(100):
        ledger.record(now, i < 3)  # exactly at the cap: no room for one more abandon
    pacer = Predictive(_trained_stats(), ledger)
    snap = PacingSnapshot(now, _agents(wrap_left=(3.0, 5.0), talking=5, now=now), [])
    assert pacer.decide(snap, now) == 0
    assert pacer.last_mode == "progressive"


def test_outer_loop_lowers_theta_when_abandoning_too_much() -> None:
    now = 1000.0
    stats = _trained_stats()
    pacer = Predictive(stats, _ledger_with_headroom(now), PredictiveSettings(theta=0.2))
    for _ in range(50):
        stats.record_live(True)
    pacer.decide(PacingSnapshot(now, _agents(ready=1, talking=4, now=now), []), now)
    assert pacer.theta < 0.2


def test_ledger_window_and_cap() -> None:
    ledger = AbandonLedger(cap=0.03, window_seconds=86400.0, bucket_seconds=3600.0)
    t0 = 1_800_000_000.0
    for i in range(100):
        ledger.record(t0, i < 3)
    assert ledger.rate(t0) == pytest.approx(0.03)
    assert not ledger.would_allow_risk(t0)
    assert ledger.totals(t0 + 2 * 86400.0) == (0, 0)  # the window slid past them
    with pytest.raises(ValueError):
        AbandonLedger(cap=1.5)


def test_amd_false_positives_count_as_abandoned_live_answers() -> None:
    """Each MACHINE verdict is ``false_positive_rate`` of a person who answered and was abandoned (Ofcom's
    "reasoned estimate of AMD false positives"): 200 live answers, 2 abandoned, 100 machines at 5 % → (2 + 5) /
    (200 + 5); the same history stored and loaded gives the same; without the estimate 1 %."""
    t0 = 1_800_000_000.0
    ledger = AbandonLedger(cap=0.03, window_seconds=86400.0, false_positive_rate=0.05)
    plain = AbandonLedger(cap=0.03, window_seconds=86400.0)
    for i in range(200):
        for led in (ledger, plain):
            led.record(t0 + i, i < 2)
    for i in range(100):
        for led in (ledger, plain):
            led.record_machine(t0 + i)
    assert ledger.totals(t0 + 300) == pytest.approx((205.0, 7.0))
    assert ledger.rate(t0 + 300) == pytest.approx(7 / 205) and plain.rate(t0 + 300) == pytest.approx(0.01)
    assert ledger.headroom(t0 + 300) < 0 < plain.headroom(t0 + 300)  # predictive must stop; without FP it would not
    stored = AbandonLedger(cap=0.03, window_seconds=86400.0, false_positive_rate=0.05)
    start = t0 - t0 % 3600.0
    stored.load([LedgerCounts(start, 150, 2, 60), LedgerCounts(start, 50, 0, 40)], t0 + 300)
    assert stored.totals(t0 + 300) == pytest.approx(ledger.totals(t0 + 300))
    assert ledger.machines(t0 + 2 * 86400.0) == 0 and ledger.totals(t0 + 2 * 86400.0) == (0, 0)
    with pytest.raises(ValueError):
        AbandonLedger(false_positive_rate=1.0)


def test_conditional_answer_probability_decays_while_ringing() -> None:
    stats = _trained_stats(0.25)
    assert stats.p_answer_given_ringing(0.0) == pytest.approx(0.25, abs=0.01)
    assert stats.p_answer_given_ringing(20.0) == 0.0  # every live answer came before 13 s
    assert 0.0 < stats.p_answer_given_ringing(8.0) < 0.25


def test_simulated_hour_predictive_beats_progressive_within_the_cap() -> None:
    params = SimParams(agents=20, answer_rate=0.25, hours=1.5, seed=3)
    prog = run(params, "progressive")
    pred = run(params, "predictive")
    assert prog.abandoned == 0
    assert pred.abandon_rate <= 0.03
    assert pred.talk_min_per_agent_hour > prog.talk_min_per_agent_hour + 3.0
    assert 0.5 < prog.occupancy < pred.occupancy <= 1.0


def test_predictive_takes_less_risk_as_the_window_nears_its_stop() -> None:
    now = 1000.0
    snap = PacingSnapshot(now, _agents(wrap_left=(3.0, 5.0, 8.0, 9.0), talking=5, now=now), [])
    roomy = Predictive(_trained_stats(), _ledger_with_headroom(now), PredictiveSettings(theta=0.3))
    tight_ledger = AbandonLedger(cap=0.03)
    for i in range(400):
        tight_ledger.record(now, i < 9)  # headroom 0.0285 × 400 − 9 = 2.4 abandons: θ scaled down
    assert tight_ledger.would_allow_risk(now)
    tight = Predictive(_trained_stats(), tight_ledger, PredictiveSettings(theta=0.3))
    n_roomy, n_tight = roomy.decide(snap, now), tight.decide(snap, now)
    assert tight.last_mode == "predictive"
    assert 0 <= n_tight < n_roomy


def _ledger_with_live(now: float, live: int) -> AbandonLedger:
    ledger = AbandonLedger(cap=0.03)
    for _ in range(live):
        ledger.record(now, False)
    return ledger


def test_warm_start_takes_risk_as_soon_as_the_window_affords_one_abandon() -> None:
    now = 1000.0
    snap = PacingSnapshot(now, _agents(wrap_left=(3.0, 5.0, 8.0, 9.0), talking=5, now=now), [])
    # 34 live answers: (3 % - 0.15 %) x 34 < 1 abandon of headroom -> no risk yet, progressive dials nobody
    cold = Predictive(_trained_stats(), _ledger_with_live(now, 34), PredictiveSettings(theta=0.3))
    assert cold.decide(snap, now) == 0
    assert cold.last_mode == "progressive"
    # 40 live answers (fewer than the 50 a fixed floor used to demand): predictive, dialling ahead
    warm = Predictive(_trained_stats(), _ledger_with_live(now, 40), PredictiveSettings(theta=0.3))
    assert warm.decide(snap, now) > 0
    assert warm.last_mode == "predictive"
    # an explicit floor still holds it back
    floored = Predictive(_trained_stats(), _ledger_with_live(now, 40), PredictiveSettings(theta=0.3, min_live=50))
    assert floored.decide(snap, now) == 0


def test_warm_start_needs_answer_delays_not_talk_times() -> None:
    now = 1000.0
    stats = DialStats()
    for i in range(80):
        live = i % 4 == 0
        stats.record_attempt(live, 6.0 + (i % 7) if live else 25.0)
    assert len(stats.talk) == 0
    pacer = Predictive(stats, _ledger_with_headroom(now), PredictiveSettings(theta=0.3))
    snap = PacingSnapshot(now, _agents(wrap_left=(3.0, 5.0, 8.0), talking=5, now=now), [])
    assert pacer.decide(snap, now) > 0
    assert pacer.last_mode == "predictive"
    few = DialStats()
    for i in range(80):
        few.record_attempt(i < 5, 6.0 if i < 5 else 25.0)  # only 5 answer delays measured
    assert Predictive(few, _ledger_with_headroom(now)).decide(snap, now) == 0


def test_talking_agents_count_as_not_free_until_talks_are_measured() -> None:
    # no wrap-up, and talks that all end at ~60 s: agents 58 s into their talk are about to free
    now = 1000.0
    talkers = [AgentView(AgentPhase.TALKING, now - 58.0) for _ in range(6)]
    snap = PacingSnapshot(now, talkers, [], wrap_seconds=0.0)
    unknown = _trained_stats()
    unknown.talk = type(unknown.talk)()
    for _ in range(3):  # three talks of 60 s measured: too few to forecast anybody's end
        unknown.record_talk(60.0)
    known = _trained_stats()
    for _ in range(200):
        known.record_talk(60.0)
    settings = PredictiveSettings(theta=0.3)
    blind = Predictive(unknown, _ledger_with_headroom(now), settings)
    informed = Predictive(known, _ledger_with_headroom(now), settings)
    n_blind, n_informed = blind.decide(snap, now), informed.decide(snap, now)
    assert blind.last_mode == informed.last_mode == "predictive"
    assert n_blind == 0  # nobody ready, nobody known to free: nothing dialled ahead
    assert n_informed > 0


def test_desim_gives_every_pacer_the_same_callees_per_seed() -> None:
    """Common random numbers: the k-th dial's outcome does not depend on the pacer (nor on talk draws)."""
    from ctiserver.dialer.desim import CampaignSimulation

    def outcomes(make: str) -> list[tuple[str, float]]:
        params = SimParams(agents=10, answer_rate=0.25, hours=0.3, seed=7)
        if make == "progressive":
            sim = CampaignSimulation(params, lambda stats, ledger: Progressive())
        else:
            sim = CampaignSimulation(params, lambda stats, ledger: Predictive(stats, ledger))
        seen: list[tuple[str, float]] = []
        push = sim._push

        def record(dt: float, kind: str, ref: int = -1) -> None:
            if kind in ("answer", "fail"):
                seen.append((kind, round(dt, 9)))
            push(dt, kind, ref)

        sim._push = record  # type: ignore[method-assign]
        sim.run()
        return seen

    prog, pred = outcomes("progressive"), outcomes("predictive")
    assert len(pred) > len(prog) > 50  # predictive dialled more, with other talk draws in between
    assert pred[: len(prog)] == prog
    assert outcomes("predictive") == pred  # and a seed is a seed
