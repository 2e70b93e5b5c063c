"""dialer: campaigns, contacts, attempts, do-not-call lists

Revision ID: dialer_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dialer_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("dialer",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialer_campaigns",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dialer_campaigns")),
    )
    op.create_table(
        "dialer_contacts",
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_outcome", sa.String(16)),
        sa.Column("agent", sa.String(64)),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign", "id", name=op.f("pk_dialer_contacts")),
    )
    op.create_index("ix_dialer_contacts_number", "dialer_contacts", ["number"])
    op.create_index("ix_dialer_contacts_due", "dialer_contacts", ["campaign", "status", "next_at"])
    op.create_table(
        "dialer_attempts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        sa.Column("ended", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(128)),
        sa.Column("agent", sa.String(64)),
        sa.Column("amd_status", sa.String(16)),
        sa.Column("amd_cause", sa.String(64)),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialer_attempts")),
    )
    op.create_index("ix_dialer_attempts_campaign", "dialer_attempts", ["campaign"])
    op.create_index("ix_dialer_attempts_number", "dialer_attempts", ["number"])
    op.create_index("ix_dialer_attempts_started", "dialer_attempts", ["started"])
    op.create_table(
        "dialer_dnc",
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(128), nullable=False),
        sa.Column("added", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("campaign", "number", name=op.f("pk_dialer_dnc")),
    )


def downgrade() -> None:
    op.drop_table("dialer_dnc")
    op.drop_table("dialer_attempts")
    op.drop_table("dialer_contacts")
    op.drop_table("dialer_campaigns")
