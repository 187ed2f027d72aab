"""Operational-store table of uploaded tag catalogue changes (every one kept, never deleted).

Rule: a change moves ``invalid`` (validation failed; final) or ``validated`` → ``previewed`` →
``active``; ``validated``/``previewed`` may also be ``withdrawn``. Only an ``active`` change takes
part in the catalogue, in activation order; the shipped catalogue is version 0.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shengxin.db import Base, utcnow

STATUSES = ("invalid", "validated", "previewed", "active", "withdrawn")


class TagCatalogueVersion(Base):
    __tablename__ = "tag_catalogue_versions"
    __table_args__ = (
        CheckConstraint("status IN ('invalid','validated','previewed','active','withdrawn')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    tag_ids: Mapped[list | None] = mapped_column(JSON)
    errors: Mapped[list | None] = mapped_column(JSON)
    preview: Mapped[dict | None] = mapped_column(JSON)
    #: fingerprint of the catalogue the change was validated/previewed against
    base_fingerprint: Mapped[str | None] = mapped_column(String(64))
    #: fingerprint of the catalogue once this change is active
    result_fingerprint: Mapped[str | None] = mapped_column(String(64))
    #: catalogue version number given on activation (1, 2, …; the shipped catalogue is 0)
    catalogue_version: Mapped[int | None] = mapped_column(Integer, unique=True)
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    previewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    activated_by: Mapped[str | None] = mapped_column(String(64))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
