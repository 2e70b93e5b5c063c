"""Where contacts, attempts and do-not-call numbers live: the ``DialerStore`` protocol and its in-memory form
(the SQL form is ``ctiserver.dialer.sql``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from ctiserver.dialer.model import AttemptRecord, Contact, ContactStatus, DayOutcome, LedgerCounts, Outcome

GLOBAL = ""  # the campaign key of the global do-not-call list
DIALLABLE = (ContactStatus.PENDING, ContactStatus.CALLBACK)  # a contact ``due`` may return
OPEN = (*DIALLABLE, ContactStatus.DIALLING)  # a contact the campaign is not done with
LIVE = (Outcome.HUMAN, Outcome.ABANDONED)  # the outcomes of a live answer (the abandonment ledger's)
DayOutcomes = tuple[list[DayOutcome], dict[float, int]]  # per (day, outcome); contacts dialled per day


class DialerStore(Protocol):
    async def add_contacts(self, contacts: Iterable[Contact]) -> int: ...

    async def get_contact(self, campaign: str, contact_id: str) -> Contact | None: ...

    async def due(self, campaign: str, now: float, limit: int) -> list[Contact]:
        """Pending contacts whose next attempt is due, highest priority then earliest first."""
        ...

    async def save_contact(self, contact: Contact) -> None: ...

    async def contacts(self, campaign: str) -> list[Contact]: ...

    async def has_open(self, campaign: str) -> bool:
        """Whether a contact of ``campaign`` is still to be dialled or being dialled (``OPEN``)."""
        ...

    async def counts(self, campaign: str) -> tuple[dict[str, int], dict[str, int]]:
        """(contacts per status, attempts per outcome) of ``campaign``, counted where they are kept."""
        ...

    async def record_attempt(self, record: AttemptRecord) -> None: ...

    async def attempts(self, campaign: str) -> list[AttemptRecord]: ...

    async def attempts_since(
        self, campaign: str, since: float, *, outcomes: Collection[Outcome] | None = None, limit: int | None = None
    ) -> list[AttemptRecord]:
        """The campaign's attempts that ended at or after ``since``, newest first (by end, then id), optionally
        only of ``outcomes``, at most ``limit``."""
        ...

    async def live_answer_counts(self, campaign: str, since: float, bucket: float) -> list[LedgerCounts]:
        """Live answers (``human`` + ``abandoned``), abandons among them and AMD ``machine`` verdicts of the
        attempts that ended at or after ``since``, per ``bucket`` seconds of their end (aligned on the epoch),
        oldest first — the abandonment ledger without reading the attempts one by one."""
        ...

    async def set_amd_audit(self, attempt_id: str, verdict: str) -> None:
        """The agent's verdict ("person" / "machine") on an audited MACHINE verdict still ``pending``."""
        ...

    async def amd_audit_counts(self, campaign: str, since: float) -> tuple[int, int]:
        """(people, machines) among the campaign's audited attempts with a verdict that ended since ``since``."""
        ...

    async def day_outcomes(self, campaign: str, since: float, until: float) -> DayOutcomes:
        """The campaign's attempts started in [since, until) per UTC day and outcome, oldest first, and the
        contacts dialled per day (each counted once a day) — the campaign report in two aggregate queries."""
        ...

    async def number_attempts(self, number: str, since: float) -> list[AttemptRecord]:
        """Every campaign's attempts on ``number`` that ended at or after ``since`` (``dialer/repeats.py``)."""
        ...

    async def contact_ids_by_number(self, campaign: str, numbers: Collection[str]) -> dict[str, str]:
        """Of ``numbers``, those the campaign has a contact for: number → that contact's id."""
        ...

    async def contact_attempts(self, campaign: str, contact_id: str) -> list[AttemptRecord]:
        """One contact's attempts, oldest first."""
        ...

    async def callbacks(self, campaigns: Collection[str], agent: str | None, limit: int) -> list[Contact]:
        """Pending call-backs (contacts in status ``callback``) of ``campaigns``, only ``agent``'s personal ones
        if given, earliest first (then campaign, then id, by code point), at most ``limit``."""
        ...

    async def contacts_page(
        self, campaign: str, offset: int, limit: int, status: ContactStatus | None = None
    ) -> tuple[int, list[Contact]]:
        """(how many match, one page of them): ordered by id (code-point order), optionally of one status."""
        ...

    async def attempts_page(
        self, campaign: str, offset: int, limit: int, outcome: Outcome | None = None
    ) -> tuple[int, list[AttemptRecord]]:
        """(how many match, one page of them): newest first (then by id), optionally of one outcome."""
        ...

    async def dnc_add(self, numbers: Iterable[str], campaign: str = GLOBAL, reason: str = "") -> int: ...

    async def dnc_remove(self, number: str, campaign: str = GLOBAL) -> bool: ...

    async def dnc_contains(self, number: str, campaign: str) -> bool:
        """On the global list or on ``campaign``'s list."""
        ...

    async def dnc_list(self, campaign: str = GLOBAL) -> list[str]: ...

    async def dnc_page(self, campaign: str, after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` numbers of the list after ``after``, in order."""
        ...

    async def save_campaign(self, name: str, settings: dict[str, Any], state: str) -> None: ...

    async def campaigns(self) -> list[tuple[str, dict[str, Any], str]]: ...

    async def delete_campaign(self, name: str) -> None:
        """Forget the campaign and its contacts (its attempts stay: they are the legs' history)."""
        ...


class MemoryDialerStore:
    def __init__(self) -> None:
        self._contacts: dict[tuple[str, str], Contact] = {}
        self._attempts: list[AttemptRecord] = []
        self._dnc: dict[str, dict[str, str]] = {}
        self._campaigns: dict[str, tuple[dict[str, Any], str]] = {}

    async def add_contacts(self, contacts: Iterable[Contact]) -> int:
        n = 0
        for c in contacts:
            self._contacts[(c.campaign, c.id)] = c
            n += 1
        return n

    async def get_contact(self, campaign: str, contact_id: str) -> Contact | None:
        return self._contacts.get((campaign, contact_id))

    async def due(self, campaign: str, now: float, limit: int) -> list[Contact]:
        ready = [
            c
            for (camp, _), c in self._contacts.items()
            if camp == campaign and c.status in DIALLABLE and c.next_at <= now
        ]
        ready.sort(key=lambda c: (-c.priority, c.next_at, c.id))
        return ready[:limit]

    async def save_contact(self, contact: Contact) -> None:
        self._contacts[(contact.campaign, contact.id)] = contact

    async def contacts(self, campaign: str) -> list[Contact]:
        return [c for (camp, _), c in self._contacts.items() if camp == campaign]

    async def has_open(self, campaign: str) -> bool:
        return any(camp == campaign and c.status in OPEN for (camp, _), c in self._contacts.items())

    async def counts(self, campaign: str) -> tuple[dict[str, int], dict[str, int]]:
        statuses = Counter(c.status.value for (camp, _), c in self._contacts.items() if camp == campaign)
        outcomes = Counter(a.outcome.value for a in self._attempts if a.campaign == campaign)
        return dict(statuses), dict(outcomes)

    async def record_attempt(self, record: AttemptRecord) -> None:
        self._attempts.append(record)

    async def attempts(self, campaign: str) -> list[AttemptRecord]:
        return [a for a in self._attempts if a.campaign == campaign]

    async def attempts_since(
        self, campaign: str, since: float, *, outcomes: Collection[Outcome] | None = None, limit: int | None = None
    ) -> list[AttemptRecord]:
        rows = [
            a
            for a in self._attempts
            if a.campaign == campaign and a.ended >= since and (outcomes is None or a.outcome in outcomes)
        ]
        rows.sort(key=lambda a: (-a.ended, a.id))
        return rows if limit is None else rows[:limit]

    async def live_answer_counts(self, campaign: str, since: float, bucket: float) -> list[LedgerCounts]:
        counts: dict[float, list[int]] = {}
        for a in await self.attempts_since(campaign, since, outcomes=(*LIVE, Outcome.MACHINE)):
            if a.amd_audit == "machine":  # an audited verdict an agent found a machine: no live answer
                continue
            n = counts.setdefault(a.ended - a.ended % bucket, [0, 0, 0])
            if a.outcome is Outcome.MACHINE:
                n[2] += 1
            else:
                n[0] += 1
                n[1] += a.abandoned
        return [LedgerCounts(start, *n) for start, n in sorted(counts.items())]

    async def set_amd_audit(self, attempt_id: str, verdict: str) -> None:
        self._attempts = [
            replace(a, amd_audit=verdict) if a.id == attempt_id and a.amd_audit == "pending" else a
            for a in self._attempts
        ]

    async def amd_audit_counts(self, campaign: str, since: float) -> tuple[int, int]:
        verdicts = [a.amd_audit for a in await self.attempts_since(campaign, since, outcomes=LIVE)]
        return verdicts.count("person"), verdicts.count("machine")

    async def day_outcomes(self, campaign: str, since: float, until: float) -> DayOutcomes:
        rows: dict[tuple[float, Outcome], list[float]] = {}
        contacts: dict[float, set[str]] = {}
        for a in self._attempts:
            if a.campaign != campaign or not since <= a.started < until:
                continue
            day = a.started - a.started % 86400.0
            n = rows.setdefault((day, a.outcome), [0, 0.0, 0, 0])
            n[0] += 1
            n[1] += a.talk_seconds or 0.0
            n[2] += a.connected is not None
            n[3] += a.late
            contacts.setdefault(day, set()).add(a.contact_id)
        out = [DayOutcome(d, o, int(n[0]), n[1], int(n[2]), int(n[3])) for (d, o), n in sorted(rows.items())]
        return out, {d: len(ids) for d, ids in sorted(contacts.items())}

    async def number_attempts(self, number: str, since: float) -> list[AttemptRecord]:
        return [a for a in self._attempts if a.number == number and a.ended >= since]

    async def contact_ids_by_number(self, campaign: str, numbers: Collection[str]) -> dict[str, str]:
        wanted = set(numbers)
        return {c.number: c.id for (camp, _), c in self._contacts.items() if camp == campaign and c.number in wanted}

    async def contact_attempts(self, campaign: str, contact_id: str) -> list[AttemptRecord]:
        rows = [a for a in self._attempts if a.campaign == campaign and a.contact_id == contact_id]
        return sorted(rows, key=lambda a: (a.started, a.id))

    async def callbacks(self, campaigns: Collection[str], agent: str | None, limit: int) -> list[Contact]:
        rows = [
            c
            for (camp, _), c in self._contacts.items()
            if camp in campaigns and c.status is ContactStatus.CALLBACK and agent in (None, c.agent)
        ]
        rows.sort(key=lambda c: (c.next_at, c.campaign, c.id))
        return rows[:limit]

    async def contacts_page(
        self, campaign: str, offset: int, limit: int, status: ContactStatus | None = None
    ) -> tuple[int, list[Contact]]:
        rows = [c for (camp, _), c in self._contacts.items() if camp == campaign and status in (None, c.status)]
        rows.sort(key=lambda c: c.id)
        return len(rows), rows[offset : offset + limit]

    async def attempts_page(
        self, campaign: str, offset: int, limit: int, outcome: Outcome | None = None
    ) -> tuple[int, list[AttemptRecord]]:
        rows = [a for a in self._attempts if a.campaign == campaign and outcome in (None, a.outcome)]
        rows.sort(key=lambda a: (-a.started, a.id))
        return len(rows), rows[offset : offset + limit]

    async def dnc_add(self, numbers: Iterable[str], campaign: str = GLOBAL, reason: str = "") -> int:
        book = self._dnc.setdefault(campaign, {})
        before = len(book)
        for n in numbers:
            book.setdefault(n, reason)
        return len(book) - before

    async def dnc_remove(self, number: str, campaign: str = GLOBAL) -> bool:
        return self._dnc.get(campaign, {}).pop(number, None) is not None

    async def dnc_contains(self, number: str, campaign: str) -> bool:
        return number in self._dnc.get(GLOBAL, {}) or number in self._dnc.get(campaign, {})

    async def dnc_list(self, campaign: str = GLOBAL) -> list[str]:
        return sorted(self._dnc.get(campaign, {}))

    async def dnc_page(self, campaign: str, after: str | None, limit: int) -> list[str]:
        return [n for n in sorted(self._dnc.get(campaign, {})) if after is None or n > after][:limit]

    async def save_campaign(self, name: str, settings: dict[str, Any], state: str) -> None:
        self._campaigns[name] = (dict(settings), state)

    async def campaigns(self) -> list[tuple[str, dict[str, Any], str]]:
        return [(n, dict(s), st) for n, (s, st) in sorted(self._campaigns.items())]

    async def delete_campaign(self, name: str) -> None:
        self._campaigns.pop(name, None)
        for key in [k for k in self._contacts if k[0] == name]:
            del self._contacts[key]


def with_status(contact: Contact, status: ContactStatus, **changes: object) -> Contact:
    return replace(contact, status=status, **changes)  # type: ignore[arg-type]


def numbers(contacts: Sequence[Contact]) -> list[str]:
    return [c.number for c in contacts]


async def drop_known_numbers(
    store: DialerStore, campaign: str, contacts: Sequence[Contact]
) -> tuple[list[Contact], int]:
    """An imported list without the numbers the campaign has a contact for already under another id (a second
    list overlapping the first would have the person called again after a sale or a "no"); a contact with its
    own id again is kept (the list's update of it). (the contacts to add, how many were dropped)"""
    known = await store.contact_ids_by_number(campaign, {c.number for c in contacts})
    kept = [c for c in contacts if known.get(c.number, c.id) == c.id]
    return kept, len(contacts) - len(kept)
