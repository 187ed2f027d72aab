"""The synthetic enterprises: identifiers, names, places, industry mix and consistent sizes."""

import numpy as np
import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.enterprises import uscc
from shengxin.reference.district import load_district
from shengxin.synth import names
from shengxin.synth.calendar import Timeline, parse_month
from shengxin.synth.population import DEREGISTERED, build_population, nearest_step
from shengxin.synth.profiles import SECTORS, industry_table, read_classes, sector_array

N = 8000


@pytest.fixture(scope="module")
def district():
    return load_district(DEFAULT_DISTRICT_FILE)


@pytest.fixture(scope="module")
def timeline():
    return Timeline(parse_month("2026-10"), 36)


@pytest.fixture(scope="module")
def pop(district, timeline):
    return build_population(np.random.default_rng(11), N, timeline, district)


def test_same_seed_same_population_other_seed_other_population(district, timeline, pop):
    again = build_population(np.random.default_rng(11), N, timeline, district)
    other = build_population(np.random.default_rng(12), N, timeline, district)
    for attr in ("uscc", "name", "class_code", "employees", "revenue", "founded", "address"):
        assert np.array_equal(getattr(pop, attr), getattr(again, attr)), attr
    assert not np.array_equal(pop.uscc, other.uscc)


def test_usccs_are_valid_unique_and_mostly_district_enterprises(pop, district):
    assert len(set(pop.uscc)) == N
    assert all(uscc.check(c).valid for c in pop.uscc)
    region = np.asarray([c[2:8] for c in pop.uscc])
    assert (region == district.code).mean() > 0.8
    assert (np.asarray([c[:2] for c in pop.uscc]) == "91").mean() > 0.98
    # ghosts (for "unknown enterprise" defects) are valid codes that are not registered
    assert all(uscc.check(c).valid for c in pop.ghosts)
    assert not set(pop.ghosts) & set(pop.uscc)


def test_names_are_unique_gbk_and_match_the_legal_form(pop):
    assert len(set(pop.name)) == N
    suffixes = np.asarray([f[2] for f in names.LEGAL_FORMS])[pop.legal_form]
    for name, suffix in zip(pop.name, suffixes):
        assert name.startswith(("杭州", "浙江")) and name.endswith(suffix), name
        assert 8 <= len(name) <= 30
        name.encode("gbk")  # the registry is delivered in GBK
    for text in list(pop.address[:500]) + list(pop.representative[:500]):
        text.encode("gbk")


def test_industry_codes_are_gbt4754_classes_in_a_digital_economy_mix(pop):
    classes = read_classes()
    assert set(pop.class_code) <= set(classes)
    share = lambda key: (pop.sector == [s.key for s in SECTORS].index(key)).mean()  # noqa: E731
    digital = share("software") + share("internet") + share("tech_services") + share("ecommerce")
    assert 0.3 < digital < 0.45
    assert 0.10 < share("manufacturing") < 0.17
    assert 0.10 < share("wholesale") < 0.17
    # the table's weights are a probability distribution over level-4 classes only
    table = industry_table()
    assert abs(table.weight.sum() - 1) < 1e-9
    assert all(len(c) == 4 for c in table.codes)


def test_towns_addresses_and_dates(pop, district, timeline):
    towns = {t.code: t.name for t in district.towns}
    assert set(pop.town_code) <= set(towns)
    for code, address in zip(pop.town_code[:1000], pop.address[:1000]):
        assert address.startswith(district.full_name + towns[code])
    assert (pop.founded <= timeline.as_of_date).all()
    assert (pop.founded >= np.datetime64("1993-01-01")).all()
    # firms closed before the horizon: deregistered, dated after founding and before the horizon
    inert = pop.inert
    assert inert.any()
    assert (pop.status[inert] == DEREGISTERED).all()
    assert (pop.status_date[inert] > pop.founded[inert]).all()
    assert (pop.last_month[inert] < timeline.start).all()


def test_sizes_are_long_tailed_and_consistent(pop):
    emp, rev = pop.employees.astype(float), pop.revenue
    assert np.median(emp) <= 10 and emp.max() >= 200  # many micro firms, a few large ones
    top = np.sort(rev)[::-1]
    assert top[: N // 100].sum() / top.sum() > 0.25  # the top 1 % hold a quarter of revenue
    assert np.corrcoef(np.log(emp), np.log(rev))[0, 1] > 0.6
    # revenue per employee within 5 log-sigmas of the sector median (dormant firms at 0.15×)
    med = sector_array("revenue_per_employee")[pop.sector]
    sig = sector_array("revenue_sigma")[pop.sector]
    z = np.log(rev / emp / med) / sig
    assert ((z > -5 - np.log(1 / 0.15 / 0.6) / sig) & (z < 5)).mean() > 0.999
    assets = rev * pop.assets_ratio
    ratio = np.log(assets / rev / sector_array("asset_ratio")[pop.sector])
    assert (np.abs(ratio) < 5 * 0.5).all()


def test_registered_capital_is_a_round_step():
    steps = nearest_step(np.array([0.2, 4.2, 95, 130, 700, 2e6]))
    assert list(steps) == [1, 5, 100, 100, 800, 100000]


def test_quarterly_filers_are_small_scale_taxpayers(pop):
    assert (pop.revenue[pop.quarterly_tax] < 500).all()
    assert pop.quarterly_tax.mean() > 0.3
