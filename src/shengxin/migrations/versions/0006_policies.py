"""Policies: definitions and versions, workflow events, pushes and their outbox (issue 5).

Revision ID: 0006_policies
Revises: 0005_signals (standalone: 0001_foundation; the lead re-chains)
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_policies"
down_revision = "0005_signals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("delivery", sa.String(24), nullable=False),
        sa.Column("department_code", sa.String(32), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('draft','in_review','published','suspended','expired')",
                           name=op.f("ck_policies_status_known")),
        sa.CheckConstraint("level IN ('national','provincial','city','district')", name=op.f("ck_policies_level_known")),
        sa.CheckConstraint("delivery IN ('no_application','instant_application','ordinary')",
                           name=op.f("ck_policies_delivery_known")),
        sa.CheckConstraint("published_version IS NULL OR published_version <= current_version",
                           name=op.f("ck_policies_published_is_saved")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
    )
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policies_delivery"), ["delivery"], unique=False)
        batch_op.create_index(batch_op.f("ix_policies_department_code"), ["department_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_policies_status"), ["status"], unique=False)

    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("tests_passed", sa.Boolean(), nullable=True),
        sa.Column("test_report", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["policies.id"], name=op.f("fk_policy_versions_policy_id_policies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("policy_id", "version", name=op.f("uq_policy_versions_policy_id")),
    )
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_versions_policy_id"), ["policy_id"], unique=False)

    op.create_table(
        "policy_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["policies.id"], name=op.f("fk_policy_events_policy_id_policies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_events")),
    )
    with op.batch_alter_table("policy_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_events_policy_id"), ["policy_id"], unique=False)

    op.create_table(
        "policy_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("match_run", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('eligible','near_miss','missing_data')", name=op.f("ck_policy_pushes_status_known")),
        sa.ForeignKeyConstraint(["policy_id"], ["policies.id"], name=op.f("fk_policy_pushes_policy_id_policies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_pushes")),
        sa.UniqueConstraint("uscc", "policy_id", "version", name=op.f("uq_policy_pushes_uscc")),
    )
    with op.batch_alter_table("policy_pushes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_pushes_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_pushes_policy_id"), ["policy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_pushes_uscc"), ["uscc"], unique=False)

    op.create_table(
        "policy_push_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('inbox','email','webhook')", name=op.f("ck_policy_push_deliveries_channel_known")),
        sa.CheckConstraint("status IN ('pending','sending','sent','failed','dead','skipped')",
                           name=op.f("ck_policy_push_deliveries_status_known")),
        sa.ForeignKeyConstraint(["push_id"], ["policy_pushes.id"],
                                name=op.f("fk_policy_push_deliveries_push_id_policy_pushes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_push_deliveries")),
        sa.UniqueConstraint("push_id", "channel", name=op.f("uq_policy_push_deliveries_push_id")),
    )
    with op.batch_alter_table("policy_push_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_push_deliveries_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_push_deliveries_push_id"), ["push_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_push_deliveries_status"), ["status"], unique=False)

    op.create_table(
        "policy_push_subscriptions",
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("webhook_url", sa.String(500), nullable=False),
        sa.Column("webhook_secret", sa.String(64), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uscc", name=op.f("pk_policy_push_subscriptions")),
    )


def downgrade() -> None:
    op.drop_table("policy_push_subscriptions")
    with op.batch_alter_table("policy_push_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_push_deliveries_status"))
        batch_op.drop_index(batch_op.f("ix_policy_push_deliveries_push_id"))
        batch_op.drop_index(batch_op.f("ix_policy_push_deliveries_next_attempt_at"))
    op.drop_table("policy_push_deliveries")
    with op.batch_alter_table("policy_pushes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_pushes_uscc"))
        batch_op.drop_index(batch_op.f("ix_policy_pushes_policy_id"))
        batch_op.drop_index(batch_op.f("ix_policy_pushes_created_at"))
    op.drop_table("policy_pushes")
    with op.batch_alter_table("policy_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_events_policy_id"))
        batch_op.drop_index(batch_op.f("ix_policy_events_at"))
    op.drop_table("policy_events")
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_versions_policy_id"))
    op.drop_table("policy_versions")
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policies_status"))
        batch_op.drop_index(batch_op.f("ix_policies_department_code"))
        batch_op.drop_index(batch_op.f("ix_policies_delivery"))
    op.drop_table("policies")
