"""What a lookup returns: a contact (from the built-in store or a CRM), and the past interactions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Contact(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str = ""
    company: str = ""
    phones: tuple[str, ...] = ()
    email: str = ""
    tags: tuple[str, ...] = ()
    vip: bool = False
    language: str = ""
    notes: str = ""
    source: str = "builtin"
    url: str = ""


class Interaction(BaseModel):
    """One previous contact with the customer (a call), newest first in lists."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    started_at: float
    direction: str = "inbound"
    number: str = ""
    queue: str = ""
    agent: str = ""
    outcome: str = ""  # answered / abandoned / missed / ...
    disposition: str = ""
    notes: str = ""
    recording: str = ""
    duration: float = 0.0


class LookupResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str  # as received
    e164: str | None
    contact: Contact | None = None
    history: tuple[Interaction, ...] = Field(default_factory=tuple)
    error: str = ""  # the CRM could not be asked (timeout, 5xx): the pop says so instead of "unknown"


class CrmUnavailable(Exception):
    """An external CRM did not answer in time or failed; the lookup is not cached."""
