"""Operational-store tables of the signals domain: the follow-up of each signal at its town desk.

Signals themselves live in immutable analytic snapshots; what staff do about them lives here.
A *case* is created the first time someone acts on a signal (keyed by the signal's stable key);
every change of its status is one row of ``signal_feedback`` — the history from which the
measured precision of each signal is computed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shengxin.db import Base, utcnow

CASE_STATUSES = ("open", "confirmed", "dismissed", "handled")


class SignalCase(Base):
    """The follow-up state of one signal (an episode of one enterprise)."""

    __tablename__ = "signal_cases"
    __table_args__ = (
        CheckConstraint("status IN ('open','confirmed','dismissed','handled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_key: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    signal: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    town_code: Mapped[str | None] = mapped_column(String(9), index=True)
    start_month: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    snapshot_id: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)


class SignalFeedback(Base):
    """One status change of a case, by whom and why (append-only by convention of the service)."""

    __tablename__ = "signal_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("signal_cases.id", ondelete="CASCADE"), nullable=False, index=True)
    from_status: Mapped[str] = mapped_column(String(16), nullable=False)
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    actor_role: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
