"""Working-day clocks of an appeal: one per stage and unit, with due and warning instants.

Rules:
* each stage (accept, sign, handle, return_visit, arbitrate) starts a clock whose limit comes from
  ``categories.yaml`` for the appeal's subcategory (and layer, for handling);
* due = :meth:`WorkCalendar.add_working_days` (the arrival day does not count; a pause stops the
  clock), warning = the instant when 80% of the counted working time has passed;
* a clock that ends records the working days it used and whether it ended on time; the days are
  charged to the unit that held the appeal;
* a clock computed on a year no calendar covers is provisional and is recomputed when an override
  for that year is loaded (:func:`recompute_provisional`) and at every sweep.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.appeals.categories import Taxonomy
from shengxin.appeals.models import Appeal, AppealClock, AppealPause
from shengxin.audit.service import Actor, record
from shengxin.workdays.calendar import Pause, WorkCalendar

WARN_FRACTION = 0.8


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive UTC datetimes; make every stored instant timezone-aware."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def pauses_since(session: Session, appeal_id: int, since: datetime) -> list[Pause]:
    rows = session.scalars(select(AppealPause).where(AppealPause.appeal_id == appeal_id)
                           .order_by(AppealPause.started_at)).all()
    since = aware(since)
    return [Pause(aware(p.started_at), aware(p.ended_at)) for p in rows
            if p.ended_at is None or aware(p.ended_at) >= since]


def open_clock(session: Session, appeal: Appeal) -> AppealClock | None:
    return session.scalar(select(AppealClock).where(AppealClock.appeal_id == appeal.id,
                                                    AppealClock.ended_at.is_(None))
                          .order_by(AppealClock.id.desc()))


def _apply(appeal: Appeal, clock: AppealClock | None, now: datetime) -> None:
    """Copy the clock's due/warning onto the appeal and set its deadline state."""
    if clock is None:
        appeal.stage = None
        appeal.due_at = appeal.warn_at = None
        appeal.due_provisional = False
        appeal.deadline_state = "none"
        return
    appeal.stage = clock.stage
    appeal.due_at, appeal.warn_at, appeal.due_provisional = clock.due_at, clock.warn_at, clock.provisional
    appeal.deadline_state = state_at(clock, now)


def state_at(clock: AppealClock, now: datetime) -> str:
    """``paused`` (no due while stopped), ``overdue`` past due, ``warning`` past 80%, else ``ok``."""
    due, warn = aware(clock.due_at), aware(clock.warn_at)
    if due is None:
        return "paused"
    if now > due:
        return "overdue"
    if warn is not None and now >= warn:
        return "warning"
    return "ok"


def compute(clock: AppealClock, pauses: list[Pause], cal: WorkCalendar) -> None:
    """(Re)compute a clock's due, warning and provisional flag from the calendar in force."""
    start = aware(clock.started_at)
    due = cal.add_working_days(start, clock.limit_days, pauses)
    if due is None:  # an open pause: the clock is stopped
        clock.due_at = clock.warn_at = None
        return
    clock.due_at = due.due.astimezone(timezone.utc)
    warn = cal.instant_at_fraction(start, clock.limit_days, WARN_FRACTION, pauses)
    clock.warn_at = warn.astimezone(timezone.utc) if warn else None
    clock.provisional = due.provisional


def start_clock(session: Session, appeal: Appeal, stage: str, unit: str | None, now: datetime,
                cal: WorkCalendar, taxonomy: Taxonomy) -> AppealClock:
    limit = taxonomy.limit(appeal.subcategory_code, stage, appeal.layer)
    clock = AppealClock(appeal_id=appeal.id, stage=stage, unit_code=unit, limit_days=limit, started_at=now)
    compute(clock, [], cal)
    session.add(clock)
    session.flush()
    _apply(appeal, clock, now)
    return clock


def end_clock(session: Session, appeal: Appeal, now: datetime, reason: str, cal: WorkCalendar,
              charge_to: str | None = None) -> AppealClock | None:
    """Stop the open clock: record the working days used (pauses excluded) and on-time."""
    clock = open_clock(session, appeal)
    if clock is not None:
        pauses = pauses_since(session, appeal.id, clock.started_at)
        clock.ended_at = now
        clock.end_reason = reason
        if charge_to is not None and clock.unit_code is None:
            clock.unit_code = charge_to
        clock.used_days = cal.working_days_between(aware(clock.started_at), now, pauses)
        due = aware(clock.due_at)
        clock.on_time = due is None or now <= due
        session.flush()
    _apply(appeal, None, now)
    return clock


def refresh(session: Session, appeal: Appeal, now: datetime, cal: WorkCalendar) -> AppealClock | None:
    """Recompute the open clock (after a pause, a resume or a calendar change)."""
    clock = open_clock(session, appeal)
    if clock is not None:
        compute(clock, pauses_since(session, appeal.id, clock.started_at), cal)
        session.flush()
    _apply(appeal, clock, now)
    return clock


def recompute_provisional(session: Session, cal: WorkCalendar, actor: Actor,
                          now: datetime | None = None) -> int:
    """Recompute every open provisional clock with the calendar in force; returns how many changed
    (audited as one entry)."""
    now = now or datetime.now(timezone.utc)
    clocks = session.scalars(select(AppealClock).where(AppealClock.ended_at.is_(None),
                                                       AppealClock.provisional.is_(True))).all()
    changed = []
    for clock in clocks:
        before = (aware(clock.due_at), clock.provisional)
        compute(clock, pauses_since(session, clock.appeal_id, clock.started_at), cal)
        appeal = session.get(Appeal, clock.appeal_id)
        _apply(appeal, clock, now)
        if (aware(clock.due_at), clock.provisional) != before:
            changed.append({"appeal_id": clock.appeal_id, "stage": clock.stage,
                            "before": before[0].isoformat() if before[0] else None,
                            "after": aware(clock.due_at).isoformat() if clock.due_at else None,
                            "provisional": clock.provisional})
    session.flush()
    if changed:
        record(session, actor, "appeals.deadlines.recompute", "appeal_clock", None,
               {"count": len(changed), "changed": changed[:200]})
    return len(changed)
