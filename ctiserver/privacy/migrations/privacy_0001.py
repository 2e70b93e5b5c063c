"""privacy: the erasures carried out (``privacy_erasures``)

Revision ID: privacy_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "privacy_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("privacy",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.Column("callbacks", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_erasures")),
    )
    op.create_index(op.f("ix_privacy_erasures_at"), "privacy_erasures", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_erasures_at"), table_name="privacy_erasures")
    op.drop_table("privacy_erasures")
