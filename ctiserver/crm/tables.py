"""The built-in contact store: contacts, their phones (E.164, indexed), and interactions (one per call)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ctiserver.store.base import Base


class ContactRow(Base):
    __tablename__ = "crm_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    company: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(16), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class ContactPhoneRow(Base):
    __tablename__ = "crm_contact_phones"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts.id", ondelete="CASCADE"), primary_key=True
    )
    e164: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class InteractionRow(Base):
    __tablename__ = "crm_interactions"

    call_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    number: Mapped[str] = mapped_column(String(64), index=True, default="")
    started_at: Mapped[float] = mapped_column(Float, index=True)
    direction: Mapped[str] = mapped_column(String(16), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(32), default="")
    disposition: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    recording: Mapped[str] = mapped_column(String(200), default="")
    duration: Mapped[float] = mapped_column(Float, default=0.0)
