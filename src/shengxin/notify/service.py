"""Writing notifications to the outbox and delivering them.

Rules:
* :func:`enqueue` writes in the caller's transaction; the same ``dedupe_key`` is written once;
* recipients come from the unit's addresses (``notify_unit_emails_file``) and, for the district
  desk, ``notify_district_emails``; a notification without an address is still kept (shown in the
  staff dashboard) and marked skipped on delivery;
* :func:`deliver_pending` sends pending rows and records sent / failed (with the error, retried
  next time up to :data:`MAX_ATTEMPTS`) / skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.config import Settings
from shengxin.errors import InvalidInput
from shengxin.notify.models import Notification
from shengxin.notify.senders import DeliveryError, Email

MAX_ATTEMPTS = 5
DISTRICT_UNIT = "district"


@lru_cache
def _unit_file(path: Path | None, mtime: float) -> dict[str, tuple[str, ...]]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"cannot read unit e-mail file: {exc}", where=str(path)) from None
    if not isinstance(data, dict):
        raise InvalidInput("expected a mapping of unit code to a list of addresses", where=str(path))
    out = {}
    for unit, addresses in data.items():
        if isinstance(addresses, str):
            addresses = [addresses]
        out[str(unit)] = tuple(str(a).strip() for a in addresses or [] if str(a).strip())
    return out


def unit_recipients(settings: Settings, unit_code: str | None) -> tuple[str, ...]:
    """E-mail addresses of a unit (the district desk's come from ``notify_district_emails`` too)."""
    path = settings.notify_unit_emails_file
    mtime = path.stat().st_mtime if path is not None and path.exists() else 0.0
    addresses = list(_unit_file(path, mtime).get(unit_code or "", ()))
    if unit_code == DISTRICT_UNIT:
        addresses += [a.strip() for a in settings.notify_district_emails.split(",") if a.strip()]
    return tuple(dict.fromkeys(addresses))


def enqueue(session: Session, settings: Settings, *, kind: str, unit_code: str | None, subject: str,
            body: str, dedupe_key: str, object_type: str | None = None,
            object_id: str | None = None) -> Notification | None:
    """Write one notification unless one with the same ``dedupe_key`` exists (then ``None``)."""
    if session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)) is not None:
        return None
    row = Notification(kind=kind, unit_code=unit_code, subject=subject[:300], body=body,
                       recipients=", ".join(unit_recipients(settings, unit_code)),
                       object_type=object_type, object_id=object_id, dedupe_key=dedupe_key[:200])
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    skipped: int

    def as_dict(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "skipped": self.skipped}


def deliver_pending(session: Session, sender, limit: int = 200,
                    now: datetime | None = None) -> DeliveryReport:
    """Deliver pending notifications (oldest first) and record each outcome on its row."""
    now = now or datetime.now(timezone.utc)
    rows = session.scalars(select(Notification).where(Notification.status.in_(("pending", "failed")),
                                                      Notification.attempts < MAX_ATTEMPTS)
                           .order_by(Notification.id).limit(limit)).all()
    sent = failed = skipped = 0
    for row in rows:
        recipients = tuple(a.strip() for a in row.recipients.split(",") if a.strip())
        if not recipients or not getattr(sender, "delivers", True):
            row.status = "skipped"
            row.last_error = "no e-mail address for this unit" if not recipients else "e-mail delivery is off"
            skipped += 1
            continue
        row.attempts += 1
        try:
            sender.send(Email(recipients, row.subject, row.body))
        except DeliveryError as exc:
            row.status = "failed"
            row.last_error = str(exc)[:2000]
            failed += 1
            continue
        row.status = "sent"
        row.sent_at = now
        row.last_error = None
        sent += 1
    session.flush()
    return DeliveryReport(sent, failed, skipped)


def recent_for_units(session: Session, units: set[str] | None, limit: int = 20) -> list[Notification]:
    """Newest notifications for these units (``None``: all units)."""
    q = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if units is not None:
        q = q.where(Notification.unit_code.in_(units))
    return list(session.scalars(q))
