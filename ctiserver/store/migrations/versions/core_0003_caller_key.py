"""core: calls.caller_key — the caller's number normalised when the call is written, for repeat-based FCR

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-23

NULL on rows written before this revision: the reports normalise those when they read them (as before), so
old periods stay right without a backfill here (the daemon's ``default_region`` is not known to a migration).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0003"
down_revision: str | Sequence[str] | None = "core_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("caller_key", sa.String(64)))
    op.create_index("ix_calls_caller_key_started", "calls", ["caller_key", "started"])


def downgrade() -> None:
    op.drop_index("ix_calls_caller_key_started", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("caller_key")
