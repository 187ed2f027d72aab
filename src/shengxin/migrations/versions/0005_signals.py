"""Signals: follow-up cases at the town desks and their feedback history.

Revision ID: 0005_signals
Revises: 0001_foundation
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_signals"
down_revision = "0004_tag_catalogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signal_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_key", sa.String(32), nullable=False),
        sa.Column("signal", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("town_code", sa.String(9)),
        sa.Column("start_month", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("note", sa.Text()),
        sa.Column("snapshot_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.CheckConstraint("status IN ('open','confirmed','dismissed','handled')",
                           name=op.f("ck_signal_cases_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_cases")),
        sa.UniqueConstraint("signal_key", name=op.f("uq_signal_cases_signal_key")),
    )
    op.create_index(op.f("ix_signal_cases_signal"), "signal_cases", ["signal"])
    op.create_index(op.f("ix_signal_cases_uscc"), "signal_cases", ["uscc"])
    op.create_index(op.f("ix_signal_cases_town_code"), "signal_cases", ["town_code"])
    op.create_table(
        "signal_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("note", sa.Text()),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["signal_cases.id"], ondelete="CASCADE",
                                name=op.f("fk_signal_feedback_case_id_signal_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_feedback")),
    )
    op.create_index(op.f("ix_signal_feedback_case_id"), "signal_feedback", ["case_id"])
    op.create_index(op.f("ix_signal_feedback_at"), "signal_feedback", ["at"])


def downgrade() -> None:
    op.drop_table("signal_feedback")
    op.drop_table("signal_cases")
