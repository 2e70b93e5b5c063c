"""The do-not-call list at the size of a national registry extract: import N numbers into the global list of a
SQLite dialler store, then time what happens one number at a time while the dialler runs — an opt-out (the key
on the message, the IVR's opt-out line, an agent's "do not call"), the dial-time check, a removal.

    .venv/bin/python bench/dialer_dnc.py [--numbers 1000000] [--adds 20]

Prints the import rate and the mean and worst time of each single-number operation. Each of those must stay
flat as the list grows (an opt-out blocks the IVR caller and the dialler's task that records it).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.dialer.store import GLOBAL
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory


def number(i: int) -> str:
    return f"+1{2000000000 + i * 7919 % 7999999999:010d}"


async def timed(op: object, repeat: int) -> tuple[float, float]:
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        await op(i)  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.mean(times) * 1000, max(times) * 1000


async def main(numbers: int, adds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'dnc.sqlite'}"
        await asyncio.to_thread(migrate.upgrade, url)
        engine = make_engine(url)
        try:
            store = SqlDialerStore(session_factory(engine))
            t = time.perf_counter()
            step = 100_000
            for start in range(0, numbers, step):
                await store.dnc_add((number(i) for i in range(start, min(numbers, start + step))), GLOBAL, "registry")
            took = time.perf_counter() - t
            print(f"import: {numbers} numbers in {took:.1f} s ({numbers / took:,.0f}/s)")

            async def add(i: int) -> None:
                assert await store.dnc_add([number(numbers + i)], GLOBAL, "opt-out") == 1

            async def again(i: int) -> None:
                assert await store.dnc_add([number(i)], GLOBAL, "opt-out") == 0

            async def check(i: int) -> None:
                assert await store.dnc_contains(number(i * 31), "spring")

            async def remove(i: int) -> None:
                assert await store.dnc_remove(number(numbers + i), GLOBAL)

            for name, op in (
                ("add a new number", add),
                ("add one listed", again),
                ("dial-time check", check),
                ("remove", remove),
            ):
                mean, worst = await timed(op, adds)
                print(f"{name:>18}: mean {mean:8.2f} ms, worst {worst:8.2f} ms  (list of {numbers:,})")
        finally:
            await engine.dispose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=1_000_000)
    ap.add_argument("--adds", type=int, default=20)
    args = ap.parse_args()
    asyncio.run(main(args.numbers, args.adds))
