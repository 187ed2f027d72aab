"""Data hub ingest with real files (tmp_path), real Parquet snapshots and DuckDB.

Also holds the small file builders the other ``test_hub_*`` modules import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shengxin.config import get_settings
from shengxin.enterprises.hub import ingest
from shengxin.enterprises.store import current_snapshot, open_current
from shengxin.enterprises.uscc import make_code

REGISTRY_HEADER = ["统一社会信用代码", "企业名称", "成立日期", "企业类型", "行业代码", "注册资本(万元)", "住所",
                   "所属镇街代码", "登记状态", "状态变更日期", "法定代表人", "联系电话"]
TAX_SCHEMA = pa.schema([("纳税人识别号", pa.string()), ("所属期", pa.string()),
                        ("营业收入(元)", pa.decimal128(18, 2)), ("实缴税额(元)", pa.decimal128(18, 2))])
ELECTRICITY_HEADER = ["统一社会信用代码", "抄表年月", "用电量(千瓦时)"]
ANNUAL_HEADER = ["统一社会信用代码", "年度", "从业人员期末人数", "营业收入(万元)", "资产总计(万元)", "研发费用(万元)"]
CERT_HEADER = ["统一社会信用代码", "认定类型", "证书编号", "认定日期", "有效期至"]


def code(n: int) -> str:
    return make_code("9", "1", "330110", f"MA{n:07d}")


def wrong_check(c: str) -> str:
    return c[:17] + ("0" if c[17] != "0" else "1")


def registry_row(n: int, **over) -> list[str]:
    row = {"统一社会信用代码": code(n), "企业名称": f"杭州测试{n}科技有限公司", "成立日期": "2018-05-20",
           "企业类型": "有限责任公司", "行业代码": "6511", "注册资本(万元)": "500", "住所": f"余杭区文一西路{n}号",
           "所属镇街代码": "330110005", "登记状态": "存续", "状态变更日期": "", "法定代表人": "张三",
           "联系电话": "0571-88880000"}
    row.update(over)
    return [row[h] for h in REGISTRY_HEADER]


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8", bom: bool = False,
              final_newline: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    if not final_newline:
        text = text.rstrip("\n")
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_registry(folder: Path, ns=range(1, 6), extra: list[list[str]] | None = None, name="企业登记信息.csv") -> Path:
    return write_csv(folder / "scjg" / name, REGISTRY_HEADER, [registry_row(n) for n in ns] + (extra or []),
                     encoding="gbk")


def write_tax(folder: Path, rows: list[tuple], name="税收月报.parquet") -> Path:
    path = folder / "sw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(zip(*rows)) if rows else [[] for _ in TAX_SCHEMA]
    pq.write_table(pa.table([pa.array(list(c), f.type) for c, f in zip(columns, TAX_SCHEMA)], schema=TAX_SCHEMA), path)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def facts(table: str, order: str = "_row") -> list[dict]:
    con = open_current()
    cur = con.execute(f"SELECT * FROM {table} ORDER BY {order}")  # names are ours, not user input
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def issues(run_id: str) -> list[dict]:
    from shengxin.enterprises.hub.quarantine import read_issues

    return read_issues(run_id).to_pylist()


def by_file(report, name: str):
    return next(f for f in report.files if f.file.endswith(name))


@pytest.fixture(autouse=True)
def demo_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("SHENGXIN_DEMO", "1")
    monkeypatch.setenv("SHENGXIN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# --- the tests ----------------------------------------------------------------------------------


def test_gbk_registry_and_parquet_tax_land_in_a_snapshot(tmp_path):
    delivery = tmp_path / "delivery"
    write_registry(delivery)
    write_tax(delivery, [(code(1), "202401", Decimal("12345.67"), Decimal("100.01")),
                         (code(2), "202401", Decimal("0.50"), Decimal("0.00"))])
    report = ingest([delivery])
    registry = by_file(report, "企业登记信息.csv")
    assert (registry.status, registry.rows, registry.accepted, registry.rejected) == ("ingested", 5, 5, 0)
    assert registry.encoding == "GBK/GB18030"
    assert report.snapshot_id == current_snapshot().id
    rows = facts("enterprises")
    assert [r["name"] for r in rows] == [f"杭州测试{n}科技有限公司" for n in range(1, 6)]
    assert rows[0]["registered_capital_fen"] == 500 * 1_000_000
    assert rows[0]["status"] == "active" and rows[0]["established_on"] == dt.date(2018, 5, 20)
    tax = facts("monthly_tax")
    assert [(t["uscc"], t["month"], t["revenue_fen"], t["tax_fen"]) for t in tax] == [
        (code(1), dt.date(2024, 1, 1), 1234567, 10001), (code(2), dt.date(2024, 1, 1), 50, 0)]


def test_lineage_names_source_file_row_and_run(tmp_path):
    delivery = tmp_path / "d"
    write_registry(delivery, ns=[1, 2])
    report = ingest([delivery])
    rows = facts("enterprises")
    assert [(r["_source"], r["_file"], r["_row"], r["_run"]) for r in rows] == [
        ("scjg_registry", "scjg/企业登记信息.csv", 1, report.run_id),
        ("scjg_registry", "scjg/企业登记信息.csv", 2, report.run_id)]
    manifest = current_snapshot().manifest
    assert manifest["inputs"][0]["file"] == "scjg/企业登记信息.csv"
    assert manifest["inputs"][0]["fingerprint"].startswith("sha256:")
    assert manifest["tables"]["enterprises"]["rows"] == 2


def test_utf8_with_bom_and_without(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1, 2])
    write_csv(d / "tj" / "企业年报财务.csv", ANNUAL_HEADER,
              [[code(1), "2023", "12", "1,234.5", "800", "12.345678"]], bom=True)
    write_csv(d / "dl" / "用电月报.csv", ELECTRICITY_HEADER, [[code(2), "2024-01", "1234.56"]])
    report = ingest([d])
    annual = by_file(report, "企业年报财务.csv")
    assert (annual.accepted, annual.encoding) == (1, "UTF-8")
    row = facts("annual_finance")[0]
    assert (row["revenue_fen"], row["assets_fen"], row["rd_expense_fen"], row["employees"]) == (
        1_234_500_000, 800_000_000, 12_345_678, 12)
    assert facts("monthly_electricity")[0]["electricity_kwh"] == Decimal("1234.56")


def test_excel_delivery_with_dates_and_a_bad_row(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1, 2])
    write_xlsx(d / "kj" / "资质认定.xlsx", CERT_HEADER, [
        [code(1), "高新技术企业", "GR2023330001", dt.datetime(2023, 12, 8), dt.datetime(2026, 12, 7)],
        [code(2), "瞪羚企业", "X-1", dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1)],
        [code(2), "专精特新“小巨人”企业", "XJR-9", "2024-07-01", "2027-06-30"],
    ])
    report = ingest([d])
    certs = by_file(report, "资质认定.xlsx")
    assert (certs.rows, certs.accepted, certs.rejected) == (3, 2, 1)
    rows = facts("certifications")
    assert [(r["kind"], r["certified_on"], r["_row"]) for r in rows] == [
        ("high_tech", dt.date(2023, 12, 8), 1), ("little_giant", dt.date(2024, 7, 1), 3)]
    [issue] = [i for i in issues(report.run_id) if i["file"].endswith(".xlsx")]
    assert (issue["row"], issue["header"], issue["value"], issue["code"]) == (2, "认定类型", "瞪羚企业", "enum.unknown")


def test_file_with_bad_rows_quarantines_each_and_keeps_the_rest(tmp_path):
    d = tmp_path / "d"
    bad = [
        registry_row(11, 统一社会信用代码=code(11).replace("0", "O", 1)),  # row 6: letter O
        registry_row(12, 成立日期="2023-02-30"),                         # row 7
        registry_row(13, 行业代码="6598"),                              # row 8
        registry_row(14, 所属镇街代码="330110999"),                      # row 9
        registry_row(15, **{"注册资本(万元)": "约120万"}),                      # row 10
        registry_row(16, 企业名称=""),                                 # row 11
        registry_row(17, 登记状态="吊销"),                              # row 12
        registry_row(18, 统一社会信用代码=wrong_check(code(18))),       # row 13: warning only
        registry_row(19, **{"注册资本(万元)": "1,500.25"}),                     # row 14: fine
    ]
    write_registry(d, ns=range(1, 6), extra=bad)
    report = ingest([d])
    f = by_file(report, "企业登记信息.csv")
    assert (f.rows, f.accepted, f.rejected, f.warned) == (14, 7, 7, 1)
    found = {(i["row"], i["code"]) for i in issues(report.run_id) if i["row"] is not None}
    assert found == {(6, "uscc.invalid"), (7, "date.invalid"), (8, "code.industry_unknown"),
                     (9, "code.town_unknown"), (10, "number.format"), (11, "required.missing"),
                     (12, "enum.unknown"), (13, "uscc.check_character")}
    kept = {r["_row"] for r in facts("enterprises")}
    assert kept == {1, 2, 3, 4, 5, 13, 14}
    assert next(r for r in facts("enterprises") if r["_row"] == 14)["registered_capital_fen"] == 1_500_250_000
    for i in issues(report.run_id):
        assert i["reason"] and i["file"] == "scjg/企业登记信息.csv" and i["source"] == "scjg_registry"


def test_unknown_enterprise_is_rejected_and_registry_in_same_run_counts(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1])
    write_tax(d, [(code(1), "202401", Decimal(1), Decimal(0)),
                  (code(99), "202401", Decimal(1), Decimal(0)),
                  (wrong_check(code(1)), "202402", Decimal(2), Decimal(0))])
    report = ingest([d])
    tax = by_file(report, "税收月报.parquet")
    assert (tax.accepted, tax.rejected, tax.warned) == (2, 1, 1)
    [unknown] = [i for i in issues(report.run_id) if i["code"] == "reference.unknown_enterprise"]
    assert unknown["row"] == 2 and code(99) in unknown["reason"]
    assert {r["uscc"] for r in facts("monthly_tax")} == {code(1)}


def test_unit_conversion_wan_yuan_and_yuan_are_exact(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1], extra=[registry_row(2, **{"注册资本(万元)": "0.000001"}),
                                     registry_row(3, **{"注册资本(万元)": "123456789.123456"})])
    write_csv(d / "scjg" / "行政处罚.csv", ["统一社会信用代码", "决定书文号", "处罚日期", "罚款金额(元)", "处罚机关"],
              [[code(1), "杭余市监罚〔2024〕1号", "2024-03-01", "1,234.56", "余杭区市场监督管理局"],
               [code(2), "杭余市监罚〔2024〕2号", "2024-03-02", "0.1", "余杭区市场监督管理局"],
               [code(3), "杭余市监罚〔2024〕3号", "2024-03-03", "0.005", "余杭区市场监督管理局"]])
    report = ingest([d])
    capital = {r["uscc"]: r["registered_capital_fen"] for r in facts("enterprises")}
    assert capital == {code(1): 500_000_000, code(2): 1, code(3): 123_456_789_123_456}
    fines = [r["fine_fen"] for r in facts("penalties")]
    assert fines == [123456, 10]
    [issue] = [i for i in issues(report.run_id) if i["file"].endswith("行政处罚.csv")]
    assert issue["code"] == "number.precision" and issue["row"] == 3


def test_encoding_declared_wrong_is_detected_with_a_warning(tmp_path):
    d = tmp_path / "d"
    # The registry mapping says GBK; this department sent UTF-8.
    write_csv(d / "企业登记信息.csv", REGISTRY_HEADER, [registry_row(1)], encoding="utf-8")
    report = ingest([d])
    f = by_file(report, "企业登记信息.csv")
    assert (f.accepted, f.encoding) == (1, "UTF-8")
    notes = [i for i in issues(report.run_id) if i["code"] == "file.encoding"]
    assert notes and "GBK" in notes[0]["reason"] and "UTF-8" in notes[0]["reason"]
    assert facts("enterprises")[0]["name"] == "杭州测试1科技有限公司"


def test_invalid_bytes_reject_only_their_rows(tmp_path):
    d = tmp_path / "d"
    path = write_csv(d / "企业登记信息.csv", REGISTRY_HEADER, [registry_row(1), registry_row(2)], encoding="gbk")
    data = path.read_bytes().replace("杭州测试2".encode("gbk"), b"\xff\xfe\xfd2")
    path.write_bytes(data)
    report = ingest([d])
    f = by_file(report, "企业登记信息.csv")
    assert (f.accepted, f.rejected) == (1, 1)
    [issue] = [i for i in issues(report.run_id) if i["code"] == "text.encoding"]
    assert issue["row"] == 2 and issue["header"] == "企业名称" and "GBK" in issue["reason"]
