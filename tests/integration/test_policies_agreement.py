"""One rule, three outputs that agree: on random enterprises and random policies, the
single-enterprise evaluator, the policy's own SQL (DuckDB) and the bulk matcher (SQL condition
matrix + vectorised combiner) give the same status, amount and per-condition masks.

Random policies are drawn from the rule language itself (comparisons, in, between, under,
dates relative to the as-of date, window aggregates, each_year, thresholds by band, nested
all/any/not, application inputs) and random amounts (fixed, rate × base, per unit, band and
progressive tiers, sums, choose, when, floor/cap, rounding, caps with earlier payments).
Random enterprises come from the engine tests' population generator (boundary dates, missing
data, inactive firms, data after the as-of date) plus random application inputs.
"""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shengxin.engine.evaluate import FactsEnv
from shengxin.policies import bulk
from shengxin.policies import sql as Q
from shengxin.policies.compile import compile_policy
from shengxin.policies.context import Tags
from shengxin.policies.definition import parse_policy
from shengxin.policies.errors import PolicyInvalid
from shengxin.policies.evaluate import CachedEnv, answer, outcome
from shengxin.policies.facts import register_facts
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.reference.district import load_district
from tests.integration.test_tags_population import AS_OF, TOWNS, make_population

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)
WAN = [-5, 0, 1, 10, 50, 100, 500, 2000, 10000]

NUMERIC = [
    ("annual.revenue", "money"), ("annual.rd_expense", "money"), ("annual.employees", "people"),
    ("annual.rd_expense / annual.revenue", "ratio"), ("sum(revenue, months=12)", "money"),
    ("sum(tax, months=3)", "money"), ("growth(revenue, months=12)", "ratio"), ("growth(tax, months=6)", "ratio"),
    ("latest(headcount, months=3)", "people"), ("count(ip_rights, kind='invention_patent')", "count"),
    ("count(certifications, months=24)", "count"), ("registered_capital", "money"), ("input.hires", "people"),
    ("coalesce(sum(revenue, months=12, offset=12), 0元)", "money"), ("years_since(established_on)", "years"),
]
MONEY_BASES = ["annual.revenue", "sum(tax, months=12)", "annual.rd_expense", "registered_capital",
               "sum(revenue, months=12) - sum(revenue, months=12, offset=12)", "input.investment"]
COUNT_BASES = ["count(ip_rights, months=36)", "input.hires", "latest(headcount, months=3)"]
CONDITION_EXPRS = ["has(certifications, kind='high_tech', active=true)", "has(dishonesty_list, active=true)",
                   "size_class = 'small'", "industry under ['C', '65']", "input.graduate"]


def value(kind: str, n: int) -> str:
    return {"money": f"{n}万元", "people": f"{abs(n)}人", "ratio": f"{n}%", "count": str(abs(n)),
            "years": f"{abs(n) % 30}年"}[kind]


@st.composite
def conditions(draw, depth: int = 2) -> dict:
    choice = draw(st.integers(0, 9 if depth else 7))
    if choice >= 8:
        kind = draw(st.sampled_from(["any", "not", "all"]))
        if kind == "not":
            return {"not": draw(conditions(depth - 1))}
        return {kind: draw(st.lists(conditions(depth - 1), min_size=1, max_size=3))}
    if choice <= 3:
        field, kind = draw(st.sampled_from(NUMERIC))
        op = draw(st.sampled_from([">", ">=", "<", "<=", "=", "!=", "between", "bands"]))
        n = draw(st.sampled_from(WAN))
        cond: dict = {"field": field}
        if op == "between":
            m = draw(st.sampled_from(WAN))
            lo, hi = sorted([n, m])
            cond.update(op="between", value=[value(kind, lo), value(kind, hi)])
            if kind in ("people", "count", "years"):
                a, b = sorted([abs(lo), abs(hi)])
                cond["value"] = [value(kind, a), value(kind, b)]
        elif op == "bands":
            cond.update(op=draw(st.sampled_from([">=", "<"])), value_by={"field": "annual.revenue", "bands": [
                {"below": "1000万元", "value": value(kind, n)}, {"below": "1亿元", "value": value(kind, n + 1)},
                {"value": value(kind, n + 2)}]})
        else:
            cond.update(op=op, value=value(kind, n))
        if "revenue, months" in field or "tax, months" in field:
            if draw(st.integers(0, 3)) == 0 and op not in ("bands",):
                cond["each_year"] = 2
        if draw(st.integers(0, 4)) == 0:
            cond["near_miss"] = draw(st.booleans())
        return cond
    if choice == 4:
        return {"field": "industry", "op": draw(st.sampled_from(["under", "not under"])),
                "value": draw(st.sampled_from(["C", "65", ["C", "I"], "391", "3911", "F"]))}
    if choice == 5:
        return {"field": "town", "op": draw(st.sampled_from(["in", "not in"])),
                "value": draw(st.lists(st.sampled_from(TOWNS[:6]), min_size=1, max_size=3, unique=True))}
    if choice == 6:
        return {"field": "established_on", "op": draw(st.sampled_from(["at_least_ago", "within_last"])),
                "value": draw(st.sampled_from(["1年", "3年", "6个月", "10年"]))}
    return {"field": draw(st.sampled_from(CONDITION_EXPRS)), "op": draw(st.sampled_from(["is_true", "is_false"]))}


@st.composite
def amounts(draw, depth: int = 2):
    kind = draw(st.integers(0, 8 if depth else 3))
    if kind == 0:
        spec = {"fixed": f"{draw(st.sampled_from(['0.01元', '1元', '3.33元', '5000元', '20万元']))}"}
    elif kind == 1:
        spec = {"rate": draw(st.sampled_from(["1%", "2.5%", "12.34%", "0.05%", "33%"])),
                "base": draw(st.sampled_from(MONEY_BASES))}
    elif kind == 2:
        units = draw(st.sampled_from(COUNT_BASES + ["annual.revenue"]))
        spec = {"per_unit": draw(st.sampled_from(["1500元", "0.5元", "10万元"])), "units": units}
        if units == "annual.revenue":
            spec["per"] = "1000万元"
    elif kind == 3:
        spec = {"tiers": {"by": draw(st.sampled_from(["annual.employees", "annual.rd_expense / annual.revenue"])),
                          "bands": [{"below": draw(st.sampled_from(["20人", "3%"])), "amount": "1万元"},
                                    {"amount": draw(amounts(0))}]}}
        if "/" in spec["tiers"]["by"]:
            spec["tiers"]["bands"][0]["below"] = "3%"
        else:
            spec["tiers"]["bands"][0]["below"] = "20人"
    elif kind == 4:
        spec = {"tiers": {"by": "annual.revenue", "mode": "progressive", "bands": [
            {"below": "1000万元", "rate": "1%"}, {"below": "5000万元", "rate": "0.5%"}, {"rate": "0.25%"}]}}
    elif kind == 5:
        spec = {"sum": draw(st.lists(amounts(depth - 1), min_size=1, max_size=3))}
    elif kind == 6:
        spec = {"choose": [{"when": draw(st.sampled_from(CONDITION_EXPRS)), "amount": draw(amounts(depth - 1))},
                           {"otherwise": draw(amounts(depth - 1))}]}
    elif kind == 7:
        spec = dict(draw(amounts(depth - 1)))
        spec["when"] = draw(st.sampled_from(CONDITION_EXPRS))
    else:
        spec = dict(draw(amounts(depth - 1)))
    if kind in (1, 2, 4, 8) or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            spec["min"] = "100元"
        if draw(st.booleans()):
            spec["max"] = draw(st.sampled_from(["5万元", "100万元"]))
        if draw(st.booleans()):
            spec["round"] = {"unit": draw(st.sampled_from(["1元", "100元", "0.03元"])),
                             "mode": draw(st.sampled_from(["floor", "half_up", "ceil"]))}
            if spec["round"]["unit"] == "0.03元":
                spec["round"]["unit"] = "3分"
    return spec


@st.composite
def policies(draw, index: int = 0) -> dict:
    items = draw(st.lists(conditions(), min_size=1, max_size=4))
    data = {"id": f"P{index}", "title": "随机政策", "issuer": "测试", "level": "district", "department": "jxj",
            "legal_basis": {"document": "测试文件"}, "valid_from": "2020-01-01", "delivery": "ordinary",
            "inputs": {"hires": {"type": "number", "unit": "人", "label": "招用人数"},
                       "investment": {"type": "number", "unit": "元", "label": "投资额"},
                       "graduate": {"type": "bool", "label": "毕业生创办"}},
            "near_miss_margin": draw(st.sampled_from(["0%", "20%", "50%"])), "eligibility": {"all": items}}
    if draw(st.integers(0, 4)):
        data["amount"] = draw(amounts())
    caps = {}
    if draw(st.integers(0, 3)) == 0:
        caps["per_enterprise"] = "50万元"
    if draw(st.integers(0, 3)) == 0:
        caps["per_year"] = "10万元"
    if caps:
        data["caps"] = caps
    return data


def _compile(data: dict):
    try:
        return compile_policy(parse_policy(data), DISTRICT, Tags())
    except PolicyInvalid:
        return None


def _population(seed: int, n: int):
    population = make_population(n, seed=seed)
    rng = random.Random(seed)
    paid = {}
    for f in population:
        e = f.enterprise
        e["input_hires"] = rng.choice([None, 0, 1, 3, 40])
        e["input_investment"] = rng.choice([None, 0, 99_999, 5_000_000_00, 123_456_789])
        e["input_graduate"] = rng.choice([None, True, False])
        if rng.random() < 0.3:
            paid[f.uscc] = (rng.choice([0, 100_000, 4_999_999, 60_000_000]), rng.choice([0, 100_000, 999_999]))
    return population, paid


def _row(r: dict | None) -> tuple | None:
    """A result row as (status, amount, false mask, unknown mask)."""
    return None if r is None else (r["status"], r["amount_fen"], r["false_mask"], r["unknown_mask"])


def _inputs(policy) -> dict:
    return {s.column: s.type for s in policy.context.vocabulary.inputs}


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), st.integers(0, 10_000))
def test_evaluator_sql_and_bulk_agree(data, seed):
    compiled = []
    for i in range(data.draw(st.integers(1, 3))):
        p = _compile(data.draw(policies(i)))
        if p is not None:
            compiled.append(p)
    assume(compiled)
    population, paid = _population(seed, 40)
    as_of = AS_OF
    inputs = {k: v for p in compiled for k, v in _inputs(p).items()}
    paid_table = pa.table({"uscc": [u for u in paid for _ in compiled], "policy_id": [p.id for _ in paid for p in compiled],
                           "paid_total_fen": [paid[u][0] for u in paid for _ in compiled],
                           "paid_year_fen": [paid[u][1] for u in paid for _ in compiled]}, schema=Q.PAID_SCHEMA)
    con = duckdb.connect(":memory:")
    try:
        register_facts(con, population, inputs)
        mp = Q.build([(p, 1) for p in compiled], as_of)
        sql_rows = {(r["policy_id"], r["uscc"]): r for r in Q.execute(con, mp, paid=paid_table).to_pylist()}
        bulk_rows = {(r["policy_id"], r["uscc"]): r for r in bulk.run(
            con, mp, paid={(p.id, u): v for u, v in paid.items() for p in compiled}, batch_rows=16).to_pylist()}
    finally:
        con.close()
    for f in population:
        env = CachedEnv(FactsEnv(f, as_of))
        for p in compiled:
            total, year = paid.get(f.uscc, (0, 0))
            o = outcome(p, env, total, year)
            expected = None if o.status == "not_eligible" else _row(vars(o))
            for name, rows in (("sql", sql_rows), ("bulk", bulk_rows)):
                assert _row(rows.get((p.id, f.uscc))) == expected, (name, p.definition.raw, f.enterprise, f.tables)
            if o.status == "eligible" and o.raw_amount is not None:
                assert o.amount_fen == max(int(o.raw_amount // 1), 0) or p.caps.any
            # the explanation reaches the same verdict as the fast path
            assert answer(p, env, total, year).status == o.status


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), st.integers(0, 10_000))
def test_bulk_policies_sharing_conditions_agree_and_are_laid_out_by_enterprise(data, seed):
    """Policies with the same eligibility share one structure in the combiner and, with the same
    amount and no caps, one amount computation: variants of one policy (same amount, another
    amount, no amount, caps), interleaved with an unrelated policy, each get the evaluator's
    answer; every enterprise's rows are together, in code order, one row per policy at most."""
    base = data.draw(policies(0))
    other = data.draw(policies(1))
    variants = [dict(base, id="V0"), dict(other, id="W"), dict(base, id="V1"),
                dict(base, id="V2", amount=data.draw(amounts())), {**base, "id": "V3", "amount": None},
                dict(base, id="V4", caps={"per_enterprise": "3万元"}), dict(base, id="V5")]
    compiled = [p for p in map(_compile, [{k: v for k, v in d.items() if v is not None} for d in variants]) if p]
    assume(sum(p.id.startswith("V") for p in compiled) >= 3)
    population, paid = _population(seed, 60)
    inputs = {k: v for p in compiled for k, v in _inputs(p).items()}
    con = duckdb.connect(":memory:")
    try:
        register_facts(con, population, inputs)
        mp = Q.build([(p, 1) for p in compiled], AS_OF)
        table = bulk.run(con, mp, paid={(p.id, u): v for u, v in paid.items() for p in compiled}, batch_rows=7)
    finally:
        con.close()
    rows = table.to_pylist()
    usccs = [r["uscc"] for r in rows]
    assert usccs == sorted(usccs)
    assert len({(r["uscc"], r["policy_id"]) for r in rows}) == len(rows)
    got = {(r["policy_id"], r["uscc"]): r for r in rows}
    for f in population:
        env = CachedEnv(FactsEnv(f, AS_OF))
        for p in compiled:
            o = outcome(p, env, *paid.get(f.uscc, (0, 0)))
            expected = None if o.status == "not_eligible" else _row(vars(o))
            assert _row(got.get((p.id, f.uscc))) == expected, (p.id, f.enterprise)


def test_shared_conditions_are_computed_once():
    texts = [{"field": "annual.revenue", "op": ">=", "value": "1000万元"},
             {"field": "industry", "op": "under", "value": "C"}]
    a = _compile({"id": "A", "title": "a", "issuer": "x", "level": "district", "department": "jxj",
                  "legal_basis": {"document": "d"}, "valid_from": "2020-01-01", "delivery": "ordinary",
                  "eligibility": {"all": texts}})
    b = _compile({"id": "B", "title": "b", "issuer": "x", "level": "district", "department": "jxj",
                  "legal_basis": {"document": "d"}, "valid_from": "2020-01-01", "delivery": "ordinary",
                  "eligibility": {"all": texts[:1] + [{"field": "annual.employees", "op": ">", "value": "10人"}]}})
    mp = Q.build([(a, 1), (b, 1)], dt.date(2026, 10, 31))
    # revenue ≥ 1000万 (and its near-miss relaxation) shared; industry; employees (+ relaxation); active
    assert mp.distinct_conditions == 5
    sql = Q.matrix_sql(mp)
    assert sql.count(">= 10000000") == 1  # the shared threshold appears once in the matrix


def test_amounts_are_exact_where_floats_are_not():
    """0.1 + 0.2 ≠ 0.3 in floating point; a rate of 12.34% on an odd number of fen stays exact."""
    policy = _compile({"id": "X", "title": "x", "issuer": "x", "level": "district", "department": "jxj",
                       "legal_basis": {"document": "d"}, "valid_from": "2020-01-01", "delivery": "ordinary",
                       "eligibility": {"all": [{"field": "annual.revenue", "op": ">", "value": "0元"}]},
                       "amount": {"sum": [{"rate": "12.34%", "base": "annual.revenue"}, {"fixed": "0.1元"},
                                          {"fixed": "0.2元"}]}})
    population = make_population(5, seed=3)
    for f in population:
        f.enterprise.update(status="active", established_on=None)
        f.tables["annual_finance"] = [{"uscc": f.uscc, "year": AS_OF.year - 1, "revenue_fen": 123_456_789,
                                       "employees": 5, "assets_fen": 1, "rd_expense_fen": 1}]
    con = duckdb.connect(":memory:")
    try:
        register_facts(con, population)
        rows = Q.execute(con, Q.build([(policy, 1)], AS_OF)).to_pylist()
    finally:
        con.close()
    expected = int(Fraction(123_456_789) * Fraction("0.1234") + 30)  # floor of 15234567.7626 + 30 fen
    assert {r["amount_fen"] for r in rows} == {expected}
    assert expected == 15_234_597


@pytest.mark.parametrize("margin,expected", [("20%", "near_miss"), ("0%", None)])
def test_near_miss_needs_exactly_one_failing_condition_within_the_margin(margin, expected):
    policy = _compile({"id": "N", "title": "n", "issuer": "x", "level": "district", "department": "jxj",
                       "legal_basis": {"document": "d"}, "valid_from": "2020-01-01", "delivery": "ordinary",
                       "near_miss_margin": margin,
                       "eligibility": {"all": [{"field": "annual.rd_expense / annual.revenue", "op": ">=", "value": "3%"},
                                               {"field": "annual.employees", "op": ">=", "value": "10人"}]}})
    population = make_population(3, seed=11)
    for f, (rd, emp) in zip(population, [(28, 50), (28, 5), (10, 50)]):
        f.enterprise.update(status="active", established_on=None)
        f.tables["annual_finance"] = [{"uscc": f.uscc, "year": AS_OF.year - 1, "revenue_fen": 1000, "employees": emp,
                                       "assets_fen": 1, "rd_expense_fen": rd}]
    statuses = [outcome(policy, CachedEnv(FactsEnv(f, AS_OF))).status for f in population]
    assert statuses == [expected or "not_eligible", "not_eligible", "not_eligible"]
