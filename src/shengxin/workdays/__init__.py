"""Chinese working-day calendar: public holidays, make-up working days, overrides, coverage.

Public API (rules in :mod:`shengxin.workdays.calendar`)::

    cal = load_calendar(session)              # chinesecalendar + packaged + stored overrides
    cal.is_working_day(date)
    cal.add_working_days(start, n, pauses)    # -> Due(due, provisional)
    cal.working_days_between(start, end, pauses)
    cal.coverage(year)
"""

from shengxin.workdays.calendar import (  # noqa: F401
    TZ,
    Due,
    Pause,
    WorkCalendar,
    YearCoverage,
    YearOverride,
    to_local,
)
from shengxin.workdays.service import load_calendar, store_override  # noqa: F401
