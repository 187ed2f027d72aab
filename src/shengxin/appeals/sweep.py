"""The deadline sweep: mark warnings and overdue clocks, notify units, escalate to the district.

Rules (run by ``shengxin appeals sweep``, e.g. every 15 minutes from cron):
* provisional deadlines are recomputed first with the calendar in force;
* a clock past 80% of its time is marked *warning* once and its unit is notified;
* a clock past its due instant is marked *overdue* once; its unit is notified and the overdue
  appeal is escalated to the district desk;
* notifications are written to the outbox in the same transaction, then delivered by the sender
  the settings choose.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shengxin.appeals import deadlines
from shengxin.appeals.categories import STAGE_LABELS
from shengxin.appeals.models import Appeal, AppealClock
from shengxin.appeals.service import Env
from shengxin.appeals.units import DISTRICT_UNIT, unit_name
from shengxin.audit.service import Actor, record
from shengxin.notify.service import enqueue
from shengxin.workdays.calendar import TZ


@dataclass(frozen=True)
class SweepReport:
    recomputed: int
    warnings: int
    overdue: int
    escalated: int

    def as_dict(self) -> dict:
        return {"recomputed": self.recomputed, "warnings": self.warnings, "overdue": self.overdue,
                "escalated": self.escalated}


def _due_text(clock: AppealClock) -> str:
    due = deadlines.aware(clock.due_at)
    return due.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if due else "—"


def sweep(session: Session, env: Env, actor: Actor) -> SweepReport:
    now = env.now
    recomputed = deadlines.recompute_provisional(session, env.calendar, actor, now)
    clocks = session.scalars(
        select(AppealClock).where(AppealClock.ended_at.is_(None), AppealClock.warn_at.is_not(None),
                                  AppealClock.warn_at <= now,
                                  or_(AppealClock.warned_at.is_(None),
                                      (AppealClock.due_at < now) & AppealClock.overdue_at.is_(None)))
        .order_by(AppealClock.id)
    ).all()
    warnings = overdue = escalated = 0
    for clock in clocks:
        appeal = session.get(Appeal, clock.appeal_id)
        state = deadlines.state_at(clock, now)
        unit = clock.unit_code or appeal.lead_unit or DISTRICT_UNIT
        stage = STAGE_LABELS.get(clock.stage, clock.stage)
        where = f"{appeal.code}「{appeal.title}」（{appeal.enterprise_name}）"
        if clock.warned_at is None and state in ("warning", "overdue"):
            clock.warned_at = now
            warnings += 1
            enqueue(session, env.settings, kind="appeal.warning", unit_code=unit,
                    subject=f"【即将超期】{appeal.code} {stage}环节",
                    body=f"诉求 {where} 的{stage}环节已用去 80% 的时限，将于 {_due_text(clock)} 到期，请抓紧办理。",
                    dedupe_key=f"clock:{clock.id}:warning", object_type="appeal", object_id=appeal.code)
        if clock.overdue_at is None and state == "overdue":
            clock.overdue_at = now
            overdue += 1
            enqueue(session, env.settings, kind="appeal.overdue", unit_code=unit,
                    subject=f"【已超期】{appeal.code} {stage}环节",
                    body=f"诉求 {where} 的{stage}环节已于 {_due_text(clock)} 超期，请立即办理并说明原因。",
                    dedupe_key=f"clock:{clock.id}:overdue", object_type="appeal", object_id=appeal.code)
            if unit != DISTRICT_UNIT:  # the district desk's own overdue notice is the one above
                escalated += 1
                enqueue(session, env.settings, kind="appeal.escalated", unit_code=DISTRICT_UNIT,
                        subject=f"【超期督办】{appeal.code} {unit_name(env.district, unit)} {stage}环节",
                        body=f"诉求 {where} 由{unit_name(env.district, unit)}负责的{stage}环节已于 "
                             f"{_due_text(clock)} 超期，请区级督办。",
                        dedupe_key=f"clock:{clock.id}:escalated", object_type="appeal", object_id=appeal.code)
        appeal.deadline_state = state
    # Every other open appeal's state follows the clock too (e.g. a recomputed deadline).
    for appeal in session.scalars(select(Appeal).where(Appeal.due_at.is_not(None),
                                                       Appeal.deadline_state != "overdue")):
        due, warn = deadlines.aware(appeal.due_at), deadlines.aware(appeal.warn_at)
        appeal.deadline_state = "overdue" if now > due else ("warning" if warn and now >= warn else "ok")
    session.flush()
    report = SweepReport(recomputed, warnings, overdue, escalated)
    if warnings or overdue or recomputed:
        record(session, actor, "appeals.sweep", "appeal_clock", None, report.as_dict())
    return report
