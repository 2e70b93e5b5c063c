"""A named lease in the database (table ``leases``): who holds it, until when. Compare-and-set in SQL, so two
daemons (two hosts, or two processes of one host) taking it at once cannot both win, on SQLite and PostgreSQL.

* ``take``: the holder renews; anyone takes a lease that ``may_reclaim`` gives up on (its holder stopped renewing,
  or is a dead process); otherwise the holder stays. Returns the holder after the attempt.

Whether a holder stopped renewing is the caller's judgement (``store/standby.py``: the row unchanged for a whole
lease on the caller's own monotonic clock), not ``expires < now``: ``expires`` is the holder's wall clock, and a
standby whose clock runs a lease ahead of the holder's would take a lease that is being renewed (two daemons
dialling the same customers). Here ``expires`` is what a renewal changes, and what the log shows.
* ``release``: the holder lets go (a graceful stop: the standby takes over at once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.store.models import LeaseRow
from ctiserver.store.upsert import upsert


@dataclass(frozen=True, slots=True)
class Holder:
    owner: str
    expires: float
    since: float  # held by this owner since


class LeaseTable:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], name: str) -> None:
        self._sessions = sessions
        self.name = name

    async def take(self, owner: str, now: float, ttl: float, may_reclaim: Callable[[Holder], bool]) -> Holder:
        row = LeaseRow.__table__.c
        async with self._sessions.begin() as s:
            renewed = await s.execute(
                update(LeaseRow)
                .where(row.name == self.name, row.owner == owner)
                .values(expires=now + ttl)
                .execution_options(synchronize_session=False)
            )
            if renewed.rowcount != 1:  # type: ignore[attr-defined]
                first = {"name": self.name, "owner": owner, "expires": now + ttl, "since": now}
                holder = None
                while holder is None:  # a release between the insert and the read: insert again
                    await upsert(s, LeaseRow, [first], update=())  # nobody holds it: ours
                    holder = await self._holder(s)
                if holder.owner != owner and may_reclaim(holder):
                    await s.execute(  # compare-and-set on what was read: another daemon may have won meanwhile
                        update(LeaseRow)
                        .where(row.name == self.name, row.owner == holder.owner, row.expires == holder.expires)
                        .values(owner=owner, expires=now + ttl, since=now)
                        .execution_options(synchronize_session=False)
                    )
            holder = await self._holder(s)
            assert holder is not None  # one holder, at least until this transaction ends
            return holder

    async def _holder(self, s: AsyncSession) -> Holder | None:
        q = select(LeaseRow.owner, LeaseRow.expires, LeaseRow.since).where(LeaseRow.name == self.name)
        r = (await s.execute(q)).one_or_none()
        return None if r is None else Holder(r.owner, r.expires, r.since)

    async def release(self, owner: str) -> None:
        async with self._sessions.begin() as s:
            await s.execute(delete(LeaseRow).where(LeaseRow.name == self.name, LeaseRow.owner == owner))
