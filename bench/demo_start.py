"""How fast `ctiserver demo` shows a living contact centre: seconds from start to the console being up, to the
first call visible in the API, to the first call connected to an agent (target: calls flowing within 30 s).

    .venv/bin/python bench/demo_start.py [--rate 0.25] [--limit 90]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from ctiserver.cli.demo import demo_config, run_demo


async def measure(rate: float, limit: float) -> dict[str, float | None]:
    t0 = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="ctiserver-bench-"))
    config = demo_config(data_dir, 0, traffic=True, rate=rate)
    stop = asyncio.Event()
    info: dict[str, Any] = {}
    up = asyncio.Event()

    def ready(url: str, tokens: dict[str, str], ctx: Any) -> None:
        info.update(url=url, tokens=tokens, up=time.monotonic() - t0)
        up.set()

    task = asyncio.create_task(run_demo(config, data_dir, ready, stop))
    waiter = asyncio.ensure_future(up.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # the demo failed to start: show why
    first_call = first_connected = None
    headers = {"Authorization": f"Bearer {info['tokens']['supervisor']}"}
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - t0 < limit and first_connected is None:
            async with http.get(f"{info['url']}/api/calls", headers=headers) as res:
                calls = await res.json()
            now = time.monotonic() - t0
            if calls and first_call is None:
                first_call = now
            if any(c.get("connected") for c in calls):
                first_connected = now
            await asyncio.sleep(0.25)
    stop.set()
    await task
    return {"console_up": info["up"], "first_call": first_call, "first_connected": first_connected}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=0.25, help="simulated calls per second (demo default)")
    parser.add_argument("--limit", type=float, default=90.0)
    args = parser.parse_args()
    result = asyncio.run(measure(args.rate, args.limit))
    for key, value in result.items():
        print(f"{key:>16}: {'not reached' if value is None else f'{value:.1f} s'}")


if __name__ == "__main__":
    main()
