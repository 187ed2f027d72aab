"""Statistical survey scopes (规上 / 限上 / 资质等级): boundary tests on every row of the table."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shengxin.errors import InvalidInput, NotFound
from shengxin.reference import industries
from shengxin.reference.scope import (
    CONSTRUCTION_QUALIFICATION,
    DEVELOPMENT_QUALIFICATION,
    load_scope_table,
    scope_rule,
    scope_threshold,
    statistical_scope,
)

CENT = Decimal("0.01")  # 0.01万元 = 100 yuan

# The NBS rules typed in independently of the CSV: (scope, industry spec, threshold in 万元, codes to
# try — one or more classes under the spec, and the spec's own codes at other levels).
REVENUE_RULES = [
    ("规模以上工业", "B C D", 2000, ["0610", "3911", "4411", "B", "C", "D", "39"]),
    ("限额以上批发业", "51", 2000, ["5191", "51", "511"]),
    ("限额以上零售业", "52", 500, ["5211", "52"]),
    ("限额以上住宿业", "61", 200, ["6110", "61"]),
    ("限额以上餐饮业", "62", 200, ["6210", "62"]),
    ("规模以上服务业", "G (53-60)", 2000, ["5311", "5411", "5910", "6010", "G"]),
    ("规模以上服务业", "I (63-65)", 2000, ["6311", "6511", "I"]),
    ("规模以上服务业", "N (76-79)", 2000, ["7610", "N"]),
    ("规模以上服务业", "84", 2000, ["8411", "84"]),
    ("规模以上服务业", "L (71-72)", 1000, ["7111", "L"]),
    ("规模以上服务业", "M (73-75)", 1000, ["7310", "M"]),
    ("规模以上服务业", "P (83)", 1000, ["8310", "P"]),
    ("规模以上服务业", "7020 7030 7040 7090", 1000, ["7020", "7030", "7040", "7090", "702"]),
    ("规模以上服务业", "O (80-82)", 500, ["8010", "O"]),
    ("规模以上服务业", "R (86-90)", 500, ["8610", "R"]),
    ("规模以上服务业", "85", 500, ["8511", "85"]),
]
QUALIFICATION_RULES = [
    ("资质等级建筑业", "E", CONSTRUCTION_QUALIFICATION, ["4710", "47", "E"]),
    ("房地产开发经营业", "7010", DEVELOPMENT_QUALIFICATION, ["7010", "701"]),
]

REVENUE_CASES = [
    pytest.param(name, threshold, code, id=f"{spec}-{code}")
    for name, spec, threshold, code_list in REVENUE_RULES
    for code in code_list
]
QUALIFICATION_CASES = [
    pytest.param(name, qualification, code, id=f"{spec}-{code}")
    for name, spec, qualification, code_list in QUALIFICATION_RULES
    for code in code_list
]


def test_packaged_table_is_the_nbs_rule_set():
    loaded = [(r.name, r.spec, r.threshold, r.qualification) for r in load_scope_table().rules]
    expected = [(n, s, Decimal(t), None) for n, s, t, _ in REVENUE_RULES] + [
        (n, s, None, q) for n, s, q, _ in QUALIFICATION_RULES
    ]
    assert sorted(loaded, key=str) == sorted(expected, key=str)


# --- revenue rules: every row, at the threshold and one cent below ---------------------------


@pytest.mark.parametrize(("name", "threshold", "code"), REVENUE_CASES)
def test_at_the_threshold_is_in_scope(name, threshold, code):
    result = statistical_scope(code, Decimal(threshold))
    assert result is not None
    assert (result.name, result.threshold, result.qualification) == (name, Decimal(threshold), None)
    assert result.revenue == Decimal(threshold)


@pytest.mark.parametrize(("name", "threshold", "code"), REVENUE_CASES)
def test_one_cent_below_the_threshold_is_not_in_scope(name, threshold, code):
    assert statistical_scope(code, Decimal(threshold) - CENT) is None


@pytest.mark.parametrize(("name", "threshold", "code"), REVENUE_CASES)
def test_scope_threshold_is_the_rows_threshold(name, threshold, code):
    assert scope_threshold(code) == Decimal(threshold)
    assert scope_rule(code).name == name


@pytest.mark.parametrize(("name", "threshold", "code"), REVENUE_CASES)
def test_a_qualification_does_not_replace_revenue(name, threshold, code):
    held = {CONSTRUCTION_QUALIFICATION, DEVELOPMENT_QUALIFICATION}
    assert statistical_scope(code, Decimal(threshold) - CENT, held) is None


def test_explanation_names_revenue_scope_and_threshold():
    result = statistical_scope("3911", Decimal("2500.5"))
    assert result.explanation == "年主营业务收入2500.5万元，达到规模以上工业标准（2000万元及以上）"
    assert statistical_scope("7310", Decimal(1000)).explanation.startswith("年营业收入1000万元")
    assert scope_rule("52").describe() == "限额以上零售业：年主营业务收入500万元及以上"


# --- qualification rules --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "qualification", "code"), QUALIFICATION_CASES)
def test_holding_the_qualification_is_in_scope_whatever_the_revenue(name, qualification, code):
    for revenue in (None, Decimal(0), Decimal(10**6)):
        result = statistical_scope(code, revenue, frozenset({qualification}))
        assert result is not None
        assert (result.name, result.qualification, result.threshold) == (name, qualification, None)


@pytest.mark.parametrize(("name", "qualification", "code"), QUALIFICATION_CASES)
def test_without_the_qualification_is_not_in_scope_even_with_large_revenue(name, qualification, code):
    assert statistical_scope(code, Decimal(10**6)) is None
    other = ({CONSTRUCTION_QUALIFICATION, DEVELOPMENT_QUALIFICATION} - {qualification})
    assert statistical_scope(code, Decimal(10**6), other) is None
    assert scope_threshold(code) is None
    assert scope_rule(code).qualification == qualification


def test_qualification_explanation():
    assert statistical_scope("4710", None, {CONSTRUCTION_QUALIFICATION}).explanation == (
        "具有建筑业资质，属于资质等级建筑业"
    )


# --- industries with no scope, ambiguous codes, bad input -----------------------------------


@pytest.mark.parametrize("code", ["0111", "A", "05", "6621", "J", "9100", "S", "9700", "T"])
def test_industries_without_a_scope(code):
    assert scope_rule(code) is None
    assert scope_threshold(code) is None
    assert statistical_scope(code, Decimal(10**7)) is None


@pytest.mark.parametrize("code", ["70", "K", "F", "Q", "H"])
def test_codes_spanning_different_rules_are_refused_naming_the_code(code):
    with pytest.raises(InvalidInput, match=f"'{code}'.*more specific"):
        scope_threshold(code)
    with pytest.raises(InvalidInput, match=f"'{code}'"):
        statistical_scope(code, Decimal(10**6))


def test_every_class_has_at_most_one_rule_and_the_expected_coverage():
    mapping = load_scope_table().rule_of_class
    assert len(mapping) == 1381
    uncovered = {c for c, r in mapping.items() if r is None}
    assert uncovered == industries.class_codes_under(["A", "J", "S", "T"])


def test_missing_revenue_for_a_revenue_rule_names_the_measure():
    with pytest.raises(InvalidInput, match="main_business_revenue.*主营业务收入"):
        statistical_scope("3911", None)
    with pytest.raises(InvalidInput, match=r"revenue \(营业收入"):
        statistical_scope("7310", None)


def test_float_revenue_is_compared_exactly():
    assert statistical_scope("3911", 2000.0) is not None
    assert statistical_scope("3911", 1999.99) is None
    assert statistical_scope("5211", "500") is not None


@pytest.mark.parametrize("revenue", [Decimal(-1), float("nan"), "lots"])
def test_bad_revenue_is_refused(revenue):
    with pytest.raises(InvalidInput, match="revenue"):
        statistical_scope("3911", revenue)


def test_unknown_qualifications_are_refused_not_ignored():
    with pytest.raises(InvalidInput, match="'construction_qualificaton'"):
        statistical_scope("4710", None, {"construction_qualificaton"})
    with pytest.raises(InvalidInput, match="set of names"):
        statistical_scope("4710", None, CONSTRUCTION_QUALIFICATION)


def test_unknown_industry_code():
    with pytest.raises(NotFound, match="'9999'"):
        statistical_scope("9999", Decimal(1))
