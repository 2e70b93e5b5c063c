"""A person's right to erasure (GDPR art. 17): everything the daemon's database holds under one phone number.

``erase_number`` finds the person's calls — those whose caller key is the number, and those with a leg whose
caller or callee number is one of its written forms (E.164, without the ``+``, the national form) — and clears
their personal data as ``database.personal_data_days`` does (``store/privacy.py``), deletes their recordings'
files (the rows stay, marked purged), deletes the number's dialler contacts in every campaign and blanks the
number on their attempts (the abandonment ledger keeps its counts), deletes the call-backs the ACD still owes the
number (``acd_callbacks``), deletes the built-in CRM's contacts with that phone and its interactions with the
number, and — unless ``keep_off_lists`` is false — puts the number on the global do-not-call list (a suppression
list is what lets the request be honoured later). It writes a ``privacy_erasures`` row naming the calls and the
call-backs, by id, so that every running daemon forgets them in memory too (``follow.py``). The event log keeps
the events that mention the number until its retention (``events.retention_days``). Everything but the
recording files is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.acd.sql import CallbackRow
from ctiserver.crm.tables import ContactPhoneRow, InteractionRow
from ctiserver.crm.tables import ContactRow as CrmContactRow
from ctiserver.dialer.store import GLOBAL
from ctiserver.dialer.tables import AttemptRow, DncRow
from ctiserver.dialer.tables import ContactRow as DialerContactRow
from ctiserver.logs import get_logger
from ctiserver.privacy.tables import ErasureRow
from ctiserver.recording.files import remove_file
from ctiserver.recording.meta import RecordingStore, RecState
from ctiserver.store.caller_key import normalise_number
from ctiserver.store.models import CallRow, LegRow
from ctiserver.store.privacy import anonymise_calls
from ctiserver.store.upsert import upsert

log = get_logger(__name__)


class NotANumber(ValueError):
    """The text is no phone number (nothing to erase by)."""


@dataclass(frozen=True, slots=True)
class Forget:
    """What a running daemon may still hold in memory of an erased person (``memory.py``)."""

    calls: tuple[str, ...]  # their calls' ids
    callbacks: tuple[str, ...] = ()  # the ids of the call-backs the ACD owed them
    numbers: frozenset[str] = frozenset()  # the number's written forms (in this process only, never stored)


@dataclass(frozen=True, slots=True)
class Erased:
    number: str
    calls: int
    recordings: int
    dialer_contacts: int
    dialer_attempts: int
    crm_contacts: int
    crm_interactions: int
    do_not_call: bool
    acd_callbacks: int = 0


def written_forms(number: str, region: str) -> tuple[str, set[str]]:
    """(the normalised number, the forms a PBX may have written it in)."""
    key = normalise_number(number, region)
    if not key:
        raise NotANumber(f"{number!r} is not a phone number")
    forms = {key, key.lstrip("+")}
    try:
        parsed = phonenumbers.parse(key, None if key.startswith("+") else region)
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        forms.add("".join(ch for ch in national if ch.isdigit()))
    except phonenumbers.NumberParseException:
        pass
    return key, {f for f in forms if f}


async def erase_number(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    region: str,
    now: float,
    recordings: RecordingStore | None = None,
    keep_off_lists: bool = True,
) -> tuple[Erased, Forget]:
    """(what was erased, what a running daemon is to forget)"""
    key, forms = written_forms(number, region)
    async with sessions() as session, session.begin():
        calls = await _calls_of(session, key, forms)
        await anonymise_calls(session, calls)
        contacts = await session.execute(delete(DialerContactRow).where(DialerContactRow.number == key))
        attempts = await session.execute(update(AttemptRow).where(AttemptRow.number == key).values(number=""))
        owed_to = or_(CallbackRow.number.in_(forms), CallbackRow.call_id.in_(calls))
        callbacks = sorted((await session.scalars(select(CallbackRow.call_id).where(owed_to))).all())
        await session.execute(delete(CallbackRow).where(CallbackRow.call_id.in_(callbacks)))
        crm_ids = list(
            (await session.scalars(select(ContactPhoneRow.contact_id).where(ContactPhoneRow.e164 == key))).all()
        )
        if crm_ids:
            await session.execute(delete(ContactPhoneRow).where(ContactPhoneRow.contact_id.in_(crm_ids)))
            await session.execute(delete(CrmContactRow).where(CrmContactRow.id.in_(crm_ids)))
        interactions = await session.execute(
            delete(InteractionRow).where(or_(InteractionRow.number.in_(forms), InteractionRow.call_id.in_(calls)))
        )
        if keep_off_lists:
            row = {"campaign": GLOBAL, "number": key, "reason": "erasure request", "added": now}
            await upsert(session, DncRow, [row], keys=["campaign", "number"])
        session.add(ErasureRow(at=now, calls=calls, callbacks=callbacks))
    removed = await purge_recordings(recordings, calls) if recordings is not None else 0
    erased = Erased(
        key,
        len(calls),
        removed,
        _count(contacts),
        _count(attempts),
        len(crm_ids),
        _count(interactions),
        keep_off_lists,
        len(callbacks),
    )
    log.info("personal data erased", calls=erased.calls, recordings=removed, crm_contacts=len(crm_ids))
    return erased, Forget(tuple(calls), tuple(callbacks), frozenset(forms))


async def purge_recordings(recordings: RecordingStore, calls: list[str]) -> int:
    """Delete the finished recordings' files of these calls (rows kept, marked purged); live ones are left."""
    removed = 0
    for call_id in calls:
        for meta in await recordings.for_call(call_id):
            if meta.state in (RecState.DONE, RecState.FAILED):
                removed += await remove_file(meta.path)
                await recordings.save(meta.with_(state=RecState.PURGED))
    return removed


async def _calls_of(session: AsyncSession, key: str, forms: set[str]) -> list[str]:
    by_key = (await session.scalars(select(CallRow.call_id).where(CallRow.caller_key == key))).all()
    by_leg = (
        await session.scalars(
            select(LegRow.call_id).where(or_(LegRow.caller_num.in_(forms), LegRow.callee_num.in_(forms)))
        )
    ).all()
    return sorted(set(by_key) | set(by_leg))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
