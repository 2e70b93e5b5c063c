"""A large campaign with nothing due (night outside every calling window, or every contact waiting for a retry):
each pacing turn that dials nothing asks the store whether the campaign is done. Times that question on a SQLite
dialler store of N contacts — the indexed one-row query (``has_open``) against reading the campaign's contacts
(what the runner did up to session 24) — and the dial-time work of a turn (``due``), with none due and, in a
fresh campaign of N, all due (up to session 24 ``due`` sorted them all).

    .venv/bin/python bench/dialer_idle.py [--contacts 200000] [--repeat 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from ctiserver.dialer.model import Contact, ContactStatus
from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.dialer.store import OPEN
from ctiserver.store import migrate
from ctiserver.store.engine import make_engine, session_factory


async def timed(op: Callable[[], Awaitable[object]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        await op()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


async def main(contacts: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'dialer.sqlite'}"
        await asyncio.to_thread(migrate.upgrade, url)
        engine = make_engine(url)
        try:
            store = SqlDialerStore(session_factory(engine))
            later = time.time() + 86_400.0
            for start in range(0, contacts, 50_000):
                await store.add_contacts(
                    Contact(f"k{i}", "big", f"+4930{i:08d}", "Europe/Berlin", next_at=later)
                    for i in range(start, min(contacts, start + 50_000))
                )
            await store.add_contacts([Contact("z", "big", "+1", "UTC", status=ContactStatus.DONE)])

            async def read_all() -> bool:
                return any(c.status in OPEN for c in await store.contacts("big"))

            indexed = await timed(lambda: store.has_open("big"), repeat)
            naive = await timed(read_all, repeat)
            due = await timed(lambda: store.due("big", time.time(), 60), repeat)
            print(f"campaign of {contacts:,} contacts, none due:")
            print(f"  done yet? has_open (indexed, one row): {indexed:9.2f} ms")
            print(f"  done yet? reading every contact:       {naive:9.2f} ms  ({naive / indexed:,.0f}x)")
            print(f"  due (the turn's dial query):           {due:9.2f} ms")
            for start in range(0, contacts, 50_000):
                await store.add_contacts(
                    Contact(f"f{i}", "fresh", f"+4940{i:08d}", "Europe/Berlin", next_at=i % 1000)
                    for i in range(start, min(contacts, start + 50_000))
                )
            fresh = await timed(lambda: store.due("fresh", time.time(), 60), repeat)
            print(f"fresh campaign of {contacts:,} contacts, all due:")
            print(f"  due (the first 60 in dialling order):  {fresh:9.2f} ms")
        finally:
            await engine.dispose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--contacts", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    asyncio.run(main(args.contacts, args.repeat))
