"""Operational-store tables of the payouts domain (migration ``0007_payouts``).

* ``payout_rounds``        one payment round of one policy (a no-application round, or the standing
                           instant-application round of a policy and month); four-eyes CHECK;
* ``payout_items``         one payee of one round — UNIQUE (policy_id, uscc, round_id), amount > 0;
* ``payout_accounts``      enterprise bank accounts (a change is a new row; the newest is on file);
* ``payout_objections``    objections lodged against a round during its publicity, and the answers;
* ``payout_batches`` / ``payout_batch_lines``  a payment batch and its bank-file lines (unique ref);
* ``payout_bank_imports``  every imported bank result file, UNIQUE by its SHA-256 digest;
* ``payout_applications`` / ``payout_application_files``  instant applications (即申即享), materials;
* ``payout_budgets``       per-policy budget row, locked while committing; CHECK committed ≤ budget;
* ``payout_ledger``        append-only money entries, hash-chained (triggers refuse UPDATE/DELETE);
* ``payout_events``        append-only state changes, hash-chained (second chain, same verify);
* ``payout_chain_heads``   the head of both chains: appends lock this row, so they serialise.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shengxin.db import Base, utcnow

ROUND_STATUSES = ("review", "publicity", "confirming", "approved", "paying", "closed")
ITEM_STATUSES = ("proposed", "excluded", "approved", "over_budget", "in_batch", "paid", "failed", "cancelled",
                 "clawed_back")
APPLICATION_STATUSES = ("queued", "refused", "review", "approved", "rejected")
LEDGER_KINDS = ("commit", "release", "pay", "clawback")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


class PayoutRound(Base):
    __tablename__ = "payout_rounds"
    __table_args__ = (
        CheckConstraint(_in("status", ROUND_STATUSES), name="status_known"),
        CheckConstraint("mode IN ('no_application','instant_application')", name="mode_known"),
        CheckConstraint("approved_by IS NULL OR approved_by <> created_by", name="four_eyes"),
        UniqueConstraint("policy_id", "period", name="uq_payout_rounds_policy_period"),
        UniqueConstraint("policy_id", "match_snapshot", name="uq_payout_rounds_policy_snapshot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"), nullable=False, index=True)
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    policy_title: Mapped[str] = mapped_column(String(300), nullable=False)
    department_code: Mapped[str] = mapped_column(String(32), nullable=False)
    mode: Mapped[str] = mapped_column(String(24), nullable=False)
    #: instant rounds: ``YYYY-MM`` (one standing round per policy and month); no-application: NULL
    period: Mapped[str | None] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    match_snapshot: Mapped[str | None] = mapped_column(String(64))
    data_snapshot: Mapped[str | None] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    publicity_days: Mapped[int | None] = mapped_column(Integer)
    publicity_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    publicity_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PayoutAccount(Base):
    """A bank account of an enterprise. Rows are never changed: a new account is a new row."""

    __tablename__ = "payout_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    account_name: Mapped[str] = mapped_column(String(200), nullable=False)
    account_no: Mapped[str] = mapped_column(String(40), nullable=False)
    bank_name: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # enterprise | import | staff
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class PayoutItem(Base):
    __tablename__ = "payout_items"
    __table_args__ = (
        UniqueConstraint("policy_id", "uscc", "round_id"),
        CheckConstraint(_in("status", ITEM_STATUSES), name="status_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("computed_fen >= 0", name="computed_not_negative"),
        CheckConstraint("approved_by IS NULL OR approved_by <> created_by", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("payout_rounds.id"), nullable=False, index=True)
    policy_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    town: Mapped[str | None] = mapped_column(String(12), index=True)
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    computed_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    eligible_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("payout_accounts.id"))
    account_confirmed_by: Mapped[str | None] = mapped_column(String(64))
    account_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    bank_ref: Mapped[str | None] = mapped_column(String(64))
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    application_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class PayoutObjection(Base):
    __tablename__ = "payout_objections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("payout_rounds.id"), nullable=False, index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("payout_items.id"))
    text: Mapped[str] = mapped_column(Text, nullable=False)
    contact: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    client: Mapped[str | None] = mapped_column(String(64))
    lodged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PayoutBatch(Base):
    __tablename__ = "payout_batches"
    __table_args__ = (CheckConstraint("total_fen > 0", name="total_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("payout_rounds.id"), nullable=False, index=True)
    item_count: Mapped[int] = mapped_column(Integer, nullable=False)
    total_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class PayoutBatchLine(Base):
    __tablename__ = "payout_batch_lines"
    __table_args__ = (
        UniqueConstraint("batch_id", "item_id"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("result IN ('pending','paid','failed')", name="result_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), nullable=False, index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("payout_items.id"), nullable=False, index=True)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    ref: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    account_name: Mapped[str] = mapped_column(String(200), nullable=False)
    account_no: Mapped[str] = mapped_column(String(40), nullable=False)
    bank_name: Mapped[str] = mapped_column(String(200), nullable=False)
    result: Mapped[str] = mapped_column(String(8), nullable=False, default="pending")
    #: the bank result file (SHA-256) that settled this line
    import_digest: Mapped[str | None] = mapped_column(String(64), index=True)


class PayoutBankImport(Base):
    __tablename__ = "payout_bank_imports"
    __table_args__ = (CheckConstraint("status IN ('running','done')", name="status_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_paid: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    errors: Mapped[list | None] = mapped_column(JSON)
    imported_by: Mapped[str] = mapped_column(String(64), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PayoutApplication(Base):
    __tablename__ = "payout_applications"
    __table_args__ = (
        CheckConstraint(_in("status", APPLICATION_STATUSES), name="status_known"),
        CheckConstraint("reviewed_by IS NULL OR reviewed_by <> created_by", name="four_eyes"),
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"), nullable=False, index=True)
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    town: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    answer: Mapped[dict | None] = mapped_column(JSON)
    form: Mapped[dict | None] = mapped_column(JSON)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("payout_items.id"))
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PayoutApplicationFile(Base):
    __tablename__ = "payout_application_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("payout_applications.id"), nullable=False, index=True)
    stored_name: Mapped[str] = mapped_column(String(80), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class PayoutBudget(Base):
    """The lock row of a policy's budget. ``committed_fen``/``paid_fen`` mirror the ledger sums
    (``verify`` checks that they agree); the CHECK makes over-commitment impossible."""

    __tablename__ = "payout_budgets"
    __table_args__ = (
        CheckConstraint("committed_fen >= 0 AND paid_fen >= 0", name="not_negative"),
        CheckConstraint("budget_fen IS NULL OR committed_fen <= budget_fen", name="within_budget"),
    )

    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"), primary_key=True)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    committed_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class PayoutLedgerEntry(Base):
    """One money movement. Rows are only inserted (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "payout_ledger"
    __table_args__ = (
        CheckConstraint(_in("kind", LEDGER_KINDS), name="kind_known"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("committed_after_fen >= 0", name="committed_not_negative"),
        CheckConstraint("budget_fen IS NULL OR committed_after_fen <= budget_fen", name="within_budget"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    policy_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    round_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    committed_after_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class PayoutEvent(Base):
    """One state change of a round, item, application, objection or account (append-only)."""

    __tablename__ = "payout_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    object_type: Mapped[str] = mapped_column(String(16), nullable=False)
    object_id: Mapped[str] = mapped_column(String(32), nullable=False)
    action: Mapped[str] = mapped_column(String(24), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class PayoutChainHead(Base):
    """The newest link of each chain; writers lock this single row, so appends serialise."""

    __tablename__ = "payout_chain_heads"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    ledger_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    ledger_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    events_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    events_hash: Mapped[str] = mapped_column(String(64), nullable=False)
