"""One daemon per database: a second one started on it waits as a standby and takes over when the first stops.

Two daemons on one database and one PBX would both act: both dial the campaigns' contacts (each customer called
twice), both route the queues, and the second one's ARI connection takes the Stasis application from the first
(Asterisk's ``ApplicationReplaced``) — the calls the first one holds lose their owner. That happens by accident
too: an upgrade that starts the new container before the old one stops, a second host started by hand, a
``ctiserver run`` left over in a terminal.

So, right after the store, the daemon takes the database's lease (``store/lease.py``, table ``leases``) before
any other component starts — no AMI, no ARI, no API until then — and renews it every ``lease_seconds / 3``:

* free, or held by a dead process of this host (a daemon killed and restarted: same host name, its process gone
  — or this very pid, as in a container restarted as pid 1) → taken at once;
* held by another daemon → this one is the **standby**: it says so in the log (who holds it, since when) and
  tries again every ``retry_seconds``; a graceful stop of the holder releases the lease, so the standby starts
  within that time; a killed or frozen holder stops renewing: once the standby has seen the lease's row
  unchanged for ``lease_seconds`` of its own monotonic clock it takes it (a lease left by a daemon of another
  host that died before this one started is taken so, ``lease_seconds`` after the start);
* SIGTERM while waiting ends the standby cleanly;
* a holder that finds, when renewing, that another daemon holds the lease (it could not renew for longer than
  ``lease_seconds``: a stalled process, a network partition from the database) **stands down**: it stops the
  daemon with exit code 75 (systemd's ``Restart=on-failure`` and Docker's ``restart: unless-stopped`` start it
  again — as the standby);
* a database that cannot be reached at start does not stop the daemon (as everywhere in the store: facts are
  spooled): it runs without the lease and takes it once the database answers (or stands down then).

No wall clock is compared across hosts: the row's ``expires`` (the holder's clock) only shows that it renewed. Up
to session 24 a standby took a lease whose ``expires`` had passed on its own clock — one whose clock ran
``lease_seconds`` ahead of the holder's took a lease that was being renewed, and both daemons dialled until the
holder's next renewal.

**Fencing the dialler.** A holder that cannot reach the database keeps running (its facts are spooled), but it
cannot know whether a standby elsewhere has taken over. ``fresh()`` is true while the lease was confirmed ours
less than two thirds of ``lease_seconds`` ago (the renewal runs every third: one renewal may fail); the dialler
places no call while it is false (``dialer/ami_lines.py``, held back ``lease_unconfirmed``), so the old holder
stops dialling before a standby, which waits a whole lease after the last renewal it saw, can start — a customer
is not dialled by both. A daemon started with the database away dials nothing until it holds the lease.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from ctiserver.clock import Clock
from ctiserver.logs import get_logger
from ctiserver.store.lease import Holder, LeaseTable

log = get_logger(__name__)

STOOD_DOWN = 75  # the process exit code (EX_TEMPFAIL): started again by the supervisor, as a standby
_MINE: set[str] = set()  # owners of this process (tests run several daemons in one process)


class StandbyConfig(BaseModel):
    """The ``standby:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    lease_seconds: float = Field(15.0, ge=1.0)  # a killed holder is replaced after at most this long
    retry_seconds: float = Field(2.0, gt=0.0)  # how often a standby looks


class StandbyAborted(Exception):
    """The daemon was stopped while it waited as a standby."""


def owner_id() -> str:
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    _MINE.add(owner)
    return owner


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_here(owner: str) -> bool:
    """Whether ``owner`` was a process of this host that is gone (its lease may be taken at once)."""
    rest, _, _token = owner.rpartition(":")
    his_host, _, his_pid = rest.rpartition(":")
    if not his_host or not his_pid.isdigit():
        return False
    if his_host != socket.gethostname():
        return False
    if int(his_pid) == os.getpid():
        return owner not in _MINE  # this pid now is another process than the one that took it
    return not _alive(int(his_pid))


FRESH = 2.0 / 3.0  # of lease_seconds: how long a confirmation of the lease lets this daemon dial


class Standby:
    def __init__(self, table: LeaseTable, clock: Clock, config: StandbyConfig, owner: str | None = None) -> None:
        self.table = table
        self.clock = clock
        self.config = config
        self.owner = owner or owner_id()
        self.holder: Holder | None = None  # as last read
        self._seen: tuple[str, float] | None = None  # another holder's row (owner, expires) as first seen ...
        self._seen_at = 0.0  # ... at this monotonic time
        self._confirmed_at: float | None = None  # monotonic: when the last take that found the lease ours began

    @property
    def held(self) -> bool:
        return self.holder is not None and self.holder.owner == self.owner

    def fresh(self) -> bool:
        """The lease is ours, confirmed less than ``FRESH`` of ``lease_seconds`` ago (see the module's text)."""
        confirmed = self._confirmed_at
        limit = FRESH * self.config.lease_seconds
        return self.held and confirmed is not None and self.clock.monotonic() - confirmed < limit

    def _may_reclaim(self, holder: Holder) -> bool:
        """A dead process of this host's, or a row that has not changed for a whole lease on this clock."""
        if dead_here(holder.owner):
            return True
        now, seen = self.clock.monotonic(), (holder.owner, holder.expires)
        if seen != self._seen:
            self._seen, self._seen_at = seen, now
            return False
        return now - self._seen_at >= self.config.lease_seconds

    async def _take(self) -> Holder:
        began = self.clock.monotonic()
        self.holder = await self.table.take(self.owner, self.clock.now(), self.config.lease_seconds, self._may_reclaim)
        if self.holder.owner == self.owner:
            self._confirmed_at = began
        return self.holder

    async def acquire(self, stopping: asyncio.Event) -> None:
        """Wait until the lease is ours; ``StandbyAborted`` when ``stopping`` is set meanwhile."""
        said = False
        while not stopping.is_set():
            try:
                holder = await self._take()
            except Exception as exc:  # the database went away meanwhile: the holder may well be running
                log.warning("database lease not read; trying again", error=str(exc)[:200])
                await _sleep_or_stop(self.clock, self.config.retry_seconds, stopping)
                continue
            if holder.owner == self.owner:
                if said:
                    log.info("standby taking over: the database's lease is ours", owner=self.owner)
                return
            if not said:
                log.warning(
                    "standby: another daemon runs on this database; waiting for it to stop",
                    holder=holder.owner,
                    since=holder.since,
                    expires=holder.expires,
                )
                said = True
            await _sleep_or_stop(self.clock, self.config.retry_seconds, stopping)
        raise StandbyAborted()

    async def keep(self, stand_down: Callable[[Holder], None]) -> None:
        """Renew every ``lease_seconds / 3`` for as long as the daemon runs; ``stand_down`` when another holds it."""
        while True:
            await self.clock.sleep(self.config.lease_seconds / 3.0)
            try:
                holder = await self._take()
            except Exception as exc:  # the database is away: keep running, try again
                log.warning("database lease not renewed", error=str(exc)[:200])
                continue
            if holder.owner != self.owner:
                log.error("another daemon took the database over: standing down", holder=holder.owner)
                stand_down(holder)
                return

    async def release(self) -> None:
        if self.held:
            try:
                await self.table.release(self.owner)
            except Exception as exc:
                log.warning("database lease not released (the standby waits for it to expire)", error=str(exc)[:200])


async def _sleep_or_stop(clock: Clock, seconds: float, stopping: asyncio.Event) -> None:
    stop = asyncio.ensure_future(stopping.wait())
    nap = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({stop, nap}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        nap.cancel()
