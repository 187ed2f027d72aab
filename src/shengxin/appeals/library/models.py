"""Operational-store table of the problem library (migration ``0003_problem_library``).

A library entry is a class of cases that staff promoted from a group of similar appeals: it keeps
a snapshot of the group (appeal ids, counts per town and month, keywords, first and last date), an
owner unit that answers for the root cause, the root cause itself, the resolution, and an answer
written for enterprises that handlers can reuse when the same problem comes in again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shengxin.db import Base, utcnow

ENTRY_STATUSES = ("open", "resolved", "archived")


class ProblemLibraryEntry(Base):
    __tablename__ = "problem_library_entries"
    __table_args__ = (
        CheckConstraint("status IN ('open','resolved','archived')", name="status_known"),
        CheckConstraint("case_count >= 0", name="case_count_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    category_code: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open", index=True)
    owner_unit: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    owner_user: Mapped[str | None] = mapped_column(String(64))
    root_cause: Mapped[str] = mapped_column(Text, nullable=False)
    resolution: Mapped[str] = mapped_column(Text, nullable=False, default="")
    public_answer: Mapped[str] = mapped_column(Text, nullable=False, default="")
    keywords: Mapped[list] = mapped_column(JSON, nullable=False)
    appeal_ids: Mapped[list] = mapped_column(JSON, nullable=False)
    case_count: Mapped[int] = mapped_column(Integer, nullable=False)
    towns: Mapped[list] = mapped_column(JSON, nullable=False)
    months: Mapped[dict] = mapped_column(JSON, nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reuse_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
