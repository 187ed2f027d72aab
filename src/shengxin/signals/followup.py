"""Follow-up of signals at the town desks, and each signal's precision measured from it.

Rules:

* a signal goes to the desk of its enterprise's town (``town_code``); an enterprise registered
  outside the district goes to the district desk (no town). Town staff see and act on their own
  desk only; department staff and district admins on every desk; auditors read everything and
  change nothing;
* staff mark a signal ``confirmed`` (the problem is real), ``dismissed`` (with a reason from
  :data:`DISMISS_REASONS`; ``other`` needs a note) or ``handled`` (the enterprise was served). The
  allowed moves are :data:`TRANSITIONS`; ``handled`` is final;
* every change is one ``signal_feedback`` row and one audit-log entry, in the same transaction;
* the measured precision of a signal = (confirmed + handled) / (confirmed + handled + dismissed)
  over its cases, by the month of their latest decision.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import DISTRICT_WIDE_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.audit.service import record
from shengxin.db import utcnow
from shengxin.errors import Conflict, Forbidden, InvalidInput
from shengxin.signals.models import SignalCase, SignalFeedback

STATUS_LABELS = {"open": "待核实", "confirmed": "已确认", "dismissed": "已排除", "handled": "已处置"}
#: status -> statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"confirmed", "dismissed", "handled"}),
    "confirmed": frozenset({"handled", "dismissed"}),
    "dismissed": frozenset({"confirmed"}),
    "handled": frozenset(),
}
DISMISS_REASONS = {
    "data_error": "数据有误或漏报",
    "normal_fluctuation": "季节性或经营周期内的正常波动",
    "known_change": "已知的正常经营调整（转型、并购、搬迁至区内等）",
    "duplicate": "与其他信号重复",
    "other": "其他（请在备注中说明）",
}
#: Roles that may act on signals (the auditor only reads).
ACTOR_ROLES = frozenset({Role.TOWN, Role.DEPARTMENT, Role.ADMIN})
MAX_NOTE = 2000


@dataclass(frozen=True)
class CasePublic:
    signal_key: str
    signal: str
    uscc: str
    town_code: str | None
    status: str
    reason: str | None
    note: str | None
    updated_at: dt.datetime
    updated_by: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def as_dict(self) -> dict:
        return {"signal_key": self.signal_key, "signal": self.signal, "uscc": self.uscc, "town_code": self.town_code,
                "status": self.status, "status_label": self.status_label, "reason": self.reason,
                "reason_label": DISMISS_REASONS.get(self.reason) if self.reason else None, "note": self.note,
                "updated_at": self.updated_at.isoformat(), "updated_by": self.updated_by}


@dataclass(frozen=True)
class FeedbackPublic:
    from_status: str
    to_status: str
    reason: str | None
    note: str | None
    actor: str
    actor_role: str | None
    at: dt.datetime

    def as_dict(self) -> dict:
        return {"from_status": self.from_status, "to_status": self.to_status,
                "to_label": STATUS_LABELS[self.to_status], "reason": self.reason,
                "reason_label": DISMISS_REASONS.get(self.reason) if self.reason else None,
                "note": self.note, "actor": self.actor, "actor_role": self.actor_role, "at": self.at.isoformat()}


def _public(c: SignalCase) -> CasePublic:
    return CasePublic(c.signal_key, c.signal, c.uscc, c.town_code, c.status, c.reason, c.note, c.updated_at,
                      c.updated_by)


def desk_of(town_code: str | None) -> str | None:
    """The desk a signal goes to: its town, or ``None`` for the district desk."""
    return town_code or None


def may_see(principal: Principal, town_code: str | None) -> bool:
    """District-wide roles see every desk; town staff their own town's desk only."""
    if principal.role in DISTRICT_WIDE_ROLES:
        return True
    return principal.role is Role.TOWN and town_code is not None and town_code == principal.town_code


def visible_town(principal: Principal) -> str | None:
    """The desk filter for a principal's lists: its town for town staff, ``None`` (all) otherwise."""
    if principal.role is Role.TOWN:
        return principal.town_code
    if principal.role in DISTRICT_WIDE_ROLES:
        return None
    raise Forbidden("只有政府工作人员可以查看预警信号")


def check_visible(principal: Principal, signal: dict) -> None:
    if not may_see(principal, desk_of(signal.get("town_code"))):
        raise Forbidden("该信号属于其他镇街，您只能查看本镇街的信号")


def cases_for(session: Session, keys: list[str]) -> dict[str, CasePublic]:
    """The cases of the given signal keys (those without a case are still ``open``)."""
    if not keys:
        return {}
    out: dict[str, CasePublic] = {}
    for chunk in range(0, len(keys), 500):
        rows = session.scalars(select(SignalCase).where(SignalCase.signal_key.in_(keys[chunk:chunk + 500]))).all()
        out.update({r.signal_key: _public(r) for r in rows})
    return out


def history(session: Session, key: str) -> list[FeedbackPublic]:
    case = session.scalar(select(SignalCase).where(SignalCase.signal_key == key))
    if case is None:
        return []
    rows = session.scalars(select(SignalFeedback).where(SignalFeedback.case_id == case.id)
                           .order_by(SignalFeedback.id)).all()
    return [FeedbackPublic(r.from_status, r.to_status, r.reason, r.note, r.actor, r.actor_role, r.at) for r in rows]


def give_feedback(session: Session, principal: Principal, signal: dict, snapshot_id: str, status: str,
                  reason: str | None = None, note: str | None = None) -> CasePublic:
    """Move a signal's case to ``status`` (creating the case on first action); audited."""
    if principal.role not in ACTOR_ROLES:
        raise Forbidden("您的账号只能查看信号，不能处理信号")
    check_visible(principal, signal)
    if status not in TRANSITIONS or status == "open":
        raise InvalidInput(f"处理结果必须是 {', '.join(s for s in STATUS_LABELS if s != 'open')} 之一", where="status")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"备注不能超过 {MAX_NOTE} 个字符", where="note")
    reason = (reason or "").strip() or None
    if status == "dismissed":
        if reason not in DISMISS_REASONS:
            known = "、".join(f"{k}（{v}）" for k, v in DISMISS_REASONS.items())
            raise InvalidInput(f"排除信号需要选择原因：{known}", where="reason")
        if reason == "other" and not note:
            raise InvalidInput("原因为“其他”时请在备注中说明", where="note")
    elif reason is not None:
        raise InvalidInput("只有排除信号时才需要选择原因", where="reason")
    key = signal["signal_key"]
    case = session.scalar(select(SignalCase).where(SignalCase.signal_key == key).with_for_update())
    if case is None:
        start = signal["start_month"]
        case = SignalCase(
            signal_key=key, signal=signal["signal"], kind=signal["kind"], uscc=signal["uscc"],
            town_code=desk_of(signal.get("town_code")),
            start_month=start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start)),
            status="open", snapshot_id=snapshot_id, updated_by=principal.username,
        )
        session.add(case)
        session.flush()
    if status not in TRANSITIONS[case.status]:
        raise Conflict(f"信号当前状态为“{STATUS_LABELS[case.status]}”，不能改为“{STATUS_LABELS[status]}”",
                       where="status")
    previous = case.status
    case.status = status
    case.reason = reason
    case.note = note
    case.updated_at = utcnow()
    case.updated_by = principal.username
    session.add(SignalFeedback(case_id=case.id, from_status=previous, to_status=status, reason=reason, note=note,
                               actor=principal.username, actor_role=principal.role.value))
    session.flush()
    record(session, principal.actor, f"signal.{status}", "signal", key,
           {"signal": case.signal, "uscc": case.uscc, "town_code": case.town_code, "from": previous,
            "reason": reason, "note": note, "snapshot_id": snapshot_id})
    return _public(case)


def measured_precision(session: Session, town_code: str | None = None) -> dict[str, dict]:
    """Per signal: decided cases, positives (confirmed + handled), dismissed, precision — overall
    and by month of the latest decision. ``town_code`` restricts to one desk."""
    query = select(SignalCase.signal, SignalCase.status, SignalCase.updated_at).where(SignalCase.status != "open")
    if town_code is not None:
        query = query.where(SignalCase.town_code == town_code)
    totals: dict[str, dict] = {}
    monthly: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for signal, status, at in session.execute(query).all():
        entry = totals.setdefault(signal, {"decided": 0, "confirmed": 0, "handled": 0, "dismissed": 0})
        entry["decided"] += 1
        entry[status] += 1
        month = at.strftime("%Y-%m")
        monthly[signal][month][0] += 1
        monthly[signal][month][1] += status in ("confirmed", "handled")
    out = {}
    for signal, entry in sorted(totals.items()):
        positives = entry["confirmed"] + entry["handled"]
        out[signal] = {
            **entry, "positives": positives,
            "precision": round(positives / entry["decided"], 4) if entry["decided"] else None,
            "by_month": [{"month": m, "decided": d, "positives": p, "precision": round(p / d, 4)}
                         for m, (d, p) in sorted(monthly[signal].items())],
        }
    return out


def status_counts(session: Session, town_code: str | None = None) -> dict[str, int]:
    """How many cases are in each status (signals without a case are open and not counted here)."""
    query = select(SignalCase.status)
    if town_code is not None:
        query = query.where(SignalCase.town_code == town_code)
    counts = {s: 0 for s in STATUS_LABELS}
    for (status,) in session.execute(query).all():
        counts[status] += 1
    return counts
