"""acd: agent state snapshots, state change events, run-time skills

Revision ID: acd_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "acd_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("acd",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acd_agent_states",
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("since", sa.Float(), nullable=False),
        sa.Column("until", sa.Float()),
        sa.Column("call_id", sa.String(80)),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_acd_agent_states")),
    )
    op.create_table(
        "acd_agent_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("prev_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("until", sa.Float()),
        sa.Column("call_id", sa.String(80)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acd_agent_events")),
    )
    op.create_index(op.f("ix_acd_agent_events_agent_id"), "acd_agent_events", ["agent_id"])
    op.create_index(op.f("ix_acd_agent_events_at"), "acd_agent_events", ["at"])
    op.create_table(
        "acd_agent_skills",
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "skill", name=op.f("pk_acd_agent_skills")),
    )


def downgrade() -> None:
    op.drop_table("acd_agent_skills")
    op.drop_index(op.f("ix_acd_agent_events_at"), table_name="acd_agent_events")
    op.drop_index(op.f("ix_acd_agent_events_agent_id"), table_name="acd_agent_events")
    op.drop_table("acd_agent_events")
    op.drop_table("acd_agent_states")
