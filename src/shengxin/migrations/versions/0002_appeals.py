"""Appeals, working-day overrides, notifications outbox (issue 7).

Tables: appeals and their events, units, clocks, pauses, bounces, attachments, QR codes,
Open311 API keys; workday_overrides; notifications. Generated from the models, runs on SQLite
(batch mode) and PostgreSQL.

Revision ID: 0002_appeals
Revises: 0001_foundation
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0002_appeals'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appeal_qr_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('enterprise_name', sa.String(length=200), nullable=False),
    sa.Column('town_code', sa.String(length=9), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_qr_codes')),
    sa.UniqueConstraint('uscc', name=op.f('uq_appeal_qr_codes_uscc'))
    )
    with op.batch_alter_table('appeal_qr_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_qr_codes_town_code'), ['town_code'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending','sent','failed','skipped')", name=op.f('ck_notifications_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_unit_code'), ['unit_code'], unique=False)

    op.create_table('open311_api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_prefix', sa.String(length=12), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_api_keys')),
    sa.UniqueConstraint('key_hash', name='key_hash'),
    sa.UniqueConstraint('name', name=op.f('uq_open311_api_keys_name'))
    )
    op.create_table('workday_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('loaded_by', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workday_overrides')),
    sa.UniqueConstraint('year', 'version', name='year_version')
    )
    with op.batch_alter_table('workday_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workday_overrides_year'), ['year'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('enterprise_name', sa.String(length=200), nullable=False),
    sa.Column('town_code', sa.String(length=9), nullable=True),
    sa.Column('contact_name', sa.String(length=64), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('long', sa.Float(), nullable=True),
    sa.Column('category_code', sa.String(length=32), nullable=True),
    sa.Column('subcategory_code', sa.String(length=64), nullable=True),
    sa.Column('suggested_subcategory', sa.String(length=64), nullable=True),
    sa.Column('suggested_unit', sa.String(length=32), nullable=True),
    sa.Column('suggestion_confidence', sa.Float(), nullable=True),
    sa.Column('suggestion', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('layer', sa.String(length=8), nullable=True),
    sa.Column('tier', sa.String(length=12), nullable=True),
    sa.Column('lead_unit', sa.String(length=32), nullable=True),
    sa.Column('first_receiver', sa.String(length=32), nullable=True),
    sa.Column('first_receiver_user', sa.String(length=64), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('satisfaction', sa.String(length=24), nullable=True),
    sa.Column('solved', sa.Boolean(), nullable=True),
    sa.Column('visit_note', sa.Text(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('bounce_count', sa.Integer(), nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('working_days_to_close', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('deadline_state', sa.String(length=8), nullable=False),
    sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("layer IS NULL OR layer IN ('simple','complex','hard')", name=op.f('ck_appeals_layer_known')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('solved','explained','not_in_remit','merged','rejected')", name=op.f('ck_appeals_outcome_known')),
    sa.CheckConstraint("satisfaction IS NULL OR satisfaction IN ('satisfied','basically_satisfied','unsatisfied')", name=op.f('ck_appeals_satisfaction_known')),
    sa.CheckConstraint("status IN ('submitted','accepted','rejected','assigned','signed','in_progress','paused','replied','return_visit','reopened','bounced','closed')", name=op.f('ck_appeals_status_known')),
    sa.CheckConstraint("tier IS NULL OR tier IN ('district','department','town')", name=op.f('ck_appeals_tier_known')),
    sa.ForeignKeyConstraint(['api_key_id'], ['open311_api_keys.id'], name=op.f('fk_appeals_api_key_id_open311_api_keys')),
    sa.ForeignKeyConstraint(['parent_id'], ['appeals.id'], name=op.f('fk_appeals_parent_id_appeals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('code', name=op.f('uq_appeals_code'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_api_key_id'), ['api_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_category_code'), ['category_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_lead_unit'), ['lead_unit'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_town_code'), ['town_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_uscc'), ['uscc'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_warn_at'), ['warn_at'], unique=False)

    op.create_table('appeal_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_attachments_appeal_id_appeals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_appeal_attachments_stored_name'))
    )
    with op.batch_alter_table('appeal_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_attachments_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('appeal_bounces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('bounced_by', sa.String(length=64), nullable=False),
    sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('new_unit', sa.String(length=32), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_bounces_appeal_id_appeals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_bounces'))
    )
    with op.batch_alter_table('appeal_bounces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_bounces_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_bounces_unit_code'), ['unit_code'], unique=False)

    op.create_table('appeal_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('limit_days', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.Column('used_days', sa.Integer(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_clocks_appeal_id_appeals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_clocks'))
    )
    with op.batch_alter_table('appeal_clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_clocks_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_clocks_unit_code'), ['unit_code'], unique=False)

    op.create_table('appeal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_events_appeal_id_appeals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_events'))
    )
    with op.batch_alter_table('appeal_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_events_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('appeal_pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_pauses_appeal_id_appeals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_pauses'))
    )
    with op.batch_alter_table('appeal_pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_pauses_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('appeal_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('lead','co')", name=op.f('ck_appeal_units_role_known')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_units_appeal_id_appeals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_units'))
    )
    with op.batch_alter_table('appeal_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_units_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_units_unit_code'), ['unit_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('appeal_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_units_unit_code'))
        batch_op.drop_index(batch_op.f('ix_appeal_units_appeal_id'))

    op.drop_table('appeal_units')
    with op.batch_alter_table('appeal_pauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_pauses_appeal_id'))

    op.drop_table('appeal_pauses')
    with op.batch_alter_table('appeal_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_events_appeal_id'))

    op.drop_table('appeal_events')
    with op.batch_alter_table('appeal_clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_clocks_unit_code'))
        batch_op.drop_index(batch_op.f('ix_appeal_clocks_appeal_id'))

    op.drop_table('appeal_clocks')
    with op.batch_alter_table('appeal_bounces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_bounces_unit_code'))
        batch_op.drop_index(batch_op.f('ix_appeal_bounces_appeal_id'))

    op.drop_table('appeal_bounces')
    with op.batch_alter_table('appeal_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_attachments_appeal_id'))

    op.drop_table('appeal_attachments')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_warn_at'))
        batch_op.drop_index(batch_op.f('ix_appeals_uscc'))
        batch_op.drop_index(batch_op.f('ix_appeals_town_code'))
        batch_op.drop_index(batch_op.f('ix_appeals_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_appeals_status'))
        batch_op.drop_index(batch_op.f('ix_appeals_parent_id'))
        batch_op.drop_index(batch_op.f('ix_appeals_lead_unit'))
        batch_op.drop_index(batch_op.f('ix_appeals_due_at'))
        batch_op.drop_index(batch_op.f('ix_appeals_channel'))
        batch_op.drop_index(batch_op.f('ix_appeals_category_code'))
        batch_op.drop_index(batch_op.f('ix_appeals_api_key_id'))

    op.drop_table('appeals')
    with op.batch_alter_table('workday_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workday_overrides_year'))

    op.drop_table('workday_overrides')
    op.drop_table('open311_api_keys')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_unit_code'))
        batch_op.drop_index(batch_op.f('ix_notifications_status'))
        batch_op.drop_index(batch_op.f('ix_notifications_kind'))
        batch_op.drop_index(batch_op.f('ix_notifications_created_at'))

    op.drop_table('notifications')
    with op.batch_alter_table('appeal_qr_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_qr_codes_town_code'))

    op.drop_table('appeal_qr_codes')
