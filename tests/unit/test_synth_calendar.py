"""Months, the Spring Festival table and the generator's timeline."""

import datetime as dt

import chinese_calendar
import numpy as np
import pytest

from shengxin.synth.calendar import (
    SPRING_FESTIVAL,
    Timeline,
    month_number,
    month_text,
    parse_month,
    spring_festival,
    spring_festival_month,
    spring_festival_share,
)


@pytest.mark.parametrize("year", range(2015, 2027))
def test_spring_festival_falls_in_the_official_holiday(year):
    # chinesecalendar knows the State Council's Spring Festival holidays up to 2026
    day = SPRING_FESTIVAL[year]
    holiday = [
        day + dt.timedelta(days=k)
        for k in range(-10, 11)
        if chinese_calendar.get_holiday_detail(day + dt.timedelta(days=k))[1] == "Spring Festival"
    ]
    assert holiday, f"no Spring Festival holiday around {day}"
    assert min(holiday) <= day <= max(holiday)


def test_spring_festival_dates_stay_in_their_lunar_range():
    for year, day in SPRING_FESTIVAL.items():
        assert day.year == year
        assert dt.date(year, 1, 21) <= day <= dt.date(year, 2, 20)


def test_spring_festival_outside_the_table_says_how_to_fix_it():
    with pytest.raises(ValueError, match="extend SPRING_FESTIVAL"):
        spring_festival(2040)


def test_parse_month_accepts_yyyy_mm_and_explains_errors():
    assert parse_month("2026-10") == month_number(2026, 10)
    assert month_text(parse_month("2024-02")) == "2024-02"
    assert month_text(parse_month("2024-02"), "") == "202402"
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month("2026/10")
    with pytest.raises(ValueError, match="01-12"):
        parse_month("2026-13")


def test_the_slowdown_moves_with_the_lunar_calendar():
    jan = lambda y: month_number(y, 1)  # noqa: E731
    feb = lambda y: month_number(y, 2)  # noqa: E731
    months = np.array([jan(2023), feb(2023), jan(2024), feb(2024)])
    share = spring_festival_share(months, 10, 15)
    # festival on 22 January 2023: January bears most of it; on 10 February 2024: February does
    assert share[0] > share[1]
    assert share[3] > share[2]
    assert spring_festival_month(2023) == jan(2023)
    assert spring_festival_month(2024) == feb(2024)
    # a month far from the festival is untouched
    assert spring_festival_share(np.array([month_number(2024, 7)]), 10, 15)[0] == 0


def test_timeline_window_and_report_years():
    tl = Timeline(parse_month("2026-10"), 36)
    assert month_text(tl.window_start) == "2023-11"
    assert len(tl.window) == 36 and tl.window[-1] == tl.as_of
    # the 2025 annual report is due by June 2026, so it is in an October 2026 delivery
    assert tl.report_years == (2023, 2024, 2025)
    assert str(tl.as_of_date) == "2026-10-31"
    # the horizon starts in January, early enough to know whether a firm crossed the threshold
    assert tl.start % 12 == 0 and tl.start <= month_number(tl.first_inclusion_year - 2, 1)
    early = Timeline(parse_month("2026-03"), 36)
    assert early.report_years == (2022, 2023, 2024)
