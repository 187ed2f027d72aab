"""Mapping files and canonical tables: the packaged ones load, bad ones fail with clear errors."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shengxin.enterprises.hub.mapping import (
    _packaged_mappings,
    ingest_order,
    normalise_header,
    parse_mapping,
)
from shengxin.enterprises.hub.tables import arrow_type, load_tables, parse_tables
from shengxin.errors import InvalidInput

CONTRACT_FILES = [
    "scjg/企业登记信息.csv", "sw/税收月报.parquet", "rs/社保参保月报.parquet", "dl/用电月报.csv",
    "tj/企业年报财务.csv", "tj/规上企业名录.csv", "zscq/知识产权清单.csv", "kj/资质认定.xlsx",
    "jr/融资事件.xlsx", "fy/失信被执行人.csv", "scjg/经营异常名录.xlsx", "scjg/行政处罚.csv",
    "scjg/股东信息.csv", "scjg/外区新设企业.csv", "scjg/外区新设企业股东.csv",
    # dated redeliveries of the outside feed still go to the right mapping
    "scjg/外区新设企业_202610.csv", "scjg/外区新设企业股东_202610.csv",
]


def minimal(**over) -> dict:
    data = {
        "name": "test_tax",
        "table": "monthly_tax",
        "files": ["税收*.csv"],
        "format": "csv",
        "columns": [
            {"header": "代码", "field": "uscc", "type": "uscc", "required": True},
            {"header": "月份", "field": "month", "type": "month", "required": True},
            {"header": "收入(元)", "field": "revenue_fen", "type": "money", "unit": "元"},
        ],
    }
    data.update(over)
    return data


def test_every_file_of_the_data_contract_has_exactly_one_mapping():
    mappings = _packaged_mappings()
    assert len({m.name for m in mappings}) == 15
    for path in CONTRACT_FILES:
        hits = [m.name for m in mappings if m.matches(path)]
        assert len(hits) == 1, (path, hits)


def test_registry_comes_before_the_sources_that_refer_to_it():
    ordered = ingest_order(list(reversed(_packaged_mappings())))
    registry = next(i for i, m in enumerate(ordered) if m.table == "enterprises")
    referring = [i for i, m in enumerate(ordered) if m.references == {"enterprises"}]
    assert referring and min(referring) > registry
    # the outside feed refers to no district enterprise: it may come anywhere
    assert {m.name for i, m in enumerate(ordered) if i != registry and i not in referring} == {
        "scjg_outside_enterprises", "scjg_outside_shareholders"}


def test_patterns_match_from_the_right():
    m = parse_mapping(minimal(files=["sw/税收*.parquet"]), "t.yaml")
    assert m.matches("2024-06/sw/税收月报.parquet")
    assert not m.matches("税收月报.parquet")
    assert not m.matches("sw/税收月报.csv")


def test_headers_fold_full_width_and_spaces():
    assert normalise_header("营业收入（元） ") == normalise_header("营业收入(元)")
    assert normalise_header("\ufeff统一社会信用代码") == "统一社会信用代码"


def test_units_give_exact_factors():
    m = parse_mapping(minimal(), "t.yaml")
    assert m.column("revenue_fen").factor == 100
    m = parse_mapping(minimal(columns=minimal()["columns"][:2] + [
        {"header": "收入(万元)", "field": "revenue_fen", "type": "money", "unit": "万元"}]), "t.yaml")
    assert m.column("revenue_fen").factor == 1_000_000


@pytest.mark.parametrize("change, message", [
    ({"table": "nope"}, "unknown table 'nope'"),
    ({"format": "xml"}, "format 'xml'"),
    ({"encoding": "latin-1"}, "encoding 'latin-1'"),
    ({"name": "Bad Name"}, "lower-case"),
    ({"columns": [{"header": "代码", "field": "uscc", "type": "uscc", "required": True}]}, "key field 'month' is not mapped"),
    ({"columns": [{"header": "代码", "field": "uscc", "type": "uscc", "required": True},
                  {"header": "月份", "field": "month", "type": "month"}]}, "must be required"),
    ({"columns": [{"header": "代码", "field": "uscc", "type": "uscc", "required": True},
                  {"header": "月份", "field": "month", "type": "month", "required": True},
                  {"header": "收入", "field": "revenue_fen", "type": "money"}]}, "money columns need a unit"),
    ({"columns": [{"header": "代码", "field": "uscc", "type": "uscc", "required": True},
                  {"header": "月份", "field": "month", "type": "month", "required": True},
                  {"header": "x", "field": "nope", "type": "string"}]}, "field 'nope' is not in table monthly_tax"),
    ({"columns": [{"header": "代码", "field": "uscc", "type": "uscc", "required": True},
                  {"header": "月份", "field": "month", "type": "date", "required": True}]}, "cannot fill field 'month'"),
    ({"columns": [{"header": "代码", "field": "uscc", "type": "uscc", "required": True},
                  {"header": "月份", "field": "month", "type": "month", "required": True},
                  {"header": "状态", "field": "revenue_fen", "type": "enum"}]}, "cannot fill"),
    ({"rules": [{"check": "month >> uscc"}]}, "must compare two mapped fields"),
    ({"mode": "merge"}, "mode is upsert"),
])
def test_bad_mappings_are_refused_with_a_reason(change, message):
    with pytest.raises(InvalidInput) as err:
        parse_mapping(minimal(**change), "dept.yaml")
    assert message in str(err.value)
    assert "dept.yaml" in str(err.value)


def test_enum_needs_values_which_are_folded_like_headers():
    with pytest.raises(InvalidInput, match="enum column needs values"):
        parse_mapping(minimal(table="survey_list", columns=[
            {"header": "代码", "field": "uscc", "type": "uscc", "required": True},
            {"header": "范围", "field": "scope", "type": "enum", "required": True}]), "t.yaml")
    m = parse_mapping(minimal(table="survey_list", columns=[
        {"header": "代码", "field": "uscc", "type": "uscc", "required": True},
        {"header": "范围", "field": "scope", "type": "enum", "required": True,
         "values": {"规模以上工业 ": "industry", "Ｐｒｅ-ＩＰＯ": "pre_ipo"}}]), "t.yaml")
    assert m.column("scope").values == {"规模以上工业": "industry", "Pre-IPO": "pre_ipo"}


def test_canonical_tables_have_arrow_schemas_with_lineage():
    tables = load_tables()
    assert {"enterprises", "monthly_tax", "monthly_social_insurance", "monthly_electricity", "annual_finance",
            "survey_list", "ip_rights", "certifications", "financing", "dishonesty_list",
            "abnormal_operations", "penalties"} <= set(tables)
    schema = tables["monthly_tax"].arrow_schema()
    assert schema.names == ["uscc", "month", "revenue_fen", "tax_fen", "_source", "_file", "_row", "_run"]
    assert schema.field("revenue_fen").type == pa.int64()
    assert tables["monthly_electricity"].field("electricity_kwh").arrow_type == pa.decimal128(18, 2)


def test_bad_table_definitions_are_refused():
    with pytest.raises(InvalidInput, match="key"):
        parse_tables({"t": {"key": ["x"], "fields": {"a": {"type": "string"}}}}, "tables.yaml")
    with pytest.raises(InvalidInput, match="reserved"):
        parse_tables({"t": {"key": ["_a"], "fields": {"_a": {"type": "string"}}}}, "tables.yaml")
    with pytest.raises(InvalidInput, match="unknown field type"):
        arrow_type("float")
