"""Operational-store tables of the policies domain (migration ``0006_policies``).

* ``policies``                  one row per policy: its workflow status, latest and published version;
* ``policy_versions``           every saved text (YAML) of a policy — a change is always a new row;
* ``policy_events``             every workflow transition (who, when, from, to, version, reason);
* ``policy_pushes``             one notice per (enterprise, policy, version) — unique, so never twice;
* ``policy_push_deliveries``    the outbox: one row per push and channel (inbox, email, webhook)
                                with attempts, the next attempt time (backoff) and the last error;
* ``policy_push_subscriptions`` an enterprise's e-mail / webhook addresses and unsubscription.
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

POLICY_STATUSES = ("draft", "in_review", "published", "suspended", "expired")
_STATUS_SQL = ",".join(f"'{s}'" for s in POLICY_STATUSES)
CHANNELS = ("inbox", "email", "webhook")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "dead", "skipped")


class Policy(Base):
    __tablename__ = "policies"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="status_known"),
        CheckConstraint("level IN ('national','provincial','city','district')", name="level_known"),
        CheckConstraint("delivery IN ('no_application','instant_application','ordinary')", name="delivery_known"),
        CheckConstraint("published_version IS NULL OR published_version <= current_version", name="published_is_saved"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    delivery: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    department_code: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    valid_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    current_version: Mapped[int] = mapped_column(Integer, nullable=False)
    published_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    tests_passed: Mapped[bool | None] = mapped_column(Boolean)
    test_report: Mapped[dict | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class PolicyEvent(Base):
    __tablename__ = "policy_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class PolicyPush(Base):
    """One notice to one enterprise about one version of one policy (the unique key is the rule
    "once per enterprise and policy version")."""

    __tablename__ = "policy_pushes"
    __table_args__ = (
        UniqueConstraint("uscc", "policy_id", "version"),
        CheckConstraint("status IN ('eligible','near_miss','missing_data')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    match_run: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PolicyPushDelivery(Base):
    __tablename__ = "policy_push_deliveries"
    __table_args__ = (
        UniqueConstraint("push_id", "channel"),
        CheckConstraint("channel IN ('inbox','email','webhook')", name="channel_known"),
        CheckConstraint("status IN ('pending','sending','sent','failed','dead','skipped')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("policy_pushes.id"), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    target: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PolicyPushSubscription(Base):
    __tablename__ = "policy_push_subscriptions"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    webhook_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    webhook_secret: Mapped[str] = mapped_column(String(64), nullable=False)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
