"""core: calls.anonymised — a call's personal data removed after database.personal_data_days

Column ``calls.anonymised`` (false on every existing row): set once ``store/privacy.py`` has cleared the call's
numbers, names, attached data and IVR inputs (and those of its legs and queue stays), so that each call is
rewritten once.

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0005"
down_revision: str | Sequence[str] | None = "core_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("anonymised", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("anonymised")
