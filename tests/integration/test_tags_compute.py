"""As-of computation end to end: hub snapshot in, tag snapshot out (real Parquet and DuckDB)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import filecmp
import json
import shutil

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.engine.errors import DefinitionErrors
from shengxin.errors import InvalidInput, NotFound
from shengxin.reference.district import load_district
from shengxin.tags import snapshots
from shengxin.tags.catalogue import Catalogue, TagVersion, load_shipped
from shengxin.tags.compute import compute
from shengxin.tags.explain import explain
from shengxin.tags.service import statistics, tags_for_portrait, tags_of
from tests.integration.test_tags_population import (
    AS_OF,
    arrow_tables,
    make_population,
    publish_hub_snapshot,
)


@pytest.fixture(scope="module")
def district():
    return load_district(DEFAULT_DISTRICT_FILE)


@pytest.fixture(scope="module")
def population():
    return make_population(300, seed=11)


@pytest.fixture
def analytic(tmp_path, population):
    path = tmp_path / "analytic"
    publish_hub_snapshot(path, arrow_tables(population))
    return path


def _files(path):
    return sorted(p.name for p in path.iterdir())


def test_compute_publishes_a_snapshot_with_its_inputs(analytic, district):
    catalogue = load_shipped(district)
    result = compute(catalogue, district, analytic)
    assert result.as_of == AS_OF  # default: last day of the data's latest month
    snap = snapshots.require_current(analytic)
    assert snap.id == result.snapshot_id and result.created
    assert _files(snap.path) == ["catalogue.json", "evidence.parquet", "manifest.json", "tags.parquet"]
    m = snap.manifest
    assert m["as_of"] == "2026-10-31" and m["catalogue"]["fingerprint"] == catalogue.fingerprint()
    assert m["input"]["snapshot_id"] and len(m["input"]["fingerprint"]) == 64
    assert len(m["tags"]) == len(catalogue.latest()) >= 200
    tags = pq.read_table(snap.tags_file)
    assert tags.schema.names == ["uscc", "town", "tag_id", "value"]
    assert sum(t["count"] for t in m["tags"].values()) == tags.num_rows == result.rows
    pairs = list(zip(tags.column("uscc").to_pylist(), tags.column("tag_id").to_pylist()))
    assert pairs == sorted(pairs) and len(set(pairs)) == len(pairs)  # sparse, ordered, no duplicates
    assert not (snapshots.tags_dir(analytic) / "tmp").exists() or not any((snapshots.tags_dir(analytic) / "tmp").glob("2*"))


def test_two_runs_on_the_same_inputs_give_byte_identical_snapshots(analytic, district, tmp_path):
    catalogue = load_shipped(district)
    first = compute(catalogue, district, analytic, as_of=dt.date(2026, 9, 30))
    copy = tmp_path / "copy"
    shutil.copytree(analytic / "hub", copy / "hub")
    second = compute(load_shipped(district), district, copy, as_of=dt.date(2026, 9, 30))
    assert first.snapshot_id == second.snapshot_id
    a, b = first.path, second.path
    match, mismatch, errors = filecmp.cmpfiles(a, b, _files(a), shallow=False)
    assert mismatch == [] and errors == [] and len(match) == 4
    again = compute(catalogue, district, analytic, as_of=dt.date(2026, 9, 30))
    assert again.snapshot_id == first.snapshot_id and not again.created


def test_as_of_runs_ignore_later_data(analytic, district, population, tmp_path):
    """Adding data dated after the as-of date (later months, events, registrations, annual
    reports) changes nothing computed at that date."""
    catalogue = load_shipped(district)
    as_of = dt.date(2026, 6, 30)
    before = compute(catalogue, district, analytic, as_of=as_of)
    tables = arrow_tables(population)
    later = make_population(60, seed=99)
    import pyarrow as pa

    extra = arrow_tables([dataclasses.replace(f, enterprise={**f.enterprise, "uscc": f.uscc[:-3] + "LAT",
                                                              "established_on": as_of + dt.timedelta(days=1)})
                          for f in later])
    # later rows for the existing enterprises: every table, dated after the as-of date
    shifted = {}
    for name, table in tables.items():
        if name == "enterprises":
            shifted[name] = pa.concat_tables([table, extra[name]])
            continue
        rows = table.to_pylist()
        later_rows = []
        for r in rows[:200]:
            c = dict(r)
            for column in ("month", "granted_on", "certified_on", "financed_on", "published_on", "listed_on",
                           "decided_on", "included_month"):
                if column in c:
                    c[column] = dt.date(2026, 8, 1)
            for key in ("registration_no", "certificate_no", "case_no", "decision_no"):
                if key in c:
                    c[key] = f"later-{c[key]}"
            if name == "annual_finance":
                c["year"] = 2026
            later_rows.append(c)
        merged = {(tuple(r.get(k) for k in _key(name))): r for r in rows}
        for r in later_rows:
            merged.setdefault(tuple(r.get(k) for k in _key(name)), r)
        shifted[name] = pa.Table.from_pylist(list(merged.values()), schema=table.schema)
    publish_hub_snapshot(analytic, shifted)
    after = compute(catalogue, district, analytic, as_of=as_of)
    assert after.snapshot_id != before.snapshot_id  # the input changed …
    t1 = pq.read_table(before.path / "tags.parquet")
    t2 = pq.read_table(after.path / "tags.parquet")
    assert t1.equals(t2)  # … but nothing known at the date did
    e1, e2 = pq.read_table(before.path / "evidence.parquet"), pq.read_table(after.path / "evidence.parquet")
    differing = [c for c in e1.column_names if not e1.column(c).equals(e2.column(c))]
    assert differing == []
    # the later data is there and counts at a later date
    later_result = compute(catalogue, district, analytic, as_of=dt.date(2026, 10, 31))
    assert later_result.enterprises > after.enterprises


def _key(name: str) -> list[str]:
    from shengxin.enterprises.hub.tables import load_tables

    return list(load_tables()[name].key)


def test_version_in_force_depends_on_the_as_of_date(analytic, district):
    shipped = load_shipped(district)
    v1 = shipped.latest()["dynamics.revenue_10m_plus"]
    v2 = dataclasses.replace(v1, version=2, valid_from=dt.date(2026, 7, 1),
                             definition="sum(revenue, months=12) >= 1亿元")
    retired = dataclasses.replace(shipped.latest()["age.20_plus"], version=2, valid_from=dt.date(2026, 7, 1), retired=True)
    catalogue = shipped.merged(Catalogue([v2, retired], {}, {}))
    early = compute(catalogue, district, analytic, as_of=dt.date(2026, 6, 30))
    late = compute(catalogue, district, analytic, as_of=dt.date(2026, 10, 31))
    assert early.counts["dynamics.revenue_10m_plus"] > late.counts["dynamics.revenue_10m_plus"]
    assert "age.20_plus" in early.counts and "age.20_plus" not in late.counts
    snap = snapshots.require_current(analytic)
    assert snap.manifest["tags"]["dynamics.revenue_10m_plus"]["version"] == 2


def test_a_tag_depending_on_a_tag_not_yet_in_force_is_skipped(analytic, district):
    shipped = load_shipped(district)
    base = shipped.latest()["basic.active"]
    new = TagVersion("test.new_base", "新标签", "basic", 1, dt.date(2026, 9, 1), "derived", "", "x", "status = 'active'")
    user = dataclasses.replace(base, id="test.user", name="引用新标签", definition="tag('test.new_base')",
                               valid_from=dt.date(2020, 1, 1))
    result = compute(shipped.merged(Catalogue([new, user], {}, {})), district, analytic, as_of=dt.date(2026, 6, 30))
    assert "test.user" in result.skipped and "test.new_base" in result.skipped["test.user"]
    result = compute(shipped.merged(Catalogue([new, user], {}, {})), district, analytic, as_of=dt.date(2026, 10, 31))
    assert result.skipped == {} and result.counts["test.user"] == result.counts["basic.active"]


def test_invalid_catalogue_is_refused_before_computing(analytic, district):
    shipped = load_shipped(district)
    bad = TagVersion("test.bad", "坏标签", "basic", 1, dt.date(2020, 1, 1), "derived", "", "x", "annual.revenue > 3人")
    with pytest.raises(DefinitionErrors) as info:
        compute(shipped.merged(Catalogue([bad], {}, {})), district, analytic)
    assert "unit mismatch" in str(info.value) and "test.bad" in str(info.value)
    assert snapshots.current(analytic) is None


def test_compute_needs_hub_data(tmp_path, district):
    with pytest.raises(NotFound, match="ingest"):
        compute(load_shipped(district), district, tmp_path / "empty")


def test_explanations_agree_with_the_snapshot(analytic, district, population):
    compute(load_shipped(district), district, analytic)
    snap = snapshots.require_current(analytic)
    tags = pq.read_table(snap.tags_file)
    for tag_id in ("innovation.high_tech", "dynamics.revenue_growth_20_50", "size.small", "scope.near_any",
                   "dynamics.tax_top10", "risk.penalty_large", "age.1_3"):
        held = set(tags.filter(pc.equal(tags.column("tag_id"), tag_id)).column("uscc").to_pylist())
        assert held, tag_id
        for facts in population[:40]:
            try:
                x = explain(facts.uscc, tag_id, analytic, district, lineage=False)
            except NotFound:
                continue  # registered after the as-of date
            assert x["value"] == (facts.uscc in held) and x["consistent"], (tag_id, facts.uscc)
            assert x["explanation"]["result"] is x["value"] or (x["explanation"]["result"] is None and not x["value"])


def test_explanation_shows_values_thresholds_and_lineage(analytic, district):
    compute(load_shipped(district), district, analytic)
    snap = snapshots.require_current(analytic)
    tags = pq.read_table(snap.tags_file)
    uscc = tags.filter(pc.equal(tags.column("tag_id"), "dynamics.revenue_growth_20_50")).column("uscc")[0].as_py()
    x = explain(uscc, "dynamics.revenue_growth_20_50", analytic, district)
    assert x["value"] is True and x["tag"]["version"] == 1
    conditions = x["explanation"]["conditions"]
    growth = [c for c in conditions if c["kind"] == "compare" and c["op"] == ">="][0]
    assert growth["threshold"]["value"] == 0.2 and growth["threshold"]["display"] == "20%"
    assert growth["actual"]["value"] >= 0.2 and "增长率" in growth["actual"]["label"]
    assert [i["expr"] for i in growth["actual"]["inputs"]] == ["sum(revenue, months=12)", "sum(revenue, months=12, offset=12)"]
    lineage = x["lineage"]
    assert lineage["available"]
    tax = next(t for t in lineage["tables"] if t["table"] == "monthly_tax")
    assert 0 < tax["total"] <= 24 and all(r["_file"] == "monthly_tax.parquet" and r["_run"] == "run-test" for r in tax["rows"])
    assert all(dt.date(2024, 11, 1) <= dt.date.fromisoformat(r["month"]) <= dt.date(2026, 10, 1) for r in tax["rows"])


def test_explain_refuses_bad_input(analytic, district):
    compute(load_shipped(district), district, analytic)
    with pytest.raises(InvalidInput, match="统一社会信用代码"):
        explain("not-a-code", "size.small", analytic, district)
    snap = snapshots.require_current(analytic)
    uscc = pq.read_table(snap.tags_file).column("uscc")[0].as_py()
    with pytest.raises(NotFound, match="标签 size.smal "):
        explain(uscc, "size.smal", analytic, district)
    with pytest.raises(NotFound, match="不在标签快照"):
        explain("91330110MA2H8K9X1K", "size.small", analytic, district)


def test_portrait_and_statistics(analytic, district, population):
    assert tags_for_portrait(population[0].uscc, analytic, district) == []  # no snapshot yet
    first = compute(load_shipped(district), district, analytic, as_of=dt.date(2026, 9, 30))
    second = compute(load_shipped(district), district, analytic, as_of=dt.date(2026, 10, 31))
    snap = snapshots.require_current(analytic)
    uscc = pq.read_table(snap.tags_file).column("uscc")[0].as_py()
    sections = tags_for_portrait(uscc, analytic, district)
    listed = {t.id for s in sections for t in s.tags}
    assert listed == {t["id"] for t in tags_of(uscc, analytic, district)["tags"]}
    assert [s.key for s in sections] == [k for k in load_shipped(district).categories if k in {s.key for s in sections}]
    assert all(t.because for s in sections for t in s.tags)
    stats = statistics(analytic, district)
    assert stats["snapshot"]["id"] == second.snapshot_id and stats["previous"]["id"] == first.snapshot_id
    row = next(r for c in stats["categories"] for r in c["tags"] if r["id"] == "basic.active")
    assert row["total"] == second.counts["basic.active"]
    assert row["delta"] == second.counts["basic.active"] - first.counts["basic.active"]
    town = statistics(analytic, district, towns=["330110005"])
    assert [t["code"] for t in town["towns"]] == ["330110005"]
    town_row = next(r for c in town["categories"] for r in c["tags"] if r["id"] == "basic.active")
    assert town_row["total"] == town_row["cells"][0]["count"] <= row["total"]
    manifest = json.loads((snap.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["evidence"]["a_sum_revenue_m12"] == "sum(revenue, months=12)"
