"""Batch validation: errors reject rows, warnings keep them, references resolve, rules hold."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from shengxin.enterprises.hub.mapping import parse_mapping
from shengxin.enterprises.hub.references import KnownEnterprises, ReferenceData
from shengxin.enterprises.hub.tables import load_tables
from shengxin.enterprises.hub.validate import BatchValidator, match_headers
from shengxin.enterprises.uscc import make_code

A = make_code("9", "1", "330110", "MA0000001")
B = make_code("9", "1", "330110", "MA0000002")
UNREGISTERED = make_code("9", "1", "330110", "MA0000003")


def wrong_check(code: str) -> str:
    return code[:17] + ("0" if code[17] != "0" else "1")


MAPPING = {
    "name": "t_social",
    "table": "monthly_social_insurance",
    "files": ["社保*.csv"],
    "format": "csv",
    "columns": [
        {"header": "统一社会信用代码", "field": "uscc", "type": "uscc", "required": True, "references": "enterprises"},
        {"header": "月份", "field": "month", "type": "month", "required": True},
        {"header": "参保人数", "field": "headcount", "type": "int", "unit": "人", "min": 0},
    ],
}


def refs(known=(A, B)) -> ReferenceData:
    return ReferenceData(pa.array(["6511"]), pa.array(["330110005"]), pa.array([], pa.string()),
                         KnownEnterprises(pa.array(list(known), pa.string())))


def validator(mapping=MAPPING, headers=("统一社会信用代码", "月份", "参保人数"), known=(A, B)) -> BatchValidator:
    m = parse_mapping(mapping, "t.yaml")
    return BatchValidator(m, load_tables()[m.table], match_headers(m, list(headers)), refs(known),
                          run_id="run-1", file_label="rs/社保.csv", encoding_label="UTF-8")


def batch(rows: list[tuple], headers=("统一社会信用代码", "月份", "参保人数")) -> pa.RecordBatch:
    columns = list(zip(*rows)) if rows else [[] for _ in headers]
    return pa.RecordBatch.from_arrays([pa.array(list(c), pa.string()) for c in columns], names=list(headers))


def issues_by_row(outcome) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for r in outcome.issues.to_pylist():
        out.setdefault(r["row"], []).append((r["severity"], r["code"]))
    return out


def test_good_rows_are_accepted_with_lineage():
    v = validator()
    out = v.validate(batch([(A, "2024-01", "5"), (B, "202402", "7")]), np.array([1, 2]))
    assert out.accepted_rows == 2 and out.rejected_rows == 0 and out.issues.num_rows == 0
    rows = pa.Table.from_batches([out.accepted]).to_pylist()
    assert rows[0] == {"uscc": A, "month": dt.date(2024, 1, 1), "headcount": 5, "_source": "t_social",
                       "_file": "rs/社保.csv", "_row": 1, "_run": "run-1"}


def test_every_bad_row_is_rejected_and_every_good_row_kept():
    data = [
        (A, "2024-01", "5"),             # 1 good
        (A.lower(), "2024-02", "6"),     # 2 good after normalising
        ("bad", "2024-03", "1"),         # 3 invalid code
        (A, "2024-13", "1"),             # 4 impossible month
        (A, "2024-04", "-3"),            # 5 negative headcount
        (None, "2024-05", "2"),          # 6 missing required code
        (UNREGISTERED, "2024-06", "2"),  # 7 unknown enterprise
        (B, "2024-07", "不详"),          # 8 not a number
        (B, "2024-08", None),            # 9 optional value missing: fine
    ]
    out = validator().validate(batch(data), np.arange(1, 10))
    assert out.rows == 9 and out.accepted_rows == 3 and out.rejected_rows == 6
    assert sorted(pa.Table.from_batches([out.accepted]).column("_row").to_pylist()) == [1, 2, 9]
    found = issues_by_row(out)
    assert found == {
        3: [("error", "uscc.invalid")], 4: [("error", "month.invalid")], 5: [("error", "number.below_min")],
        6: [("error", "required.missing")], 7: [("error", "reference.unknown_enterprise")],
        8: [("error", "number.format")],
    }
    assert out.rejected.column("_row").to_pylist() == [3, 4, 5, 6, 7, 8]
    assert out.rejected.column("参保人数").to_pylist()[2] == "-3"


def test_check_character_warning_keeps_the_row_and_links_it_to_the_registered_enterprise():
    out = validator().validate(batch([(wrong_check(A), "2024-01", "5")]), np.array([1]))
    assert out.accepted_rows == 1 and out.warned_rows == 1
    assert out.accepted.column("uscc").to_pylist() == [A]
    codes = {r["code"] for r in out.issues.to_pylist()}
    assert codes == {"uscc.check_character", "reference.check_character"}
    reason = next(r["reason"] for r in out.issues.to_pylist() if r["code"] == "reference.check_character")
    assert wrong_check(A) in reason and A in reason


def test_ambiguous_check_character_match_is_not_guessed():
    # The registry itself holds two codes with the same first 17 characters: no resolution.
    other = wrong_check(A)
    v = validator(known=(A, other))
    third = A[:17] + next(c for c in "23456789" if c not in (A[17], other[17]))
    out = v.validate(batch([(third, "2024-01", "5")]), np.array([1]))
    assert out.rejected_rows == 1
    assert issues_by_row(out)[1][-1] == ("error", "reference.unknown_enterprise")


def test_on_invalid_null_keeps_the_row_with_a_warning():
    mapping = dict(MAPPING, columns=[*MAPPING["columns"][:2],
                                     dict(MAPPING["columns"][2], on_invalid="null")])
    out = validator(mapping).validate(batch([(A, "2024-01", "很多")]), np.array([1]))
    assert out.accepted_rows == 1 and out.warned_rows == 1
    assert out.accepted.column("headcount").to_pylist() == [None]
    assert "已置空" in out.issues.column("reason")[0].as_py()


def test_cross_field_rule():
    mapping = {
        "name": "t_cert", "table": "certifications", "files": ["资质*.xlsx"], "format": "excel",
        "columns": [
            {"header": "统一社会信用代码", "field": "uscc", "type": "uscc", "required": True},
            {"header": "认定类型", "field": "kind", "type": "enum", "required": True, "values": {"高新技术企业": "high_tech"}},
            {"header": "证书编号", "field": "certificate_no", "type": "string", "required": True},
            {"header": "认定日期", "field": "certified_on", "type": "date"},
            {"header": "有效期至", "field": "valid_until", "type": "date"},
        ],
        "rules": [{"check": "valid_until >= certified_on", "message": "有效期至早于认定日期"}],
    }
    headers = ("统一社会信用代码", "认定类型", "证书编号", "认定日期", "有效期至")
    v = validator(mapping, headers)
    out = v.validate(batch([(A, "高新技术企业", "G1", "2024-01-01", "2023-12-31"),
                            (A, "高新技术企业", "G2", "2024-01-01", None)], headers), np.array([1, 2]))
    assert out.accepted_rows == 1
    issue = out.issues.to_pylist()[0]
    assert issue["row"] == 1 and issue["code"] == "rule.valid_until" and "认定日期为 2024-01-01" in issue["reason"]


def test_header_matching():
    m = parse_mapping(MAPPING, "t.yaml")
    match = match_headers(m, ["统一社会信用代码", "月份（报告期）", "参保人数", "备注", "参保人数 "])
    assert match.missing_required == ["月份"]
    assert match.unknown == ["月份（报告期）", "备注"]
    assert match.duplicates == ["参保人数 "]
    ok = match_headers(m, ["\ufeff统一社会信用代码", "月份", "参保人数"])
    assert ok.header_of == {"uscc": "\ufeff统一社会信用代码", "month": "月份", "headcount": "参保人数"}


def test_undecodable_text_is_an_error():
    out = validator().validate(batch([(A, "2024-01", "5\ufffd")]), np.array([7]), text_replaced=True)
    codes = [c for _, c in issues_by_row(out)[7]]
    assert "text.encoding" in codes and out.rejected_rows == 1


@pytest.mark.parametrize("cut, accepted", [(True, 2), (False, 2)])
def test_last_line_without_line_break_is_flagged(cut, accepted):
    out = validator().validate(batch([(A, "2024-01", "5"), (B, "2024-01", "12")]), np.array([1, 2]),
                               last_line_cut=cut)
    assert out.accepted_rows == accepted
    assert ([r["row"] for r in out.issues.to_pylist() if r["code"] == "row.no_final_newline"] == [2]) is cut


def test_key_pass_gives_the_keys_validation_stores():
    data = [(A, "2024-01", "5"), (A.lower(), "202401", "6"), (f" {wrong_check(B)}", "2024-02", "1"),
            ("bad", "2024-03", "1"), (UNREGISTERED, "2024-04", "2"), (B, "2024/2", "3")]
    v = validator()
    b = batch(data)
    keys = v.canonical_keys(b).to_pylist()
    out = v.validate(b, np.arange(1, 7))
    stored = pa.Table.from_batches([out.accepted]).to_pylist()
    for row in stored:
        assert keys[row["_row"] - 1] == {"uscc": row["uscc"], "month": row["month"]}
    assert [r["_row"] for r in stored] == [1, 2, 3, 6]
    assert keys[2]["uscc"] == B  # resolved through the check character in both passes
