"""Signals API: the current snapshot's signals (scoped to the caller's desk), one signal with its
evidence, feedback from the town desks, the catalogue and the measured precision.

Scope rule: town staff see and act on their own town's desk; department staff and district admins
on every desk (including the district desk of enterprises registered outside the district);
auditors read everything and change nothing; enterprise users have no access.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shengxin.accounts.roles import STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.errors import Forbidden, InvalidInput
from shengxin.signals import followup, queries, service
from shengxin.signals.catalogue import load_catalogue
from shengxin.web.deps import get_db
from shengxin.web.security import access

router = APIRouter(prefix="/api/signals", tags=["signals"])
ACTORS = (Role.TOWN, Role.DEPARTMENT, Role.ADMIN)


class FeedbackIn(BaseModel):
    status: Literal["confirmed", "dismissed", "handled"]
    reason: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=followup.MAX_NOTE)


def desk_filter(principal: Principal, town: str | None) -> str | None:
    """The desk a list is restricted to. Town staff always get their own town; ``district`` asks for
    the district desk (enterprises registered outside the district)."""
    own = followup.visible_town(principal)
    if own is not None:
        if town and town != own:
            raise Forbidden("镇街工作人员只能查看本镇街的信号")
        return own
    if town == "district":
        return ""
    return town or None


STATES = ("active", "recent", "all")


def signal_filter(principal: Principal, snapshot, *, signal: str | None, kind: str | None, severity: str | None,
                  town: str | None, state: str, new: bool | None, uscc: str | None) -> queries.SignalFilter:
    """The list filter: ``state`` is ``active`` (still holding at the as-of month), ``recent`` (first
    confirmed in the last 12 months) or ``all`` (every episode of the window)."""
    if state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}", where="state")
    desk = desk_filter(principal, town)
    recent = queries.months_before(snapshot.as_of, 11) if state == "recent" else None
    return queries.SignalFilter(signal=signal or None, kind=kind or None, severity=severity or None, town=desk,
                                active=True if state == "active" else None, new=new, uscc=uscc or None,
                                detected_from=recent).validate(load_catalogue().ids())


def with_cases(db: Session, rows: list[dict]) -> list[dict]:
    cases = followup.cases_for(db, [r["signal_key"] for r in rows])
    for r in rows:
        case = cases.get(r["signal_key"])
        r["status"] = case.status if case else "open"
        r["status_label"] = followup.STATUS_LABELS[r["status"]]
    return rows


@router.get("")
def list_signals(request: Request, signal: str | None = None, kind: str | None = None, severity: str | None = None,
                 town: str | None = None, state: str = "active", new: bool | None = None,
                 uscc: str | None = None, order: str = "severity",
                 page: int = Query(1, ge=1), page_size: int = Query(50, ge=1, le=queries.MAX_PAGE_SIZE),
                 db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    """Signals of the current snapshot that the caller's desk may see, most severe first."""
    snapshot = service.require_snapshot(request.app.state.settings)
    filt = signal_filter(principal, snapshot, signal=signal, kind=kind, severity=severity, town=town, state=state,
                         new=new, uscc=uscc)
    rows, total = queries.list_signals(snapshot, filt, limit=page_size, offset=(page - 1) * page_size, order=order)
    return {"snapshot_id": snapshot.id, "as_of": snapshot.as_of, "total": total, "page": page,
            "page_size": page_size, "signals": with_cases(db, rows)}


@router.get("/definitions")
def definitions(_: Principal = Depends(access(STAFF_ROLES))):
    """The signal catalogue: what each signal means, its parameters and the evidence it shows."""
    catalogue = load_catalogue()
    return {"fingerprint": catalogue.fingerprint, "definitions": [d.canonical() for d in catalogue],
            "dismiss_reasons": followup.DISMISS_REASONS, "statuses": followup.STATUS_LABELS}


@router.get("/precision")
def precision(db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    """Each signal's precision measured from the desks' feedback (the caller's desk for town staff)."""
    return {"signals": followup.measured_precision(db, followup.visible_town(principal))}


def visible_signal(request: Request, principal: Principal, key: str) -> tuple[dict, str]:
    snapshot = service.require_snapshot(request.app.state.settings)
    row = queries.get_signal(snapshot, key)
    followup.check_visible(principal, row)
    return row, snapshot.id


@router.get("/{key}")
def one(key: str, request: Request, db: Session = Depends(get_db),
        principal: Principal = Depends(access(STAFF_ROLES))):
    """One signal with its evidence series, follow-up status and history."""
    row, snapshot_id = visible_signal(request, principal, key)
    case = followup.cases_for(db, [key]).get(key)
    row["snapshot_id"] = snapshot_id
    row["case"] = case.as_dict() if case else None
    row["status"] = case.status if case else "open"
    row["history"] = [e.as_dict() for e in followup.history(db, key)]
    return row


@router.post("/{key}/feedback")
def feedback(key: str, body: FeedbackIn, request: Request, db: Session = Depends(get_db),
             principal: Principal = Depends(access(*ACTORS))):
    """Mark a signal confirmed, dismissed (with a reason) or handled; audited."""
    row, snapshot_id = visible_signal(request, principal, key)
    case = followup.give_feedback(db, principal, row, snapshot_id, body.status, body.reason, body.note)
    db.commit()
    return case.as_dict()
