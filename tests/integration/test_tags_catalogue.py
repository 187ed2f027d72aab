"""Every shipped tag on a boundary-rich population: each has real positive and negative cases,
and the SQL, the single-enterprise evaluator (from raw facts) and the explanation evaluator (from
the snapshot's evidence) agree on every enterprise and every tag."""

from __future__ import annotations

import collections

import duckdb
import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.engine import backend
from shengxin.engine.evaluate import FactsEnv, FeatureEnv, evaluate, in_population
from shengxin.engine.plan import atom_column
from shengxin.reference.district import load_district
from shengxin.tags.catalogue import compile_at, load_shipped
from shengxin.tags.compute import plan_for
from shengxin.tags.explain import feature_env
from tests.integration.test_tags_population import AS_OF, arrow_tables, make_population


@pytest.fixture(scope="module")
def computed():
    district = load_district(DEFAULT_DISTRICT_FILE)
    catalogue = load_shipped(district)
    compiled, skipped = compile_at(catalogue, AS_OF, district)
    assert not skipped
    population = make_population()
    con = duckdb.connect()
    for name, table in arrow_tables(population).items():
        con.register(name, table)
    plan = plan_for(compiled, AS_OF)
    sparse, evidence = backend.run(con, plan)
    has = collections.defaultdict(set)
    for uscc, tag_id in zip(sparse.column("uscc").to_pylist(), sparse.column("tag_id").to_pylist()):
        has[tag_id].add(uscc)
    members = [f for f in population if in_population(f.enterprise, AS_OF)]
    evidence_rows = {r["uscc"]: r for r in evidence.to_pylist()}
    return compiled, members, has, evidence_rows, sparse


def test_at_least_200_tags_ship():
    district = load_district(DEFAULT_DISTRICT_FILE)
    assert len(load_shipped(district).latest()) >= 200


def test_only_enterprises_registered_by_the_date_are_tagged(computed):
    _, members, _, evidence_rows, _ = computed
    assert set(evidence_rows) == {f.uscc for f in members}
    assert len(members) < 900  # the population includes firms registered after the as-of date


def test_every_tag_has_positive_and_negative_cases(computed):
    compiled, members, has, _, _ = computed
    n = len(members)
    missing_positive = sorted(t for t in compiled if not has[t])
    missing_negative = sorted(t for t in compiled if len(has[t]) == n)
    assert not missing_positive, f"tags without an enterprise that has them: {missing_positive}"
    assert not missing_negative, f"tags every enterprise has: {missing_negative}"


def test_sql_and_the_evaluator_agree_on_every_enterprise_and_tag(computed):
    compiled, members, has, _, _ = computed
    rank_cache: dict = {}
    disagreements = []
    for facts in members:
        env = FactsEnv(facts, AS_OF, members, rank_cache)
        for tag_id, tag in compiled.items():
            expected = evaluate(tag.condition, env) is True
            if expected != (facts.uscc in has[tag_id]):
                disagreements.append((facts.uscc, tag_id, expected))
    assert not disagreements, disagreements[:20]


def test_the_evidence_reproduces_every_decision(computed):
    compiled, members, has, evidence_rows, _ = computed
    for facts in members:
        row = evidence_rows[facts.uscc]
        for tag_id, tag in compiled.items():
            env = feature_env(row, tag, AS_OF)
            assert (evaluate(tag.condition, env) is True) == (facts.uscc in has[tag_id]), (facts.uscc, tag_id)


def test_tag_values_match_the_evaluator(computed):
    compiled, members, has, _, sparse = computed
    values = {(u, t): v for u, t, v in zip(sparse.column("uscc").to_pylist(), sparse.column("tag_id").to_pylist(),
                                             sparse.column("value").to_pylist())}
    rank_cache: dict = {}
    valued = {k: t for k, t in compiled.items() if t.value is not None}
    assert valued
    for facts in members:
        env = FactsEnv(facts, AS_OF, members, rank_cache)
        for tag_id, tag in valued.items():
            if facts.uscc in has[tag_id]:
                assert values[(facts.uscc, tag_id)] == evaluate(tag.value, env), (facts.uscc, tag_id)


def test_evidence_columns_are_named_from_the_atoms(computed):
    compiled, _, _, evidence_rows, _ = computed
    row = next(iter(evidence_rows.values()))
    tag = compiled["dynamics.revenue_growth_20_50"]
    env = feature_env(row, tag, AS_OF)
    assert isinstance(env, FeatureEnv)
    assert all(col in row for col in env.columns.values())
    assert atom_column(tag.condition.items[1].left.now) == "a_sum_revenue_m12"


def test_the_sql_reshape_gives_the_same_long_table(computed):
    """``sqlgen.sparse_query`` (the dialect-neutral statement of the reshape, e.g. for Spark)
    and the numpy reshape of the DuckDB backend give the same rows in the same order."""
    from shengxin.engine import sqlgen

    compiled, _, _, _, sparse = computed
    population = make_population()
    con = duckdb.connect()
    for name, table in arrow_tables(population).items():
        con.register(name, table)
    plan = plan_for(compiled, AS_OF)
    backend.materialise(con, plan)
    from_sql = backend.fetch(con, sqlgen.sparse_query(plan))
    assert from_sql.num_rows == sparse.num_rows
    for name in ("uscc", "town", "tag_id", "value"):
        assert from_sql.column(name).to_pylist() == sparse.column(name).to_pylist(), name
