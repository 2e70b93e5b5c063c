"""The built-in contact store (the embedded default CRM): contacts, several phones each, and the history of
previous contacts (interactions). ``ContactStore`` is the interface; ``MemoryContactStore`` backs unit tests,
``ctiserver.crm.sql.SqlContactStore`` the daemon."""

from __future__ import annotations

import itertools
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from ctiserver.crm.model import Contact, Interaction


class ContactIn(BaseModel):
    """A contact as created/updated through the API (phones are normalised to E.164 on the way in)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    company: str = Field("", max_length=200)
    phones: list[str] = Field(default_factory=list, max_length=20)
    email: str = Field("", max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=50)
    vip: bool = False
    language: str = Field("", max_length=16)
    notes: str = Field("", max_length=10_000)


class ContactStore(Protocol):
    async def find_by_phone(self, e164: str) -> Contact | None: ...

    async def get(self, contact_id: str) -> Contact | None: ...

    async def search(self, query: str, limit: int) -> list[Contact]: ...

    async def create(self, data: ContactIn, phones: list[str]) -> Contact: ...

    async def update(self, contact_id: str, data: ContactIn, phones: list[str]) -> Contact | None: ...

    async def delete(self, contact_id: str) -> bool: ...

    async def history(self, phones: list[str], limit: int) -> list[Interaction]: ...

    async def find_with_history(self, e164: str, limit: int) -> tuple[Contact | None, list[Interaction]]:
        """The contact of ``e164`` (or None) and the last ``limit`` interactions of its phones (of ``e164``
        alone when unknown): a caller lookup in one go."""
        ...

    async def record(self, interaction: Interaction) -> None:
        """Insert or update the interaction of ``interaction.call_id`` (fields not empty win)."""
        ...

    async def interaction(self, call_id: str) -> Interaction | None: ...


def _contact(cid: str, data: ContactIn, phones: list[str]) -> Contact:
    return Contact(
        id=cid,
        name=data.name,
        company=data.company,
        phones=tuple(phones),
        email=data.email,
        tags=tuple(data.tags),
        vip=data.vip,
        language=data.language,
        notes=data.notes,
    )


def merge(old: Interaction | None, new: Interaction) -> Interaction:
    if old is None:
        return new
    updates = {k: v for k, v in new.model_dump().items() if v not in ("", 0, 0.0, None)}
    updates.pop("started_at", None)
    return old.model_copy(update=updates)


class MemoryContactStore:
    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.interactions: dict[str, Interaction] = {}
        self._ids = itertools.count(1)

    async def find_by_phone(self, e164: str) -> Contact | None:
        return next((c for c in self.contacts.values() if e164 in c.phones), None)

    async def get(self, contact_id: str) -> Contact | None:
        return self.contacts.get(contact_id)

    async def search(self, query: str, limit: int) -> list[Contact]:
        q = query.lower()
        hits = [c for c in self.contacts.values() if q in c.name.lower() or q in c.company.lower()]
        return hits[:limit]

    async def create(self, data: ContactIn, phones: list[str]) -> Contact:
        contact = _contact(str(next(self._ids)), data, phones)
        self.contacts[contact.id] = contact
        return contact

    async def update(self, contact_id: str, data: ContactIn, phones: list[str]) -> Contact | None:
        if contact_id not in self.contacts:
            return None
        self.contacts[contact_id] = _contact(contact_id, data, phones)
        return self.contacts[contact_id]

    async def delete(self, contact_id: str) -> bool:
        return self.contacts.pop(contact_id, None) is not None

    async def history(self, phones: list[str], limit: int) -> list[Interaction]:
        hits = [i for i in self.interactions.values() if i.number in phones]
        return sorted(hits, key=lambda i: -i.started_at)[:limit]

    async def find_with_history(self, e164: str, limit: int) -> tuple[Contact | None, list[Interaction]]:
        contact = await self.find_by_phone(e164)
        return contact, await self.history(list(contact.phones) if contact else [e164], limit)

    async def record(self, interaction: Interaction) -> None:
        self.interactions[interaction.call_id] = merge(
            self.interactions.get(interaction.call_id), interaction
        )

    async def interaction(self, call_id: str) -> Interaction | None:
        return self.interactions.get(call_id)
