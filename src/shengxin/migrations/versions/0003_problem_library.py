"""Problem library: classes of cases promoted from groups of similar appeals (issue 7).

Revision ID: 0003_problem_library
Revises: 0002_appeals (standalone: 0001_foundation; the lead re-chains)
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_problem_library"
down_revision = "0002_appeals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "problem_library_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(120), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category_code", sa.String(32), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("owner_unit", sa.String(32), nullable=False),
        sa.Column("owner_user", sa.String(64)),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("public_answer", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("appeal_ids", sa.JSON(), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("towns", sa.JSON(), nullable=False),
        sa.Column("months", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reuse_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open','resolved','archived')",
                           name=op.f("ck_problem_library_entries_status_known")),
        sa.CheckConstraint("case_count >= 0", name=op.f("ck_problem_library_entries_case_count_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_library_entries")),
        sa.UniqueConstraint("group_key", name=op.f("uq_problem_library_entries_group_key")),
    )
    op.create_index(op.f("ix_problem_library_entries_category_code"), "problem_library_entries", ["category_code"])
    op.create_index(op.f("ix_problem_library_entries_status"), "problem_library_entries", ["status"])
    op.create_index(op.f("ix_problem_library_entries_owner_unit"), "problem_library_entries", ["owner_unit"])


def downgrade() -> None:
    op.drop_index(op.f("ix_problem_library_entries_owner_unit"), table_name="problem_library_entries")
    op.drop_index(op.f("ix_problem_library_entries_status"), table_name="problem_library_entries")
    op.drop_index(op.f("ix_problem_library_entries_category_code"), table_name="problem_library_entries")
    op.drop_table("problem_library_entries")
