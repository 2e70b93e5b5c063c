"""acd: the call-backs owed, kept through a restart

Revision ID: acd_0002
Revises: acd_0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "acd_0002"
down_revision: str | Sequence[str] | None = "acd_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acd_callbacks",
        sa.Column("call_id", sa.String(80), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("attached", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer()),
        sa.Column("only_agent", sa.String(64)),
        sa.Column("requested", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_acd_callbacks")),
    )


def downgrade() -> None:
    op.drop_table("acd_callbacks")
