"""Appeal statistics for the cockpit, by unit, town, category or month.

Definitions (one row per group):
* ``appeals`` — appeals in the group (merged duplicates excluded: they are counted in their parent);
* ``avg_working_days`` — mean working days from submission to closing (pauses excluded, the
  arrival day not counted) over appeals closed as solved / explained / not in remit;
* ``on_time_rate`` — share of finished stage clocks that ended by their due instant; by unit, the
  clocks charged to that unit;
* ``satisfaction_rate`` — share of return visits answered satisfied or basically satisfied;
* ``reopen_rate`` — share of appeals reopened at least once;
* ``bounce_rate`` — share of appeals bounced at least once; by unit, bounces by that unit over the
  appeals it held.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.appeals.categories import load_taxonomy
from shengxin.appeals.deadlines import aware
from shengxin.appeals.models import Appeal, AppealBounce, AppealClock, AppealEvent, AppealUnit
from shengxin.appeals.units import unit_name
from shengxin.reference.district import District
from shengxin.workdays.calendar import TZ

DIMENSIONS = ("unit", "town", "category", "month")
CLOSED_OUTCOMES = ("solved", "explained", "not_in_remit")


@dataclass
class StatRow:
    key: str
    label: str
    appeals: int = 0
    closed: int = 0
    avg_working_days: float | None = None
    on_time_rate: float | None = None
    satisfaction_rate: float | None = None
    reopen_rate: float | None = None
    bounce_rate: float | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("key", "label", "appeals", "closed", "avg_working_days",
                                              "on_time_rate", "satisfaction_rate", "reopen_rate", "bounce_rate")}


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def appeal_stats(session: Session, district: District, by: str) -> list[StatRow]:
    """Statistics grouped by ``by`` (unit, town, category, month), largest groups first."""
    if by not in DIMENSIONS:
        raise ValueError(f"by must be one of {DIMENSIONS}")
    appeals = session.scalars(select(Appeal).where((Appeal.outcome.is_(None)) | (Appeal.outcome != "merged"))).all()
    clocks = session.execute(select(AppealClock.appeal_id, AppealClock.unit_code, AppealClock.on_time)
                             .where(AppealClock.ended_at.is_not(None))).all()
    visits = session.execute(select(AppealEvent.appeal_id, AppealEvent.detail)
                             .where(AppealEvent.action == "visit")).all()
    taxonomy = load_taxonomy()

    def keys_of(a: Appeal) -> list[str]:
        if by == "town":
            return [a.town_code or "unknown"]
        if by == "category":
            return [a.category_code or "unclassified"]
        if by == "month":
            return [aware(a.submitted_at).astimezone(TZ).strftime("%Y-%m")]
        return []  # by unit: handled through appeal_units below

    groups: dict[str, set[int]] = defaultdict(set)
    by_id = {a.id: a for a in appeals}
    if by == "unit":
        for appeal_id, unit in session.execute(select(AppealUnit.appeal_id, AppealUnit.unit_code)
                                               .where(AppealUnit.role == "lead")).all():
            if appeal_id in by_id:
                groups[unit].add(appeal_id)
    else:
        for a in appeals:
            for k in keys_of(a):
                groups[k].add(a.id)

    clock_groups: dict[str, list[bool]] = defaultdict(list)
    for appeal_id, unit, on_time in clocks:
        if appeal_id not in by_id:
            continue
        if by == "unit":
            if unit:
                clock_groups[unit].append(bool(on_time))
        else:
            for k in keys_of(by_id[appeal_id]):
                clock_groups[k].append(bool(on_time))
    visit_groups: dict[str, list[bool]] = defaultdict(list)
    for appeal_id, detail in visits:
        a = by_id.get(appeal_id)
        if a is None:
            continue
        good = (detail or {}).get("satisfaction") in ("satisfied", "basically_satisfied")
        for k in ([a.lead_unit or "unassigned"] if by == "unit" else keys_of(a)):
            visit_groups[k].append(good)
    bounces: dict[str, int] = defaultdict(int)
    if by == "unit":
        for (unit,) in session.execute(select(AppealBounce.unit_code)).all():
            bounces[unit] += 1

    rows = []
    for key, ids in groups.items():
        members = [by_id[i] for i in ids]
        closed = [a for a in members if a.status == "closed" and a.outcome in CLOSED_OUTCOMES]
        days = [a.working_days_to_close for a in closed if a.working_days_to_close is not None]
        on_time = clock_groups.get(key, [])
        visited = visit_groups.get(key, [])
        if by == "unit":
            label = unit_name(district, key)
            bounced = bounces.get(key, 0)
        elif by == "town":
            town = district.town(key)
            label = town.name if town else "未知镇街"
            bounced = sum(1 for a in members if a.bounce_count)
        elif by == "category":
            try:
                label = taxonomy.category(key).name
            except Exception:
                label = "未分类"
            bounced = sum(1 for a in members if a.bounce_count)
        else:
            label = key
            bounced = sum(1 for a in members if a.bounce_count)
        rows.append(StatRow(
            key=key, label=label, appeals=len(members), closed=len(closed),
            avg_working_days=round(sum(days) / len(days), 2) if days else None,
            on_time_rate=_ratio(sum(on_time), len(on_time)),
            satisfaction_rate=_ratio(sum(visited), len(visited)),
            reopen_rate=_ratio(sum(1 for a in members if a.reopen_count), len(members)),
            bounce_rate=_ratio(bounced, len(members)),
        ))
    if by == "month":
        return sorted(rows, key=lambda r: r.key)
    return sorted(rows, key=lambda r: (-r.appeals, r.key))
