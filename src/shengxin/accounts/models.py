"""Operational-store tables of the accounts domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shengxin.db import Base, utcnow


class User(Base):
    """A person who logs in. Scope columns say which enterprise / town / department it is bound to."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('enterprise','town_staff','department_staff','district_admin','auditor')",
            name="role_known",
        ),
        CheckConstraint("role <> 'enterprise' OR uscc IS NOT NULL", name="enterprise_has_uscc"),
        CheckConstraint("role <> 'town_staff' OR town_code IS NOT NULL", name="town_staff_has_town"),
        CheckConstraint(
            "role <> 'department_staff' OR department_code IS NOT NULL",
            name="department_staff_has_department",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(128), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    town_code: Mapped[str | None] = mapped_column(String(9))
    department_code: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class LoginAttempt(Base):
    """One login attempt; failures within a window limit further attempts (rate limiting)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    client: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
