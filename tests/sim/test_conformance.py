"""Conformance: each recorded scenario replayed against the simulator; AMI/ARI streams compared after
normalisation (see tests/sim/conformance.py for what is compared and the allowance list)."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.conftest import TRACES
from tests.sim import conformance
from tests.sim.probes import AmiProbe, AriProbe, get
from tests.sim.scaled_clock import ScaledClock
from tests.sim.scenarios import PRESETUP, SCENARIOS, Ctx

SPEED = 4.0  # the scenario's seconds run SPEED times faster than real time


async def replay(scenario: str, tmp_path: object) -> tuple[list, list]:
    clock = ScaledClock(SPEED)
    cfg = SimConfig(recordings_dir=str(tmp_path))
    async with Simulator(cfg, clock=clock) as sim:
        ami, ari = AmiProbe(), AriProbe(sim.ari_url)
        try:
            setup = PRESETUP.get(scenario)
            if setup is not None:
                setup(sim)
            await ami.connect(sim.ami_port)
            if (TRACES / scenario / "ari-requests.jsonl").stat().st_size or scenario.startswith("0"):
                await ari.connect()
            ctx = Ctx(sim, ami, ari, clock, clock.monotonic())
            await asyncio.wait_for(SCENARIOS[scenario](ctx), 60)
            await ctx.clock.sleep(0.5)
            if not ami.closed.is_set():
                await ami.action("Logoff")
            after_login = ami.messages[1:]
            if ctx.after is not None:
                after_login = [*after_login, *ctx.after.messages[1:]]
            return after_login, list(ari.events)
        finally:
            await ami.close()
            await ari.close()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_scenario_conforms(scenario: str, tmp_path: object) -> None:
    ami_events, ari_events = await replay(scenario, tmp_path)
    recorded = conformance.read_ami(TRACES / scenario / "ami.raw")
    if (TRACES / scenario / "ami-after.raw").exists():
        recorded += conformance.read_ami(TRACES / scenario / "ami-after.raw")
    diffs = conformance.compare_ami(recorded, ami_events)
    diffs += conformance.compare_ari(conformance.read_ari(TRACES / scenario / "ari-events.jsonl"), ari_events)
    assert not diffs, "\n".join(diffs)
    assert get(ami_events[-1], "Response") == "Goodbye"
    assert not [m for m in ami_events if get(m, "Response") == "Error" and scenario != "07-blind-transfer"]


def test_comparison_detects_differences() -> None:
    """The comparator is not vacuous: a recorded stream equals itself, and each kind of change is reported."""
    scenario = "04-queue-answered"
    recorded = conformance.read_ami(TRACES / scenario / "ami.raw")
    if (TRACES / scenario / "ami-after.raw").exists():
        recorded += conformance.read_ami(TRACES / scenario / "ami-after.raw")
    assert conformance.compare_ami(recorded, recorded) == []
    without_hangup = [m for m in recorded if get(m, "Event") != "Hangup"]
    assert any("event order" in d for d in conformance.compare_ami(recorded, without_hangup))
    changed = [[(k, "17" if k == "Cause" else v) for k, v in m] for m in recorded]
    assert any("Cause" in d for d in conformance.compare_ami(recorded, changed))
    dropped_key = [[(k, v) for k, v in m if k != "Linkedid"] for m in recorded]
    assert any("header keys" in d for d in conformance.compare_ami(recorded, dropped_key))
    ari = conformance.read_ari(TRACES / "02-stasis-bridge-agent-record" / "ari-events.jsonl")
    assert conformance.compare_ari(ari, ari) == []
    assert conformance.compare_ari(ari, [e for e in ari if e["type"] != "StasisEnd"])


@pytest.mark.slow
async def test_load_scenario_13_shapes(tmp_path: object) -> None:
    """Scenario 13 (240 calls at 4 cps into queue ``load``, 24 agents). Which agent takes which call
    depends on timing, so channels are compared by *shape* (the ordered CORE event names of a channel):
    every simulated shape must occur in the recording, the most common caller and agent shapes must be
    the same, and the queue_log facts (ENTERQUEUE/CONNECT/COMPLETEAGENT per call) must match in number."""
    from collections import Counter

    from ctiserver.sim.config import load_sim_config
    from tests.sim.scenarios import load_config, s13

    # 3x real time: faster made agents time out (AgentRingNoAnswer, never in the recording) on a loaded box
    clock = ScaledClock(3.0)
    cfg = load_sim_config(None, {**load_config(), "recordings_dir": str(tmp_path)})
    async with Simulator(cfg, clock=clock) as sim:
        ami, ari = AmiProbe(), AriProbe(sim.ari_url)
        try:
            await ami.connect(sim.ami_port)
            await ari.connect(subscribe_all=True)
            await asyncio.wait_for(s13(Ctx(sim, ami, ari, clock, clock.monotonic())), 180)
            simulated = ami.messages[1:]
            ari_simulated = list(ari.events)
            facts = Counter(line.split("|")[4] for line in sim.engine.queues.log)
        finally:
            await ami.close()
            await ari.close()
    recorded = conformance.read_ami(TRACES / "13-load-queue" / "ami.raw")

    def shapes(events: list) -> Counter:
        out: Counter = Counter()
        for key, evs in conformance.per_channel(events).items():
            role = "agent" if key.startswith("PJSIP/20") else "caller"
            out[(role, tuple(get(e, "Event") for e in conformance.canonical(evs)))] += 1
        return out

    rec, sim_shapes = shapes(recorded), shapes(simulated)
    unknown = [s for s in sim_shapes if s not in rec]
    assert not unknown, f"shapes never seen in the recording: {unknown}"
    for role in ("caller", "agent"):
        top_rec = max((s for s in rec if s[0] == role), key=lambda s: rec[s])
        top_sim = max((s for s in sim_shapes if s[0] == role), key=lambda s: sim_shapes[s])
        assert top_rec == top_sim
    assert sum(n for s, n in sim_shapes.items() if s[0] == "caller") == 240
    assert (facts["ENTERQUEUE"], facts["CONNECT"], facts["COMPLETEAGENT"]) == (240, 240, 240)
    assert conformance.compare_keys(recorded, simulated) == []

    import gzip
    import json

    with gzip.open(TRACES / "13-load-queue" / "ari-events.jsonl.gz", "rt", encoding="utf-8") as f:
        ari_recorded = [json.loads(line)["msg"] for line in f]

    def ari_shapes(events: list) -> Counter:
        out: Counter = Counter()
        for key, types in conformance.ari_per_channel(events).items():
            if key != "-":
                role = "agent" if key.startswith("PJSIP/20") else "caller"
                out[(role, tuple(conformance.ari_canonical(types)))] += 1
        return out

    ari_rec, ari_sim = ari_shapes(ari_recorded), ari_shapes(ari_simulated)
    for role in ("caller", "agent"):
        top_rec = max((s for s in ari_rec if s[0] == role), key=lambda s: ari_rec[s])
        top_sim = max((s for s in ari_sim if s[0] == role), key=lambda s: ari_sim[s])
        assert top_rec == top_sim, f"ARI {role}: recorded {top_rec} vs simulated {top_sim}"
    assert not [s for s in ari_sim if s not in ari_rec]
    assert [d for d in conformance.compare_ari(ari_recorded, ari_simulated) if " keys" in d] == []
