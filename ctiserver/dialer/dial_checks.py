"""The checks made at the moment of dialling a contact (not only at import): no call in flight to the number
already (another campaign's, or a duplicate contact's: a person's phone never rings twice at once), the
do-not-call lists, the callee's
calling window (in every zone the number may be in), the campaign's attempts, and what the number's recent
attempts over every campaign allow (``repeats.py``: the day's cap, an agent held for a number abandoned lately).
A contact that may not be dialled now is closed (DNC, exhausted) or put off to when it may."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from ctiserver.dialer.model import CampaignSettings, Contact, ContactStatus
from ctiserver.dialer.repeats import Repeat, repeat_rules
from ctiserver.dialer.store import DialerStore

Publish = Callable[[str, str, dict[str, Any]], Awaitable[None]]
BUSY_NUMBER_RETRY = 30.0  # s: a contact whose number another attempt is calling now is looked at again after


async def dial_time_checks(
    store: DialerStore,
    settings: CampaignSettings,
    counters: Counter[str],
    publish: Publish,
    in_flight: Mapping[str, str],
    contact: Contact,
    now: float,
) -> Repeat | None:
    """None: not now (the contact is closed or put off); else how it may be dialled. ``in_flight``: number →
    attempt of the calls in flight (every campaign of the service)."""
    s = settings
    if contact.number in in_flight:
        counters["number_in_flight"] += 1
        await store.save_contact(replace(contact, next_at=now + BUSY_NUMBER_RETRY))
        return None
    if await store.dnc_contains(contact.number, s.name):
        counters["dnc_blocked"] += 1
        await store.save_contact(replace(contact, status=ContactStatus.DNC))
        await publish("dialer.dnc_blocked", contact.id, {"campaign": s.name, "number": contact.number})
        return None
    if not s.windows.is_open(contact.timezone, now):
        counters["outside_window"] += 1
        nxt = s.windows.next_open(contact.timezone, now)
        await store.save_contact(replace(contact, next_at=nxt if nxt is not None else now + 86400.0))
        return None
    if contact.attempts >= s.retry.max_attempts:
        await store.save_contact(replace(contact, status=ContactStatus.EXHAUSTED))
        return None
    repeat = await repeat_rules(store, s, contact.number, now)
    if repeat.not_before is not None:  # the day's calls to the number are used up
        counters["day_cap"] += 1
        await store.save_contact(replace(contact, next_at=repeat.not_before))
        return None
    return repeat
