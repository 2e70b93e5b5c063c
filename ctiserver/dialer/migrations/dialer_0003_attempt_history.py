"""dialer: when each attempt was answered and how long it talked; indexes for the history a restarted campaign
reloads and for one contact's attempts

Columns (nullable, NULL for the rows written before): ``answered`` (when the line reported the callee answered)
and ``talk_seconds`` (connected calls). Indexes: (campaign, ended DESC, id) — the attempts that ended since a
time, newest first (the pacer's statistics after a restart); (campaign, outcome, ended) — the live answers of the
regulatory window per hour (the abandonment ledger; covering); (campaign, contact_id, started, id) — the
attempts of one contact, oldest first (an agent's disposition). On PostgreSQL the ids are indexed under the
"C" collation, as they are ordered.

Revision ID: dialer_0003
Revises: dialer_0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dialer_0003"
down_revision: str | Sequence[str] | None = "dialer_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> str | sa.TextClause:
    return sa.text('id COLLATE "C"') if op.get_bind().dialect.name == "postgresql" else "id"


def upgrade() -> None:
    with op.batch_alter_table("dialer_attempts") as batch:
        batch.add_column(sa.Column("answered", sa.Float()))
        batch.add_column(sa.Column("talk_seconds", sa.Float()))
    op.create_index("ix_dialer_attempts_ended", "dialer_attempts", ["campaign", sa.text("ended DESC"), _id()])
    op.create_index("ix_dialer_attempts_live", "dialer_attempts", ["campaign", "outcome", "ended"])
    op.create_index("ix_dialer_attempts_contact", "dialer_attempts", ["campaign", "contact_id", "started", _id()])


def downgrade() -> None:
    op.drop_index("ix_dialer_attempts_contact", table_name="dialer_attempts")
    op.drop_index("ix_dialer_attempts_live", table_name="dialer_attempts")
    op.drop_index("ix_dialer_attempts_ended", table_name="dialer_attempts")
    with op.batch_alter_table("dialer_attempts") as batch:
        batch.drop_column("talk_seconds")
        batch.drop_column("answered")
