"""dialer: indexes for the contacts and attempts pages (filter, then ordered as the page is)

Contacts: by id, optionally of one status -> (campaign, status, id); the primary key (campaign, id) serves the
unfiltered page. Attempts: newest first then by id, optionally of one outcome -> (campaign, started DESC, id)
and (campaign, outcome, started DESC, id); the first one replaces the index on campaign alone. On PostgreSQL
the ids are indexed under the "C" collation (bytes, as the pages are ordered), with one more index
(campaign, id "C") for the unfiltered contacts page.

Revision ID: dialer_0002
Revises: dialer_0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dialer_0002"
down_revision: str | Sequence[str] | None = "dialer_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> str | sa.TextClause:
    return sa.text('id COLLATE "C"') if op.get_bind().dialect.name == "postgresql" else "id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_dialer_contacts_page", "dialer_contacts", ["campaign", _id()])
    op.create_index("ix_dialer_contacts_status", "dialer_contacts", ["campaign", "status", _id()])
    op.create_index("ix_dialer_attempts_page", "dialer_attempts", ["campaign", sa.text("started DESC"), _id()])
    op.create_index(
        "ix_dialer_attempts_outcome", "dialer_attempts", ["campaign", "outcome", sa.text("started DESC"), _id()]
    )
    op.drop_index("ix_dialer_attempts_campaign", table_name="dialer_attempts")


def downgrade() -> None:
    op.create_index("ix_dialer_attempts_campaign", "dialer_attempts", ["campaign"])
    op.drop_index("ix_dialer_attempts_outcome", table_name="dialer_attempts")
    op.drop_index("ix_dialer_attempts_page", table_name="dialer_attempts")
    op.drop_index("ix_dialer_contacts_status", table_name="dialer_contacts")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_dialer_contacts_page", table_name="dialer_contacts")
