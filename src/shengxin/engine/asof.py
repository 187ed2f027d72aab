"""As-of arithmetic shared by the SQL generator and the single-enterprise evaluator.

Both sides take every date bound from here, so they can never disagree about a window:

* the **as-of month** is the month containing the as-of date; a monthly series window of
  ``months=N, offset=K`` covers the N months ending K months before the as-of month
  (``months=12`` at as-of 2026-10-31 covers 2025-11 … 2026-10);
* an **event window** of ``months=N`` covers dates after the same day N months before the as-of
  date, up to and including the as-of date (2025-10-31 < date ≤ 2026-10-31); a day that does not
  exist in the earlier month is clamped to that month's last day;
* **annual reports** count for the latest year before the as-of year;
* **whole years/months since** a date are calendar-exact (a firm founded 2023-11-01 is 2 full
  years old on 2025-11-01, still 1 on 2025-10-31).
"""

from __future__ import annotations

import calendar
import datetime as dt


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` moved by ``months`` calendar months, the day clamped to the target month's length."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def series_window(as_of: dt.date, months: int, offset: int) -> tuple[dt.date, dt.date]:
    """First and last month (first days) of a series window."""
    last = add_months(month_start(as_of), -offset)
    first = add_months(last, -(months - 1))
    return first, last


def event_window_start(as_of: dt.date, months: int) -> dt.date:
    """Exclusive lower bound of an event window of ``months`` months ending at ``as_of``."""
    return add_months(as_of, -months)


def annual_year(as_of: dt.date) -> int:
    """The latest report year an annual figure may come from."""
    return as_of.year - 1


def whole_years(since: dt.date, as_of: dt.date) -> int:
    years = as_of.year - since.year
    if (since.month, since.day) > (as_of.month, as_of.day):
        years -= 1
    return years


def whole_months(since: dt.date, as_of: dt.date) -> int:
    months = (as_of.year - since.year) * 12 + (as_of.month - since.month)
    if since.day > as_of.day:
        months -= 1
    return months


def month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])
