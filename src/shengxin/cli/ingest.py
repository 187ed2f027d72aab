"""``shengxin ingest``: load department deliveries into the data hub.

* ``shengxin ingest PATH... [--source NAME] [--force] [--json]`` — ingest files and folders (a
  folder ingests every file a mapping matches); prints accepted / rejected / warned counts per
  source and file. Exit status 1 when a file failed as a whole, else 0 (rejected rows are normal
  and sit in the quarantine).
* ``shengxin ingest quarantine [--run ID] --xlsx OUT`` — the quarantine of a run (default: the
  latest) as an Excel workbook to correct and re-send; without ``--xlsx`` prints the problems.
* ``shengxin ingest runs [--json]`` — the runs on disk, newest last.
* ``shengxin ingest sources [--json]`` — the delivery mappings and the files they match.

The main CLI mounts this app with ``app.add_typer(ingest.app, name="ingest")``. A folder literally
named ``quarantine``, ``runs`` or ``sources`` must be given as ``./quarantine`` etc.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from shengxin.cli.common import console, err_console, fail, load_settings, print_json
from shengxin.errors import DomainError

_STATUS = {
    "ingested": ("已导入", "green"),
    "unchanged": ("未变化，跳过", "cyan"),
    "failed": ("整个文件未导入", "red"),
    "unmatched": ("无对应映射，跳过", "yellow"),
}


class _FilesByDefault(TyperGroup):
    """``shengxin ingest PATH...`` runs the ``files`` command; named sub-commands still work."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["files", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_FilesByDefault,
    help="导入部门数据 / Ingest department deliveries into the data hub.\n\n"
    "用法：shengxin ingest PATH... [--source NAME] [--force] [--json]（即 files 子命令）；"
    "问题清单：shengxin ingest quarantine [--run ID] --xlsx OUT。",
    no_args_is_help=True,
)


class _RichProgress:
    """Progress bars on stderr (stdout stays clean for --json)."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = None
        self.status = progress.add_task("", total=None, visible=False)

    def file_started(self, label: str, source: str, total: int) -> None:
        self.task = self.progress.add_task(f"{label} [dim]({source})[/dim]", total=total or None)

    def file_advanced(self, done: int, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total or None)

    def file_finished(self, result) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[self.task].total or 1)
            self.task = None

    def stage(self, message: str) -> None:
        self.progress.update(self.status, description=f"[dim]{message}[/dim]", visible=True)


@app.command("files")
def ingest_files(
    paths: Annotated[list[Path], typer.Argument(help="部门报送的文件或目录", show_default=False)],
    source: Annotated[str | None, typer.Option("--source", help="按此映射读取（如 sw_tax_monthly）")] = None,
    force: Annotated[bool, typer.Option("--force", help="即使内容已导入过也重新读取")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出每个数据源和文件的计数")] = False,
) -> None:
    """导入文件或目录（目录中与映射匹配的所有文件）。"""
    from shengxin.enterprises.hub.run import ingest

    settings = load_settings()
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err_console, transient=as_json) as bars:
            report = ingest(paths, source=source, force=force, analytic_dir=settings.analytic_dir,
                            progress=_RichProgress(bars))
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if any(f.status == "failed" for f in report.files):
        raise typer.Exit(1)


def _print_report(report) -> None:
    table = Table(title=f"导入批次 {report.run_id}")
    for head, justify in (("文件", "left"), ("数据源", "left"), ("状态", "left"), ("数据行", "right"),
                          ("接收", "right"), ("退回", "right"), ("警告", "right"), ("说明", "left")):
        table.add_column(head, justify=justify)
    skipped = [f.file for f in report.files if f.status == "unmatched"]
    for f in report.files:
        if f.status == "unmatched":
            continue
        label, colour = _STATUS.get(f.status, (f.status, "white"))
        table.add_row(Text(f.file), f.source or "-", Text(label, style=colour), f"{f.rows:,}", f"{f.accepted:,}",
                      f"{f.rejected:,}", f"{f.warned:,}", Text(f.message or ""))
    console.print(table)
    if skipped:
        console.print(Text(f"没有对应映射、已跳过的文件（如是部门数据，请用 --source 指定映射）：{'、'.join(skipped)}"))
    t = report.totals
    console.print(f"合计：{t['rows']:,} 行，接收 {t['accepted']:,}，退回 {t['rejected']:,}，警告 {t['warned']:,}；"
                  f"用时 {report.seconds:.1f} 秒")
    if report.snapshot_id:
        console.print(f"已发布数据快照 {report.snapshot_id}")
    else:
        console.print("没有新数据，数据快照未变")
    if t["rejected"] or t["warned"]:
        console.print(f"问题清单：shengxin ingest quarantine --run {report.run_id} --xlsx 问题清单.xlsx")


@app.command("quarantine")
def quarantine(
    run: Annotated[str | None, typer.Option("--run", help="导入批次编号（默认最近一次）")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="导出为 Excel 文件")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出问题清单")] = False,
    limit: Annotated[int, typer.Option("--limit", help="不导出时最多显示的问题条数")] = 50,
) -> None:
    """查看或导出某次导入的问题清单（被退回的行及原因、警告）。"""
    from shengxin.enterprises.hub.quarantine import export_quarantine_xlsx, read_issues

    settings = load_settings()
    try:
        if xlsx is not None:
            result = export_quarantine_xlsx(xlsx, run, analytic_dir=settings.analytic_dir)
            summary = {"run_id": result.run_id, "xlsx": str(result.path), "issues": result.issues,
                       "rejected_rows": result.rejected_rows, "sheets": result.sheets}
            if as_json:
                print_json(summary)
            else:
                console.print(f"已导出批次 {result.run_id} 的问题清单：{result.issues} 个问题，"
                              f"{result.rejected_rows} 行退回数据 → {result.path}")
            return
        issues = read_issues(run, analytic_dir=settings.analytic_dir)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(issues.to_pylist())
        return
    table = Table(title=f"问题清单（共 {issues.num_rows} 条）")
    for head in ("文件", "行号", "列名", "值", "级别", "原因"):
        table.add_column(head)
    for r in issues.slice(0, limit).to_pylist():
        table.add_row(Text(r["file"] or ""), str(r["row"] or "-"), Text(r["header"] or "-"), Text(r["value"] or ""),
                      "错误" if r["severity"] == "error" else "警告", Text(r["reason"] or ""))
    console.print(table)
    if issues.num_rows > limit:
        console.print(f"仅显示前 {limit} 条；用 --xlsx 导出全部")


@app.command("runs")
def runs(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出导入批次（最近的在最后）。"""
    from shengxin.enterprises.store import list_runs, run_report

    settings = load_settings()
    reports = [run_report(r, settings.analytic_dir) for r in list_runs(settings.analytic_dir)]
    if as_json:
        print_json([{k: r[k] for k in ("run_id", "snapshot_id", "started_at", "totals")} for r in reports])
        return
    table = Table(title="导入批次")
    for head in ("批次", "开始时间", "快照", "数据行", "接收", "退回", "警告"):
        table.add_column(head)
    for r in reports:
        t = r["totals"]
        table.add_row(r["run_id"], r["started_at"], r["snapshot_id"] or "-", f"{t['rows']:,}", f"{t['accepted']:,}",
                      f"{t['rejected']:,}", f"{t['warned']:,}")
    console.print(table)


@app.command("sources")
def sources(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出数据源映射：文件名、格式、编码、目标表。"""
    from shengxin.enterprises.hub.mapping import load_mappings

    load_settings()
    try:
        mappings = load_mappings()
    except DomainError as exc:
        fail(exc)
    rows = [{"name": m.name, "title": m.title, "department": m.department, "files": list(m.files),
             "format": m.format, "encoding": m.encoding, "table": m.table, "key": list(m.key), "origin": m.origin}
            for m in mappings.values()]
    if as_json:
        print_json(rows)
        return
    table = Table(title="数据源映射")
    for head in ("名称", "标题", "文件", "格式", "编码", "目标表"):
        table.add_column(head)
    for r in rows:
        table.add_row(r["name"], r["title"], Text(", ".join(r["files"])), r["format"], r["encoding"], r["table"])
    console.print(table)
