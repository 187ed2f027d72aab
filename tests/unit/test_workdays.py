"""Working-day calendar and the deadline rule (docs/decisions/0010-working-day-deadline-rule.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from shengxin.errors import InvalidInput
from shengxin.workdays.calendar import TZ, Pause, WorkCalendar
from shengxin.workdays.overrides import override_from_dict, override_to_dict, parse_override

CAL = WorkCalendar()


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def close_of(y, m, d) -> dt.datetime:
    return local(y, m, d, 23, 59, 59)


@pytest.mark.parametrize("day, working", [
    ("2025-01-26", True),   # Sunday, make-up working day before the Spring Festival
    ("2025-02-08", True),   # Saturday, make-up working day after it
    ("2025-01-28", False),  # Spring Festival holiday (a Tuesday)
    ("2025-02-04", False),
    ("2024-09-29", True),   # Sunday, make-up working day before National Day
    ("2024-10-12", True),   # Saturday, make-up working day after it
    ("2024-10-01", False),
    ("2024-10-07", False),  # Monday, still National Day holiday
    ("2025-03-08", False),  # an ordinary Saturday
    ("2025-03-10", True),   # an ordinary Monday
])
def test_known_days_follow_chinesecalendar(day, working):
    d = dt.date.fromisoformat(day)
    assert CAL.is_working_day(d) is working
    assert CAL.day(d) == (working, False)


def test_arrival_day_does_not_count():
    # Monday 2025-03-10 09:00: 1 working day → close of Tuesday.
    due = CAL.add_working_days(local(2025, 3, 10, 9, 0), 1)
    assert due.due == close_of(2025, 3, 11) and not due.provisional
    # Arriving one second before midnight changes nothing: the day still does not count.
    assert CAL.add_working_days(local(2025, 3, 10, 23, 59, 59), 1).due == close_of(2025, 3, 11)
    # Arriving at midnight is the next day.
    assert CAL.add_working_days(local(2025, 3, 11, 0, 0), 1).due == close_of(2025, 3, 12)


def test_friday_arrival_skips_the_weekend():
    assert CAL.add_working_days(local(2025, 3, 14, 16, 0), 1).due == close_of(2025, 3, 17)


def test_zero_days_ends_at_close_of_arrival_day():
    assert CAL.add_working_days(local(2025, 3, 10, 9, 0), 0).due == close_of(2025, 3, 10)


def test_spring_festival_2025_with_make_up_sunday():
    # Friday 2025-01-24: Sat 25 off, Sun 26 make-up (1), Mon 27 (2), 28 Jan - 4 Feb holiday, Wed 5 Feb (3).
    assert CAL.add_working_days(local(2025, 1, 24, 10, 0), 3).due == close_of(2025, 2, 5)
    # Thursday 2025-02-06 + 2: Fri 7 (1), Sat 8 make-up working day (2).
    assert CAL.add_working_days(local(2025, 2, 6, 10, 0), 2).due == close_of(2025, 2, 8)


def test_national_day_2024_with_make_up_days():
    # Friday 2024-09-27: Sun 29 make-up (1), Mon 30 (2), 1-7 Oct holiday, Tue 8 Oct (3).
    assert CAL.add_working_days(local(2024, 9, 27, 10, 0), 3).due == close_of(2024, 10, 8)
    # Friday 2024-10-11 + 1: Saturday 12 Oct is a make-up working day.
    assert CAL.add_working_days(local(2024, 10, 11, 10, 0), 1).due == close_of(2024, 10, 12)


def test_across_the_year_boundary():
    # Tuesday 2024-12-31 + 2: 1 Jan 2025 is New Year's Day; Thu 2 (1), Fri 3 (2).
    assert CAL.add_working_days(local(2024, 12, 31, 15, 0), 2).due == close_of(2025, 1, 3)


def test_aware_input_is_converted_to_shanghai_time():
    # 2025-03-10 17:00 UTC is 2025-03-11 01:00 in Shanghai: the arrival day is the 11th.
    start = dt.datetime(2025, 3, 10, 17, 0, tzinfo=dt.timezone.utc)
    assert CAL.add_working_days(start, 1).due == close_of(2025, 3, 12)


def test_a_pause_stops_the_clock():
    start = local(2025, 3, 10, 9, 0)  # Monday
    assert CAL.add_working_days(start, 3).due == close_of(2025, 3, 13)
    # Paused from Tuesday 10:00 to Wednesday 15:00: both days are touched, so they do not count.
    pause = Pause(local(2025, 3, 11, 10, 0), local(2025, 3, 12, 15, 0))
    assert CAL.add_working_days(start, 3, [pause]).due == close_of(2025, 3, 17)  # Thu, Fri, Mon
    # An open pause: no deadline while the clock is stopped.
    assert CAL.add_working_days(start, 3, [Pause(local(2025, 3, 11, 10, 0))]) is None
    # An open pause after the due day does not matter.
    assert CAL.add_working_days(start, 1, [Pause(local(2025, 3, 13, 10, 0))]).due == close_of(2025, 3, 11)


def test_working_days_between_excludes_pauses_and_the_start_day():
    start = local(2025, 3, 10, 9, 0)
    assert CAL.working_days_between(start, local(2025, 3, 10, 18, 0)) == 0
    assert CAL.working_days_between(start, local(2025, 3, 13, 8, 0)) == 3
    pause = Pause(local(2025, 3, 11, 10, 0), local(2025, 3, 11, 16, 0))
    assert CAL.working_days_between(start, local(2025, 3, 13, 8, 0), [pause]) == 2
    # Across Spring Festival 2025: 24 Jan → 5 Feb used 3 working days.
    assert CAL.working_days_between(local(2025, 1, 24, 10), local(2025, 2, 5, 12)) == 3


def test_used_days_agree_with_due():
    start = local(2024, 9, 27, 10, 0)
    due = CAL.add_working_days(start, 3).due
    assert CAL.working_days_between(start, due) == 3
    # One second later it is Wednesday 9 October, a working day that has begun: 4 used, late.
    assert CAL.working_days_between(start, due + dt.timedelta(seconds=1)) == 4


def test_warning_instant_is_80_percent_of_counted_time():
    start = local(2025, 3, 10, 9, 0)
    # 3 days: 2.4 days into Tue, Wed, Thu → Thursday 09:36.
    assert CAL.instant_at_fraction(start, 3, 0.8) == local(2025, 3, 13, 9, 36)
    # 1 day: 0.8 of Tuesday → 19:12.
    assert CAL.instant_at_fraction(start, 1, 0.8) == local(2025, 3, 11, 19, 12)
    assert CAL.instant_at_fraction(start, 5, 1.0) == CAL.add_working_days(start, 5).due


def test_uncovered_year_is_provisional_weekends_only():
    assert not CAL.is_covered(2027)
    assert CAL.day(dt.date(2027, 1, 1)) == (True, True)   # Friday: provisional working day
    assert CAL.day(dt.date(2027, 1, 2)) == (False, True)  # Saturday
    due = CAL.add_working_days(local(2026, 12, 30, 10, 0), 3)
    # 31 Dec 2026 (covered, 1), 1 Jan 2027 (provisional, 2), Mon 4 Jan (3).
    assert due.due == close_of(2027, 1, 4) and due.provisional
    assert CAL.coverage(2027).source == "provisional"
    assert not CAL.add_working_days(local(2026, 12, 28, 10, 0), 2).provisional


OVERRIDE_2027 = """
year: 2027
source: test schedule (not an official notice)
holidays:
  - {date: 2027-01-01, name: 元旦}
  - {from: 2027-02-06, to: 2027-02-12, name: 春节}
workdays:
  - {date: 2027-02-20, name: 春节调休}
"""


def test_override_makes_the_year_covered_and_changes_the_result():
    override = parse_override(OVERRIDE_2027.encode(), "2027.yaml")
    cal = WorkCalendar([override])
    assert cal.is_covered(2027)
    assert cal.day(dt.date(2027, 1, 1)) == (False, False)
    assert cal.day(dt.date(2027, 2, 20)) == (True, False)  # a Saturday made a working day
    due = cal.add_working_days(local(2026, 12, 30, 10, 0), 3)
    # 31 Dec (1), 1 Jan holiday, Mon 4 (2), Tue 5 (3).
    assert due.due == close_of(2027, 1, 5) and not due.provisional
    cov = cal.coverage(2027)
    assert (cov.source, cov.holidays, cov.make_up_working_days) == ("override", 6, 1)


def test_a_later_override_version_wins():
    a = parse_override(OVERRIDE_2027.encode(), "a.yaml")
    b = override_from_dict({**override_to_dict(a), "holidays": []}, version=2)
    assert WorkCalendar([a, b]).is_working_day(dt.date(2027, 1, 1))
    # Order does not matter: the highest version wins.
    assert WorkCalendar([b, override_from_dict(override_to_dict(a), 1)]).is_working_day(dt.date(2027, 1, 1))
    assert not WorkCalendar([override_from_dict(override_to_dict(a), 3), b]).is_working_day(dt.date(2027, 1, 1))


def test_override_csv_format():
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-20,班,春节调休\n"
    o = parse_override(text.encode("utf-8-sig"), "2027.csv")
    assert o.year == 2027 and o.holidays == {dt.date(2027, 1, 1)} and o.workdays == {dt.date(2027, 2, 20)}


@pytest.mark.parametrize("content, name, message", [
    (b"", "x.yaml", "empty"),
    (b"year: 2027\nholidays: [2028-01-01]\n", "x.yaml", "not in 2027"),
    (b"year: 2027\nworkdays: [2027-01-04]\n", "x.yaml", "Saturday or Sunday"),
    (b"year: 2027\nholidays: [2027-01-02]\nworkdays: [2027-01-02]\n", "x.yaml", "both"),
    (b"year: 2027\nholidays: [notadate]\n", "x.yaml", "YYYY-MM-DD"),
    (b"year: 2027\nfoo: 1\n", "x.yaml", "unknown keys"),
    (b"date,kind\n2027-01-01,maybe\n", "x.csv", "holiday"),
    (b"date,kind\n2027-01-01,holiday\n2028-01-01,holiday\n", "x.csv", "one year"),
    (b"\xff\xfe\x00", "x.yaml", "UTF-8"),
    (b"year: 2027\n", "x.yaml", "no holidays"),
])
def test_bad_override_files_are_refused_with_the_reason(content, name, message):
    with pytest.raises(InvalidInput, match=message) as info:
        parse_override(content, name)
    assert name in str(info.value)


def test_limits_are_checked():
    with pytest.raises(ValueError):
        CAL.add_working_days(local(2025, 3, 10), -1)
    with pytest.raises(ValueError):
        CAL.add_working_days(local(2025, 3, 10), 10_000)
