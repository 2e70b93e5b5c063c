"""dialer: the attempt in flight on each contact being dialled

Column ``dialer_contacts.attempt`` (nullable): the attempt id (its Originate's ``ChannelId``, the call's id in the
call tracker) while the contact is ``dialling``. A daemon killed with calls in flight leaves it, so that the next
run can tell from the call what became of the attempt (``dialer/left_in_flight.py``).

Revision ID: dialer_0005
Revises: dialer_0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dialer_0005"
down_revision: str | Sequence[str] | None = "dialer_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dialer_contacts") as batch:
        batch.add_column(sa.Column("attempt", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("dialer_contacts") as batch:
        batch.drop_column("attempt")
