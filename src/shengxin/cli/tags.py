"""``shengxin tags``: compute, inspect, explain and change the enterprise tags.

* ``tags compute [--as-of DATE] [--json]`` — every tag in force at the date, over the data hub's
  current snapshot; publishes a tag snapshot (default date: the last day of the data's month);
* ``tags list [--json]`` — the catalogue in force with counts in the current snapshot;
* ``tags of USCC [--json]`` — an enterprise's tags; ``tags members TAG_ID [--town] [--limit]`` —
  the enterprises that have a tag;
* ``tags explain USCC TAG_ID [--json]`` — the value, the decisive values and thresholds, lineage;
* ``tags template TAG_ID [--definition TEXT] [--out FILE]`` — a change file for a tag, to edit;
* ``tags validate FILE [--json]`` — check a changed/new definition file (exit 1 on errors);
* ``tags preview FILE [--json]`` — who would gain or lose each tag, by town (nothing stored);
* ``tags upload FILE [--note TEXT] [--json]`` — store a change: validated, and previewed when a
  tag snapshot exists; ``tags activate ID`` puts a previewed change in force; ``tags withdraw ID``;
  ``tags changes [--json]`` lists every change ever uploaded.

Exit status 1 with the reason on bad input (what, where, what is allowed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from shengxin.audit.service import Actor, record
from shengxin.cli.common import console, err_console, fail, load_settings, print_json
from shengxin.db import session_scope
from shengxin.engine.errors import DefinitionErrors
from shengxin.errors import DomainError, InvalidInput
from shengxin.reference.district import load_district

app = typer.Typer(help="企业标签 / Enterprise tags: compute, explain, change the catalogue.", no_args_is_help=True)
CLI_ACTOR = Actor("cli", "district_admin")
STEPS = {"compile": "编译标签定义", "compute": "计算标签（DuckDB）", "write": "写入标签快照"}


def _context():
    settings = load_settings()
    return settings, load_district(settings.district_file)


def _catalogue(district):
    from shengxin.tags.versions import effective_catalogue

    with session_scope() as s:
        return effective_catalogue(s, district)


def _print_errors(errors) -> None:
    for e in errors:
        err_console.print(f"[red]错误 / error:[/red] {e}")
        excerpt = e.excerpt() if hasattr(e, "excerpt") else None
        if excerpt:
            err_console.print(excerpt, markup=False, highlight=False)


@app.command("compute")
def compute_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="统计日期 YYYY-MM-DD（默认：数据最新月份的最后一天）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """Compute every tag in force at the as-of date and publish a tag snapshot."""
    from shengxin.tags.compute import compute

    settings, district = _context()
    try:
        date = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        fail(InvalidInput(f"--as-of {as_of!r} is not a date; write YYYY-MM-DD", where="--as-of"))
    try:
        catalogue = _catalogue(district)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err_console, transient=as_json, disable=as_json) as progress:
            task = progress.add_task("标签计算", total=len(STEPS))

            def step(name: str) -> None:
                done = list(STEPS).index(name)
                progress.update(task, completed=done, description=STEPS[name])

            result = compute(catalogue, district, settings.analytic_dir, as_of=date, progress=step)
            progress.update(task, completed=len(STEPS), description="完成")
        with session_scope() as s:
            record(s, CLI_ACTOR, "tags.compute", "tag_snapshot", result.snapshot_id,
                   {"as_of": result.as_of.isoformat(), "tags": result.tags, "rows": result.rows})
    except DefinitionErrors as exc:
        _print_errors(exc.errors)
        raise typer.Exit(1) from exc
    except DomainError as exc:
        fail(exc)
    data = {"snapshot_id": result.snapshot_id, "as_of": result.as_of.isoformat(), "created": result.created,
            "enterprises": result.enterprises, "tags": result.tags, "rows": result.rows,
            "skipped": result.skipped, "seconds": round(result.seconds, 3)}
    if as_json:
        print_json(data)
        return
    console.print(f"已发布标签快照 [bold]{result.snapshot_id}[/bold]（统计日期 {result.as_of}）："
                  f"{result.tags} 个标签，{result.enterprises:,} 家企业，{result.rows:,} 条标签记录，"
                  f"用时 {result.seconds:.1f} 秒" + ("" if result.created else "（输入未变，沿用同一快照）"))
    for tag_id, why in result.skipped.items():
        console.print(f"[yellow]未计算 / skipped[/yellow] {tag_id}: {why}")


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False) -> None:
    """The tags in force (latest versions) with their counts in the current snapshot."""
    from shengxin.tags.service import list_tags

    settings, district = _context()
    try:
        rows = list_tags(_catalogue(district), settings.analytic_dir)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "名称", "类别", "版本", "来源", "企业数")
    for r in rows:
        table.add_row(r["id"], r["name"], r["category_name"], str(r["version"]), r["provenance_name"],
                      "-" if r["count"] is None else f"{r['count']:,}")
    console.print(table)
    console.print(f"共 {len(rows)} 个标签")


@app.command("of")
def of_cmd(
    uscc: Annotated[str, typer.Argument(help="统一社会信用代码", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """An enterprise's tags in the current snapshot."""
    from shengxin.tags.service import tags_of

    settings, district = _context()
    try:
        data = tags_of(uscc, settings.analytic_dir, district)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(data)
        return
    table = Table("类别", "标签", "id", "值")
    for t in data["tags"]:
        table.add_row(t["category_name"], t["name"], t["id"], "" if t["value"] is None else str(t["value"]))
    console.print(f"{data['uscc']}（标签快照 {data['snapshot_id']}，统计日期 {data['as_of']}）")
    console.print(table)


@app.command("members")
def members_cmd(
    tag_id: Annotated[str, typer.Argument(help="标签 id", show_default=False)],
    town: Annotated[str | None, typer.Option("--town", help="只列出该镇街（区划代码）的企业")] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多列出多少家")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """The enterprises that have a tag (the first ones by code)."""
    from shengxin.tags.service import members

    settings, district = _context()
    try:
        data = members(tag_id, settings.analytic_dir, district, town=town, limit=limit)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(data)
        return
    console.print(f"{data['name']}（{tag_id}）：共 {data['total']:,} 家，统计日期 {data['as_of']}")
    for e in data["enterprises"]:
        console.print(f"{e['uscc']}  {e['town_name'] or e['town'] or ''}" + ("" if e["value"] is None else f"  {e['value']}"))


def _print_tree(e: dict, indent: int = 0) -> None:
    mark = {True: "[green]✓[/green]", False: "[red]✗[/red]", None: "[yellow]?[/yellow]"}[e["result"]]
    pad = "  " * indent
    if e["kind"] == "compare":
        console.print(f"{pad}{mark} {e['actual']['label']} = {e['actual']['display']}  {e['op']}  {e['threshold']['display']}")
    elif e.get("actual"):
        console.print(f"{pad}{mark} {e['label']}（实际：{e['actual']['display']}）")
    else:
        console.print(f"{pad}{mark} {e['label']}")
    for c in e.get("conditions", []):
        _print_tree(c, indent + 1)


@app.command("explain")
def explain_cmd(
    uscc: Annotated[str, typer.Argument(help="统一社会信用代码", show_default=False)],
    tag_id: Annotated[str, typer.Argument(help="标签 id，如 innovation.high_tech", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """Why the enterprise has (or does not have) the tag: values, thresholds and lineage."""
    from shengxin.tags.explain import explain

    settings, district = _context()
    try:
        data = explain(uscc, tag_id, settings.analytic_dir, district)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(data)
        return
    t = data["tag"]
    console.print(f"[bold]{t['name']}[/bold]（{t['id']} v{t['version']}）：{'有' if data['value'] else '无'}"
                  f"  — 统计日期 {data['snapshot']['as_of']}，快照 {data['snapshot']['id']}")
    console.print(f"定义：{t['definition']}", markup=False)
    _print_tree(data["explanation"])
    lineage = data.get("lineage", {})
    if lineage.get("available"):
        for table in lineage["tables"]:
            console.print(f"数据来源 {table['title']}：{table['total']} 行（显示 {table['shown']} 行）")
            for row in table["rows"][:5]:
                console.print(f"  {row['_source']} · {row['_file']} 第 {row['_row']} 行 · 导入批次 {row['_run']}", markup=False)
    elif lineage:
        console.print(f"[yellow]{lineage['reason']}[/yellow]")


def _read(path: Path) -> str:
    from shengxin.tags.catalogue import read_file

    return read_file(path)


@app.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="标签定义 YAML 文件", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """Validate a file of new or changed tag definitions against the catalogue in force."""
    from shengxin.tags.versions import check_upload

    _, district = _context()
    try:
        change, errors = check_upload(_catalogue(district), _read(file), file.name, district)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json({"file": str(file), "valid": not errors, "tags": sorted({v.id for v in change.versions}) if change else [],
                    "errors": [e.to_dict() for e in errors]})
    elif errors:
        _print_errors(errors)
    else:
        console.print(f"校验通过 / valid：{len(change.versions)} 个标签版本（{', '.join(sorted({v.id for v in change.versions}))}）")
    if errors:
        raise typer.Exit(1)


def _print_preview(result: dict) -> None:
    console.print(f"对比标签快照 {result['snapshot_id']}（统计日期 {result['as_of']}）")
    if result.get("note"):
        console.print(f"[yellow]{result['note']}[/yellow]")
    for t in result["tags"]:
        console.print(f"[bold]{t['id']}[/bold] {t['name']}：{t['before']:,} → {t['after']:,} 家"
                      f"（新增 {t['gained']:,}，减少 {t['lost']:,}）")
        table = Table("镇街", "原有", "现有", "新增", "减少")
        for row in t["by_town"]:
            if row["gained"] or row["lost"]:
                table.add_row(row["town_name"], f"{row['before']:,}", f"{row['after']:,}", f"{row['gained']:,}", f"{row['lost']:,}")
        if table.row_count:
            console.print(table)


@app.command("preview")
def preview_cmd(
    file: Annotated[Path, typer.Argument(help="标签定义 YAML 文件", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """How many enterprises would gain or lose each changed tag, by town (nothing is stored)."""
    from shengxin.tags.preview import preview
    from shengxin.tags.versions import check_upload

    settings, district = _context()
    try:
        base = _catalogue(district)
        change, errors = check_upload(base, _read(file), file.name, district)
        if errors:
            _print_errors(errors)
            raise typer.Exit(1)
        result = preview(base, change, district, settings.analytic_dir)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(result)
    else:
        _print_preview(result)


def _change_dict(c) -> dict:
    return {"id": c.id, "filename": c.filename, "status": c.status, "status_label": c.status_label, "note": c.note,
            "tags": c.tag_ids, "errors": c.errors, "preview": c.preview, "catalogue_version": c.catalogue_version,
            "uploaded_by": c.uploaded_by, "uploaded_at": c.uploaded_at, "activated_by": c.activated_by,
            "activated_at": c.activated_at}


@app.command("template")
def template_cmd(
    tag_id: Annotated[str, typer.Argument(help="要修改的标签 id", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="写入的 YAML 文件")] = Path("tag-change.yaml"),
    definition: Annotated[str | None, typer.Option("--definition", help="新的定义（默认沿用当前定义）")] = None,
    valid_from: Annotated[str | None, typer.Option("--valid-from", help="新版本生效日期 YYYY-MM-DD（默认今天）")] = None,
) -> None:
    """Write a tag's current definition as a change file (next version number) to edit and upload."""
    import yaml

    _, district = _context()
    try:
        catalogue = _catalogue(district)
        current = catalogue.latest().get(tag_id)
        if current is None:
            raise InvalidInput(f"unknown tag {tag_id!r}; see shengxin tags list", where="TAG_ID")
        if valid_from:
            try:
                dt.date.fromisoformat(valid_from)
            except ValueError:
                raise InvalidInput(f"{valid_from!r} is not a date; write YYYY-MM-DD", where="--valid-from") from None
        entry = current.public()
        entry["version"] = max(v.version for v in catalogue.versions_of(tag_id)) + 1
        entry["valid_from"] = valid_from or dt.date.today().isoformat()
        if definition is not None:
            entry["definition"] = definition
        entry = {k: v for k, v in entry.items() if v not in (None, "", False) or k == "definition"}
        out.write_text(yaml.safe_dump({"tags": [entry]}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    except DomainError as exc:
        fail(exc)
    console.print(f"已写入 {out}：{tag_id} v{entry['version']}。修改后运行 shengxin tags validate {out}")


@app.command("upload")
def upload_cmd(
    file: Annotated[Path, typer.Argument(help="标签定义 YAML 文件", show_default=False)],
    note: Annotated[str, typer.Option("--note", help="变更说明")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """Store a change: validate it and, when a tag snapshot exists, preview it (then activate)."""
    from shengxin.tags import snapshots
    from shengxin.tags.versions import preview_change, upload

    settings, district = _context()
    try:
        with session_scope() as s:
            change = upload(s, district, file.name, _read(file), CLI_ACTOR, note)
        if change.status == "validated" and snapshots.current(settings.analytic_dir) is not None:
            with session_scope() as s:
                change = preview_change(s, change.id, district, settings.analytic_dir, CLI_ACTOR)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(_change_dict(change))
    else:
        console.print(f"变更 #{change.id}：{change.status_label}")
        for e in change.errors:
            err_console.print(f"[red]错误 / error:[/red] {e['subject']} ({e['path']}): {e['message']}")
        if change.preview:
            _print_preview(change.preview)
        if change.status == "previewed":
            console.print(f"确认无误后启用：shengxin tags activate {change.id}")
    if change.status == "invalid":
        raise typer.Exit(1)


@app.command("activate")
def activate_cmd(change_id: Annotated[int, typer.Argument(help="变更编号", show_default=False)]) -> None:
    """Put a previewed change in force (then run ``shengxin tags compute``)."""
    from shengxin.tags.versions import activate

    _, district = _context()
    try:
        with session_scope() as s:
            change = activate(s, change_id, district, CLI_ACTOR)
    except DomainError as exc:
        fail(exc)
    console.print(f"已启用变更 #{change.id}，标签目录版本 v{change.catalogue_version}。运行 shengxin tags compute 重新计算标签。")


@app.command("withdraw")
def withdraw_cmd(change_id: Annotated[int, typer.Argument(help="变更编号", show_default=False)]) -> None:
    """Withdraw a change that is not active yet (it stays on record)."""
    from shengxin.tags.versions import withdraw

    load_settings()
    try:
        with session_scope() as s:
            change = withdraw(s, change_id, CLI_ACTOR)
    except DomainError as exc:
        fail(exc)
    console.print(f"已撤回变更 #{change.id}")


@app.command("changes")
def changes_cmd(as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False) -> None:
    """Every uploaded change, newest first."""
    from shengxin.tags.versions import list_changes

    load_settings()
    try:
        with session_scope() as s:
            changes = list_changes(s)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json([_change_dict(c) for c in changes])
        return
    table = Table("#", "文件", "状态", "标签", "目录版本", "上传人", "上传时间")
    for c in changes:
        table.add_row(str(c.id), c.filename, c.status_label, ", ".join(c.tag_ids), str(c.catalogue_version or "-"),
                      c.uploaded_by, c.uploaded_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)
