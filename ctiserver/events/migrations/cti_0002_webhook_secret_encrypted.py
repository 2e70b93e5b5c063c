"""cti: webhook secrets encrypted at rest (Fernet): the column holds ``fernet:<token>``; clear rows encrypted

The key is the daemon's (``ctiserver/events/secret_box.py``): ``CTISERVER_SECRET_KEY``,
``CTISERVER_SECRET_KEY_FILE`` or ``<CTISERVER_DATA_DIR or var>/secret.key`` when it exists. When no key is
found here, the rows are encrypted by the daemon at its next start (``SqlOutbox.encrypt_clear_secrets``).
Downgrade decrypts them back (it needs the key as well).

Revision ID: cti_0002
Revises: cti_0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ctiserver.events.secret_box import SecretBox, find_key, is_encrypted

revision: str = "cti_0002"
down_revision: str | Sequence[str] | None = "cti_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_subs = sa.table("webhook_subscriptions", sa.column("id", sa.String), sa.column("secret", sa.Text))


def _box() -> SecretBox | None:
    key = find_key(os.environ.get("CTISERVER_DATA_DIR", "var"))
    return SecretBox(key) if key else None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.alter_column("secret", type_=sa.Text(), existing_type=sa.String(200), existing_nullable=False)
    box = _box()
    if box is None:
        return
    conn = op.get_bind()
    for sub_id, secret in conn.execute(sa.select(_subs.c.id, _subs.c.secret)).all():
        if not is_encrypted(secret):
            conn.execute(_subs.update().where(_subs.c.id == sub_id).values(secret=box.encrypt(secret)))


def downgrade() -> None:
    box = _box()
    conn = op.get_bind()
    if box is not None:
        for sub_id, secret in conn.execute(sa.select(_subs.c.id, _subs.c.secret)).all():
            conn.execute(_subs.update().where(_subs.c.id == sub_id).values(secret=box.decrypt(secret)))
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.alter_column("secret", type_=sa.String(200), existing_type=sa.Text(), existing_nullable=False)
