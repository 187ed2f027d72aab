"""The ingest and quarantine CLI (typer CliRunner on the real app) and the Excel export."""

from __future__ import annotations

import json
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from shengxin.cli.ingest import app
from shengxin.enterprises.hub import ingest
from shengxin.enterprises.hub.quarantine import export_quarantine_xlsx
from shengxin.errors import NotFound
from tests.integration.test_hub_ingest import (  # noqa: F401 (demo_settings is an autouse fixture)
    ELECTRICITY_HEADER,
    code,
    demo_settings,
    registry_row,
    write_csv,
    write_registry,
    write_tax,
)

runner = CliRunner()


def delivery(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1, 2], extra=[registry_row(3, 成立日期="不详"),
                                        registry_row(4, **{"企业名称": "=HYPERLINK(\"http://x\")",
                                                           "注册资本(万元)": "-5"})])
    write_tax(d, [(code(1), "202401", Decimal("1.00"), Decimal("0.10")),
                  (code(9), "202401", Decimal("2.00"), Decimal("0.20"))])
    write_csv(d / "dl" / "用电月报.csv", ELECTRICITY_HEADER, [[code(1), "2024-01", "10"]])
    (d / "kj").mkdir()
    (d / "kj" / "资质认定.xlsx").write_bytes(b"")
    return d


def test_ingest_json_counts_per_source_and_file(tmp_path):
    result = runner.invoke(app, [str(delivery(tmp_path)), "--json"])
    assert result.exit_code == 1, result.output  # one file failed as a whole (the empty workbook)
    data = json.loads(result.stdout)
    assert data["sources"]["scjg_registry"] == {"files": 1, "rows": 4, "accepted": 2, "rejected": 2, "warned": 0}
    assert data["sources"]["sw_tax_monthly"]["rejected"] == 1
    files = {f["file"]: f for f in data["files"]}
    assert files["dl/用电月报.csv"]["accepted"] == 1
    assert files["kj/资质认定.xlsx"]["status"] == "failed" and "0 字节" in files["kj/资质认定.xlsx"]["message"]
    assert data["snapshot_id"] and data["totals"]["rejected"] == 3


def test_ingest_table_output_and_second_run(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1])
    first = runner.invoke(app, [str(d)])
    assert first.exit_code == 0, first.output
    assert "已导入" in first.output and "已发布数据快照" in first.output
    second = runner.invoke(app, [str(d)])
    assert "未变化" in second.output and "数据快照未变" in second.output


def test_unknown_source_and_missing_path_are_errors(tmp_path):
    missing = runner.invoke(app, [str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "不存在" in missing.output
    write_registry(tmp_path / "d", ns=[1])
    bad = runner.invoke(app, [str(tmp_path / "d"), "--source", "no_such"])
    assert bad.exit_code == 1 and "scjg_registry" in bad.output


def test_quarantine_export_to_excel(tmp_path):
    d = delivery(tmp_path)
    report = ingest([d])
    out = tmp_path / "问题清单.xlsx"
    result = runner.invoke(app, ["quarantine", "--run", report.run_id, "--xlsx", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rejected_rows"] == 3
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:2] == ["说明", "问题清单"]
    problems = list(wb["问题清单"].iter_rows(values_only=True))
    assert problems[0] == ("文件", "数据源", "行号", "字段", "列名", "值", "级别", "问题代码", "原因")
    rows = {(p[0], p[2], p[7]) for p in problems[1:]}
    assert ("scjg/企业登记信息.csv", 3, "date.format") in rows
    assert ("scjg/企业登记信息.csv", 4, "number.below_min") in rows
    assert ("sw/税收月报.parquet", 2, "reference.unknown_enterprise") in rows
    registry_sheet = next(ws for ws in wb.worksheets if "企业登记信息" in ws.title)
    sheet = list(registry_sheet.iter_rows(values_only=True))
    assert sheet[0][:4] == ("行号", "退回原因", "统一社会信用代码", "企业名称")
    assert [r[0] for r in sheet[1:]] == [3, 4]
    assert "成立日期：'不详' 不是日期" in sheet[1][1]
    assert sheet[2][3] == "=HYPERLINK(\"http://x\")"  # text, not a formula
    assert registry_sheet.cell(row=3, column=4).data_type == "s"


def test_quarantine_listing_and_runs(tmp_path):
    report = ingest([delivery(tmp_path)])
    listing = runner.invoke(app, ["quarantine", "--json"])
    assert listing.exit_code == 0
    codes = {i["code"] for i in json.loads(listing.stdout)}
    assert {"date.format", "file.empty", "reference.unknown_enterprise"} <= codes
    runs = runner.invoke(app, ["runs", "--json"])
    assert [r["run_id"] for r in json.loads(runs.stdout)] == [report.run_id]
    sources = runner.invoke(app, ["sources", "--json"])
    assert len(json.loads(sources.stdout)) == 15


def test_quarantine_without_runs_says_what_to_do(tmp_path):
    result = runner.invoke(app, ["quarantine", "--xlsx", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "shengxin ingest" in result.output
    with pytest.raises(NotFound):
        export_quarantine_xlsx(tmp_path / "x.xlsx", "20990101T000000000000Z-dead")
