"""Soak: the whole demo daemon (simulator with live traffic, SQLite, in-process bus, web API) run for a while
at a raised call rate; every interval prints the process's RSS, the live Python objects and the types whose
instance count grew most since the first sample after warm-up. A structure that keeps something per call
for ever shows as a type growing with the call count; a steady daemon's counts level off.

    .venv/bin/python bench/daemon_soak.py [--minutes 10] [--rate 1.0] [--interval 60] [--talk 8]
        [--ring 2000] [--keep 200] [--warmup 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from ctiserver.calls import tracker
from ctiserver.cli.demo import demo_config, run_demo
from ctiserver.config import Config, load_config
from ctiserver.sim import simulator


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def census() -> Counter[str]:
    gc.collect()
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())


def speed_up(data_dir: Path, talk: float, ring: int, keep: int) -> Config:
    """Shorter talks and patience: more calls through every structure per minute; the bounded memories small
    enough to fill within the soak — the event log's replay ring (50,000 events by default: ~40 min of this
    traffic), the finished IVR sessions (1,000), the tracker's finished calls (10,000: ~3 h) and the simulator's
    callers — so that what still grows after the warm-up is what nothing bounds."""
    tracker.Tracker.__init__.__kwdefaults__["keep_finished"] = keep  # not a configuration option
    simulator.CALLS_KEPT = keep  # nor the simulator's handles of its latest callers (1,000)
    daemon_path = data_dir / "ctiserver.yaml"
    daemon: dict[str, Any] = yaml.safe_load(daemon_path.read_text(encoding="utf-8"))
    daemon.setdefault("events", {})["ring_size"] = ring
    daemon.setdefault("ivr", {})["keep_sessions"] = keep
    daemon_path.write_text(yaml.safe_dump(daemon, allow_unicode=True, sort_keys=False), encoding="utf-8")
    path = data_dir / "simulator.yaml"
    sim: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    sim["traffic"].update(talk_mean=talk, patience_mean=20.0, ivr_delay=1.0)
    path.write_text(yaml.safe_dump(sim, allow_unicode=True), encoding="utf-8")
    return load_config(daemon_path)


async def soak(
    minutes: float, rate: float, interval: float, talk: float, ring: int, keep: int, warmup: float
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="ctiserver-soak-"))
    demo_config(data_dir, 0, traffic=True, rate=rate)
    config = speed_up(data_dir, talk, ring, keep)
    stop = asyncio.Event()
    info: dict[str, Any] = {}
    up = asyncio.Event()

    def ready(url: str, tokens: dict[str, str], ctx: Any) -> None:
        info.update(url=url, tokens=tokens, ctx=ctx)
        up.set()

    task = asyncio.create_task(run_demo(config, data_dir, ready, stop))
    waiter = asyncio.ensure_future(up.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    headers = {"Authorization": f"Bearer {info['tokens']['supervisor']}"}
    t0 = time.monotonic()
    base: Counter[str] | None = None
    print(f"{'min':>5} {'RSS MiB':>8} {'objects':>9} {'calls':>6}  growth since warm-up (type: +count)")
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - t0 < minutes * 60.0:
            await asyncio.sleep(interval)
            async with http.get(f"{info['url']}/api/calls", headers=headers) as res:
                live = len(await res.json())
            now = census()
            if base is None and time.monotonic() - t0 >= warmup * 60.0:
                base = now
                grown = "(warm-up sample)"
            elif base is None:
                grown = ""
            else:
                diff = [(k, now[k] - base[k]) for k in now if now[k] - base[k] > 0]
                diff.sort(key=lambda kv: -kv[1])
                grown = ", ".join(f"{k}: +{v}" for k, v in diff[:8])
            mins = (time.monotonic() - t0) / 60.0
            print(f"{mins:5.1f} {rss_mib():8.1f} {sum(now.values()):9d} {live:6d}  {grown}", flush=True)
    stop.set()
    await task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=1.0, help="calls per second")
    ap.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    ap.add_argument("--talk", type=float, default=8.0, help="mean talk seconds")
    ap.add_argument("--ring", type=int, default=2000, help="events.ring_size")
    ap.add_argument("--keep", type=int, default=200, help="finished IVR sessions and tracked calls kept")
    ap.add_argument("--warmup", type=float, default=3.0, help="minutes before the reference census")
    args = ap.parse_args()
    asyncio.run(soak(args.minutes, args.rate, args.interval, args.talk, args.ring, args.keep, args.warmup))


if __name__ == "__main__":
    main()
