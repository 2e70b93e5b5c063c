"""dialer: the AMD audit's verdict on an attempt (``amd_audit``: pending / person / machine)

A share of AMD's MACHINE verdicts is offered to an agent (``amd_audit_every``); the agent's disposition says
whether a person or a machine answered. The column is NULL for every other attempt (and for the rows written
before). The ledger's covering index gets ``amd_audit`` as its last column: a confirmed machine is not a live
answer, and the per-hour query still reads the index alone.

Revision ID: dialer_0007
Revises: dialer_0006
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dialer_0007"
down_revision: str | Sequence[str] | None = "dialer_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dialer_attempts") as batch:
        batch.add_column(sa.Column("amd_audit", sa.String(8)))
    op.drop_index("ix_dialer_attempts_live", table_name="dialer_attempts")
    op.create_index("ix_dialer_attempts_live", "dialer_attempts", ["campaign", "outcome", "ended", "late", "amd_audit"])


def downgrade() -> None:
    op.drop_index("ix_dialer_attempts_live", table_name="dialer_attempts")
    op.create_index("ix_dialer_attempts_live", "dialer_attempts", ["campaign", "outcome", "ended", "late"])
    with op.batch_alter_table("dialer_attempts") as batch:
        batch.drop_column("amd_audit")
