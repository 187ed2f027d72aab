"""Operational-store tables of the appeals domain (migration ``0002_appeals``).

* ``appeals``            one row per appeal: who, what, where it stands, its current clock;
* ``appeal_events``      every transition (who, when, from, to, reason) — append-only;
* ``appeal_units``       lead and co-handler units per appeal;
* ``appeal_clocks``      one working-day clock per stage and unit: limit, due, warning, use —
                         the time is charged to the unit that held the appeal;
* ``appeal_pauses``      intervals when the clock stopped (waiting for the enterprise);
* ``appeal_bounces``     a unit's bounce with its reason and the district's arbitration;
* ``appeal_attachments`` files stored under the data directory with generated names;
* ``appeal_qr_codes``    the enterprise's appeal code (诉求码): its binding and generation;
* ``open311_api_keys``   API keys of systems that push appeals (hashed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shengxin.db import Base, utcnow

STATUSES = ("submitted", "accepted", "rejected", "assigned", "signed", "in_progress", "paused",
            "replied", "return_visit", "reopened", "bounced", "closed")
_STATUS_SQL = ",".join(f"'{s}'" for s in STATUSES)


class Appeal(Base):
    __tablename__ = "appeals"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="status_known"),
        CheckConstraint("layer IS NULL OR layer IN ('simple','complex','hard')", name="layer_known"),
        CheckConstraint("tier IS NULL OR tier IN ('district','department','town')", name="tier_known"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('solved','explained','not_in_remit','merged','rejected')",
            name="outcome_known"),
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction IN ('satisfied','basically_satisfied','unsatisfied')",
            name="satisfaction_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(24), unique=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200), nullable=False)
    town_code: Mapped[str | None] = mapped_column(String(9), index=True)
    contact_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)

    category_code: Mapped[str | None] = mapped_column(String(32), index=True)
    subcategory_code: Mapped[str | None] = mapped_column(String(64))
    suggested_subcategory: Mapped[str | None] = mapped_column(String(64))
    suggested_unit: Mapped[str | None] = mapped_column(String(32))
    suggestion_confidence: Mapped[float | None] = mapped_column(Float)
    suggestion: Mapped[dict | None] = mapped_column(JSON)

    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    layer: Mapped[str | None] = mapped_column(String(8))
    tier: Mapped[str | None] = mapped_column(String(12))
    lead_unit: Mapped[str | None] = mapped_column(String(32), index=True)
    first_receiver: Mapped[str | None] = mapped_column(String(32))
    first_receiver_user: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    reply_text: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    solved: Mapped[bool | None] = mapped_column(Boolean)
    visit_note: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    bounce_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    submitted_by: Mapped[str] = mapped_column(String(64), nullable=False)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("open311_api_keys.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    working_days_to_close: Mapped[int | None] = mapped_column(Integer)

    # The current stage's clock, denormalised for the queue, the dashboard and the sweep.
    stage: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deadline_state: Mapped[str] = mapped_column(String(8), nullable=False, default="none")
    paused_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AppealEvent(Base):
    __tablename__ = "appeal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict | None] = mapped_column(JSON)


class AppealUnit(Base):
    __tablename__ = "appeal_units"
    __table_args__ = (
        CheckConstraint("role IN ('lead','co')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), nullable=False, index=True)
    unit_code: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(8), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class AppealClock(Base):
    __tablename__ = "appeal_clocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), nullable=False, index=True)
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    unit_code: Mapped[str | None] = mapped_column(String(32), index=True)
    limit_days: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(16))
    used_days: Mapped[int | None] = mapped_column(Integer)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AppealPause(Base):
    __tablename__ = "appeal_pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), nullable=False, index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, nullable=False)


class AppealBounce(Base):
    __tablename__ = "appeal_bounces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), nullable=False, index=True)
    unit_code: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    bounced_by: Mapped[str] = mapped_column(String(64), nullable=False)
    bounced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    new_unit: Mapped[str | None] = mapped_column(String(32))
    decision_note: Mapped[str | None] = mapped_column(Text)


class AppealAttachment(Base):
    __tablename__ = "appeal_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), nullable=False, index=True)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class AppealQrCode(Base):
    """The enterprise's appeal code: a printed QR code whose URL carries a signed token binding it.

    Reissuing raises ``generation``: tokens of earlier generations stop working (a lost or leaked
    poster is revoked by printing a new one)."""

    __tablename__ = "appeal_qr_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, unique=True)
    enterprise_name: Mapped[str] = mapped_column(String(200), nullable=False)
    town_code: Mapped[str | None] = mapped_column(String(9), index=True)
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    issued_by: Mapped[str] = mapped_column(String(64), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Open311ApiKey(Base):
    """An API key of a system that pushes appeals (hotline, other platforms). Only its SHA-256 is
    kept; the key itself is shown once when created."""

    __tablename__ = "open311_api_keys"
    __table_args__ = (UniqueConstraint("key_hash", name="key_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
