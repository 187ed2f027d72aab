"""``shengxin enterprises``: look enterprises up in the registry (the latest data snapshot).

* ``shengxin enterprises show USCC [--json]`` — identity, industry path, town, certifications,
  credit events, latest annual figures and where the registry record came from;
* ``shengxin enterprises search [QUERY] [--town CODE] [--page N] [--page-size N] [--json]`` — by
  name substring or code prefix, with paging and the total;
* ``shengxin enterprises series USCC [--json]`` — the monthly series behind the portrait charts.

Exit status 1 with the reason when the code is malformed or not registered. The main CLI mounts
this app with ``app.add_typer(enterprises.app, name="enterprises")``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from shengxin.cli.common import console, fail, load_settings, print_json
from shengxin.errors import DomainError

app = typer.Typer(help="企业库查询 / Enterprise registry look-ups.", no_args_is_help=True)


def _yuan(fen: int | None) -> str:
    """Fen as 元 with two decimals and thousands separators (exact: integer arithmetic)."""
    if fen is None:
        return "-"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d} 元"


@app.command("show")
def show(
    uscc: Annotated[str, typer.Argument(help="统一社会信用代码", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """显示一家企业的登记信息、行业、镇街、资质、信用记录和最近年报。"""
    from shengxin.enterprises.registry import get_enterprise

    settings = load_settings()
    try:
        e = get_enterprise(uscc, analytic_dir=settings.analytic_dir)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(e.model_dump(mode="json"))
        return
    table = Table(title=e.name, show_header=False)
    table.add_column("项目")
    table.add_column("内容")
    industry = " → ".join(f"{i.code} {i.name}" for i in e.industry_path) or (e.industry_code or "-")
    rows = [
        ("统一社会信用代码", e.uscc), ("登记状态", e.status_label or e.status or "-"),
        ("成立日期", str(e.established_on or "-")), ("企业类型", e.legal_form or "-"),
        ("法定代表人", e.legal_representative or "-"), ("注册资本", _yuan(e.registered_capital_fen)),
        ("行业", industry), ("镇街", f"{e.town_name or '-'}（{e.town_code or '-'}）"), ("住所", e.address or "-"),
        ("统计范围", "、".join(s.label for s in e.survey_scopes) or "-"),
        ("资质", "；".join(f"{c.label} {c.certificate_no}（{c.certified_on}–{c.valid_until}）" for c in e.certifications) or "-"),
        ("知识产权", "、".join(f"{k} {v}" for k, v in e.ip_rights.items()) or "-"),
        ("融资", "；".join(f"{f.financed_on} {f.label} {_yuan(f.amount_fen)}" for f in e.financing) or "-"),
        ("信用记录", "；".join(f"{c.label} {c.reference or ''} {c.start_on}" for c in e.credit_events) or "-"),
    ]
    if e.latest_annual:
        a = e.latest_annual
        rows.append((f"{a.year} 年报", f"从业人员 {a.employees}，营业收入 {_yuan(a.revenue_fen)}，"
                                       f"资产 {_yuan(a.assets_fen)}，研发费用 {_yuan(a.rd_expense_fen)}"))
    rows.append(("数据来源", f"{e.lineage.file} 第 {e.lineage.row} 行（批次 {e.lineage.run}）"))
    for k, v in rows:
        table.add_row(k, Text(v))
    console.print(table)


@app.command("search")
def search(
    query: Annotated[str | None, typer.Argument(help="企业名称片段或统一社会信用代码前缀")] = None,
    town: Annotated[str | None, typer.Option("--town", help="镇街代码（9 位）")] = None,
    page: Annotated[int, typer.Option("--page", help="页码，从 1 开始")] = 1,
    page_size: Annotated[int, typer.Option("--page-size", help="每页条数（1–100）")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """按名称或代码前缀查找企业，可按镇街筛选，分页显示。"""
    from shengxin.enterprises.registry import search_enterprises

    settings = load_settings()
    try:
        result = search_enterprises(query, town_code=town, page=page, page_size=page_size,
                                    analytic_dir=settings.analytic_dir)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    table = Table(title=f"共 {result.total} 家，第 {result.page}/{max(result.pages, 1)} 页")
    for head in ("统一社会信用代码", "企业名称", "镇街", "行业", "状态"):
        table.add_column(head)
    for item in result.items:
        table.add_row(item.uscc, Text(item.name), item.town_name or "-", Text(item.industry_name or "-"),
                      item.status_label or "-")
    console.print(table)


@app.command("series")
def series(
    uscc: Annotated[str, typer.Argument(help="统一社会信用代码", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """显示一家企业的月度营业收入、实缴税额、参保人数和用电量。"""
    from shengxin.enterprises.registry import monthly_series

    settings = load_settings()
    try:
        s = monthly_series(uscc, analytic_dir=settings.analytic_dir)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(s.model_dump(mode="json"))
        return
    table = Table(title=f"{s.uscc} 月度数据")
    for head in ("月份", "营业收入", "实缴税额", "参保人数", "用电量(千瓦时)"):
        table.add_column(head, justify="right")
    for i, month in enumerate(s.months):
        table.add_row(month, _yuan(s.revenue_fen[i]), _yuan(s.tax_fen[i]),
                      "-" if s.si_headcount[i] is None else str(s.si_headcount[i]),
                      "-" if s.electricity_kwh[i] is None else f"{s.electricity_kwh[i]:,.2f}")
    console.print(table)
