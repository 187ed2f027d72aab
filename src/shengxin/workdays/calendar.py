"""China's working-day calendar and the deadline rules built on it (pure: no I/O).

Sources, in order of precedence for a given year:

1. an **override** for the year (the State Council's notice as loaded by staff, see
   :mod:`shengxin.workdays.overrides`): its holidays are days off, its make-up working days are
   working days, every other day is a working day from Monday to Friday;
2. the ``chinesecalendar`` package (public holidays and make-up working days 2004-2026);
3. nothing: the year is **provisional** — Monday to Friday are working days — and every result that
   depends on such a day says ``provisional=True``. It is never an error.

Deadline rules (decision record ``docs/decisions/0010-working-day-deadline-rule.md``):

* times are local to :data:`TZ` (Asia/Shanghai); naive datetimes are taken as local time;
* **a working day counts toward a limit only when the clock ran through the whole of it**. So the
  day an appeal arrives never counts, and neither does a day on which a pause started, was in
  force or ended;
* a limit of N working days therefore ends at 23:59:59 local time of the N-th counted working day
  after the arrival day (a limit of 0 ends at the close of the arrival day itself);
* the working days *used* between two instants are the working days after the start day, up to and
  including the end day, that no pause touched: an appeal closed at any time on the N-th counted
  day used N days and is on time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")
#: The last second of a local day: a deadline ends here.
DAY_CLOSE = dt.time(23, 59, 59)
#: A limit larger than this is refused (a typo such as 3000 would otherwise scan years of days).
MAX_WORKING_DAYS = 366


@dataclass(frozen=True)
class Pause:
    """An interval during which the clock stops; ``end=None`` means the pause is still running."""

    start: dt.datetime
    end: dt.datetime | None = None


@dataclass(frozen=True)
class YearOverride:
    """Holidays and make-up working days of one year, from an official notice loaded by staff."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str = ""
    version: int = 0
    names: dict[dt.date, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Due:
    """A computed deadline: ``due`` is aware (Asia/Shanghai); ``provisional`` when it relied on a
    year that no calendar covers."""

    due: dt.datetime
    provisional: bool

    def as_dict(self) -> dict:
        return {"due": self.due.isoformat(), "provisional": self.provisional}


@dataclass(frozen=True)
class YearCoverage:
    year: int
    source: str  # "override" | "chinesecalendar" | "provisional"
    provisional: bool
    working_days: int
    holidays: int
    make_up_working_days: int
    override_version: int | None
    override_source: str | None

    def as_dict(self) -> dict:
        return {
            "year": self.year, "source": self.source, "provisional": self.provisional,
            "working_days": self.working_days, "holidays": self.holidays,
            "make_up_working_days": self.make_up_working_days,
            "override_version": self.override_version, "override_source": self.override_source,
        }


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


PACKAGE_YEARS: frozenset[int] = frozenset(y for y in range(1990, 2101) if _package_covers(y))


def to_local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in :data:`TZ`; a naive one is taken to be local time already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=TZ)
    return value.astimezone(TZ)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=TZ)


def day_close(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, DAY_CLOSE, tzinfo=TZ)


class WorkCalendar:
    """China's working days with staff-loaded overrides; see the module docstring for the rules."""

    def __init__(self, overrides: Iterable[YearOverride] = ()):
        self.overrides: dict[int, YearOverride] = {}
        for o in overrides:
            current = self.overrides.get(o.year)
            if current is None or o.version >= current.version:
                self.overrides[o.year] = o

    # -- single days -------------------------------------------------------------------------
    def is_covered(self, year: int) -> bool:
        """Whether an override or the package knows the year's holidays."""
        return year in self.overrides or year in PACKAGE_YEARS

    def day(self, day: dt.date) -> tuple[bool, bool]:
        """``(is_working_day, provisional)`` for one date."""
        override = self.overrides.get(day.year)
        if override is not None:
            if day in override.holidays:
                return False, False
            if day in override.workdays:
                return True, False
            return day.weekday() < 5, False
        if day.year in PACKAGE_YEARS:
            return bool(chinese_calendar.is_workday(day)), False
        return day.weekday() < 5, True

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day (weekdays only in a provisional year)."""
        return self.day(day)[0]

    # -- deadlines ---------------------------------------------------------------------------
    def _counted_days(self, start: dt.datetime, pauses: Sequence[Pause]):
        """Yield ``(date, provisional)`` for each counted working day after ``start``'s day.

        A working day counts when no pause touches it (the clock ran through all of it). An open
        pause (``end=None``) stops the sequence: no later day counts until it ends.
        """
        local_start = to_local(start)
        spans = [(to_local(p.start), to_local(p.end) if p.end is not None else None) for p in pauses]
        day = local_start.date()
        for _ in range(MAX_WORKING_DAYS * 4 + 60):
            day = day + dt.timedelta(days=1)
            working, provisional = self.day(day)
            lo, hi = day_start(day), day_start(day + dt.timedelta(days=1))
            touched = False
            for p_start, p_end in spans:
                if p_end is None:
                    if p_start < hi:
                        return
                elif p_start < hi and p_end >= lo:
                    touched = True
            if working and not touched:
                yield day, provisional
        raise ValueError("no working day found in the scanned range")  # pragma: no cover - guard

    def add_working_days(self, start: dt.datetime, n: int, pauses: Sequence[Pause] = ()) -> Due | None:
        """The deadline of a limit of ``n`` working days for something that arrived at ``start``.

        Ends at 23:59:59 local time of the n-th counted working day after the arrival day
        (``n == 0``: the close of the arrival day). Returns ``None`` while a pause is still open
        (the clock is stopped, so there is no deadline until it resumes).
        """
        if n < 0 or n > MAX_WORKING_DAYS:
            raise ValueError(f"working days must be between 0 and {MAX_WORKING_DAYS}, got {n}")
        local_start = to_local(start)
        if n == 0:
            return Due(day_close(local_start.date()), not self.is_covered(local_start.year))
        count = 0
        for day, _prov in self._counted_days(local_start, pauses):
            count += 1
            if count == n:
                # Every day from the day after arrival to the due day was decided by the calendar;
                # one of them in an uncovered year makes the result provisional.
                first = local_start.date() + dt.timedelta(days=1)
                provisional = any(not self.is_covered(y) for y in range(first.year, day.year + 1))
                return Due(day_close(day), provisional)
        return None

    def instant_at_fraction(self, start: dt.datetime, n: int, fraction: float,
                            pauses: Sequence[Pause] = ()) -> dt.datetime | None:
        """The instant when ``fraction`` of a limit of ``n`` counted working days has passed.

        Counted days are taken as whole 24-hour days in order; e.g. 80% of 3 days is 0.4 of the
        way into the third counted day (09:36). ``None`` while a pause is open.
        """
        if not 0 < fraction <= 1:
            raise ValueError("fraction must be in (0, 1]")
        if n == 0:
            due = self.add_working_days(start, 0, pauses)
            return due.due if due else None
        target = fraction * n
        whole = int(target)
        part = target - whole
        if part == 0:
            whole, part = whole - 1, 1.0
        for index, (day, _prov) in enumerate(self._counted_days(start, pauses)):
            if index == whole:
                if part >= 1.0:
                    return day_close(day)
                return day_start(day) + dt.timedelta(seconds=round(part * 86400))
        return None

    def working_days_between(self, start: dt.datetime, end: dt.datetime,
                             pauses: Sequence[Pause] = ()) -> int:
        """Working days used from ``start`` to ``end``: working days after the start day up to and
        including the end day that no pause touched (0 when both fall on the same day)."""
        local_start, local_end = to_local(start), to_local(end)
        if local_end.date() <= local_start.date():
            return 0
        spans = [(to_local(p.start), to_local(p.end) if p.end is not None else local_end)
                 for p in pauses]
        used = 0
        day = local_start.date()
        while day < local_end.date():
            day = day + dt.timedelta(days=1)
            if not self.is_working_day(day):
                continue
            lo, hi = day_start(day), day_start(day + dt.timedelta(days=1))
            if any(ps < hi and pe >= lo for ps, pe in spans):
                continue
            used += 1
        return used

    # -- coverage ----------------------------------------------------------------------------
    def coverage(self, year: int) -> YearCoverage:
        """Which source decides ``year`` and its counts of working days, holidays, make-up days."""
        days = [dt.date(year, 1, 1) + dt.timedelta(days=i)
                for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)]
        flags = [self.day(d)[0] for d in days]
        working = sum(flags)
        holidays = sum(1 for d, w in zip(days, flags) if not w and d.weekday() < 5)
        make_up = sum(1 for d, w in zip(days, flags) if w and d.weekday() >= 5)
        override = self.overrides.get(year)
        if override is not None:
            source = "override"
        elif year in PACKAGE_YEARS:
            source = "chinesecalendar"
        else:
            source = "provisional"
        return YearCoverage(
            year=year, source=source, provisional=source == "provisional", working_days=working,
            holidays=holidays, make_up_working_days=make_up,
            override_version=override.version if override else None,
            override_source=override.source if override else None,
        )
