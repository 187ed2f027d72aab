"""``shengxin uscc``: check unified social credit codes (统一社会信用代码, GB 32100-2015).

``shengxin uscc check CODE... [--json]`` checks each code's length, alphabet, registering
authority, region digits and check character. Per code it reports ``code`` (normalised:
trimmed, full-width folded, upper-cased), ``valid``, ``expected_check`` (the check character the
first 17 characters call for, or ``null`` when the structure is already wrong), ``reason`` (why it
is not valid, or ``null``) and ``severity`` (``ok``, ``warning`` for a wrong check character only —
keep the record and review it — or ``error`` for a structural defect).

Exit status: 0 when every code is valid, 1 when any code is not (warnings included), 2 on a usage
error (no code given).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from shengxin.cli.common import console, print_json
from shengxin.enterprises.uscc import check

app = typer.Typer(
    help="统一社会信用代码校验 / Unified social credit code (GB 32100-2015) checks.",
    no_args_is_help=True,
)

_STATUS = {
    "ok": ("有效", "green"),
    "warning": ("校验码不符，待核查", "yellow"),
    "error": ("无效", "red"),
}


@app.callback()
def _group() -> None:
    """统一社会信用代码校验 / Unified social credit code (GB 32100-2015) checks."""


@app.command("check")
def check_codes(
    codes: Annotated[list[str], typer.Argument(help="一个或多个统一社会信用代码", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 数组输出每个代码的结果")] = False,
) -> None:
    """校验统一社会信用代码：长度、字符集、登记管理部门、行政区划码和校验码。

    全部有效时退出码为 0，任一无效（包括仅校验码不符的警告）时为 1。
    """
    results = [check(code) for code in codes]
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        table = Table(title="统一社会信用代码校验结果")
        table.add_column("代码", no_wrap=True)
        table.add_column("结果")
        table.add_column("应为校验码", justify="center")
        table.add_column("说明")
        for r in results:
            label, colour = _STATUS[r.severity]
            # Codes and reasons come from the user: Text keeps Rich from reading "[...]" as markup.
            table.add_row(Text(r.code), Text(label, style=colour), r.expected_check or "-", Text(r.reason or ""))
        console.print(table)
    if not all(r.valid for r in results):
        raise typer.Exit(code=1)
