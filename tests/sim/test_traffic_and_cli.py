"""Traffic generator (seeded), the app component and the standalone `ctiserver sim` command."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from ctiserver.app import running
from ctiserver.config import Config, SimulatorConfig
from ctiserver.sim.config import QueueConfig, SimConfig
from ctiserver.sim.simulator import Simulator
from ctiserver.sim.traffic import TrafficConfig, TrafficGenerator
from tests.sim.probes import AmiProbe, AriProbe, get
from tests.sim.scaled_clock import ScaledClock


async def _run_traffic(seed: int) -> tuple[list[tuple[str, str]], TrafficGenerator]:
    clock = ScaledClock(10.0)
    cfg = SimConfig(queues=(QueueConfig(name="support", strategy="rrmemory", timeout=5, retry=0.5),))
    traffic = TrafficConfig(
        rate_per_s=2.0,
        max_calls=12,
        dids={"200": 1.0},
        ivr_choices={},
        patience_mean=4.0,
        talk_mean=3.0,
        agents=("1001",),
        ring_delay=(0.5, 1.0),
    )
    async with Simulator(cfg, clock=clock) as sim:
        sim.engine.queues.add("support", "PJSIP/1001", "Agent 1001")
        gen = TrafficGenerator(sim, traffic, seed=seed)
        async with gen:
            await asyncio.wait_for(gen.wait_done(), 60)
        callers = [(h.channel.caller_num if h.channel else "", h.to) for h in sim.calls]
        assert not sim.engine.channels
    return callers, gen


async def test_traffic_is_seeded_and_models_abandonment() -> None:
    first, gen = await _run_traffic(seed=7)
    again, _ = await _run_traffic(seed=7)
    other, _ = await _run_traffic(seed=8)
    assert first == again and first != other
    s = gen.stats
    assert s.placed == 12 and s.connected + s.abandoned == 12
    assert s.connected >= 1 and s.abandoned >= 1  # one agent, short patience: some wait too long
    assert all(num.startswith("+7916") and len(num) == 12 for num, _ in first)


async def test_component_points_pbx_config_at_the_simulator() -> None:
    config = Config(simulator=SimulatorConfig(enabled=True))
    async with running(config, components=("ctiserver.sim.component",)) as ctx:
        sim = ctx.require(Simulator)
        assert ctx.config.pbx.ami.port == sim.ami_port and ctx.config.pbx.ami.host == "127.0.0.1"
        assert ctx.config.pbx.ari.url == sim.ari_url
        ami = AmiProbe()
        login = await ami.connect(
            ctx.config.pbx.ami.port,
            ctx.config.pbx.ami.username,
            ctx.config.pbx.ami.secret.get_secret_value(),
            md5=True,
        )
        assert get(login, "Response") == "Success"
        await ami.close()


async def test_cli_runs_standalone() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctiserver",
        "sim",
        "--ami-port",
        "0",
        "--ari-port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        m = re.search(r"AMI 127\.0\.0\.1:(\d+), ARI (http://\S+/ari)", line)
        assert m, line
        ami, ari = AmiProbe(), AriProbe(m.group(2))
        assert get(await ami.connect(int(m.group(1))), "Response") == "Success"
        resp = await ami.action("PJSIPShowEndpoints")
        assert get(resp, "EventList") == "start"
        done = await ami.wait_event("EndpointListComplete")
        assert int(get(done, "ListItems") or 0) >= 10
        status, endpoints = await ari.req("GET", "/endpoints/PJSIP")
        assert status == 200
        states = {e["resource"]: e["state"] for e in endpoints}
        assert states["1001"] == "online" and states["caller"] == "offline"
        await ami.close()
        await ari.close()
    finally:
        proc.terminate()
        await proc.wait()


async def test_cli_rejects_bad_config(tmp_path: object) -> None:
    bad = Path(str(tmp_path)) / "sim.yaml"
    bad.write_text("queues:\n  - name: q\n    strategy: random\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctiserver",
        "sim",
        "--config",
        str(bad),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert b"queues.0.strategy" in err


EXAMPLE = Path(__file__).resolve().parents[2] / "ctiserver" / "sim" / "example.yaml"


async def test_yaml_script_places_the_scripted_caller() -> None:
    from ctiserver.sim.config import load_sim_config

    example = EXAMPLE
    cfg = load_sim_config(example, {"ami_port": 0, "ari_port": 0})
    assert cfg.queues[0].members == ("PJSIP/1001",)
    clock = ScaledClock(10.0)
    async with Simulator(cfg, clock=clock) as sim:
        ami, ari = AmiProbe(), AriProbe(sim.ari_url)
        await ami.connect(sim.ami_port)
        await ari.connect()
        start = await ari.wait("StasisStart")
        assert start["channel"]["caller"] == {"name": "Иван Петров", "number": "+79161234567"}
        newchannel = await ami.wait_event("Newchannel")
        assert get(newchannel, "CallerIDName") == "Иван Петров"
        dtmf = await ari.wait("ChannelDtmfReceived")
        assert dtmf["digit"] == "2"
        await ari.wait("StasisEnd")
        await ami.close()
        await ari.close()
