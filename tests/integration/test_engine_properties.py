"""Property tests: on random enterprises and random definitions, the SQL (DuckDB) and the
single-enterprise evaluator give the same answer, and the explanation reaches the same result."""

from __future__ import annotations

import datetime as dt

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shengxin.engine import backend
from shengxin.engine.check import check
from shengxin.engine.evaluate import FactsEnv, evaluate, explain, in_population
from shengxin.engine.plan import Output, make_plan
from tests.integration.test_tags_population import arrow_tables, make_population

NUMERIC = [
    "sum(revenue, months=12)", "sum(revenue, months=12, offset=12)", "sum(tax, months=3)",
    "avg(headcount, months=12)", "latest(headcount, months=3)", "min(headcount, months=12)",
    "max(electricity, months=6)", "count(revenue, months=24)", "growth(revenue, months=12)",
    "growth(tax, months=3)", "growth(headcount, months=1, shift=1)", "annual.revenue", "annual.rd_expense",
    "annual.rd_expense / annual.revenue", "sum(tax, months=12) / sum(revenue, months=12)",
    "(sum(revenue, months=3) - sum(revenue, months=3, offset=3)) / (sum(tax, months=3) - sum(tax, months=3, offset=3))",
    "count(ip_rights, kind='invention_patent')", "count(penalties, months=24)", "sum(financing.amount)",
    "max(penalties.fine, months=24)", "years_since(established_on)", "months_since(established_on)",
    "registered_capital", "scope_threshold", "rank(sum(tax, months=12))", "rank(annual.revenue, by=town)",
    "coalesce(sum(revenue, months=12, offset=12), 0元)", "coalesce(growth(revenue, months=12), growth(tax, months=12), 0%)",
    "sum(headcount, months=1) - sum(headcount, months=1, offset=3)",
    "-growth(revenue, months=12)", "annual.revenue * 2 - annual.assets",
    # denominators that are often negative or zero: the exact comparison must flip correctly
    "annual.revenue / (annual.assets - annual.revenue)", "annual.employees / (annual.employees - 100)",
    "(annual.assets - annual.revenue) / annual.revenue - 1", "sum(revenue, months=3) / (sum(tax, months=3) - sum(tax, months=3, offset=3))",
]
CONDITIONS = [
    "size_class = 'small'", "scope_name is not null", "industry under ['C', '65']", "status = 'active'",
    "has(certifications, kind='high_tech', active=true)", "has(dishonesty_list, active=true)",
    "has(abnormal_operations, months=12)", "contains(legal_form, '有限')", "town in district_towns()",
    "has(survey_list, scope=['industry', 'services'])",
]
OPS = [">", ">=", "<", "<=", "=", "!="]


def _threshold(expr: str, value: int) -> str:
    """A literal of the right unit for a numeric template."""
    if any(k in expr for k in ("revenue", "tax", "amount", "fine", "capital", "scope_threshold", "assets", "expense")) \
            and "/" not in expr and "growth" not in expr and "count" not in expr and "rank" not in expr:
        return f"{value}万元"
    if "growth" in expr or "/" in expr:
        return f"{value}%"
    if "years_since" in expr:
        return f"{value}年"
    if "months_since" in expr:
        return f"{value}个月"
    if "electricity" in expr:
        return f"{value}kWh"
    if "headcount" in expr:
        return f"{value}人"
    return str(value)


@st.composite
def definitions(draw, depth: int = 2):
    if depth == 0 or draw(st.booleans()):
        if draw(st.integers(0, 3)) == 0:
            return draw(st.sampled_from(CONDITIONS))
        expr = draw(st.sampled_from(NUMERIC))
        value = draw(st.sampled_from([-50, -20, -10, 0, 1, 3, 5, 10, 20, 50, 100, 500, 2000]))
        return f"{expr} {draw(st.sampled_from(OPS))} {_threshold(expr, value)}"
    left, right = draw(definitions(depth - 1)), draw(definitions(depth - 1))
    form = draw(st.sampled_from(["({} and {})", "({} or {})", "not ({}) or {}"]))
    return form.format(left, right)


def _run(population, texts: list[str], as_of: dt.date):
    from shengxin.engine.check import Context
    from shengxin.engine.vocabulary import Vocabulary
    from tests.integration.test_tags_population import TOWNS

    context = Context(Vocabulary(towns={t: t for t in TOWNS}))
    outputs = [Output(f"d{i}", check(t, context)) for i, t in enumerate(texts)]
    con = duckdb.connect()
    for name, table in arrow_tables(population).items():
        con.register(name, table)
    sparse, _ = backend.run(con, make_plan(outputs, as_of))
    held = set(zip(sparse.column("uscc").to_pylist(), sparse.column("tag_id").to_pylist()))
    return outputs, held


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(definitions(), min_size=1, max_size=6),
       seed=st.integers(0, 10_000), size=st.integers(1, 25),
       shift=st.integers(-400, 60))
def test_sql_and_evaluator_agree_on_random_definitions_and_enterprises(texts, seed, size, shift):
    as_of = dt.date(2026, 10, 31) + dt.timedelta(days=shift)
    population = make_population(size, seed)
    outputs, held = _run(population, texts, as_of)
    members = [f for f in population if in_population(f.enterprise, as_of)]
    cache: dict = {}
    for facts in members:
        env = FactsEnv(facts, as_of, members, cache)
        for o in outputs:
            result = evaluate(o.condition, env)
            assert (result is True) == ((facts.uscc, o.key) in held), (o.key, texts[int(o.key[1:])], facts.uscc)
            assert explain(o.condition, env)["result"] == result
