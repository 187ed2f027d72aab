"""Monthly series: seasonality with a lunar Spring Festival, planted events, distractors, reporting."""

import numpy as np
import pyarrow.compute as pc
import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.reference.district import load_district
from shengxin.synth import events as ev
from shengxin.synth.calendar import Timeline, month_number, parse_month, spring_festival_month
from shengxin.synth.population import MOVED_OUT, build_population, neighbour_towns
from shengxin.synth.profiles import SECTOR_INDEX
from shengxin.synth.series import SeriesGenerator, seasonality

N = 12_000


@pytest.fixture(scope="module")
def world():
    district = load_district(DEFAULT_DISTRICT_FILE)
    tl = Timeline(parse_month("2026-10"), 36)
    pop = build_population(np.random.default_rng(21), N, tl, district)
    neighbours = neighbour_towns(DEFAULT_DISTRICT_FILE)
    plan = ev.plan_events(np.random.default_rng(22), pop, tl, neighbours, district.full_name)
    chunk = SeriesGenerator(pop, plan, tl).simulate(0, N, np.random.default_rng(23))
    return district, tl, pop, plan, chunk


def matrix(table, pop, tl, value_col, compact=False):
    """(enterprises × window months) matrix of one delivered column, NaN where no row."""
    index = {c: i for i, c in enumerate(pop.uscc)}
    ent = np.asarray([index[c] for c in table.column(0).to_pylist()])
    text = np.asarray(table.column(1).to_pylist())
    if compact:
        years, months = text.astype(int) // 100, text.astype(int) % 100
    else:
        years = np.asarray([int(t[:4]) for t in text])
        months = np.asarray([int(t[5:7]) for t in text])
    col = years * 12 + months - 1 - tl.window_start
    values = np.asarray(pc.cast(table.column(value_col), "float64"))
    out = np.full((pop.n, len(tl.window)), np.nan)
    out[ent, col] = values
    return out


def test_seasonality_dips_in_the_spring_festival_month_of_each_year():
    tl = Timeline(parse_month("2026-10"), 36)
    season = seasonality(tl)
    factory = season.revenue[SECTOR_INDEX["manufacturing"]]
    for year in (2023, 2024, 2025, 2026):
        m = spring_festival_month(year) - tl.start
        assert factory[m] < factory[m - 1] and factory[m] < factory[m + 1], year


def test_spring_festival_month_is_lower_than_its_neighbours_across_firms(world):
    _, tl, pop, plan, chunk = world
    rev = matrix(chunk.tax, pop, tl, 2, compact=True)
    monthly = ~pop.quarterly_tax & (plan.kind == ev.NONE) & (plan.dip_month < 0)
    # festivals on 10 February 2024 and 17 February 2026: February is the trough
    for year in (2024, 2026):
        m = spring_festival_month(year) - tl.window_start
        block = rev[monthly][:, m - 1 : m + 2]
        block = block[~np.isnan(block).any(axis=1)]
        normalised = block / block.mean(axis=1, keepdims=True)
        mean = normalised.mean(axis=0)
        assert mean[1] < mean[0] and mean[1] < mean[2], (year, mean)
    # festival on 29 January 2025: the slowdown straddles January and February, both below March
    jan25 = month_number(2025, 1) - tl.window_start
    block = rev[monthly][:, jan25 : jan25 + 3]
    block = block[~np.isnan(block).any(axis=1)]
    mean = (block / block.mean(axis=1, keepdims=True)).mean(axis=0)
    assert mean[0] < mean[2] and mean[1] < mean[2], mean
    # the dip moves with the lunar calendar: with the festival on 29 January 2025 January loses
    # more than it does in 2024 (festival on 10 February), relative to the December before
    jan = lambda y: month_number(y, 1) - tl.window_start  # noqa: E731
    factories = monthly & (pop.sector == SECTOR_INDEX["manufacturing"])
    ratio = lambda y: np.nanmean(rev[factories, jan(y)] / rev[factories, jan(y) - 1])  # noqa: E731
    assert ratio(2025) < ratio(2024) - 0.05


def test_sustained_revenue_drops_are_visible_in_the_tax_file(world):
    _, tl, pop, plan, chunk = world
    rev = matrix(chunk.tax, pop, tl, 2, compact=True)
    tax = matrix(chunk.tax, pop, tl, 3, compact=True)
    firms = np.flatnonzero(plan.kind == ev.REVENUE_DROP)
    assert len(firms) >= 100
    seen_rev, seen_tax = [], []
    for i in firms:
        s, e = plan.start[i] - tl.window_start, plan.end[i] - tl.window_start
        assert e - s + 1 >= 3  # sustained: at least three months
        seen_rev.append(np.nanmean(rev[i, s : e + 1]) / np.nanmean(rev[i, max(0, s - 6) : s]))
        seen_tax.append(np.nanmean(tax[i, s : e + 1]) / np.nanmean(tax[i, max(0, s - 6) : s]))
    assert np.mean(np.asarray(seen_rev) < 0.85) > 0.9
    assert np.mean(np.asarray(seen_tax) < 0.85) > 0.9
    # and 30-60 % as promised
    assert (plan.magnitude[firms] >= 0.3).all() and (plan.magnitude[firms] <= 0.6).all()


def test_layoffs_cut_headcount_by_share_and_by_number(world):
    _, tl, pop, plan, chunk = world
    head = matrix(chunk.social, pop, tl, 2)
    firms = np.flatnonzero(plan.kind == ev.LAYOFF)
    assert len(firms) >= 20
    ok = 0
    for i in firms:
        s = plan.start[i] - tl.window_start
        before = np.nanmean(head[i, max(0, s - 3) : s])
        after = np.nanmean(head[i, s + 1 : s + 4])
        ok += (after <= before * (1 - 0.8 * plan.magnitude[i])) and (before - after >= 10)
        # sustained: still down at the as-of month
        assert head[i, -1] < before * (1 - 0.5 * plan.magnitude[i]) or np.isnan(head[i, -1])
    assert ok / len(firms) > 0.9


def test_relocated_firms_fade_then_vanish_and_the_registry_shows_a_neighbour_town(world):
    district, tl, pop, plan, chunk = world
    head = matrix(chunk.social, pop, tl, 2)
    firms = np.flatnonzero(plan.kind == ev.RELOCATION)
    assert len(firms) >= 10
    for i in firms:
        r = plan.end[i] - tl.window_start
        assert np.isnan(head[i, r + 1 :]).all()  # nothing in the district after leaving
        assert pop.town_code[i] in district.neighbour_town_codes
        assert not pop.address[i].startswith(district.full_name)
        window = head[i, max(0, r - 8) : r - 2]
        if np.isnan(window).all():
            continue
        before = np.nanmean(window)
        if before >= 5 and not np.isnan(head[i, r]):
            assert head[i, r] < 0.5 * before
    assert (pop.status[firms] == MOVED_OUT).mean() > 0.5


def test_one_off_dips_recover_the_next_month(world):
    _, tl, pop, plan, chunk = world
    rev = matrix(chunk.tax, pop, tl, 2, compact=True)
    firms = np.flatnonzero(plan.dip_month >= 0)
    dips = plan.dip_month[firms] - tl.window_start
    hits = [
        rev[i, d] < 0.8 * np.nanmean(rev[i, d + 1 : d + 4])
        for i, d in zip(firms, dips)
        if not np.isnan(rev[i, d]) and d + 1 < rev.shape[1]
    ]
    assert np.mean(hits) > 0.85
    # a dip is never on a firm with a planted event
    assert (plan.kind[firms] == ev.NONE).all()


def test_quarterly_reporters_file_only_at_quarter_ends(world):
    _, tl, pop, plan, chunk = world
    period = np.asarray(chunk.tax.column(1).to_pylist()).astype(int)
    index = {c: i for i, c in enumerate(pop.uscc)}
    ent = np.asarray([index[c] for c in chunk.tax.column(0).to_pylist()])
    quarterly = pop.quarterly_tax[ent]
    assert set((period[quarterly] % 100) % 3) == {0}
    assert len(set(period[~quarterly] % 100)) == 12


def test_reporting_gaps_remove_rows_and_nothing_else(world):
    _, tl, pop, plan, chunk = world
    head = matrix(chunk.social, pop, tl, 2)
    firms = np.flatnonzero(plan.gap_source == ev.GAP_SOCIAL)
    assert len(firms) > 10
    for i in firms:
        s = plan.gap_start[i] - tl.window_start
        assert np.isnan(head[i, s : s + plan.gap_length[i]]).all()
    assert (plan.kind[firms] == ev.NONE).all()


def test_no_rows_before_founding_or_after_closure(world):
    _, tl, pop, plan, chunk = world
    head = matrix(chunk.social, pop, tl, 2)
    months = tl.window[None, :]
    outside = (months < pop.founded_month[:, None]) | (months > pop.last_month[:, None])
    assert np.isnan(head[outside]).all()
    assert np.isnan(head[pop.inert]).all()


def test_blocks_are_reproducible(world):
    _, tl, pop, plan, chunk = world
    again = SeriesGenerator(pop, plan, tl).simulate(0, N, np.random.default_rng(23))
    assert again.tax.equals(chunk.tax) and again.social.equals(chunk.social)
    assert again.electricity.equals(chunk.electricity)
