"""``ctiserver sim``: the Asterisk simulator, standalone (AMI + ARI), for pointing any AMI/ARI tool at it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("sim", help="run the Asterisk simulator (AMI + ARI)")
    p.add_argument("--ami-port", type=int, default=5038, help="AMI TCP port (default 5038; 0: any)")
    p.add_argument("--ari-port", type=int, default=8088, help="ARI HTTP port (default 8088; 0: any)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--config", "-c", help="YAML: endpoints, dialplan, queues, sounds, traffic")
    p.add_argument("--traffic", action="store_true", help="run the traffic generator (config 'traffic:')")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ctiserver.sim.config import SimConfigError, load_sim_config

    try:
        config = load_sim_config(
            args.config, {"ami_port": args.ami_port, "ari_port": args.ari_port, "host": args.host}
        )
    except SimConfigError as exc:
        print(f"ctiserver sim: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config, args.traffic, args.seed))
    except OSError as exc:
        print(f"ctiserver sim: cannot listen: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: Any, traffic: bool, seed: int) -> None:
    from ctiserver.sim.simulator import Simulator
    from ctiserver.sim.traffic import TrafficGenerator

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with Simulator(config, seed=seed) as sim:
        print(
            f"simulated Asterisk 22 ({config.systemname}): AMI {config.host}:{sim.ami_port}, "
            f"ARI {sim.ari_url} (user {config.ami_user})",
            flush=True,
        )
        if traffic:
            async with TrafficGenerator(sim, config.traffic, seed=seed):
                await stop.wait()
        else:
            await stop.wait()
