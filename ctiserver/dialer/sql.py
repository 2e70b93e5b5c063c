"""``DialerStore`` in the database (SQLite by default, PostgreSQL in production) via SQLAlchemy 2 async."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from ctiserver.clock import Clock, SystemClock
from ctiserver.dialer.model import AttemptRecord, Contact, ContactStatus, DayOutcome, LedgerCounts, Outcome
from ctiserver.dialer.store import DIALLABLE, GLOBAL, LIVE, OPEN, DayOutcomes
from ctiserver.dialer.tables import AttemptRow, CampaignRow, ContactRow, DncRow
from ctiserver.store.upsert import upsert

_CHUNK = 500


def _contact_row(c: Contact) -> dict[str, Any]:
    return {
        "campaign": c.campaign,
        "id": c.id,
        "number": c.number,
        "timezone": c.timezone,
        "name": c.name,
        "fields": dict(c.fields),
        "attempts": c.attempts,
        "next_at": c.next_at,
        "status": c.status.value,
        "last_outcome": c.last_outcome.value if c.last_outcome else None,
        "agent": c.agent,
        "priority": c.priority,
        "attempt": c.attempt,
    }


def _contact(r: ContactRow) -> Contact:
    return Contact(
        id=r.id,
        campaign=r.campaign,
        number=r.number,
        timezone=r.timezone,
        name=r.name,
        fields=dict(r.fields or {}),
        attempts=r.attempts,
        next_at=r.next_at,
        status=ContactStatus(r.status),
        last_outcome=Outcome(r.last_outcome) if r.last_outcome else None,
        agent=r.agent,
        priority=r.priority,
        attempt=r.attempt,
    )


def _attempt(r: AttemptRow) -> AttemptRecord:
    return AttemptRecord(
        r.id,
        r.campaign,
        r.contact_id,
        r.number,
        r.started,
        Outcome(r.outcome),
        r.ended,
        r.channel,
        r.agent,
        r.amd_status,
        r.amd_cause,
        r.mode,
        r.answered,
        r.talk_seconds,
        r.connected,
        bool(r.late),
        r.amd_audit,
    )


def _bytewise(column: InstrumentedAttribute[str], dialect: str) -> ColumnElement[str]:
    """``column`` ordered by code point, as Python sorts: SQLite's default (BINARY) already is; PostgreSQL's
    default collation follows the locale, ``"C"`` compares bytes (UTF-8 keeps the code points' order)."""
    return column.collate("C") if dialect == "postgresql" else column.expression


_SORT_AT_MOST = 1000  # due contacts up to which ``due`` sorts them rather than reading them in order


def _dialling_order(by_id: ColumnElement[str]) -> list[Any]:
    """Highest priority first, then the earliest due, then the id by code point (as the memory store sorts)."""
    return [ContactRow.priority.desc(), ContactRow.next_at, by_id]


async def _page(
    s: AsyncSession, row: Any, where: list[ColumnElement[bool]], order: list[Any], offset: int, limit: int
) -> tuple[int, list[Any]]:
    """(how many rows of ``row``'s table match ``where``, one page of them in ``order``) in one transaction."""
    total = (await s.execute(select(func.count()).select_from(row).where(*where))).scalar_one()
    if offset >= total:
        return total, []
    q = select(row).where(*where).order_by(*order).offset(offset).limit(limit)
    return total, list((await s.scalars(q)).all())


class SqlDialerStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()  # the rows' stamps (a DNC entry's ``added``, a campaign's ``updated``)

    async def add_contacts(self, contacts: Iterable[Contact]) -> int:
        n = 0
        batch: list[dict[str, Any]] = []
        for c in contacts:
            batch.append(_contact_row(c))
            if len(batch) >= _CHUNK:
                n += await self._write(batch)
                batch = []
        if batch:
            n += await self._write(batch)
        return n

    async def _write(self, rows: list[dict[str, Any]]) -> int:
        async with self._sessions() as s, s.begin():
            await upsert(s, ContactRow, rows)
        return len(rows)

    async def get_contact(self, campaign: str, contact_id: str) -> Contact | None:
        async with self._sessions() as s:
            row = await s.get(ContactRow, (campaign, contact_id))
            return _contact(row) if row is not None else None

    async def due(self, campaign: str, now: float, limit: int) -> list[Contact]:
        """Few due (fewer than ``_SORT_AT_MOST``, counted on the due index): that index's range, sorted. Many due (a
        fresh campaign of 200,000): sorting them all took 105 ms a turn on SQLite, so each dialable status is read
        in dialling order on ``ix_dialer_contacts_order`` (``next_at + 0`` keeps the planner off the due index's
        range, which would sort again) up to ``limit``, and the two are merged (4.6 ms, ``bench/dialer_idle.py``)."""
        mine, statuses = ContactRow.campaign == campaign, [d.value for d in DIALLABLE]
        due = (mine, ContactRow.status.in_(statuses), ContactRow.next_at <= now)
        async with self._sessions() as s:
            order = _dialling_order(_bytewise(ContactRow.id, s.get_bind().dialect.name))
            counted = await s.scalar(
                select(func.count()).select_from(select(ContactRow.next_at).where(*due).limit(_SORT_AT_MOST).subquery())
            )
            if (counted or 0) < _SORT_AT_MOST:
                rows = (await s.scalars(select(ContactRow).where(*due).order_by(*order).limit(limit))).all()
                return [_contact(r) for r in rows]
            out: list[Contact] = []
            for status in statuses:
                q = select(ContactRow).where(mine, ContactRow.status == status, ContactRow.next_at + 0.0 <= now)
                out += [_contact(r) for r in (await s.scalars(q.order_by(*order).limit(limit)))]
        out.sort(key=lambda c: (-c.priority, c.next_at, c.id))
        return out[:limit]

    async def save_contact(self, contact: Contact) -> None:
        await self._write([_contact_row(contact)])

    async def contacts(self, campaign: str) -> list[Contact]:
        async with self._sessions() as s:
            rows = await s.scalars(select(ContactRow).where(ContactRow.campaign == campaign))
            return [_contact(r) for r in rows.all()]

    async def has_open(self, campaign: str) -> bool:
        """One row by the due index, not the campaign's contacts: asked on every idle pacing turn."""
        q = select(ContactRow.id).where(ContactRow.campaign == campaign, ContactRow.status.in_([o.value for o in OPEN]))
        async with self._sessions() as s:
            return (await s.scalars(q.limit(1))).first() is not None

    async def counts(self, campaign: str) -> tuple[dict[str, int], dict[str, int]]:
        """Counted by the database (``GROUP BY`` on the contacts' status index and the attempts' outcome index), not
        by reading every row: the CLI's ``campaign list`` / ``stats`` on a campaign of a million contacts."""
        by_status = select(ContactRow.status, func.count()).where(ContactRow.campaign == campaign)
        by_outcome = select(AttemptRow.outcome, func.count()).where(AttemptRow.campaign == campaign)
        async with self._sessions() as s:
            statuses = (await s.execute(by_status.group_by(ContactRow.status))).all()
            outcomes = (await s.execute(by_outcome.group_by(AttemptRow.outcome))).all()
        return {str(k): int(n) for k, n in statuses}, {str(k): int(n) for k, n in outcomes}

    async def record_attempt(self, record: AttemptRecord) -> None:
        async with self._sessions() as s, s.begin():
            s.add(
                AttemptRow(
                    id=record.id,
                    campaign=record.campaign,
                    contact_id=record.contact_id,
                    number=record.number,
                    started=record.started,
                    ended=record.ended,
                    outcome=record.outcome.value,
                    channel=record.channel,
                    agent=record.agent,
                    amd_status=record.amd_status,
                    amd_cause=record.amd_cause,
                    mode=record.mode,
                    answered=record.answered,
                    talk_seconds=record.talk_seconds,
                    connected=record.connected,
                    late=record.late,
                    amd_audit=record.amd_audit,
                )
            )

    async def attempts(self, campaign: str) -> list[AttemptRecord]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(AttemptRow).where(AttemptRow.campaign == campaign).order_by(AttemptRow.started)
            )
            return [_attempt(r) for r in rows.all()]

    async def attempts_since(
        self, campaign: str, since: float, *, outcomes: Collection[Outcome] | None = None, limit: int | None = None
    ) -> list[AttemptRecord]:
        q = select(AttemptRow).where(AttemptRow.campaign == campaign, AttemptRow.ended >= since)
        if outcomes is not None:
            q = q.where(AttemptRow.outcome.in_([o.value for o in outcomes]))
        async with self._sessions() as s:
            q = q.order_by(AttemptRow.ended.desc(), _bytewise(AttemptRow.id, s.get_bind().dialect.name))
            rows = await s.scalars(q if limit is None else q.limit(limit))
            return [_attempt(r) for r in rows.all()]

    async def live_answer_counts(self, campaign: str, since: float, bucket: float) -> list[LedgerCounts]:
        async with self._sessions() as s:
            ratio = AttemptRow.ended / float(bucket)  # ends are after the epoch: truncation = floor
            slot = func.floor(ratio) if s.get_bind().dialect.name == "postgresql" else cast(ratio, Integer)
            machine = AttemptRow.outcome == Outcome.MACHINE.value
            # the law's abandoned calls: nobody took them, or an agent too late (``late``)
            abandoned = or_(AttemptRow.outcome == Outcome.ABANDONED.value, AttemptRow.late)  # a machine is never late
            q = (
                select(
                    slot.label("slot"),
                    func.sum(cast(~machine, Integer)),
                    func.sum(cast(abandoned, Integer)),
                    func.sum(cast(machine, Integer)),
                )
                .where(AttemptRow.campaign == campaign, AttemptRow.ended >= since)
                .where(AttemptRow.outcome.in_([o.value for o in (*LIVE, Outcome.MACHINE)]))
                # an audited MACHINE verdict an agent found a machine: no live answer, no false positive
                .where(or_(AttemptRow.amd_audit.is_(None), AttemptRow.amd_audit != "machine"))
                .group_by("slot")
                .order_by("slot")
            )
            rows = (await s.execute(q)).all()
            return [LedgerCounts(float(n) * bucket, int(lv or 0), int(ab or 0), int(m or 0)) for n, lv, ab, m in rows]

    async def set_amd_audit(self, attempt_id: str, verdict: str) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(
                update(AttemptRow)
                .where(AttemptRow.id == attempt_id, AttemptRow.amd_audit == "pending")
                .values(amd_audit=verdict)
            )

    async def amd_audit_counts(self, campaign: str, since: float) -> tuple[int, int]:
        async with self._sessions() as s:
            q = (
                select(AttemptRow.amd_audit, func.count())
                .where(AttemptRow.campaign == campaign, AttemptRow.ended >= since)
                .where(AttemptRow.outcome.in_([o.value for o in LIVE]), AttemptRow.amd_audit.in_(("person", "machine")))
                .group_by(AttemptRow.amd_audit)
            )
            counts = {verdict: int(n) for verdict, n in (await s.execute(q)).all()}
        return counts.get("person", 0), counts.get("machine", 0)

    async def day_outcomes(self, campaign: str, since: float, until: float) -> DayOutcomes:
        async with self._sessions() as s:
            ratio = AttemptRow.started / 86400.0
            pg = s.get_bind().dialect.name == "postgresql"
            day = (func.floor(ratio) if pg else cast(ratio, Integer)).label("day")
            where = (AttemptRow.campaign == campaign, AttemptRow.started >= since, AttemptRow.started < until)
            q = (
                select(
                    day,
                    AttemptRow.outcome,
                    func.count(),
                    func.sum(func.coalesce(AttemptRow.talk_seconds, 0.0)),
                    func.count(AttemptRow.connected),
                    func.sum(cast(AttemptRow.late, Integer)),
                )
                .where(*where)
                .group_by("day", AttemptRow.outcome)
                .order_by("day", AttemptRow.outcome)
            )
            rows = [
                DayOutcome(float(d) * 86400.0, Outcome(o), int(n), float(talk or 0.0), int(conn), int(late or 0))
                for d, o, n, talk, conn, late in (await s.execute(q)).all()
            ]
            per_day = select(day, func.count(func.distinct(AttemptRow.contact_id))).where(*where).group_by("day")
            contacts = {float(d) * 86400.0: int(n) for d, n in (await s.execute(per_day.order_by("day"))).all()}
        return rows, contacts

    async def number_attempts(self, number: str, since: float) -> list[AttemptRecord]:
        q = select(AttemptRow).where(AttemptRow.number == number, AttemptRow.ended >= since)
        async with self._sessions() as s:
            return [_attempt(r) for r in (await s.scalars(q)).all()]

    async def contact_ids_by_number(self, campaign: str, numbers: Collection[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        wanted = sorted(numbers)
        async with self._sessions() as s:
            for i in range(0, len(wanted), _CHUNK):
                # by number alone, the campaign picked here: on the number index (with the campaign in the
                # query, SQLite searched the campaign's index and read every contact of the campaign)
                q = select(ContactRow.number, ContactRow.id, ContactRow.campaign)
                rows = (await s.execute(q.where(ContactRow.number.in_(wanted[i : i + _CHUNK])))).all()
                found.update((number, cid) for number, cid, camp in rows if camp == campaign)
        return found

    async def contact_attempts(self, campaign: str, contact_id: str) -> list[AttemptRecord]:
        q = select(AttemptRow).where(AttemptRow.campaign == campaign, AttemptRow.contact_id == contact_id)
        async with self._sessions() as s:
            rows = await s.scalars(q.order_by(AttemptRow.started, _bytewise(AttemptRow.id, s.get_bind().dialect.name)))
            return [_attempt(r) for r in rows.all()]

    async def callbacks(self, campaigns: Collection[str], agent: str | None, limit: int) -> list[Contact]:
        q = select(ContactRow).where(
            ContactRow.campaign.in_(list(campaigns)), ContactRow.status == ContactStatus.CALLBACK.value
        )
        if agent is not None:
            q = q.where(ContactRow.agent == agent)
        async with self._sessions() as s:
            dialect = s.get_bind().dialect.name
            order = [ContactRow.next_at, _bytewise(ContactRow.campaign, dialect), _bytewise(ContactRow.id, dialect)]
            rows = await s.scalars(q.order_by(*order).limit(limit))
            return [_contact(r) for r in rows.all()]

    async def contacts_page(
        self, campaign: str, offset: int, limit: int, status: ContactStatus | None = None
    ) -> tuple[int, list[Contact]]:
        where = [ContactRow.campaign == campaign]
        if status is not None:
            where.append(ContactRow.status == status.value)
        async with self._sessions() as s:
            order = [_bytewise(ContactRow.id, s.get_bind().dialect.name)]
            total, rows = await _page(s, ContactRow, where, order, offset, limit)
            return total, [_contact(r) for r in rows]

    async def attempts_page(
        self, campaign: str, offset: int, limit: int, outcome: Outcome | None = None
    ) -> tuple[int, list[AttemptRecord]]:
        where = [AttemptRow.campaign == campaign]
        if outcome is not None:
            where.append(AttemptRow.outcome == outcome.value)
        async with self._sessions() as s:
            order = [AttemptRow.started.desc(), _bytewise(AttemptRow.id, s.get_bind().dialect.name)]
            total, rows = await _page(s, AttemptRow, where, order, offset, limit)
            return total, [_attempt(r) for r in rows]

    async def dnc_add(self, numbers: Iterable[str], campaign: str = GLOBAL, reason: str = "") -> int:
        """The numbers not listed yet, counted per chunk by the primary key — not by reading the whole list before
        and after (up to session 24: one opt-out on a registry of 200,000 numbers took a second of the loop)."""
        unique, now, added = list(dict.fromkeys(numbers)), self._clock.now(), 0
        for i in range(0, len(unique), _CHUNK):
            chunk = unique[i : i + _CHUNK]
            listed = select(DncRow.number).where(DncRow.campaign == campaign, DncRow.number.in_(chunk))
            async with self._sessions() as s, s.begin():
                added += len(chunk) - len((await s.scalars(listed)).all())
                rows = [{"campaign": campaign, "number": n, "reason": reason, "added": now} for n in chunk]
                await upsert(s, DncRow, rows, update=())
        return added

    async def dnc_remove(self, number: str, campaign: str = GLOBAL) -> bool:
        async with self._sessions() as s, s.begin():
            res = await s.execute(delete(DncRow).where(DncRow.campaign == campaign, DncRow.number == number))
            return bool(getattr(res, "rowcount", 0))

    async def dnc_contains(self, number: str, campaign: str) -> bool:
        q = (
            select(DncRow.number)
            .where(DncRow.number == number)
            .where(or_(DncRow.campaign == GLOBAL, DncRow.campaign == campaign))
        )
        async with self._sessions() as s:
            return (await s.scalars(q.limit(1))).first() is not None

    async def dnc_page(self, campaign: str, after: str | None, limit: int) -> list[str]:
        async with self._sessions() as s:
            number = _bytewise(DncRow.number, s.get_bind().dialect.name)  # as Python sorts, as the memory store
            q = select(DncRow.number).where(DncRow.campaign == campaign)
            if after is not None:
                q = q.where(number > after)
            return list((await s.scalars(q.order_by(number).limit(limit))).all())

    async def dnc_list(self, campaign: str = GLOBAL) -> list[str]:
        async with self._sessions() as s:
            rows = await s.scalars(select(DncRow.number).where(DncRow.campaign == campaign).order_by(DncRow.number))
            return list(rows.all())

    # campaigns (settings + state survive a restart)
    async def save_campaign(self, name: str, settings: dict[str, Any], state: str) -> None:
        async with self._sessions() as s, s.begin():
            row = {"name": name, "settings": settings, "state": state, "updated": self._clock.now()}
            await upsert(s, CampaignRow, [row])

    async def campaigns(self) -> list[tuple[str, dict[str, Any], str]]:
        async with self._sessions() as s:
            rows = await s.scalars(select(CampaignRow).order_by(CampaignRow.name))
            return [(r.name, dict(r.settings), r.state) for r in rows.all()]

    async def delete_campaign(self, name: str) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(delete(ContactRow).where(ContactRow.campaign == name))
            await s.execute(delete(CampaignRow).where(CampaignRow.name == name))
