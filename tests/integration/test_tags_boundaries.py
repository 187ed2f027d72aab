"""Size and statistical-scope tags on their boundary values, checked against the reference
functions of ``shengxin.reference`` (the 2017 size standard, the scope thresholds)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.engine import backend
from shengxin.engine.evaluate import Facts, FactsEnv, evaluate
from shengxin.enterprises.uscc import make_code
from shengxin.reference.district import load_district
from shengxin.reference.scope import statistical_scope
from shengxin.reference.size import classify_size
from shengxin.tags.catalogue import compile_at, load_shipped
from shengxin.tags.compute import plan_for
from tests.integration.test_tags_population import arrow_tables

AS_OF = dt.date(2026, 10, 31)
WAN = 1_000_000
SIZE_TAGS = {"large": "size.large", "medium": "size.medium", "small": "size.small", "micro": "size.micro"}


def firm(i: int, industry: str, employees=None, revenue_wan=None, assets_wan=None, monthly_revenue=None,
         survey=None) -> Facts:
    uscc = make_code("9", "1", "330110", f"B{i:07d}Y"[:9])
    facts = Facts({"uscc": uscc, "industry_code": industry, "town_code": "330110005", "status": "active",
                   "established_on": dt.date(2015, 1, 1)}, {})
    fen = lambda wan: None if wan is None else int(Decimal(str(wan)) * WAN)  # noqa: E731
    facts.tables["annual_finance"] = [{"uscc": uscc, "year": 2025, "employees": employees, "revenue_fen": fen(revenue_wan),
                                       "assets_fen": fen(assets_wan), "rd_expense_fen": 0}]
    if monthly_revenue is not None:
        now, before = monthly_revenue
        rows = []
        for k in range(24):
            month = dt.date(2026, 10, 1)
            y, m = divmod(month.year * 12 + month.month - 1 - k, 12)
            rows.append({"uscc": uscc, "month": dt.date(y, m + 1, 1), "revenue_fen": now[k] if k < 12 else before[k - 12],
                         "tax_fen": 0})
        facts.tables["monthly_tax"] = rows
    if survey:
        facts.tables["survey_list"] = [{"uscc": uscc, "scope": survey, "included_month": dt.date(2024, 1, 1)}]
    return facts


def run(population: list[Facts], tag_ids: list[str]) -> dict[str, set[str]]:
    district = load_district(DEFAULT_DISTRICT_FILE)
    compiled, _ = compile_at(load_shipped(district), AS_OF, district)
    selected = {k: v for k, v in compiled.items() if k in tag_ids}
    con = duckdb.connect()
    for name, table in arrow_tables(population).items():
        con.register(name, table)
    sparse, _ = backend.run(con, plan_for(selected, AS_OF))
    held: dict[str, set[str]] = {f.uscc: set() for f in population}
    for u, t in zip(sparse.column("uscc").to_pylist(), sparse.column("tag_id").to_pylist()):
        held[u].add(t)
    for f in population:  # the evaluator agrees with the SQL on every case
        env = FactsEnv(f, AS_OF, population)
        assert {k for k, t in selected.items() if evaluate(t.condition, env) is True} == held[f.uscc], f.enterprise
    return held


# (industry, employees, revenue 万元, assets 万元)
SIZE_CASES = [
    ("3911", 20, 300, None), ("3911", 19, 300, None), ("3911", 20, 299.99, None), ("3911", 300, 2000, None),
    ("3911", 299, 2000, None), ("3911", 300, 1999.99, None), ("3911", 1000, 40000, None), ("3911", 999, 40000, None),
    ("3911", 1000, 39999.99, None), ("3911", None, 100, None), ("3911", None, 5000, None), ("3911", 5, None, None),
    ("5111", 5, 1000, None), ("5111", 4, 5000, None), ("5111", 20, 5000, None), ("5111", 200, 40000, None),
    ("5211", 10, 100, None), ("5211", 50, 500, None), ("5211", 300, 20000, None), ("5211", 299, 20000, None),
    ("4710", None, 300, 300), ("4710", None, 6000, 5000), ("4710", None, 6000, 4999.99), ("4710", None, 80000, 80000),
    ("4710", None, 6000, None), ("4710", None, 299, None),
    ("6511", 10, 50, None), ("6511", 100, 1000, None), ("6511", 300, 10000, None), ("6511", 9, 10000, None),
    ("7010", None, 100, 2000), ("7010", None, 1000, 5000), ("7010", None, 200000, 10000), ("7010", None, 1000, 1999.99),
    ("7211", 10, None, 100), ("7211", 100, None, 8000), ("7211", 300, None, 120000), ("7211", 300, None, 119999.99),
    ("7340", 10, None, None), ("7340", 100, None, None), ("7340", 300, None, None), ("7340", 9, None, None),
]


def test_size_tags_on_the_bounds_of_the_2017_standard():
    population = [firm(i, *case) for i, case in enumerate(SIZE_CASES)]
    held = run(population, list(SIZE_TAGS.values()) + ["size.undetermined"])
    for f, (industry, employees, revenue, assets) in zip(population, SIZE_CASES):
        try:
            expected = classify_size(industry, employees, None if revenue is None else Decimal(str(revenue)),
                                     None if assets is None else Decimal(str(assets))).value
        except Exception:  # the standard cannot decide without a measure it needs
            expected = None
        got = {t for t in held[f.uscc] if t in SIZE_TAGS.values()}
        assert got == ({SIZE_TAGS[expected]} if expected else set()), (industry, employees, revenue, assets)
        assert ("size.undetermined" in held[f.uscc]) == (expected is None), (industry, employees, revenue, assets)


SCOPE_CASES = [  # (industry, annual revenue 万元) — reached_* tags follow statistical_scope()
    ("3911", 2000), ("3911", 1999.99), ("5111", 2000), ("5111", 1999.99), ("5211", 500), ("5211", 499.99),
    ("6110", 200), ("6110", 199.99), ("6210", 200), ("6511", 2000), ("6511", 1999.99), ("7211", 1000),
    ("7211", 999.99), ("8010", 500), ("8010", 499.99), ("4710", 100000), ("7010", 100000), ("0111", 100000),
]
SCOPE_TAGS = {"规模以上工业": "scope.reached_industry", "限额以上批发业": "scope.reached_wholesale",
              "限额以上零售业": "scope.reached_retail", "限额以上住宿业": "scope.reached_accommodation_catering",
              "限额以上餐饮业": "scope.reached_accommodation_catering", "规模以上服务业": "scope.reached_services"}


def test_scope_reached_tags_on_the_thresholds():
    population = [firm(100 + i, industry, 10, revenue, 1000) for i, (industry, revenue) in enumerate(SCOPE_CASES)]
    held = run(population, sorted(set(SCOPE_TAGS.values())))
    for f, (industry, revenue) in zip(population, SCOPE_CASES):
        result = statistical_scope(industry, Decimal(str(revenue)))
        expected = {SCOPE_TAGS[result.name]} if result is not None and result.name in SCOPE_TAGS else set()
        assert held[f.uscc] == expected, (industry, revenue)


def _near_case(i: int, industry: str, threshold_wan: int, now_share: str, growth: str, survey=None) -> Facts:
    """12 monthly revenues summing to exactly share × threshold, the 12 before to sum/(1+growth)."""
    now_total = int(Decimal(threshold_wan) * WAN * Decimal(now_share))
    before_total = int(Decimal(now_total) / (1 + Decimal(growth)))
    spread = lambda total: [total // 12] * 11 + [total - 11 * (total // 12)]  # noqa: E731
    return firm(i, industry, 10, 10, 10, (spread(now_total), spread(before_total)), survey)


@pytest.mark.parametrize("industry,threshold,tag,survey_scope", [
    ("3911", 2000, "scope.near_industry", "industry"), ("5111", 2000, "scope.near_wholesale", "wholesale"),
    ("5211", 500, "scope.near_retail", "retail"), ("6210", 200, "scope.near_accommodation_catering", "catering"),
    ("6511", 2000, "scope.near_services", "services"), ("7211", 1000, "scope.near_services", "services"),
])
def test_near_the_threshold_means_80_percent_and_growing(industry, threshold, tag, survey_scope):
    cases = [  # (share of the threshold, growth, already listed, expected)
        ("0.8", "0.1", None, True), ("0.79999", "0.1", None, False), ("0.99999", "0.1", None, True),
        ("1", "0.1", None, False), ("0.9", "0", None, False), ("0.9", "-0.1", None, False),
        ("0.9", "0.1", survey_scope, False),
    ]
    population = [_near_case(200 + i, industry, threshold, share, growth, survey)
                  for i, (share, growth, survey, _) in enumerate(cases)]
    held = run(population, [tag, "scope.near_any"])
    for f, (share, growth, survey, expected) in zip(population, cases):
        assert (tag in held[f.uscc]) == expected, (share, growth, survey)
        assert ("scope.near_any" in held[f.uscc]) == expected
