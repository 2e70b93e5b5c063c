"""dialer: when the agent's phone answered each connected attempt, and whether that was too late

Columns: ``connected`` (nullable: NULL for the rows written before and for calls nobody took) and ``late``
(false for the rows written before): a live answer whose agent's phone answered more than the two seconds after
the callee's greeting — served, but an abandoned call as the law counts it, so the abandonment ledger a
restarted campaign reloads counts it as one. The ledger's index (campaign, outcome, ended) gets ``late`` as its
last column, so that the per-hour query still reads the index alone (covering).

Revision ID: dialer_0004
Revises: dialer_0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dialer_0004"
down_revision: str | Sequence[str] | None = "dialer_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dialer_attempts") as batch:
        batch.add_column(sa.Column("connected", sa.Float()))
        batch.add_column(sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.drop_index("ix_dialer_attempts_live", table_name="dialer_attempts")
    op.create_index("ix_dialer_attempts_live", "dialer_attempts", ["campaign", "outcome", "ended", "late"])


def downgrade() -> None:
    op.drop_index("ix_dialer_attempts_live", table_name="dialer_attempts")
    op.create_index("ix_dialer_attempts_live", "dialer_attempts", ["campaign", "outcome", "ended"])
    with op.batch_alter_table("dialer_attempts") as batch:
        batch.drop_column("late")
        batch.drop_column("connected")
