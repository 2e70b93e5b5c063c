"""core: live_calls — checkpoints of the calls in progress, so a restarted daemon keeps what it knew of them

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0004"
down_revision: str | Sequence[str] | None = "core_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_calls",
        sa.Column("call_id", sa.String(80), primary_key=True),
        sa.Column("checkpoint", sa.JSON(), nullable=False),
        sa.Column("seen", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("live_calls")
