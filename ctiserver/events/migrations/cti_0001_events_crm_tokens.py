"""cti: event log, webhook subscriptions + outbox, API tokens, CRM contacts/phones/interactions

Revision ID: cti_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cti_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("cti",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column("seq", sa.Integer(), autoincrement=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.UniqueConstraint("id", name="uq_event_log_id"),
        sa.PrimaryKeyConstraint("seq", name="pk_event_log"),
    )
    op.create_index("ix_event_log_subject", "event_log", ["subject"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(40)),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("subscription_id", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_outbox"),
    )
    op.create_index("ix_webhook_outbox_status_seq", "webhook_outbox", ["status", "seq"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32)),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
    )
    op.create_table(
        "crm_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("company", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("vip", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crm_contacts"),
    )
    op.create_index("ix_crm_contacts_name", "crm_contacts", ["name"])
    op.create_table(
        "crm_contact_phones",
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("crm_contacts.id", ondelete="CASCADE")),
        sa.Column("e164", sa.String(32)),
        sa.PrimaryKeyConstraint("contact_id", "e164", name="pk_crm_contact_phones"),
    )
    op.create_index("ix_crm_contact_phones_e164", "crm_contact_phones", ["e164"])
    op.create_table(
        "crm_interactions",
        sa.Column("call_id", sa.String(80)),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("disposition", sa.String(64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recording", sa.String(200), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_crm_interactions"),
    )
    op.create_index("ix_crm_interactions_started_at", "crm_interactions", ["started_at"])
    op.create_index("ix_crm_interactions_number", "crm_interactions", ["number"])


def downgrade() -> None:
    op.drop_table("crm_interactions")
    op.drop_table("crm_contact_phones")
    op.drop_table("crm_contacts")
    op.drop_table("api_tokens")
    op.drop_table("webhook_outbox")
    op.drop_table("webhook_subscriptions")
    op.drop_table("event_log")
