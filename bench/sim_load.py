"""Load benchmark of the Asterisk simulator: N concurrent simulated calls from the traffic generator.

    .venv/bin/python bench/sim_load.py --calls 3000 --rate 25 --talk 60 --max-call 120   # >1,000 concurrent
    .venv/bin/python bench/sim_load.py --calls 3000 --rate 100 --talk 2 --max-call 10    # event throughput

Calls dial 201 → Answer → Queue(load) (rrmemory, one static member per agent endpoint) → an agent
answers after 0.5–1.5 s → talk (exponential, mean --talk s) → the caller hangs up. One AMI client (over
TCP, like a CTI server) and one ARI websocket (subscribeAll) consume every event. Prints the simulator's
own event rate (AMI events generated per second, bytes delivered), peak concurrent channels and the RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from ctiserver.sim.config import EndpointConfig, QueueConfig, SimConfig, Step
from ctiserver.sim.simulator import Simulator
from ctiserver.sim.traffic import TrafficConfig, TrafficGenerator


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def ami_consumer(port: int, counter: dict[str, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(b"Action: Login\r\nUsername: cti\r\nSecret: cti-secret\r\nEvents: on\r\n\r\n")
    tail = b""
    while True:
        chunk = await reader.read(1 << 20)
        if not chunk:
            return
        counter["ami_bytes"] += len(chunk)
        data = tail + chunk
        counter["ami_frames"] += data.count(b"\r\n\r\n")
        tail = data[-3:]


async def ari_consumer(url: str, counter: dict[str, int]) -> None:
    auth = {"Authorization": aiohttp.encode_basic_auth("cti", "cti-secret")}
    async with (
        aiohttp.ClientSession(headers=auth) as session,
        session.ws_connect(f"{url}/events?app=bench&subscribeAll=true") as ws,
    ):
        async for msg in ws:
            counter["ari_msgs"] += 1
            counter["ari_bytes"] += len(msg.data)


async def main(args: argparse.Namespace) -> dict[str, float]:
    agents = tuple(str(2000 + i) for i in range(1, args.agents + 1))
    config = SimConfig(
        endpoints=(
            *(EndpointConfig(name=a, callerid_name=f"Agent {a}", callerid_num=a) for a in agents),
            EndpointConfig(name="caller", context="from-external", registered=False, answer_after=None),
        ),
        queues=(
            QueueConfig(
                name="load",
                strategy="rrmemory",
                timeout=10,
                retry=1,
                members=tuple(f"PJSIP/{a}" for a in agents),
            ),
        ),
        dialplan={
            "from-external": {
                "201": (
                    Step(app="NoOp", data="DID 201 -> queue load"),
                    Step(app="Answer"),
                    Step(app="Queue", data="load,t,,,300"),
                    Step(app="Hangup"),
                )
            }
        },
    )
    traffic = TrafficConfig(
        rate_per_s=args.rate,
        max_calls=args.calls,
        dids={"201": 1.0},
        ivr_choices={},
        patience_mean=1e9,
        talk_mean=args.talk,
        talk_min=1.0,
        agents=agents,
        ring_delay=(0.5, 1.5),
        max_call_seconds=args.max_call,
    )
    counter = {"ami_bytes": 0, "ami_frames": 0, "ari_msgs": 0, "ari_bytes": 0}
    rss0 = rss_mb()
    async with Simulator(config, seed=args.seed) as sim:
        consumers = [asyncio.create_task(ami_consumer(sim.ami_port, counter))]
        if not args.no_ari:
            consumers.append(asyncio.create_task(ari_consumer(sim.ari_url, counter)))
        await asyncio.sleep(0.5)
        began = time.perf_counter()
        events0 = sim.hub.ami_count
        peak = 0
        peak_rss = rss_mb()
        window: list[tuple[float, int]] = []
        peak_rate = 0.0
        async with TrafficGenerator(sim, traffic, seed=args.seed) as gen:
            while True:
                await asyncio.sleep(0.5)
                peak = max(peak, len(sim.engine.channels))
                window.append((time.perf_counter(), sim.hub.ami_count))
                window = [w for w in window if w[0] >= window[-1][0] - 5.0]
                if window[-1][0] - window[0][0] >= 4.5:
                    peak_rate = max(
                        peak_rate, (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])
                    )
                peak_rss = max(peak_rss, rss_mb())
                if gen.stats.placed >= args.calls and gen.stats.active == 0:
                    break
                if time.perf_counter() - began > args.max_seconds:
                    break
                if args.progress:
                    st = gen.stats
                    print(
                        f"t={time.perf_counter() - began:5.1f}s placed={st.placed} active={st.active} "
                        f"channels={len(sim.engine.channels)} events={sim.hub.ami_count}",
                        file=sys.stderr,
                    )
            stats = gen.stats
        elapsed = time.perf_counter() - began
        events = sim.hub.ami_count - events0
        await asyncio.sleep(0.5)
        for c in consumers:
            c.cancel()
    return {
        "calls_placed": stats.placed,
        "calls_connected": stats.connected,
        "calls_completed": stats.completed,
        "peak_concurrent_calls": stats.peak_active,
        "peak_channels": peak,
        "seconds": round(elapsed, 1),
        "ami_events": events,
        "ami_events_per_s": round(events / elapsed),
        "ami_events_per_s_peak_5s": round(peak_rate),
        "ami_frames_received": counter["ami_frames"],
        "ami_mbytes_received": round(counter["ami_bytes"] / 1e6, 1),
        "ari_msgs_received": counter["ari_msgs"],
        "rss_mb_start": round(rss0, 1),
        "rss_mb_peak": round(peak_rss, 1),
    }


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=2500, help="calls to place")
    p.add_argument("--rate", type=float, default=50.0, help="arrivals per second")
    p.add_argument("--talk", type=float, default=25.0, help="mean talk seconds")
    p.add_argument("--agents", type=int, default=1100)
    p.add_argument("--max-call", type=float, default=60.0, help="callers hang up after this many seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-seconds", type=float, default=300.0)
    p.add_argument("--progress", action="store_true", help="print progress to stderr")
    p.add_argument("--no-ari", action="store_true", help="no ARI subscribeAll consumer")
    result = asyncio.run(main(p.parse_args()))
    print(json.dumps(result, indent=1))
