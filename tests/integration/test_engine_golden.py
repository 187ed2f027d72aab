"""Golden SQL: the compiler's output is pinned in ``tests/golden/engine/``.

A change to the emitted SQL shows up as a diff of these files in review. After an intended
change, regenerate them with ``UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/test_engine_golden.py``
and read the diff before committing.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import sqlglot

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.engine import sqlgen
from shengxin.engine.check import Context, check
from shengxin.engine.plan import Output, make_plan
from shengxin.engine.vocabulary import Vocabulary
from shengxin.reference.district import load_district
from shengxin.tags.catalogue import compile_at, load_shipped
from shengxin.tags.compute import plan_for

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "engine"
AS_OF = dt.date(2026, 10, 31)

#: One definition per construct of the language.
CONSTRUCTS = {
    "a.field": "status = 'active' and registered_capital >= 100万元",
    "b.series_sum": "sum(revenue, months=12) >= 2000万元",
    "c.same_period_last_year": "sum(revenue, months=12, offset=12) > 0元",
    "d.growth": "growth(revenue, months=12) >= 20% and growth(revenue, months=12) < 50%",
    "e.avg_latest_min_max": "avg(headcount, months=12) >= 100 or latest(headcount, months=3) between 10 and 49 "
                            "or min(electricity, months=6) >= 0.9 * max(electricity, months=6)",
    "f.months_with_data": "count(revenue, months=6, where=revenue = 0元) = count(revenue, months=6)",
    "g.events": "has(certifications, kind='high_tech', active=true) and count(ip_rights, kind=['invention_patent'], months=12) >= 1",
    "h.event_sum_max": "sum(penalties.fine, months=24) >= 50万元 or max(financing.amount) >= 5000万元",
    "i.industry": "industry under ['C', '65', '6432'] and industry not in ['3911']",
    "j.size_scope": "size_class in ['small', 'micro'] and scope_name is null and sum(revenue, months=12) >= 0.8 * scope_threshold",
    "k.ratio": "annual.rd_expense / annual.revenue >= 3%",
    "l.age": "years_since(established_on) >= 3 and months_since(established_on) < 120",
    "m.rank": "rank(sum(tax, months=12)) <= 100 and rank(sum(tax, months=12), by=town) <= 10",
    "n.text_town": "contains(legal_form, '股份') and town in district_towns() and not has(survey_list)",
    "o.coalesce": "coalesce(sum(revenue, months=12, offset=12), 0元) = 0元",
    "p.tag_reference": "tag('a.field') and annual.employees >= 20",
}


def _constructs_plan():
    district = load_district(DEFAULT_DISTRICT_FILE)
    context = Context(Vocabulary(towns={t.code: t.name for t in district.towns}))
    checked = {}
    for key, text in CONSTRUCTS.items():
        context.tag_body = lambda t: checked.get(t)
        checked[key] = check(text, context)
    return make_plan([Output(k, v) for k, v in checked.items()], AS_OF)


def _catalogue_plan():
    district = load_district(DEFAULT_DISTRICT_FILE)
    compiled, _ = compile_at(load_shipped(district), AS_OF, district)
    return plan_for(compiled, AS_OF)


CASES = {
    "constructs.duckdb.sql": lambda: sqlgen.to_sql(sqlgen.matrix_query(_constructs_plan()), "duckdb"),
    "constructs.spark.sql": lambda: sqlgen.to_sql(sqlgen.matrix_query(_constructs_plan()), "spark"),
    "constructs.sparse.duckdb.sql": lambda: sqlgen.to_sql(sqlgen.sparse_query(_constructs_plan()), "duckdb"),
    "catalogue.duckdb.sql": lambda: sqlgen.to_sql(sqlgen.matrix_query(_catalogue_plan()), "duckdb"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_emitted_sql_matches_the_golden_file(name):
    sql = CASES[name]() + "\n"
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(sql, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert sql == path.read_text(encoding="utf-8"), f"{name} differs from the golden file (see the module doc)"


def test_golden_sql_parses_back_in_its_dialect():
    for name in CASES:
        dialect = "spark" if ".spark." in name else "duckdb"
        sqlglot.parse_one((GOLDEN / name).read_text(encoding="utf-8"), read=dialect)


def test_no_constant_is_spliced_as_text():
    """Every value of a definition enters the tree as a literal node: the SQL text of a literal
    can only come from ``exp.Literal`` or a ``CAST('…' AS DATE)``."""
    tree = sqlgen.matrix_query(_constructs_plan())
    for node in tree.walk():
        if isinstance(node, sqlglot.exp.Anonymous):
            raise AssertionError(f"anonymous SQL fragment: {node.sql()}")
