"""The quarantine: every problem an ingest run found, and the rejected rows as delivered.

Each run keeps ``runs/<run id>/issues.parquet`` (one row per problem: file, row, field, header,
value, severity, code, reason) and ``runs/<run id>/rejected/*.parquet`` (each rejected row with
every delivered column as text). :func:`export_quarantine_xlsx` turns a run's quarantine into a
workbook a department can work from:

* ``说明`` — the run, its files and counts, and what to do;
* ``问题清单`` — every problem, errors first;
* one ``退回…`` sheet per file with rejected rows, in the file's own column layout plus the row
  number and the reasons, so the department can correct the rows and send them again.

Rule: text that starts with ``=`` is written as text, never as a formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from shengxin.enterprises.hub.merge import parquet_scan, query_arrow, scan_as
from shengxin.enterprises.hub.snapshot import hub_dir
from shengxin.enterprises.hub.validate import ISSUE_SCHEMA
from shengxin.enterprises.store import list_runs, run_report
from shengxin.errors import NotFound

#: Excel holds 1,048,576 rows per sheet; we stop a little earlier and say so.
MAX_SHEET_ROWS = 1_000_000
SEVERITY_LABELS = {"error": "错误（已退回）", "warning": "警告（已接收）"}


@dataclass
class QuarantineExport:
    path: Path
    run_id: str
    issues: int
    rejected_rows: int
    sheets: list[str]


def _root(analytic_dir: Path | None) -> Path:
    if analytic_dir is None:
        from shengxin.config import get_settings

        analytic_dir = get_settings().analytic_dir
    return hub_dir(analytic_dir)


def resolve_run(run_id: str | None, analytic_dir: Path | None = None) -> str:
    """The given run id, or else the latest run that read at least one file (a run that only found
    unchanged files has no quarantine of its own); NotFound when there is none."""
    runs = list_runs(analytic_dir)
    if run_id is None:
        if not runs:
            raise NotFound("还没有任何导入批次：请先运行 shengxin ingest")
        for candidate in reversed(runs):
            files = run_report(candidate, analytic_dir).get("files", [])
            if any(f.get("status") in ("ingested", "failed") for f in files):
                return candidate
        return runs[-1]
    if run_id not in runs:
        raise NotFound(f"没有编号为 {run_id} 的导入批次；现有批次：{', '.join(runs[-5:]) or '无'}")
    return run_id


def read_issues(run_id: str | None = None, *, analytic_dir: Path | None = None,
                severity: str | None = None) -> pa.Table:
    """The issues of one run (default: the latest), errors first, then by file and row."""
    run_id = resolve_run(run_id, analytic_dir)
    path = _root(analytic_dir) / "runs" / run_id / "issues.parquet"
    table = pq.read_table(path, schema=ISSUE_SCHEMA)
    if severity is not None:
        table = table.filter(pa.compute.equal(table.column("severity"), severity))
    return table.sort_by([("severity", "ascending"), ("file", "ascending"), ("row", "ascending")])


def _cell(ws, value):
    """A write-only cell; strings are always text (a leading ``=`` must not become a formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _sheet_title(n: int, file: str, taken: set[str]) -> str:
    stem = Path(file).stem
    for ch in '[]:*?/\\':
        stem = stem.replace(ch, "_")
    title = f"退回{n}-{stem}"[:31]
    while title in taken:
        title = title[:28] + f"~{len(taken)}"
    taken.add(title)
    return title


def _rejected_with_reasons(con: duckdb.DuckDBPyConnection, rejected: Path, issues: Path, file: str) -> pa.Table:
    """Rejected rows of one file joined with their error reasons (one text per row)."""
    reason = exp.func(
        "string_agg",
        exp.func("concat_ws", exp.Literal.string("："), exp.func("coalesce", exp.column("header"),
                                                                exp.Literal.string("整行")), exp.column("reason")),
        exp.Literal.string("；"),
    )
    per_row = (
        sqlglot.select(exp.column("row"), exp.alias_(reason, "_reasons"))
        .from_(parquet_scan([issues]))
        .where(exp.and_(exp.EQ(this=exp.column("file"), expression=exp.Literal.string(file)),
                        exp.EQ(this=exp.column("severity"), expression=exp.Literal.string("error"))))
        .group_by(exp.column("row"))
    )
    query = (
        sqlglot.select(exp.Column(this=exp.Star(), table=exp.to_identifier("r")), exp.column("_reasons", table="i"))
        .from_(scan_as([rejected], "r"))
        .join(per_row.subquery("i"), on=exp.EQ(this=exp.column("_row", table="r"), expression=exp.column("row", table="i")),
              join_type="left")
        .order_by(exp.column("_row", table="r"))
        .limit(MAX_SHEET_ROWS)
    )
    return query_arrow(con, query)


def export_quarantine_xlsx(out: Path | str, run_id: str | None = None, *, analytic_dir: Path | None = None
                           ) -> QuarantineExport:
    """Write the quarantine of a run (default: the latest) to an .xlsx workbook at ``out``."""
    from openpyxl import Workbook

    run_id = resolve_run(run_id, analytic_dir)
    run_dir = _root(analytic_dir) / "runs" / run_id
    report = run_report(run_id, analytic_dir)
    issues = read_issues(run_id, analytic_dir=analytic_dir)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    sheets: list[str] = []

    ws = wb.create_sheet("说明")
    sheets.append("说明")
    ws.append([_cell(ws, "导入批次"), _cell(ws, run_id)])
    ws.append([_cell(ws, "开始时间 (UTC)"), _cell(ws, report.get("started_at"))])
    ws.append([_cell(ws, "处理办法"), _cell(ws, "“错误”行未导入：请在“退回”工作表中按原因更正后，按原格式重新报送；"
                                             "“警告”行已导入，请核实。重新报送的记录按主键替换原记录。")])
    ws.append([])
    ws.append([_cell(ws, h) for h in ("文件", "数据源", "状态", "数据行", "接收", "退回", "警告", "说明")])
    for f in report.get("files", []):
        ws.append([_cell(ws, f.get(k)) for k in ("file", "source", "status", "rows", "accepted", "rejected",
                                                  "warned", "message")])

    ws = wb.create_sheet("问题清单")
    sheets.append("问题清单")
    ws.append([_cell(ws, h) for h in ("文件", "数据源", "行号", "字段", "列名", "值", "级别", "问题代码", "原因")])
    shown = 0
    for batch in issues.to_batches(max_chunksize=10_000):
        for r in batch.to_pylist():
            if shown >= MAX_SHEET_ROWS:
                break
            ws.append([_cell(ws, v) for v in (r["file"], r["source"], r["row"], r["field"], r["header"], r["value"],
                                              SEVERITY_LABELS.get(r["severity"], r["severity"]), r["code"], r["reason"])])
            shown += 1
    if issues.num_rows > MAX_SHEET_ROWS:
        ws.append([_cell(ws, f"（问题超过 {MAX_SHEET_ROWS} 条，仅列出前 {MAX_SHEET_ROWS} 条；完整清单见 {run_dir / 'issues.parquet'}）")])

    rejected_total = 0
    taken = set(sheets)
    con = duckdb.connect(":memory:")
    try:
        for n, (file, rel) in enumerate(sorted(report.get("rejected_files", {}).items()), start=1):
            table = _rejected_with_reasons(con, run_dir / rel, run_dir / "issues.parquet", file)
            title = _sheet_title(n, file, taken)
            sheets.append(title)
            ws = wb.create_sheet(title)
            headers = [c for c in table.column_names if c not in ("_row", "_text", "_reasons", "row")]
            has_text = table.column("_text").null_count < table.num_rows
            head = ["行号", "退回原因", *headers] + (["原始行内容"] if has_text else [])
            ws.append([_cell(ws, h) for h in head])
            for batch in table.to_batches(max_chunksize=10_000):
                for r in batch.to_pylist():
                    row = [r["_row"], r["_reasons"], *(r[h] for h in headers)] + ([r["_text"]] if has_text else [])
                    ws.append([_cell(ws, v) for v in row])
            rejected_total += table.num_rows
    finally:
        con.close()
    wb.save(out)
    return QuarantineExport(out, run_id, issues.num_rows, rejected_total, sheets)
