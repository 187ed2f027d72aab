"""Whole-file problems: empty, truncated, damaged, wrong columns — clear errors, nothing valid lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shengxin.enterprises.hub import ingest
from shengxin.enterprises.store import current_snapshot
from tests.integration.test_hub_ingest import (  # noqa: F401 (demo_settings is an autouse fixture)
    ELECTRICITY_HEADER,
    REGISTRY_HEADER,
    by_file,
    code,
    demo_settings,
    facts,
    issues,
    write_csv,
    write_registry,
    write_tax,
)


def file_issue(report, name: str) -> dict:
    return next(i for i in issues(report.run_id) if i["file"].endswith(name) and i["row"] is None)


def test_empty_file_is_a_file_level_error(tmp_path):
    d = tmp_path / "d"
    write_registry(d)
    (d / "dl").mkdir()
    (d / "dl" / "用电月报.csv").write_bytes(b"")
    report = ingest([d])
    empty = by_file(report, "用电月报.csv")
    assert empty.status == "failed" and "0 字节" in empty.message
    assert file_issue(report, "用电月报.csv")["code"] == "file.empty"
    assert by_file(report, "企业登记信息.csv").accepted == 5  # the other file is not affected


def test_header_only_file_ingests_nothing_and_says_so(tmp_path):
    d = tmp_path / "d"
    write_registry(d)
    write_csv(d / "用电月报.csv", ELECTRICITY_HEADER, [])
    report = ingest([d])
    f = by_file(report, "用电月报.csv")
    assert (f.status, f.rows) == ("ingested", 0)
    assert file_issue(report, "用电月报.csv")["code"] == "file.no_rows"


def test_truncated_csv_last_line_cut(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1, 2, 3])
    path = write_csv(d / "用电月报.csv", ELECTRICITY_HEADER,
                     [[code(1), "2024-01", "100"], [code(2), "2024-01", "200"], [code(3), "2024-01", "300"]])
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",")])  # cut inside the last line: "…,2024-01"
    report = ingest([d])
    f = by_file(report, "用电月报.csv")
    assert (f.rows, f.accepted, f.rejected) == (3, 2, 1)
    [cut] = [i for i in issues(report.run_id) if i["code"] == "row.truncated"]
    assert cut["row"] == 3 and "截断" in cut["reason"]
    assert [r["_row"] for r in facts("monthly_electricity")] == [1, 2]


def test_truncated_csv_whose_last_line_still_parses_is_kept_with_a_warning(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1, 2])
    write_csv(d / "用电月报.csv", ELECTRICITY_HEADER, [[code(1), "2024-01", "100"], [code(2), "2024-01", "20"]],
              final_newline=False)
    report = ingest([d])
    f = by_file(report, "用电月报.csv")
    assert (f.accepted, f.warned) == (2, 1)
    [warning] = [i for i in issues(report.run_id) if i["code"] == "row.no_final_newline"]
    assert warning["row"] == 2


def test_truncated_parquet_is_a_clear_file_level_error(tmp_path):
    d = tmp_path / "d"
    write_registry(d)
    path = write_tax(d, [(code(1), "202401", Decimal("1.00"), Decimal("0.10"))] * 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])  # footer gone
    report = ingest([d])
    f = by_file(report, "税收月报.parquet")
    assert f.status == "failed"
    assert "截断或损坏" in f.message and "重新导出" in f.message
    assert file_issue(report, "税收月报.parquet")["code"] == "file.truncated"
    assert facts("monthly_tax") == []
    assert current_snapshot() is not None  # the registry still got published


def test_damaged_excel_is_a_clear_file_level_error(tmp_path):
    d = tmp_path / "d"
    write_registry(d)
    (d / "kj").mkdir()
    (d / "kj" / "资质认定.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    report = ingest([d])
    f = by_file(report, "资质认定.xlsx")
    assert f.status == "failed" and "Excel" in f.message and "xlsx" in f.message


def test_unknown_column_is_ignored_with_a_warning_listing_it(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1])
    write_csv(d / "用电月报.csv", [*ELECTRICITY_HEADER, "备注"], [[code(1), "2024-01", "100", "抄表员：王"]])
    report = ingest([d])
    f = by_file(report, "用电月报.csv")
    assert (f.status, f.accepted) == ("ingested", 1)
    note = file_issue(report, "用电月报.csv")
    assert note["code"] == "file.columns_unknown" and note["severity"] == "warning"
    assert "备注" in note["reason"] and "抄表年月" in note["reason"]


def test_missing_required_column_rejects_the_file_and_lists_the_columns(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1])
    write_csv(d / "用电月报.csv", ["统一社会信用代码", "年月", "用电量(千瓦时)"], [[code(1), "2024-01", "100"]])
    report = ingest([d])
    f = by_file(report, "用电月报.csv")
    assert f.status == "failed"
    assert "缺少必填列：抄表年月" in f.message and "年月" in f.message


def test_malformed_line_in_the_middle_keeps_row_numbers_exact(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1, 2, 3, 4])
    path = d / "用电月报.csv"
    lines = ["统一社会信用代码,抄表年月,用电量(千瓦时)",
             f"{code(1)},2024-01,100",
             f"{code(2)},2024-01,1,200",      # an unquoted thousands separator: one field too many
             f'{code(3)},2024-01,"3,000"',    # quoted: fine
             "",                               # blank line: skipped, not counted
             f"{code(4)},2024-01,400"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest([d])
    f = by_file(report, "用电月报.csv")
    assert (f.rows, f.accepted, f.rejected) == (4, 3, 1)
    [bad] = [i for i in issues(report.run_id) if i["code"] == "row.columns"]
    assert bad["row"] == 2 and "4 列" in bad["reason"] and code(2) in bad["value"]
    assert [(r["uscc"], r["_row"], r["electricity_kwh"]) for r in facts("monthly_electricity")] == [
        (code(1), 1, Decimal("100.00")), (code(3), 3, Decimal("3000.00")), (code(4), 4, Decimal("400.00"))]


def test_files_without_a_mapping_are_listed_not_ingested(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1])
    (d / "说明.txt").write_text("随附说明", encoding="utf-8")
    report = ingest([d])
    f = by_file(report, "说明.txt")
    assert f.status == "unmatched" and "--source" in f.message


def test_explicit_source_reads_a_differently_named_file(tmp_path):
    write_registry(tmp_path / "a", ns=[1])
    ingest([tmp_path / "a"])
    path = write_csv(tmp_path / "b" / "2024年1月电量.csv", ELECTRICITY_HEADER, [[code(1), "2024-01", "5"]])
    report = ingest([path], source="dl_electricity_monthly")
    assert by_file(report, "2024年1月电量.csv").accepted == 1
    assert facts("monthly_electricity")[0]["month"] == dt.date(2024, 1, 1)


def test_registry_with_bad_header_encoding_names_the_problem(tmp_path):
    d = tmp_path / "d"
    # Headers in a single-byte encoding that is neither GBK nor UTF-8 text we can read.
    (d).mkdir()
    (d / "企业登记信息.csv").write_bytes(",".join(REGISTRY_HEADER).encode("utf-16-le") + b"\n\x00")
    report = ingest([d])
    f = by_file(report, "企业登记信息.csv")
    assert f.status == "failed" and "缺少必填列" in f.message and "编码" in f.message


def test_empty_excel_sheet_is_a_file_level_error(tmp_path):
    import openpyxl

    d = tmp_path / "d"
    write_registry(d, ns=[1])
    (d / "kj").mkdir()
    openpyxl.Workbook().save(d / "kj" / "资质认定.xlsx")
    report = ingest([d])
    f = by_file(report, "资质认定.xlsx")
    assert f.status == "failed" and "没有表头" in f.message
    assert file_issue(report, "资质认定.xlsx")["code"] == "file.empty"
