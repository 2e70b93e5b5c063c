"""The SQL contact store (``crm_contacts``, ``crm_contact_phones``, ``crm_interactions``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.crm.model import Contact, Interaction
from ctiserver.crm.sqlite_lookup import SqliteLookup
from ctiserver.crm.store import ContactIn
from ctiserver.crm.tables import ContactPhoneRow, ContactRow, InteractionRow


class SqlContactStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession] | None = None,
        fast: SqliteLookup | None = None,
    ) -> None:
        self.sessions = sessions
        self.fast = fast  # SQLite: caller lookups in one thread hop (see crm/sqlite_lookup.py)
        # caller lookups (the hot reads) may use their own connections: with SQLite's WAL they read while
        # the engine's single writer connection writes, instead of queueing behind its writes
        self.readers = readers or sessions

    async def _contact(self, session: AsyncSession, row: ContactRow) -> Contact:
        phones = await session.scalars(
            select(ContactPhoneRow.e164)
            .where(ContactPhoneRow.contact_id == row.id)
            .order_by(ContactPhoneRow.e164)
        )
        return Contact(
            id=str(row.id),
            name=row.name,
            company=row.company,
            phones=tuple(phones),
            email=row.email,
            tags=tuple(row.tags or ()),
            vip=row.vip,
            language=row.language,
            notes=row.notes,
        )

    async def find_by_phone(self, e164: str) -> Contact | None:
        async with self.readers() as session:
            row = await session.scalar(
                select(ContactRow)
                .join(ContactPhoneRow, ContactPhoneRow.contact_id == ContactRow.id)
                .where(ContactPhoneRow.e164 == e164)
                .order_by(ContactRow.id)
                .limit(1)
            )
            return await self._contact(session, row) if row is not None else None

    async def find_with_history(self, e164: str, limit: int) -> tuple[Contact | None, list[Interaction]]:
        if self.fast is not None:
            return await self.fast.find_with_history(e164, limit)
        contact = await self.find_by_phone(e164)
        return contact, await self.history(list(contact.phones) if contact else [e164], limit) if limit else []

    async def get(self, contact_id: str) -> Contact | None:
        if not contact_id.isdigit():
            return None
        async with self.sessions() as session:
            row = await session.get(ContactRow, int(contact_id))
            return await self._contact(session, row) if row is not None else None

    async def search(self, query: str, limit: int) -> list[Contact]:
        like = f"%{query}%"
        async with self.sessions() as session:
            rows = await session.scalars(
                select(ContactRow)
                .where(or_(ContactRow.name.ilike(like), ContactRow.company.ilike(like)))
                .order_by(ContactRow.name)
                .limit(limit)
            )
            return [await self._contact(session, r) for r in rows]

    @staticmethod
    def _fields(data: ContactIn) -> dict[str, object]:
        return {
            "name": data.name,
            "company": data.company,
            "email": data.email,
            "tags": list(data.tags),
            "vip": data.vip,
            "language": data.language,
            "notes": data.notes,
        }

    async def create(self, data: ContactIn, phones: list[str]) -> Contact:
        async with self.sessions.begin() as session:
            row = ContactRow(**self._fields(data))
            session.add(row)
            await session.flush()
            session.add_all(ContactPhoneRow(contact_id=row.id, e164=p) for p in dict.fromkeys(phones))
            await session.flush()
            return await self._contact(session, row)

    async def update(self, contact_id: str, data: ContactIn, phones: list[str]) -> Contact | None:
        if not contact_id.isdigit():
            return None
        async with self.sessions.begin() as session:
            row = await session.get(ContactRow, int(contact_id))
            if row is None:
                return None
            for key, value in self._fields(data).items():
                setattr(row, key, value)
            await session.execute(delete(ContactPhoneRow).where(ContactPhoneRow.contact_id == row.id))
            session.add_all(ContactPhoneRow(contact_id=row.id, e164=p) for p in dict.fromkeys(phones))
            await session.flush()
            return await self._contact(session, row)

    async def delete(self, contact_id: str) -> bool:
        if not contact_id.isdigit():
            return False
        async with self.sessions.begin() as session:
            await session.execute(
                delete(ContactPhoneRow).where(ContactPhoneRow.contact_id == int(contact_id))
            )
            result = await session.execute(delete(ContactRow).where(ContactRow.id == int(contact_id)))
            return bool(getattr(result, "rowcount", 0))

    async def history(self, phones: list[str], limit: int) -> list[Interaction]:
        if not phones:
            return []
        async with self.readers() as session:
            rows = await session.scalars(
                select(InteractionRow)
                .where(InteractionRow.number.in_(phones))
                .order_by(InteractionRow.started_at.desc())
                .limit(limit)
            )
            return [_interaction(r) for r in rows]

    async def interaction(self, call_id: str) -> Interaction | None:
        async with self.sessions() as session:
            row = await session.get(InteractionRow, call_id)
            return _interaction(row) if row is not None else None

    async def record(self, interaction: Interaction) -> None:
        await self.record_many([interaction])

    async def record_many(self, interactions: list[Interaction]) -> None:
        """One transaction, one executemany (INSERT ... ON CONFLICT DO UPDATE keeping old values where
        the new one is empty): no read-then-write, which SQLite refuses under concurrent writers."""
        if not interactions:
            return
        async with self.sessions.begin() as session:
            dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
            rows = [i.model_dump() for i in interactions]
            await session.execute(_record_statement(dialect), rows)


@lru_cache(maxsize=4)
def _record_statement(dialect: str) -> Any:
    """Built once per dialect: a fresh statement per batch (new ``excluded`` alias, new CASEs) cost a full
    SQLAlchemy compile each time."""
    mod: Any = postgresql if dialect == "postgresql" else sqlite
    table = InteractionRow.__table__
    stmt = mod.insert(table)
    keep = {
        name: case((stmt.excluded[name] != _EMPTY[name], stmt.excluded[name]), else_=table.c[name])
        for name in Interaction.model_fields
        if name not in ("call_id", "started_at")
    }
    return stmt.on_conflict_do_update(index_elements=["call_id"], set_=keep)


_EMPTY: dict[str, Any] = {name: 0.0 if name == "duration" else "" for name in Interaction.model_fields}


def _interaction(row: InteractionRow) -> Interaction:
    return Interaction(
        call_id=row.call_id,
        started_at=row.started_at,
        direction=row.direction,
        number=row.number,
        queue=row.queue,
        agent=row.agent,
        outcome=row.outcome,
        disposition=row.disposition,
        notes=row.notes,
        recording=row.recording,
        duration=row.duration,
    )
