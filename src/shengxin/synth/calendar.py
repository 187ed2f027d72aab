"""Months, dates and the Spring Festival for the synthetic district.

Months are integers ``year * 12 + (month - 1)`` so that month arithmetic is plain integer
arithmetic on numpy arrays. Dates are ``numpy.datetime64[D]``.

The Spring Festival (春节, first day of the first lunar month) moves between 21 January and
20 February. Its Gregorian dates for 2015-2035 come from the Hong Kong Observatory's
Gregorian-Lunar calendar conversion tables; ``tests/unit/test_synth_calendar.py`` checks every
year that ``chinesecalendar`` covers (its official Spring Festival holiday must contain the date).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

#: First day of the first lunar month, 2015-2035 (Hong Kong Observatory conversion tables).
SPRING_FESTIVAL: dict[int, dt.date] = {
    2015: dt.date(2015, 2, 19),
    2016: dt.date(2016, 2, 8),
    2017: dt.date(2017, 1, 28),
    2018: dt.date(2018, 2, 16),
    2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
    2034: dt.date(2034, 2, 19),
    2035: dt.date(2035, 2, 8),
}

_MONTH_ARG = re.compile(r"^(\d{4})-(\d{2})$")


def spring_festival(year: int) -> dt.date:
    """The Spring Festival date of ``year``; raises ``ValueError`` outside 2015-2035."""
    try:
        return SPRING_FESTIVAL[year]
    except KeyError:
        raise ValueError(
            f"no Spring Festival date for {year}: the table covers 2015-2035 "
            "(extend SPRING_FESTIVAL in shengxin/synth/calendar.py)"
        ) from None


def parse_month(text: str) -> int:
    """Parse ``YYYY-MM`` into a month number; raises ``ValueError`` with the reason."""
    m = _MONTH_ARG.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2026-10")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r}: month must be 01-12")
    return month_number(year, month)


def month_number(year: int, month: int) -> int:
    return year * 12 + month - 1


def year_of(m: int | np.ndarray):
    return m // 12


def month_of_year(m: int | np.ndarray):
    """1..12."""
    return m % 12 + 1


def month_text(m: int, sep: str = "-") -> str:
    """``YYYY-MM`` (or ``YYYYMM`` with ``sep=''``)."""
    return f"{m // 12:04d}{sep}{m % 12 + 1:02d}"


def first_day(m: int | np.ndarray) -> np.ndarray:
    """First day of month number(s) as ``datetime64[D]``."""
    months = (np.asarray(m) - month_number(1970, 1)).astype("datetime64[M]")
    return months.astype("datetime64[D]")


def last_day(m: int | np.ndarray) -> np.ndarray:
    return first_day(np.asarray(m) + 1) - np.timedelta64(1, "D")


def month_of_date(d: np.ndarray) -> np.ndarray:
    """Month numbers of ``datetime64[D]`` values."""
    return d.astype("datetime64[M]").astype(np.int64) + month_number(1970, 1)


def days_in_month(m: int | np.ndarray) -> np.ndarray:
    return (last_day(m) - first_day(m)).astype(np.int64) + 1


def overlap_days(months: np.ndarray, start: dt.date, end: dt.date) -> np.ndarray:
    """Number of days of the closed interval [start, end] that fall in each month number."""
    s = np.datetime64(start, "D")
    e = np.datetime64(end, "D")
    lo = np.maximum(first_day(months), s)
    hi = np.minimum(last_day(months), e)
    return np.clip((hi - lo).astype(np.int64) + 1, 0, None)


def spring_festival_share(months: np.ndarray, before: int, after: int) -> np.ndarray:
    """Share of each month's days that lie in the slowdown window around the Spring Festival.

    The window runs from ``before`` days before the festival to ``after`` days after it; the
    result is 0 for months far from any festival and at most 1.
    """
    months = np.asarray(months)
    share = np.zeros(months.shape, dtype=np.float64)
    years = {int(y) for y in np.unique(year_of(months))}
    for y in sorted(years | {y + 1 for y in years}):
        if y not in SPRING_FESTIVAL:
            continue
        sf = SPRING_FESTIVAL[y]
        share += overlap_days(months, sf - dt.timedelta(days=before), sf + dt.timedelta(days=after))
    return np.minimum(share / days_in_month(months), 1.0)


def spring_festival_month(year: int) -> int:
    """The month number that holds most of the week after the festival (the dip month)."""
    sf = spring_festival(year)
    months = np.array([month_number(year, 1), month_number(year, 2), month_number(year, 3)])
    days = overlap_days(months, sf, sf + dt.timedelta(days=10))
    return int(months[int(np.argmax(days))])


class Timeline:
    """The months the generator works with.

    * ``window``: the ``months`` months ending at ``as_of`` that the monthly files cover;
    * ``report_years``: the three latest years whose annual report is delivered by ``as_of``
      (a year's report is due by the end of June of the next year);
    * ``horizon``: from January of the earliest year whose revenue is needed (two years before
      the first statistical-scope inclusion inside the window, or the first report year) to
      ``as_of``; series are simulated over the whole horizon and written for the window only.
    """

    def __init__(self, as_of: int, months: int):
        if months < 1:
            raise ValueError("months must be at least 1")
        self.as_of = as_of
        self.months = months
        self.window_start = as_of - months + 1
        last_report = year_of(as_of) - (1 if month_of_year(as_of) >= 7 else 2)
        self.report_years = (last_report - 2, last_report - 1, last_report)
        ws_year, ws_month = year_of(self.window_start), month_of_year(self.window_start)
        self.first_inclusion_year = ws_year if ws_month == 1 else ws_year + 1
        first_year = min(self.first_inclusion_year - 2, self.report_years[0])
        self.revenue_years = tuple(range(first_year, last_report + 1))
        self.start = month_number(first_year, 1)
        for y in range(first_year, year_of(as_of) + 2):
            spring_festival(y)  # fail early, with the reason, outside the festival table

    @property
    def horizon(self) -> np.ndarray:
        return np.arange(self.start, self.as_of + 1)

    @property
    def window(self) -> np.ndarray:
        return np.arange(self.window_start, self.as_of + 1)

    @property
    def as_of_date(self) -> np.datetime64:
        """The last day of the as-of month: nothing in the delivery is dated after it."""
        return last_day(self.as_of)[()]

    def __repr__(self) -> str:
        return (
            f"Timeline(window={month_text(self.window_start)}..{month_text(self.as_of)}, "
            f"horizon from {month_text(self.start)}, report years {self.report_years})"
        )
