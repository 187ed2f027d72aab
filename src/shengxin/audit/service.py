"""Writing and reading the audit log. Every feature that changes state calls :func:`record`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shengxin.audit.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who acts: a username (or ``system`` / ``cli:<user>``), its role and client address."""

    name: str
    role: str | None = None
    client: str | None = None


SYSTEM = Actor("system")


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with the change)."""
    entry = AuditEntry(
        actor=actor.name,
        actor_role=actor.role,
        client=actor.client,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditPublic:
    id: int
    at: datetime
    actor: str
    actor_role: str | None
    action: str
    object_type: str
    object_id: str | None
    detail: dict | None
    client: str | None


def list_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[AuditPublic], int]:
    """Newest first, filtered, paged; returns (entries, total)."""
    q = select(AuditEntry)
    if actor:
        q = q.where(AuditEntry.actor == actor)
    if action:
        q = q.where(AuditEntry.action == action)
    if object_type:
        q = q.where(AuditEntry.object_type == object_type)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(
        q.order_by(AuditEntry.id.desc()).offset((max(page, 1) - 1) * page_size).limit(page_size)
    ).all()
    return [
        AuditPublic(r.id, r.at, r.actor, r.actor_role, r.action, r.object_type, r.object_id, r.detail, r.client)
        for r in rows
    ], total
