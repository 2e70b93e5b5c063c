"""core: queue_segments.outbound — a dialler's call handed to an agent through a queue

Column ``queue_segments.outbound`` (false on every existing row): the stay is a dialler's live answer that the
ACD gave to an agent of the campaign's queue, not an inbound caller's. It counts for the agent (handled calls,
AHT) and not for the queue (offered, service level, ASA, abandon): docs/kpi.md, "Dialler calls".

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0007"
down_revision: str | Sequence[str] | None = "core_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queue_segments") as batch:
        batch.add_column(sa.Column("outbound", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("queue_segments") as batch:
        batch.drop_column("outbound")
