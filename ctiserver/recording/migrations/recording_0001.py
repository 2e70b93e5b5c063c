"""recording: recordings metadata

Revision ID: recording_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "recording_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("recording",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("call_id", sa.String(80), nullable=False),
        sa.Column("queue", sa.String(64)),
        sa.Column("agent", sa.String(64)),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float()),
        sa.Column("duration", sa.Float()),
        sa.Column("size", sa.Integer()),
        sa.Column("pauses", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_recordings")),
    )
    op.create_index(op.f("ix_recordings_call_id"), "recordings", ["call_id"])
    op.create_index(op.f("ix_recordings_queue"), "recordings", ["queue"])
    op.create_index(op.f("ix_recordings_started_at"), "recordings", ["started_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recordings_started_at"), table_name="recordings")
    op.drop_index(op.f("ix_recordings_queue"), table_name="recordings")
    op.drop_index(op.f("ix_recordings_call_id"), table_name="recordings")
    op.drop_table("recordings")
