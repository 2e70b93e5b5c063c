"""The core tables: calls, their legs and their queue segments (written by the call tracker's component).

Times are UTC epoch seconds (double precision) so interval maths (``floor(entered / 1800)``) is the same SQL
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ctiserver.store.base import Base


class CallRow(Base):
    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_caller_key_started", "caller_key", "started"),)

    call_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    started: Mapped[float] = mapped_column(Float, index=True)
    answered: Mapped[float | None] = mapped_column(Float)
    connected: Mapped[float | None] = mapped_column(Float)
    ended: Mapped[float | None] = mapped_column(Float)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    direction: Mapped[str | None] = mapped_column(String(8))
    caller_num: Mapped[str] = mapped_column(String(64), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(128), default="")
    # the caller's number normalised as it was written (E.164, else its digits; "" when anonymous), for
    # repeat-based FCR without parsing every number at report time; NULL on rows from before core_0003
    caller_key: Mapped[str | None] = mapped_column(String(64))
    self_service: Mapped[str | None] = mapped_column(String(64))
    disposition: Mapped[str | None] = mapped_column(String(64))
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    wrapup_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    talk_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    blocked: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ivr_path: Mapped[list[Any]] = mapped_column(JSON, default=list)
    transfers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # personal data cleared (``store/privacy.py``, migration core_0005)
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LegRow(Base):
    __tablename__ = "call_legs"

    uniqueid: Mapped[str] = mapped_column(String(80), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(80), index=True)
    linkedid: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(128))
    endpoint: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(24))
    direction: Mapped[str] = mapped_column(String(8))
    caller_num: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(128), default="")
    callee_num: Mapped[str] = mapped_column(String(64), default="")
    callee_name: Mapped[str] = mapped_column(String(128), default="")
    created: Mapped[float] = mapped_column(Float)
    ringing: Mapped[float | None] = mapped_column(Float)
    answered: Mapped[float | None] = mapped_column(Float)
    bridged: Mapped[float | None] = mapped_column(Float)
    ended: Mapped[float | None] = mapped_column(Float)
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_txt: Mapped[str] = mapped_column(String(64), default="")
    hangup_source: Mapped[str] = mapped_column(String(128), default="")
    dialstatus: Mapped[str] = mapped_column(String(32), default="")
    queue: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(128))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    recordings: Mapped[list[str]] = mapped_column(JSON, default=list)


class QueueSegmentRow(Base):
    __tablename__ = "queue_segments"
    __table_args__ = (
        Index("ix_queue_segments_queue_entered", "queue", "entered"),
        Index("ix_queue_segments_agent_entered", "agent", "entered"),
    )

    call_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    caller_uniqueid: Mapped[str] = mapped_column(String(80))
    caller_num: Mapped[str] = mapped_column(String(64), default="")
    entered: Mapped[float] = mapped_column(Float, index=True)
    left: Mapped[float | None] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    answered: Mapped[float | None] = mapped_column(Float)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    agent: Mapped[str | None] = mapped_column(String(128))
    agent_uniqueid: Mapped[str | None] = mapped_column(String(80))
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    wrapup_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    complete_reason: Mapped[str | None] = mapped_column(String(16))
    transfer_kind: Mapped[str | None] = mapped_column(String(16))
    abandon_position: Mapped[int | None] = mapped_column(Integer)
    # a dialler's call the ACD gave to an agent: the agent's, not the queue's (docs/kpi.md, "Dialler calls")
    outbound: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LiveCallRow(Base):
    """A call in progress, as the tracker knew it at its last checkpoint (``calls/checkpoints.py``); deleted when
    the call ends. ``seen``: the last time the daemon knew it alive."""

    __tablename__ = "live_calls"

    call_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON)
    seen: Mapped[float] = mapped_column(Float)


class LeaseRow(Base):
    """Which daemon runs on this database (``store/standby.py``): the holder renews ``expires``; another daemon
    started on the same database waits until the holder lets go or stops renewing."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(300))
    expires: Mapped[float] = mapped_column(Float)
    since: Mapped[float] = mapped_column(Float)
