"""The database lease (``store/lease.py``) and the standby's rules (``store/standby.py``) on SQLite and
PostgreSQL: one holder at a time, renewal, expiry, release, a dead process of this host replaced at once, and a
crowd of daemons taking it at the same moment — exactly one wins."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Callable

import pytest

from ctiserver.clock import ManualClock
from ctiserver.store.lease import LeaseTable
from ctiserver.store.standby import Standby, StandbyAborted, StandbyConfig, dead_here, owner_id
from tests.store.migrated import migrated

HOST = socket.gethostname()


def never(_owner: str) -> bool:
    return False


async def test_one_holder_renewal_expiry_and_release(db_url: str) -> None:
    async with migrated(db_url) as sessions:
        table = LeaseTable(sessions, "daemon")
        a = await table.take("a", 100.0, 15.0, never)
        assert (a.owner, a.expires, a.since) == ("a", 115.0, 100.0)
        assert (await table.take("b", 105.0, 15.0, never)).owner == "a"  # held: b waits
        renewed = await table.take("a", 110.0, 15.0, never)
        assert (renewed.owner, renewed.expires, renewed.since) == ("a", 125.0, 100.0)
        assert (await table.take("b", 124.0, 15.0, never)).owner == "a"
        b = await table.take("b", 126.0, 15.0, never)  # a stopped renewing: expired
        assert (b.owner, b.since) == ("b", 126.0)
        assert (await table.take("a", 127.0, 15.0, never)).owner == "b"  # a, back, finds b: it must stand down
        assert (await table.take("a", 128.0, 15.0, lambda owner: owner == "b")).owner == "a"  # b is dead
        await table.release("b")  # not the holder: nothing happens
        assert (await table.take("b", 129.0, 15.0, never)).owner == "a"
        await table.release("a")
        assert (await table.take("b", 129.5, 15.0, never)).owner == "b"  # released: at once
        assert (await LeaseTable(sessions, "other").take("a", 130.0, 15.0, never)).owner == "a"  # leases by name


async def test_many_daemons_at_once_one_wins(db_url: str) -> None:
    async with migrated(db_url) as sessions:
        table = LeaseTable(sessions, "daemon")
        await table.take("old", 0.0, 15.0, never)  # expired long ago: everybody may take it
        holders = await asyncio.gather(*(table.take(f"d{i}", 100.0, 15.0, never) for i in range(8)))
        assert len({h.owner for h in holders}) == 1 and holders[0].owner != "old", holders


def test_a_dead_process_of_this_host_is_replaced_at_once() -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    assert dead_here(f"{HOST}:{dead_pid}:abcd1234")
    assert not dead_here(f"{HOST}:{os.getppid()}:abcd1234")  # alive
    assert not dead_here(f"elsewhere:{dead_pid}:abcd1234")  # another host: only its lease's expiry tells
    assert dead_here(f"{HOST}:{os.getpid()}:abcd1234")  # this pid, another process (a container's pid 1)
    assert not dead_here(owner_id())  # this pid, this process: a daemon of ours
    assert not dead_here("nonsense")


async def _until(clock: ManualClock, done: Callable[[], bool], limit: float = 10.0) -> bool:
    """Move the clock 0.25 s at a time (letting the database answer in real time) until ``done``."""
    for _ in range(int(limit / 0.25)):
        if done():
            return True
        await asyncio.sleep(0.03)
        await clock.advance(0.25)
    return done()


async def test_the_standby_waits_then_takes_over_and_the_holder_stands_down(db_url: str) -> None:
    async with migrated(db_url) as sessions:
        clock = ManualClock()
        cfg = StandbyConfig(lease_seconds=3.0, retry_seconds=0.5)
        first = Standby(LeaseTable(sessions, "daemon"), clock, cfg)
        second = Standby(LeaseTable(sessions, "daemon"), clock, cfg)
        stopping = asyncio.Event()
        await first.acquire(stopping)
        assert first.held
        waiting = asyncio.create_task(second.acquire(stopping))
        assert not await _until(clock, waiting.done, limit=2.0)  # first holds it (renewed or not: 3 s)
        assert second.holder is not None and second.holder.owner == first.owner
        await first.release()  # a graceful stop
        assert await _until(clock, waiting.done, limit=1.5)
        await waiting
        assert second.held
        stood_down: list[str] = []
        keeping = asyncio.create_task(first.keep(lambda h: stood_down.append(h.owner)))
        assert await _until(clock, keeping.done, limit=3.0)
        assert stood_down == [second.owner]  # the old holder, back, finds the standby holding it: it stops

        third = Standby(LeaseTable(sessions, "daemon"), clock, cfg)
        aborted = asyncio.create_task(third.acquire(stopping))
        assert not await _until(clock, aborted.done, limit=1.0)
        stopping.set()  # SIGTERM while waiting
        with pytest.raises(StandbyAborted):
            await asyncio.wait_for(aborted, 5.0)
