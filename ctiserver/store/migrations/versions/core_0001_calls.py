"""core: calls, call_legs, queue_segments

Revision ID: core_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(80), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        sa.Column("answered", sa.Float()),
        sa.Column("connected", sa.Float()),
        sa.Column("ended", sa.Float()),
        sa.Column("end_reason", sa.String(32)),
        sa.Column("direction", sa.String(8)),
        sa.Column("caller_num", sa.String(64), nullable=False),
        sa.Column("caller_name", sa.String(128), nullable=False),
        sa.Column("self_service", sa.String(64)),
        sa.Column("disposition", sa.String(64)),
        sa.Column("hold_seconds", sa.Float(), nullable=False),
        sa.Column("wrapup_seconds", sa.Float(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("ivr_path", sa.JSON(), nullable=False),
        sa.Column("transfers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_calls"),
    )
    op.create_index("ix_calls_started", "calls", ["started"])
    op.create_index("ix_calls_caller_num", "calls", ["caller_num"])
    op.create_table(
        "call_legs",
        sa.Column("uniqueid", sa.String(80), nullable=False),
        sa.Column("call_id", sa.String(80), nullable=False),
        sa.Column("linkedid", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("endpoint", sa.String(128), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("caller_num", sa.String(64), nullable=False),
        sa.Column("caller_name", sa.String(128), nullable=False),
        sa.Column("callee_num", sa.String(64), nullable=False),
        sa.Column("callee_name", sa.String(128), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("ringing", sa.Float()),
        sa.Column("answered", sa.Float()),
        sa.Column("bridged", sa.Float()),
        sa.Column("ended", sa.Float()),
        sa.Column("hold_seconds", sa.Float(), nullable=False),
        sa.Column("hangup_cause", sa.Integer()),
        sa.Column("hangup_cause_txt", sa.String(64), nullable=False),
        sa.Column("hangup_source", sa.String(128), nullable=False),
        sa.Column("dialstatus", sa.String(32), nullable=False),
        sa.Column("queue", sa.String(64)),
        sa.Column("agent", sa.String(128)),
        sa.Column("end_reason", sa.String(32)),
        sa.Column("recordings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("uniqueid", name="pk_call_legs"),
    )
    op.create_index("ix_call_legs_call_id", "call_legs", ["call_id"])
    op.create_table(
        "queue_segments",
        sa.Column("call_id", sa.String(80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("caller_uniqueid", sa.String(80), nullable=False),
        sa.Column("caller_num", sa.String(64), nullable=False),
        sa.Column("entered", sa.Float(), nullable=False),
        sa.Column("left", sa.Float()),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("answered", sa.Float()),
        sa.Column("wait_seconds", sa.Float()),
        sa.Column("agent", sa.String(128)),
        sa.Column("agent_uniqueid", sa.String(80)),
        sa.Column("talk_seconds", sa.Float()),
        sa.Column("hold_seconds", sa.Float(), nullable=False),
        sa.Column("wrapup_seconds", sa.Float(), nullable=False),
        sa.Column("complete_reason", sa.String(16)),
        sa.Column("transfer_kind", sa.String(16)),
        sa.Column("abandon_position", sa.Integer()),
        sa.PrimaryKeyConstraint("call_id", "seq", name="pk_queue_segments"),
    )
    op.create_index("ix_queue_segments_entered", "queue_segments", ["entered"])
    op.create_index("ix_queue_segments_queue_entered", "queue_segments", ["queue", "entered"])
    op.create_index("ix_queue_segments_agent_entered", "queue_segments", ["agent", "entered"])


def downgrade() -> None:
    op.drop_table("queue_segments")
    op.drop_table("call_legs")
    op.drop_table("calls")
