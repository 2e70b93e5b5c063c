"""The dialer's tables (the ``dialer`` migration branch): campaigns, contacts, attempts (one per leg), DNC."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from ctiserver.store.base import Base


class CampaignRow(Base):
    __tablename__ = "dialer_campaigns"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    updated: Mapped[float] = mapped_column(Float)


class ContactRow(Base):
    __tablename__ = "dialer_contacts"
    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    timezone: Mapped[str] = mapped_column(Text)  # one zone or several, comma-separated (migration dialer_0006)
    name: Mapped[str] = mapped_column(String(128))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[str | None] = mapped_column(String(64))  # migration dialer_0005

    __table_args__ = (
        Index("ix_dialer_contacts_due", "campaign", "status", "next_at"),
        Index("ix_dialer_contacts_status", "campaign", "status", "id"),  # the pages (ids "C"-collated on PostgreSQL)
        # the due ones in dialling order (dialer_0008; id "C"-collated on PostgreSQL)
        Index("ix_dialer_contacts_order", "campaign", "status", text("priority DESC"), "next_at", "id"),
    )


class AttemptRow(Base):
    __tablename__ = "dialer_attempts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32), index=True)
    started: Mapped[float] = mapped_column(Float, index=True)
    ended: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(128))
    agent: Mapped[str | None] = mapped_column(String(64))
    amd_status: Mapped[str | None] = mapped_column(String(16))
    amd_cause: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    answered: Mapped[float | None] = mapped_column(Float)  # migration dialer_0003
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    connected: Mapped[float | None] = mapped_column(Float)  # migration dialer_0004
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    amd_audit: Mapped[str | None] = mapped_column(String(8))  # migration dialer_0007

    __table_args__ = (
        # the pages, newest first (migration dialer_0002)
        Index("ix_dialer_attempts_page", "campaign", text("started DESC"), "id"),
        Index("ix_dialer_attempts_outcome", "campaign", "outcome", text("started DESC"), "id"),
        # the history a restarted campaign reloads, the attempts of one contact (migration dialer_0003)
        Index("ix_dialer_attempts_ended", "campaign", text("ended DESC"), "id"),
        Index("ix_dialer_attempts_live", "campaign", "outcome", "ended", "late", "amd_audit"),  # dialer_0004, 0007
        Index("ix_dialer_attempts_contact", "campaign", "contact_id", "started", "id"),
    )


class DncRow(Base):
    __tablename__ = "dialer_dnc"
    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" = the global list
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(128))
    added: Mapped[float] = mapped_column(Float)
