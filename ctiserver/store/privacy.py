"""Personal data in the call history, kept at most ``database.personal_data_days`` (the GDPR's storage
limitation; unset: kept as long as the calls).

A call that started longer ago loses what identifies the caller: its numbers and names (``calls``,
``call_legs``, the caller number of ``queue_segments``), its normalised caller key, the attached data (CRM contact,
what the caller keyed in), the results of its IVR steps (a DTMF input may be an account or card number; the
nodes visited stay) and the digits in its legs' channel names (a dialler call's ``Local/<number>@…``). What the
reports count stays: times, queues, agents, outcomes, talk / hold / wrap-up, the IVR path, dispositions — a
report over an old period gives the same figures, except first-contact resolution by repeat, which needs the
number (the calls are then "anonymous" and not judged). Each call is rewritten once (``calls.anonymised``),
oldest first, in batches of ``BATCH`` calls per transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.clock import Clock
from ctiserver.logs import get_logger
from ctiserver.store.models import CallRow, LegRow, QueueSegmentRow

log = get_logger(__name__)

BATCH = 500
DAY = 86_400.0
_DIGITS = re.compile(r"\+?\d{6,}")  # a customer's number inside a channel or endpoint name (not an extension)


def scrub(name: str) -> str:
    """``Local/+4930123456@ctiserver-dialer-0000001;1`` → ``Local/…@ctiserver-dialer-0000001;1``: runs of six
    digits or more go (agents' extensions are shorter), except a channel's own sequence (after the last ``-``)."""
    head, dash, tail = name.rpartition("-")
    if dash and re.fullmatch(r"[0-9a-f]{4,8}(;\d)?", tail):
        return _DIGITS.sub("…", head) + dash + tail
    return _DIGITS.sub("…", name)


def _ivr_path(path: list[Any]) -> list[Any]:
    return [
        {k: step[k] for k in ("node", "at", "kind") if k in step} if isinstance(step, dict) else step for step in path
    ]


async def anonymise_before(sessions: async_sessionmaker[AsyncSession], before: float, batch: int = BATCH) -> int:
    """Clear the personal data of the calls that started before ``before``; how many calls were."""
    done = 0
    while True:
        async with sessions() as session, session.begin():
            q = select(CallRow.call_id).where(CallRow.started < before, CallRow.anonymised.is_(False))
            ids = list((await session.scalars(q.order_by(CallRow.started).limit(batch))).all())
            if not ids:
                return done
            await anonymise_calls(session, ids)
            done += len(ids)


async def anonymise_calls(session: AsyncSession, ids: Sequence[str]) -> None:
    """Clear the personal data of these calls, their legs and their queue stays (in the caller's transaction)."""
    for i in range(0, len(ids), BATCH):
        chunk = list(ids[i : i + BATCH])
        paths = (
            await session.execute(select(CallRow.call_id, CallRow.ivr_path).where(CallRow.call_id.in_(chunk)))
        ).all()
        for call_id, path in paths:
            values = {"caller_num": "", "caller_name": "", "caller_key": "", "data": {}, "anonymised": True}
            await session.execute(
                update(CallRow).where(CallRow.call_id == call_id).values(**values, ivr_path=_ivr_path(path or []))
            )
        legs = (
            await session.execute(
                select(LegRow.uniqueid, LegRow.channel, LegRow.endpoint).where(LegRow.call_id.in_(chunk))
            )
        ).all()
        for uniqueid, channel, endpoint in legs:
            blank = {"caller_num": "", "caller_name": "", "callee_num": "", "callee_name": ""}
            await session.execute(
                update(LegRow)
                .where(LegRow.uniqueid == uniqueid)
                .values(**blank, channel=scrub(channel), endpoint=scrub(endpoint))
            )
        await session.execute(update(QueueSegmentRow).where(QueueSegmentRow.call_id.in_(chunk)).values(caller_num=""))


async def anonymise_loop(sessions: async_sessionmaker[AsyncSession], clock: Clock, days: float, every: float) -> None:
    while True:
        try:
            n = await anonymise_before(sessions, clock.now() - days * DAY)
            if n:
                log.info("call history: personal data removed", calls=n, personal_data_days=days)
        except Exception as exc:  # the database may be down; the next round tries again
            log.warning("call history: personal data not removed", error=str(exc)[:200])
        await clock.sleep(every)
