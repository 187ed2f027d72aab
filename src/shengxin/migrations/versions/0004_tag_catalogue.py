"""Tag catalogue changes: uploaded, validated, previewed and activated tag definitions.

Revision ID: 0004_tag_catalogue
Revises: 0001_foundation
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_tag_catalogue"
down_revision = "0003_problem_library"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag_catalogue_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("tag_ids", sa.JSON()),
        sa.Column("errors", sa.JSON()),
        sa.Column("preview", sa.JSON()),
        sa.Column("base_fingerprint", sa.String(64)),
        sa.Column("result_fingerprint", sa.String(64)),
        sa.Column("catalogue_version", sa.Integer()),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previewed_at", sa.DateTime(timezone=True)),
        sa.Column("activated_by", sa.String(64)),
        sa.Column("activated_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('invalid','validated','previewed','active','withdrawn')",
                           name=op.f("ck_tag_catalogue_versions_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_catalogue_versions")),
        sa.UniqueConstraint("catalogue_version", name=op.f("uq_tag_catalogue_versions_catalogue_version")),
    )
    op.create_index(op.f("ix_tag_catalogue_versions_content_sha256"), "tag_catalogue_versions", ["content_sha256"])
    op.create_index(op.f("ix_tag_catalogue_versions_status"), "tag_catalogue_versions", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tag_catalogue_versions_status"), table_name="tag_catalogue_versions")
    op.drop_index(op.f("ix_tag_catalogue_versions_content_sha256"), table_name="tag_catalogue_versions")
    op.drop_table("tag_catalogue_versions")
