"""Enterprise size by 统计上大中小微型企业划分办法(2017): boundary tests on every sector row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shengxin.errors import InvalidInput, NotFound
from shengxin.reference import industries
from shengxin.reference.size import (
    Measure,
    SizeClass,
    assess_size,
    classify_size,
    decimal_amount,
    format_amount,
    load_size_standard,
    size_sector,
)

E, R, A = Measure.EMPLOYEES, Measure.REVENUE, Measure.ASSETS
LARGE, MEDIUM, SMALL, MICRO = SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO
TIERS = (LARGE, MEDIUM, SMALL)
BELOW = {LARGE: MEDIUM, MEDIUM: SMALL, SMALL: MICRO}

# The standard's table, typed in from the NBS 2017 text (not read from the CSV), with one
# representative class per sector: sector → (class code, {measure: (large, medium, small)}).
STANDARD = {
    "农林牧渔业": ("0111", {R: (20000, 500, 50)}),
    "工业": ("3911", {E: (1000, 300, 20), R: (40000, 2000, 300)}),
    "建筑业": ("4710", {R: (80000, 6000, 300), A: (80000, 5000, 300)}),
    "批发业": ("5191", {E: (200, 20, 5), R: (40000, 5000, 1000)}),
    "零售业": ("5211", {E: (300, 50, 10), R: (20000, 500, 100)}),
    "交通运输业(不含铁路)": ("5411", {E: (1000, 300, 20), R: (30000, 3000, 200)}),
    "仓储业": ("5910", {E: (200, 100, 20), R: (30000, 1000, 100)}),
    "邮政业": ("6010", {E: (1000, 300, 20), R: (30000, 2000, 100)}),
    "住宿业": ("6110", {E: (300, 100, 10), R: (10000, 2000, 100)}),
    "餐饮业": ("6210", {E: (300, 100, 10), R: (10000, 2000, 100)}),
    "信息传输业": ("6311", {E: (2000, 100, 10), R: (100000, 1000, 100)}),
    "软件和信息技术服务业": ("6511", {E: (300, 100, 10), R: (10000, 1000, 50)}),
    "房地产开发经营": ("7010", {R: (200000, 1000, 100), A: (10000, 5000, 2000)}),
    "物业管理": ("7020", {E: (1000, 300, 100), R: (5000, 1000, 500)}),
    "租赁和商务服务业": ("7111", {E: (300, 100, 10), A: (120000, 8000, 100)}),
    "其他未列明行业": ("7310", {E: (300, 100, 10)}),
}


def step(measure: Measure) -> Decimal:
    """The smallest step below a bound: one person, or 0.01万元 (one hundred yuan)."""
    return Decimal(1) if measure is E else Decimal("0.01")


def measures_at(bounds: dict, tier: SizeClass) -> dict:
    """Every measure exactly at ``tier``'s lower bound, as keyword arguments."""
    i = TIERS.index(tier)
    values = {E: None, R: None, A: None}
    for measure, triple in bounds.items():
        values[measure] = triple[i] if measure is E else Decimal(triple[i])
    return {"employees": values[E], "revenue": values[R], "assets": values[A]}


CASES = [
    pytest.param(sector, code, bounds, tier, id=f"{sector}-{tier.value}")
    for sector, (code, bounds) in STANDARD.items()
    for tier in TIERS
]


def test_packaged_table_is_the_standard():
    loaded = {
        s.name: {b.measure: (b.large, b.medium, b.small) for b in s.bounds}
        for s in load_size_standard().sectors
    }
    expected = {
        name: {m: tuple(Decimal(v) for v in t) for m, t in bounds.items()}
        for name, (_, bounds) in STANDARD.items()
    }
    assert loaded == expected


@pytest.mark.parametrize(("sector", "code", "bounds", "tier"), CASES)
def test_exactly_at_every_bound_of_a_tier_is_that_tier(sector, code, bounds, tier):
    assert size_sector(code).name == sector
    assert classify_size(code, **measures_at(bounds, tier)) is tier


@pytest.mark.parametrize(("sector", "code", "bounds", "tier"), CASES)
def test_one_step_below_any_bound_drops_a_tier(sector, code, bounds, tier):
    for measure in bounds:
        kwargs = measures_at(bounds, tier)
        kwargs[measure.key] -= step(measure)
        assert classify_size(code, **kwargs) is BELOW[tier], (measure, kwargs)


@pytest.mark.parametrize(("sector", "code", "bounds"), [(s, c, b) for s, (c, b) in STANDARD.items()])
def test_far_above_is_large_and_zero_is_micro(sector, code, bounds):
    huge = {"employees": 10**6, "revenue": Decimal(10**9), "assets": Decimal(10**9)}
    assert classify_size(code, **huge) is LARGE
    assert classify_size(code, employees=0, revenue=Decimal(0), assets=Decimal(0)) is MICRO


def test_issue_example_industrial_300_staff_1999_wan_is_small_not_medium():
    result = assess_size("3911", 300, Decimal("1999"), None)
    assert result.size is SMALL
    assert result.size.label == "小型"
    assert "营业收入1999万元，达小型标准（中型下限2000万元）" in result.explanation
    assert result.explanation.endswith("→ 小型")


def test_the_lowest_measure_decides():
    assert classify_size("C", 5000, Decimal(2000), None) is MEDIUM
    assert classify_size("C", 300, Decimal(10**6), None) is MEDIUM
    assert classify_size("C", 19, Decimal(10**6), None) is MICRO


def test_measures_a_sector_does_not_list_are_ignored():
    # Agriculture is classified on revenue only; construction on revenue and assets.
    assert classify_size("0111", None, Decimal(500), None) is MEDIUM
    assert classify_size("0111", 1, Decimal(20000), Decimal(0)) is LARGE
    assert classify_size("4710", 0, Decimal(80000), Decimal(80000)) is LARGE


def test_labels_and_ranks():
    assert [s.label for s in SizeClass] == ["大型", "中型", "小型", "微型"]
    assert [s.value for s in SizeClass] == ["large", "medium", "small", "micro"]
    assert sorted(SizeClass, key=lambda s: s.rank) == [MICRO, SMALL, MEDIUM, LARGE]


# --- missing measures -----------------------------------------------------------------------


def test_missing_needed_measure_raises_naming_it():
    with pytest.raises(InvalidInput, match=r"without revenue \(营业收入\)"):
        classify_size("3911", 300, None, None)
    with pytest.raises(InvalidInput, match=r"revenue \(营业收入\), assets \(资产总额\)"):
        classify_size("E", None, None, None)
    with pytest.raises(InvalidInput, match="employees"):
        classify_size("7310", None, Decimal(10**6), Decimal(10**6))


def test_missing_measure_is_fine_when_a_known_one_already_makes_it_micro():
    # Micro needs only one measure below the small bound, so the missing value cannot matter.
    result = assess_size("3911", 19, None, None)
    assert result.size is MICRO
    assert "营业收入缺失" in result.explanation
    assert classify_size("7010", None, Decimal("99.99"), None) is MICRO


# --- sector resolution ----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["B", "C", "D", "06", "39", "391", "3911", "4411"])
def test_industry_at_any_level_resolves_to_industry_sector(code):
    assert size_sector(code).name == "工业"


@pytest.mark.parametrize(
    ("code", "sector"),
    [
        ("701", "房地产开发经营"),
        ("7010", "房地产开发经营"),
        ("7020", "物业管理"),
        ("7030", "其他未列明行业"),
        ("53", "其他未列明行业"),  # railway is outside 交通运输业(不含铁路)
        ("54", "交通运输业(不含铁路)"),
        ("J", "其他未列明行业"),  # the CSV's catch-all row covers every unlisted code
        ("05", "农林牧渔业"),
        ("A", "农林牧渔业"),
    ],
)
def test_sector_of_specific_codes(code, sector):
    assert size_sector(code).name == sector


@pytest.mark.parametrize("code", ["70", "K", "G", "F", "I"])
def test_codes_spanning_several_sectors_are_refused_naming_the_code(code):
    with pytest.raises(InvalidInput, match=f"'{code}'.*more specific"):
        classify_size(code, 100, Decimal(100), Decimal(100))


def test_unknown_and_malformed_industry_codes():
    with pytest.raises(NotFound):
        classify_size("9999", 1, 1, 1)
    with pytest.raises(InvalidInput):
        classify_size("39x", 1, 1, 1)


def test_every_class_has_exactly_one_sector():
    mapping = load_size_standard().sector_of_class
    assert set(mapping) == {c.code for c in industries.industries(industries.Level.CLASS)}
    industrial = {c for c, s in mapping.items() if s.name == "工业"}
    assert industrial == industries.class_codes_under(["B", "C", "D"])


# --- numbers --------------------------------------------------------------------------------


def test_floats_are_compared_by_their_decimal_repr():
    assert classify_size("3911", 300, 2000.0, None) is MEDIUM
    assert classify_size("3911", 300, 1999.99, None) is SMALL
    # 0.1 + 0.2 is 0.30000000000000004 in binary; its repr goes through exactly.
    assert decimal_amount(0.1 + 0.2, "x") == Decimal("0.30000000000000004")
    assert decimal_amount(1999.99, "x") == Decimal("1999.99")


def test_ints_strings_and_decimals_are_accepted():
    assert classify_size("3911", Decimal(300), "2,000", 0) is MEDIUM
    assert classify_size("3911", 300, 2000, None) is MEDIUM
    assert classify_size("3911", 300, Decimal("1999.999999"), None) is SMALL


@pytest.mark.parametrize(
    ("employees", "revenue", "match"),
    [
        (-1, Decimal(1), "employees.*negative"),
        (Decimal("300.5"), Decimal(1), "employees.*whole number"),
        (300, Decimal(-1), "revenue.*negative"),
        (300, float("nan"), "revenue.*finite"),
        (300, float("inf"), "revenue.*finite"),
        (300, Decimal("NaN"), "revenue.*finite"),
        (300, "abc", "revenue.*number"),
        (300, True, "revenue.*number"),
        (300, [1], "revenue.*number"),
        (True, Decimal(1), "employees.*number"),
    ],
)
def test_bad_numbers_raise_invalid_input_naming_the_measure(employees, revenue, match):
    with pytest.raises(InvalidInput, match=match):
        classify_size("3911", employees, revenue, None)


def test_format_amount():
    assert format_amount(Decimal("2E+3")) == "2000"
    assert format_amount(Decimal("1999.50")) == "1999.5"
    assert format_amount(Decimal("300")) == "300"


# --- properties -----------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
sector_codes = st.sampled_from([code for code, _ in STANDARD.values()])


@given(sector_codes, st.integers(0, 10**5), amounts, amounts, st.sampled_from(list(Measure)), amounts)
def test_raising_a_measure_never_lowers_the_size(code, employees, revenue, assets, measure, extra):
    before = classify_size(code, employees, revenue, assets)
    values = {"employees": employees, "revenue": revenue, "assets": assets}
    values[measure.key] += int(extra) if measure is E else extra
    after = classify_size(code, **values)
    assert after.rank >= before.rank


@given(sector_codes, st.integers(0, 10**5), amounts, amounts)
def test_size_is_the_lowest_per_measure_tier(code, employees, revenue, assets):
    result = assess_size(code, employees, revenue, assets)
    assert result.size.rank == min(f.tier.rank for f in result.findings)
