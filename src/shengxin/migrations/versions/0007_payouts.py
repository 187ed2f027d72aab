"""Payouts: rounds, items, bank accounts, batches, bank imports, instant applications, budgets,
and the hash-chained append-only ledger and event chain (issue 6).

Revision ID: 0007_payouts
Revises: 0006_policies
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0007_payouts'
down_revision = '0006_policies'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
APPEND_ONLY = ("payout_ledger", "payout_events")


def upgrade() -> None:
    op.create_table('payout_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('account_name', sa.String(length=200), nullable=False),
    sa.Column('account_no', sa.String(length=40), nullable=False),
    sa.Column('bank_name', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_accounts'))
    )
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_accounts_uscc'), ['uscc'], unique=False)

    op.create_table('payout_bank_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_paid', sa.Integer(), nullable=False),
    sa.Column('rows_failed', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('running','done')", name=op.f('ck_payout_bank_imports_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_bank_imports')),
    sa.UniqueConstraint('digest', name=op.f('uq_payout_bank_imports_digest'))
    )
    op.create_table('payout_chain_heads',
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('ledger_seq', sa.BigInteger(), nullable=False),
    sa.Column('ledger_hash', sa.String(length=64), nullable=False),
    sa.Column('events_seq', sa.BigInteger(), nullable=False),
    sa.Column('events_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_payout_chain_heads'))
    )
    op.create_table('payout_events',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('object_type', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_payout_events'))
    )
    op.create_table('payout_ledger',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('committed_after_fen', sa.BigInteger(), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("kind IN ('commit','release','pay','clawback')", name=op.f('ck_payout_ledger_kind_known')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payout_ledger_amount_positive')),
    sa.CheckConstraint('budget_fen IS NULL OR committed_after_fen <= budget_fen', name=op.f('ck_payout_ledger_within_budget')),
    sa.CheckConstraint('committed_after_fen >= 0', name=op.f('ck_payout_ledger_committed_not_negative')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_payout_ledger')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payout_ledger_idempotency_key'))
    )
    with op.batch_alter_table('payout_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_ledger_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_ledger_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_ledger_round_id'), ['round_id'], unique=False)

    op.create_table('payout_budgets',
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=True),
    sa.Column('committed_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('budget_fen IS NULL OR committed_fen <= budget_fen', name=op.f('ck_payout_budgets_within_budget')),
    sa.CheckConstraint('committed_fen >= 0 AND paid_fen >= 0', name=op.f('ck_payout_budgets_not_negative')),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_payout_budgets_policy_id_policies')),
    sa.PrimaryKeyConstraint('policy_id', name=op.f('pk_payout_budgets'))
    )
    op.create_table('payout_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('policy_title', sa.String(length=300), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=24), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('match_snapshot', sa.String(length=64), nullable=True),
    sa.Column('data_snapshot', sa.String(length=64), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('publicity_days', sa.Integer(), nullable=True),
    sa.Column('publicity_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publicity_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("mode IN ('no_application','instant_application')", name=op.f('ck_payout_rounds_mode_known')),
    sa.CheckConstraint("status IN ('review','publicity','confirming','approved','paying','closed')", name=op.f('ck_payout_rounds_status_known')),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> created_by', name=op.f('ck_payout_rounds_four_eyes')),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_payout_rounds_policy_id_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_rounds')),
    sa.UniqueConstraint('policy_id', 'period', name='uq_payout_rounds_policy_period'),
    sa.UniqueConstraint('policy_id', 'match_snapshot', name='uq_payout_rounds_policy_snapshot')
    )
    with op.batch_alter_table('payout_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_rounds_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_rounds_status'), ['status'], unique=False)

    op.create_table('payout_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_fen > 0', name=op.f('ck_payout_batches_total_positive')),
    sa.ForeignKeyConstraint(['round_id'], ['payout_rounds.id'], name=op.f('fk_payout_batches_round_id_payout_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batches'))
    )
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_batches_round_id'), ['round_id'], unique=False)

    op.create_table('payout_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('town', sa.String(length=12), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('computed_fen', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('eligible_on', sa.Date(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('account_confirmed_by', sa.String(length=64), nullable=True),
    sa.Column('account_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('bank_ref', sa.String(length=64), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('proposed','excluded','approved','over_budget','in_batch','paid','failed','cancelled','clawed_back')", name=op.f('ck_payout_items_status_known')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payout_items_amount_positive')),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> created_by', name=op.f('ck_payout_items_four_eyes')),
    sa.CheckConstraint('computed_fen >= 0', name=op.f('ck_payout_items_computed_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['payout_accounts.id'], name=op.f('fk_payout_items_account_id_payout_accounts')),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_payout_items_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['round_id'], ['payout_rounds.id'], name=op.f('fk_payout_items_round_id_payout_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_items')),
    sa.UniqueConstraint('policy_id', 'uscc', 'round_id', name=op.f('uq_payout_items_policy_id'))
    )
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_items_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_items_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_items_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_items_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_items_town'), ['town'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_items_uscc'), ['uscc'], unique=False)

    op.create_table('payout_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('town', sa.String(length=12), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.Column('form', sa.JSON(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued','refused','review','approved','rejected')", name=op.f('ck_payout_applications_status_known')),
    sa.CheckConstraint('amount_fen IS NULL OR amount_fen >= 0', name=op.f('ck_payout_applications_amount_not_negative')),
    sa.CheckConstraint('reviewed_by IS NULL OR reviewed_by <> created_by', name=op.f('ck_payout_applications_four_eyes')),
    sa.ForeignKeyConstraint(['item_id'], ['payout_items.id'], name=op.f('fk_payout_applications_item_id_payout_items')),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_payout_applications_policy_id_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_applications'))
    )
    with op.batch_alter_table('payout_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_applications_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_applications_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_applications_uscc'), ['uscc'], unique=False)

    op.create_table('payout_batch_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('account_name', sa.String(length=200), nullable=False),
    sa.Column('account_no', sa.String(length=40), nullable=False),
    sa.Column('bank_name', sa.String(length=200), nullable=False),
    sa.Column('result', sa.String(length=8), nullable=False),
    sa.Column('import_digest', sa.String(length=64), nullable=True),
    sa.CheckConstraint("result IN ('pending','paid','failed')", name=op.f('ck_payout_batch_lines_result_known')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payout_batch_lines_amount_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_payout_batch_lines_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['item_id'], ['payout_items.id'], name=op.f('fk_payout_batch_lines_item_id_payout_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batch_lines')),
    sa.UniqueConstraint('batch_id', 'item_id', name=op.f('uq_payout_batch_lines_batch_id')),
    sa.UniqueConstraint('ref', name=op.f('uq_payout_batch_lines_ref'))
    )
    with op.batch_alter_table('payout_batch_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_batch_lines_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_batch_lines_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_batch_lines_import_digest'), ['import_digest'], unique=False)

    op.create_table('payout_objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=True),
    sa.Column('lodged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['payout_items.id'], name=op.f('fk_payout_objections_item_id_payout_items')),
    sa.ForeignKeyConstraint(['round_id'], ['payout_rounds.id'], name=op.f('fk_payout_objections_round_id_payout_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_objections'))
    )
    with op.batch_alter_table('payout_objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_objections_round_id'), ['round_id'], unique=False)

    op.create_table('payout_application_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['payout_applications.id'], name=op.f('fk_payout_application_files_application_id_payout_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_application_files'))
    )
    with op.batch_alter_table('payout_application_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_application_files_application_id'), ['application_id'], unique=False)



    op.execute("INSERT INTO payout_chain_heads (name, ledger_seq, ledger_hash, events_seq, events_hash) "
               f"VALUES ('payouts', 0, '{GENESIS}', 0, '{GENESIS}')")
    _append_only(APPEND_ONLY)


def _append_only(tables) -> None:
    """The ledger and the event chain are append-only: the database refuses UPDATE and DELETE."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("""
            CREATE FUNCTION payouts_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql
            """)
    for table in tables:
        if postgres:
            op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION payouts_append_only()")
        else:
            for verb in ("update", "delete"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS payouts_append_only()")
    with op.batch_alter_table('payout_application_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_application_files_application_id'))

    op.drop_table('payout_application_files')
    with op.batch_alter_table('payout_objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_objections_round_id'))

    op.drop_table('payout_objections')
    with op.batch_alter_table('payout_batch_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_batch_lines_item_id'))
        batch_op.drop_index(batch_op.f('ix_payout_batch_lines_import_digest'))
        batch_op.drop_index(batch_op.f('ix_payout_batch_lines_batch_id'))

    op.drop_table('payout_batch_lines')
    with op.batch_alter_table('payout_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_applications_uscc'))
        batch_op.drop_index(batch_op.f('ix_payout_applications_status'))
        batch_op.drop_index(batch_op.f('ix_payout_applications_policy_id'))

    op.drop_table('payout_applications')
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_items_uscc'))
        batch_op.drop_index(batch_op.f('ix_payout_items_town'))
        batch_op.drop_index(batch_op.f('ix_payout_items_status'))
        batch_op.drop_index(batch_op.f('ix_payout_items_round_id'))
        batch_op.drop_index(batch_op.f('ix_payout_items_policy_id'))
        batch_op.drop_index(batch_op.f('ix_payout_items_batch_id'))

    op.drop_table('payout_items')
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_batches_round_id'))

    op.drop_table('payout_batches')
    with op.batch_alter_table('payout_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_rounds_status'))
        batch_op.drop_index(batch_op.f('ix_payout_rounds_policy_id'))

    op.drop_table('payout_rounds')
    op.drop_table('payout_budgets')
    with op.batch_alter_table('payout_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_ledger_round_id'))
        batch_op.drop_index(batch_op.f('ix_payout_ledger_policy_id'))
        batch_op.drop_index(batch_op.f('ix_payout_ledger_item_id'))

    op.drop_table('payout_ledger')
    op.drop_table('payout_events')
    op.drop_table('payout_chain_heads')
    op.drop_table('payout_bank_imports')
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_accounts_uscc'))

    op.drop_table('payout_accounts')
