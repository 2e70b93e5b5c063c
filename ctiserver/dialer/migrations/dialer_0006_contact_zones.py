"""dialer: a contact's time zone may be a list of zones

Column ``dialer_contacts.timezone`` from ``VARCHAR(64)`` to ``TEXT``: a number that may be in several zones (a
Russian mobile: 16, a US toll-free number: 42) keeps all of them, comma-separated, and is called only when the
window is open in every one (``dialer/numbers.py``, ``dialer/windows.py``). PostgreSQL refused such a row at
64 characters; SQLite does not enforce the length (its batch copy changes the declared type only).

Revision ID: dialer_0006
Revises: dialer_0005
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dialer_0006"
down_revision: str | Sequence[str] | None = "dialer_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dialer_contacts") as batch:
        batch.alter_column("timezone", type_=sa.Text(), existing_type=sa.String(64), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("dialer_contacts") as batch:
        batch.alter_column("timezone", type_=sa.String(64), existing_type=sa.Text(), existing_nullable=False)
