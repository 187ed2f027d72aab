"""Audit log API (read-only, district admin and auditor)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.audit.service import list_entries
from shengxin.web.deps import get_db
from shengxin.web.security import access

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str | None
    action: str
    object_type: str
    object_id: str | None
    detail: dict | None
    client: str | None


class AuditPage(BaseModel):
    total: int
    page: int
    entries: list[AuditEntryPublic]


@router.get("", response_model=AuditPage)
def audit(
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    db: Session = Depends(get_db),
    _=Depends(access(Role.ADMIN, Role.AUDITOR)),
) -> AuditPage:
    entries, total = list_entries(db, actor=actor, action=action, object_type=object_type,
                                  page=page, page_size=page_size)
    return AuditPage(total=total, page=page, entries=[AuditEntryPublic(**e.__dict__) for e in entries])
