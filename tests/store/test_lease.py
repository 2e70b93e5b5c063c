"""The database lease (``store/lease.py``) and the standby's rules (``store/standby.py``) on SQLite and
PostgreSQL: one holder at a time, renewal, reclaim, release, a dead process of this host replaced at once, a
crowd of daemons taking it at the same moment — exactly one wins —, a standby whose wall clock runs an hour
ahead that does not take a lease being renewed, and the holder's confirmation that lets the dialler dial."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Callable

import pytest

from ctiserver.clock import ManualClock
from ctiserver.store.lease import Holder, LeaseTable
from ctiserver.store.standby import Standby, StandbyAborted, StandbyConfig, dead_here, owner_id
from tests.store.migrated import migrated

HOST = socket.gethostname()


def never(_holder: Holder) -> bool:
    return False


async def test_one_holder_renewal_expiry_and_release(db_url: str) -> None:
    async with migrated(db_url) as sessions:
        table = LeaseTable(sessions, "daemon")
        a = await table.take("a", 100.0, 15.0, never)
        assert (a.owner, a.expires, a.since) == ("a", 115.0, 100.0)
        assert (await table.take("b", 105.0, 15.0, never)).owner == "a"  # held: b waits
        renewed = await table.take("a", 110.0, 15.0, never)
        assert (renewed.owner, renewed.expires, renewed.since) == ("a", 125.0, 100.0)
        assert (await table.take("b", 130.0, 15.0, never)).owner == "a"  # expired on b's clock: not b's call
        seen: list[Holder] = []
        b = await table.take("b", 126.0, 15.0, lambda h: seen.append(h) or True)  # b's judgement: a stopped
        assert (b.owner, b.since, b.expires) == ("b", 126.0, 141.0) and seen == [renewed]
        assert (await table.take("a", 127.0, 15.0, never)).owner == "b"  # a, back, finds b: it must stand down
        assert (await table.take("a", 128.0, 15.0, lambda h: h.owner == "b")).owner == "a"  # b is dead
        await table.release("b")  # not the holder: nothing happens
        assert (await table.take("b", 129.0, 15.0, never)).owner == "a"
        await table.release("a")
        assert (await table.take("b", 129.5, 15.0, never)).owner == "b"  # released: at once
        assert (await LeaseTable(sessions, "other").take("a", 130.0, 15.0, never)).owner == "a"  # leases by name


async def test_many_daemons_at_once_one_wins(db_url: str) -> None:
    async with migrated(db_url) as sessions:
        table = LeaseTable(sessions, "daemon")
        await table.take("old", 0.0, 15.0, never)  # given up on by everybody (its row unchanged a whole lease)

        def stale(holder: Holder) -> bool:
            return holder.owner == "old"

        holders = await asyncio.gather(*(table.take(f"d{i}", 100.0, 15.0, stale) for i in range(8)))
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


class _Table(LeaseTable):
    """The lease's table, counting the takes under way (the clocks wait for them: the database answers in real
    time, a loaded machine must not let a manual clock run a lease ahead of it), out of reach while ``away``."""

    away = False
    frozen = False  # its daemon stopped (SIGSTOP, a stalled VM): the next take never comes
    busy = 0

    async def take(self, owner: str, now: float, ttl: float, may_reclaim: Callable[[Holder], bool]) -> Holder:
        if self.frozen:
            await asyncio.Event().wait()
        self.busy += 1
        try:
            if self.away:
                raise ConnectionRefusedError("database away")
            return await super().take(owner, now, ttl, may_reclaim)
        finally:
            self.busy -= 1


async def _settled(tables: tuple[_Table, ...]) -> None:
    """Until no take is under way: up to 20 s of real time for the takes under way to answer."""
    async with asyncio.timeout(20.0):
        for _ in range(4000):
            await asyncio.sleep(0.005)
            if not any(t.busy for t in tables):
                break


async def _steps(
    clocks: tuple[ManualClock, ...], tables: tuple[_Table, ...], done: Callable[[], bool], limit: float
) -> bool:
    """Every clock moves 0.25 s at a time, each step once no take is under way, until ``done``."""
    for _ in range(int(limit / 0.25)):
        await _settled(tables)
        if done():
            return True
        for clock in clocks:
            await clock.advance(0.25)
    return done()


async def test_a_standby_an_hour_ahead_waits_until_the_renewals_stop(db_url: str) -> None:
    async with migrated(db_url) as sessions:
        here, ahead = ManualClock(), ManualClock(start=1_800_000_000.0 + 3600.0)  # another host, its clock off
        cfg = StandbyConfig(lease_seconds=3.0, retry_seconds=0.5)
        tables = (_Table(sessions, "daemon"), _Table(sessions, "daemon"))
        holder, standby = Standby(tables[0], here, cfg), Standby(tables[1], ahead, cfg)
        stopping = asyncio.Event()
        await holder.acquire(stopping)
        keeping = asyncio.create_task(holder.keep(lambda h: None))
        waiting = asyncio.create_task(standby.acquire(stopping))
        try:
            # the holder's expiry is an hour past on the standby's clock, but the row changes with every renewal
            assert not await _steps((here, ahead), tables, waiting.done, limit=8.0)
            assert holder.fresh() and standby.holder is not None and standby.holder.owner == holder.owner
            # the holder freezes: no renewal, no release (not a cancel of its task, as before session 28: a cancel
            # inside a SQLite transaction once held the standby's take past the 20-s limit on a loaded machine)
            tables[0].frozen = True
            await _settled(tables)  # a renewal already under way ends
            last = holder.holder
            frozen = ahead.monotonic()
            assert await _steps((here, ahead), tables, waiting.done, limit=6.0)
            await waiting
            assert standby.held and standby.fresh()
            assert 2.0 <= ahead.monotonic() - frozen <= 4.5  # a lease after the last renewal it saw, within a retry
            assert last is not None and holder.holder == last  # ... and the old holder had stopped dialling by then
            assert not holder.fresh()
        finally:
            stopping.set()
            for task in (keeping, waiting):
                task.cancel()
            await asyncio.gather(keeping, waiting, return_exceptions=True)


async def test_the_holder_is_fresh_only_while_the_database_confirms_its_lease(db_url: str) -> None:
    async with migrated(db_url) as sessions:
        clock = ManualClock()
        table = _Table(sessions, "daemon")
        holder = Standby(table, clock, StandbyConfig(lease_seconds=3.0, retry_seconds=0.5))
        assert not holder.fresh()  # nothing taken yet (the database away at start: nothing dialled)
        await holder.acquire(asyncio.Event())
        assert holder.fresh()
        stood_down: list[str] = []
        keeping = asyncio.create_task(holder.keep(lambda h: stood_down.append(h.owner)))
        try:
            assert not await _steps((clock,), (table,), lambda: not holder.fresh(), limit=5.0)  # renewed every second
            table.away = True
            went = clock.monotonic()
            assert await _steps((clock,), (table,), lambda: not holder.fresh(), limit=4.0)
            assert 1.0 <= clock.monotonic() - went <= 2.25  # two thirds of the lease after the last renewal
            assert holder.held and not keeping.done()  # still running (facts are spooled), only not dialling
            table.away = False
            assert await _steps((clock,), (table,), holder.fresh, limit=2.0)  # the next renewal confirms it again
        finally:
            keeping.cancel()
            await asyncio.gather(keeping, return_exceptions=True)
        assert stood_down == []
