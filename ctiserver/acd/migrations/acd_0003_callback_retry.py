"""acd: when a call-back owed may be dialled again (``acd_callbacks.retry_at``)

After a failed dial a call-back waits out its queue's ``retry_after``; the column keeps the end of that wait
(wall clock), so a daemon restarted meanwhile waits out the rest of it instead of dialling the customer again at
once. Null: not waiting (every existing row).

Revision ID: acd_0003
Revises: acd_0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "acd_0003"
down_revision: str | Sequence[str] | None = "acd_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("acd_callbacks") as batch:
        batch.add_column(sa.Column("retry_at", sa.Float()))


def downgrade() -> None:
    with op.batch_alter_table("acd_callbacks") as batch:
        batch.drop_column("retry_at")
