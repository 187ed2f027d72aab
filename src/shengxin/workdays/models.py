"""Operational-store table of the working-day calendar: loaded override files, versioned.

Rule: rows are only added. Loading a year again adds a new version; the highest version of a year
is the one in force, so every earlier schedule stays on record with who loaded it and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shengxin.db import Base, utcnow


class WorkdayOverride(Base):
    __tablename__ = "workday_overrides"
    __table_args__ = (UniqueConstraint("year", "version", name="year_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    source: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[dict] = mapped_column(JSON, nullable=False)
    loaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
