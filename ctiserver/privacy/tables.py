"""``privacy_erasures``: one row per erasure, written in its transaction (``erase.py``).

It names no number: only the ids of the calls whose personal data went and of the call-backs the ACD owed, which
is what a running daemon needs to forget what it holds in memory (``follow.py``) — and, kept, the record that
the request was carried out and when.
"""

from __future__ import annotations

from sqlalchemy import JSON, Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ctiserver.store.base import Base


class ErasureRow(Base):
    __tablename__ = "privacy_erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    calls: Mapped[list[str]] = mapped_column(JSON)
    callbacks: Mapped[list[str]] = mapped_column(JSON)
