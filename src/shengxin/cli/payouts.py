"""``shengxin payouts``: every step of a payout round, instant applications, bank files, verify.

Commands that act do so as a named user (``--as USERNAME``, a user of the platform), so the same
role checks and four-eyes rule hold as in the web: the creator of a round cannot approve it here either.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shengxin.cli.common import console, err_console, fail, load_settings, print_json
from shengxin.db import session_scope
from shengxin.errors import DomainError, InvalidInput, NotFound

app = typer.Typer(help="Payouts (兑现): no-application rounds, instant applications, bank files, ledger.",
                  no_args_is_help=True)
round_app = typer.Typer(help="No-application rounds (免申即享), step by step.", no_args_is_help=True)
objection_app = typer.Typer(help="Objections lodged during publicity (公示异议).", no_args_is_help=True)
accounts_app = typer.Typer(help="Enterprise bank accounts on file.", no_args_is_help=True)
app.add_typer(round_app, name="round")
app.add_typer(objection_app, name="objection")
app.add_typer(accounts_app, name="accounts")

AS = typer.Option(..., "--as", help="Act as this platform user (username).")
JSON = typer.Option(False, "--json", help="Print JSON.")


def _principal(session, username: str):
    from sqlalchemy import select

    from shengxin.accounts.models import User
    from shengxin.accounts.service import get_principal

    uid = session.scalar(select(User.id).where(User.username == username, User.active.is_(True)))
    principal = get_principal(session, uid) if uid is not None else None
    if principal is None:
        raise NotFound(f"没有启用的用户 {username!r}（用 shengxin users list 查看）", where="--as")
    return principal


def _bars(quiet: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=quiet)


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:,.2f}"


def _print_round(r) -> None:
    console.print(f"兑现批次 {r.id}：{escape(r.policy_title)}（{r.policy_id} 第 {r.policy_version} 版，{r.mode_label}）"
                  f" 状态：{r.status_label}（{r.status}）")
    console.print(f"  创建：{r.created_by}  审批：{r.approved_by or '—'}  统计日：{r.as_of}  匹配快照：{r.match_snapshot or '—'}")
    if r.publicity_end:
        console.print(f"  公示：{r.publicity_start:%Y-%m-%d %H:%M} 至 {r.publicity_end:%Y-%m-%d %H:%M}（{r.publicity_days} 个工作日）")
    from shengxin.payouts.states import ITEM_LABELS

    parts = [f"{ITEM_LABELS[s]} {n} 笔 {_yuan(r.amounts.get(s))} 元" for s, n in sorted(r.counts.items())]
    console.print("  明细：" + ("；".join(parts) or "无"))
    if r.objections_open:
        console.print(f"  [yellow]未答复异议 {r.objections_open} 条[/yellow]")
    if r.without_account:
        console.print(f"  [yellow]没有收款账户的明细 {r.without_account} 笔[/yellow]")
    console.print(f"  可进行的操作：{', '.join(r.actions) or '无'}")


def _run(fn):
    """Run ``fn(session)`` in one transaction, turning domain errors into exit code 1."""
    load_settings()
    try:
        with session_scope() as s:
            return fn(s)
    except DomainError as exc:
        fail(exc)


# ----------------------------------------------------------------------------- rounds


@round_app.command("create")
def round_create(policy_id: str, as_user: str = AS, as_json: bool = JSON) -> None:
    """Create a no-application round from the current match snapshot (status: review)."""
    from shengxin.payouts import rounds
    from shengxin.reference.district import load_district

    settings = load_settings()

    def go(s):
        with _bars(as_json) as bars:
            task = bars.add_task("生成兑现明细 / building items", total=None)
            return rounds.create_round(s, load_district(settings.district_file), settings.analytic_dir, policy_id,
                                       _principal(s, as_user), progress=lambda n: bars.advance(task, n))
    r = _run(go)
    print_json(r.to_dict()) if as_json else _print_round(r)


@round_app.command("list")
def round_list(as_user: str = AS, policy: str | None = typer.Option(None, "--policy"),
               status: str | None = typer.Option(None, "--status"), as_json: bool = JSON) -> None:
    """Rounds, newest first."""
    from shengxin.payouts import rounds

    rows = _run(lambda s: rounds.list_rounds(s, _principal(s, as_user), policy_id=policy, status=status))
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    table = Table("编号", "政策", "方式", "状态", "明细", "金额（元）", "创建", "审批")
    for r in rows:
        table.add_row(str(r.id), escape(f"{r.policy_id} {r.policy_title}"), r.mode_label, r.status_label,
                      str(sum(r.counts.values())), _yuan(r.total_fen), r.created_by, r.approved_by or "—")
    console.print(table)


@round_app.command("show")
def round_show(round_id: int, as_user: str = AS, status: str | None = typer.Option(None, "--status"),
               limit: int = typer.Option(20, "--limit", help="Items to list."), as_json: bool = JSON) -> None:
    """A round, its items (first ``--limit``), batches and objections."""
    from shengxin.payouts import publicity, rounds

    def go(s):
        p = _principal(s, as_user)
        items, total = rounds.list_items(s, round_id, p, status=status, page_size=limit)
        return (rounds.get_round(s, round_id, p), items, total, rounds.list_batches(s, round_id, p),
                publicity.list_objections(s, round_id, p))
    r, items, total, batches, objections = _run(go)
    if as_json:
        print_json({"round": r.to_dict(), "items": [i.to_dict() for i in items], "items_total": total,
                    "batches": [b.to_dict() for b in batches], "objections": [o.to_dict() for o in objections]})
        return
    _print_round(r)
    table = Table("明细", "企业", "统一社会信用代码", "镇街", "金额（元）", "状态", "账户", "说明")
    for i in items:
        table.add_row(str(i.id), escape(i.name), i.uscc, i.town or "", _yuan(i.amount_fen), i.status_label,
                      i.account.account_no_masked if i.account else "—", escape(i.reason))
    console.print(table)
    if total > len(items):
        console.print(f"（共 {total} 笔，只列出前 {len(items)} 笔；用 --limit 或 --json）")
    for b in batches:
        console.print(f"支付批次 {b.id}：{b.item_count} 笔 {_yuan(b.total_fen)} 元；成功 {b.lines_paid}，"
                      f"失败 {b.lines_failed}，待回单 {b.lines_pending}")
    for o in objections:
        state = f"已答复（{o.answered_by}）：{escape(o.answer)}" if o.answered_at else "[yellow]未答复[/yellow]"
        console.print(f"异议 {o.id}（{o.item_ref or '整体'}）：{escape(o.text)} — {state}")


@round_app.command("exclude")
def round_exclude(item_id: int, reason: str = typer.Option(..., "--reason"), as_user: str = AS) -> None:
    """Exclude one item from a round in review, with a reason."""
    from shengxin.payouts import rounds

    i = _run(lambda s: rounds.exclude_item(s, item_id, _principal(s, as_user), reason))
    console.print(f"明细 {i.id}（{escape(i.name or i.uscc)}）已排除：{escape(i.reason)}")


@round_app.command("include")
def round_include(item_id: int, as_user: str = AS) -> None:
    """Undo an exclusion (round still in review)."""
    from shengxin.payouts import rounds

    i = _run(lambda s: rounds.include_item(s, item_id, _principal(s, as_user)))
    console.print(f"明细 {i.id} 已恢复为{i.status_label}")


@round_app.command("publicise")
def round_publicise(round_id: int, as_user: str = AS,
                    days: int | None = typer.Option(None, "--days", help="Working days (default: the setting)."),
                    as_json: bool = JSON) -> None:
    """Start the publicity period (公示)."""
    from shengxin.payouts import rounds

    r = _run(lambda s: rounds.publicise(s, round_id, _principal(s, as_user), days=days))
    print_json(r.to_dict()) if as_json else _print_round(r)


@round_app.command("confirm-accounts")
def round_confirm_accounts(round_id: int, as_user: str = AS, as_json: bool = JSON) -> None:
    """After publicity: use the account on file for items the enterprise did not confirm."""
    from shengxin.payouts import rounds

    r = _run(lambda s: rounds.confirm_accounts(s, round_id, _principal(s, as_user)))
    print_json(r.to_dict()) if as_json else _print_round(r)


@round_app.command("approve")
def round_approve(round_id: int, as_user: str = AS, as_json: bool = JSON) -> None:
    """Approve a round (a second person; commits the budget)."""
    from shengxin.payouts import rounds

    def go(s):
        with _bars(as_json) as bars:
            task = bars.add_task("审批并占用预算 / committing budget", total=None)
            return rounds.approve(s, round_id, _principal(s, as_user), progress=lambda n: bars.advance(task, n))
    r = _run(go)
    print_json(r.to_dict()) if as_json else _print_round(r)


@round_app.command("export")
def round_export(round_id: int, out: Path = typer.Option(..., "--out", help="File to write."), as_user: str = AS,
                 batch: int | None = typer.Option(None, "--batch", help="Re-export this batch instead of building one."),
                 fmt: str = typer.Option("csv", "--format", help="csv or xlsx."),
                 encoding: str = typer.Option("utf-8", "--encoding", help="utf-8 or gbk (CSV only)."),
                 as_json: bool = JSON) -> None:
    """Build a payment batch of the approved items (or take ``--batch``) and write the bank file."""
    from shengxin.payouts import bankfile, rounds

    def go(s):
        p = _principal(s, as_user)
        if batch is None:
            with _bars(as_json) as bars:
                task = bars.add_task("生成支付批次 / building the batch", total=None)
                b = rounds.build_batch(s, round_id, p, progress=lambda n: bars.advance(task, n))
            batch_id = b.id
        else:
            batch_id = batch
        return batch_id, bankfile.export_batch(s, batch_id, p, fmt=fmt, encoding=encoding)
    batch_id, f = _run(go)
    out.write_bytes(f.content)
    if as_json:
        print_json({"batch_id": batch_id, "file": str(out), "bytes": len(f.content)})
    else:
        console.print(f"支付批次 {batch_id} 已写入 {out}（{len(f.content):,} 字节）")


@round_app.command("retry")
def round_retry(round_id: int, as_user: str = AS) -> None:
    """Put the failed items back in the payment queue (then export a new batch)."""
    from shengxin.payouts import rounds

    n = _run(lambda s: rounds.retry_failed(s, round_id, _principal(s, as_user)))
    console.print(f"{n} 笔支付失败的明细已重新进入支付队列")


@round_app.command("cancel")
def round_cancel(round_id: int, reason: str = typer.Option(..., "--reason"), as_user: str = AS,
                 item: list[int] = typer.Option(None, "--item", help="Only these items (default: every failed one).")) -> None:
    """Cancel failed items and release their budget."""
    from shengxin.payouts import rounds

    n = _run(lambda s: rounds.cancel_items(s, round_id, _principal(s, as_user), item or None, reason=reason))
    console.print(f"{n} 笔明细已取消，预算已释放")


@round_app.command("close")
def round_close(round_id: int, as_user: str = AS, as_json: bool = JSON) -> None:
    """Close a round when nothing is left to pay."""
    from shengxin.payouts import rounds

    r = _run(lambda s: rounds.close_round(s, round_id, _principal(s, as_user)))
    print_json(r.to_dict()) if as_json else _print_round(r)


# ----------------------------------------------------------------------------- other steps


@objection_app.command("answer")
def objection_answer(objection_id: int, answer: str = typer.Option(..., "--answer"), as_user: str = AS) -> None:
    """Answer an objection lodged during publicity."""
    from shengxin.payouts import publicity

    o = _run(lambda s: publicity.answer_objection(s, objection_id, _principal(s, as_user), answer))
    console.print(f"异议 {o.id} 已答复")


@objection_app.command("lodge")
def objection_lodge(round_id: int, text: str = typer.Option(..., "--text"),
                    item_ref: str | None = typer.Option(None, "--item-ref", help="e.g. P000123")) -> None:
    """Lodge an objection to a round in publicity (what the public page does)."""
    from shengxin.payouts import publicity

    o = _run(lambda s: publicity.lodge_objection(s, round_id, text, item_ref=item_ref, client="cli"))
    console.print(f"异议 {o.id} 已登记")


@app.command("reconcile")
def reconcile(file: Path = typer.Argument(..., help="The bank's result file (CSV UTF-8/GBK or XLSX)."),
              as_user: str = AS, as_json: bool = JSON) -> None:
    """Import the bank's result file: paid or failed per line; the same file twice changes nothing."""
    from shengxin.db import get_sessionmaker
    from shengxin.payouts import reconcile as rec

    if not file.is_file():
        fail(InvalidInput("文件不存在", where=str(file)), 2)
    load_settings()
    session = get_sessionmaker()()
    try:
        with _bars(as_json) as bars:
            task = bars.add_task("导入银行回单 / importing", total=None)
            result = rec.import_result_file(session, file.name, file.read_bytes(), _principal(session, as_user),
                                            progress=lambda n: bars.advance(task, n))
        session.commit()
    except DomainError as exc:
        session.rollback()
        fail(exc)
    finally:
        session.close()
    if as_json:
        print_json(result.to_dict())
    else:
        if result.already_imported:
            console.print(f"此文件（SHA-256 {result.digest[:12]}…）已经导入过，没有任何改动")
        console.print(f"成功 {result.rows_paid} 笔，失败 {result.rows_failed} 笔，共 {result.rows_total} 行")
        for e in result.errors:
            err_console.print(f"[red]{file.name}:{e['row']} {e['field']}[/red] {escape(e['message'])}（{escape(e['value'])}）")
    if result.errors:
        raise typer.Exit(1)


@app.command("clawback")
def clawback_cmd(item_id: int, reason: str = typer.Option(..., "--reason"), as_user: str = AS) -> None:
    """Claw back a paid item (later found ineligible)."""
    from shengxin.payouts import clawback

    i = _run(lambda s: clawback.clawback(s, item_id, _principal(s, as_user), reason))
    console.print(f"明细 {i.id} 已追回 {_yuan(i.amount_fen)} 元：{escape(i.reason)}")


@accounts_app.command("import")
def accounts_import(file: Path, as_user: str = AS, as_json: bool = JSON) -> None:
    """Import bank accounts on file (columns 统一社会信用代码, 收款户名, 收款账号, 开户银行)."""
    from shengxin.payouts import accounts

    if not file.is_file():
        fail(InvalidInput("文件不存在", where=str(file)), 2)
    result = _run(lambda s: accounts.import_accounts(s, _principal(s, as_user), file.name, file.read_bytes()))
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(f"新增 {result.created} 个账户，{result.unchanged} 个未变")
        for e in result.errors:
            err_console.print(f"[red]{file.name}:{e['row']} {e['field']}[/red] {escape(e['message'])}")
    if result.errors:
        raise typer.Exit(1)


@app.command("apply")
def apply_cmd(policy_id: str, as_user: str = AS,
              input_: list[str] = typer.Option(None, "--input", help="NAME=VALUE for the policy's declared inputs."),
              file: list[Path] = typer.Option(None, "--file", help="Material to attach."), as_json: bool = JSON) -> None:
    """Apply for an instant-application policy as an enterprise user; prints the answer."""
    from shengxin.appeals.attachments import Upload
    from shengxin.payouts import applications
    from shengxin.reference.district import load_district

    settings = load_settings()
    inputs = {}
    for pair in input_ or []:
        if "=" not in pair:
            fail(InvalidInput(f"{pair!r} 应写成 NAME=VALUE", where="--input"), 2)
        k, v = pair.split("=", 1)
        inputs[k.strip()] = v.strip()
    uploads = [Upload(p.name, p.read_bytes()) for p in file or []]
    a = _run(lambda s: applications.apply(s, load_district(settings.district_file), settings.analytic_dir,
                                          settings.data_dir, policy_id, _principal(s, as_user), inputs=inputs,
                                          uploads=uploads))
    if as_json:
        print_json(a.to_dict())
    else:
        console.print(f"申请 {a.id}：{a.status_label} — {escape(a.reason)}")
        if a.due_at:
            console.print(f"  审核期限：{a.due_at:%Y-%m-%d %H:%M}")


@app.command("review")
def review_cmd(application_id: int, decision: str = typer.Argument(..., help="approve or reject"), as_user: str = AS,
               reason: str = typer.Option("", "--reason"),
               amount_fen: int | None = typer.Option(None, "--amount-fen", help="Amount when the rule could not compute it.")) -> None:
    """Decide an instant application that went to review."""
    from shengxin.payouts import applications

    a = _run(lambda s: applications.review_application(s, application_id, _principal(s, as_user), decision,
                                                       reason=reason, amount_fen=amount_fen))
    console.print(f"申请 {a.id}：{a.status_label}")


@app.command("stats")
def stats_cmd(as_user: str = AS, by: str = typer.Option("policy,town,mode,month", "--by"), as_json: bool = JSON) -> None:
    """Paid payees, amounts and days from eligibility to payment, per policy/town/mode/month."""
    from shengxin.payouts import stats

    keys = tuple(k.strip() for k in by.split(",") if k.strip())
    rows = _run(lambda s: stats.payout_stats(s, _principal(s, as_user), by=keys))
    if as_json:
        print_json(rows)
        return
    table = Table(*keys, "企业数", "金额（元）", "天数中位数", "平均天数")
    for r in rows:
        table.add_row(*[str(r[k]) for k in keys], str(r["payees"]), _yuan(r["amount_fen"]), str(r["days_median"]),
                      str(r["days_avg"]))
    console.print(table)


@app.command("balances")
def balances_cmd(as_json: bool = JSON) -> None:
    """Budget, committed, paid and left per policy — summed from the ledger."""
    from shengxin.payouts import ledger

    rows = _run(lambda s: ledger.balances(s))
    if as_json:
        print_json([b.to_dict() for b in rows])
        return
    table = Table("政策", "预算（元）", "已承诺（元）", "已支付（元）", "剩余（元）")
    for b in rows:
        table.add_row(b.policy_id, _yuan(b.budget_fen), _yuan(b.committed_fen), _yuan(b.paid_fen), _yuan(b.left_fen))
    console.print(table)


@app.command("verify")
def verify_cmd(as_json: bool = JSON) -> None:
    """Check the hash chains of the ledger and the state changes; exit 1 and name the first broken link."""
    from shengxin.payouts import ledger

    def go(s):
        with _bars(as_json) as bars:
            task = bars.add_task("校验哈希链 / verifying", total=None)
            return ledger.verify(s, progress=lambda n: bars.advance(task, n))
    report = _run(go)
    if as_json:
        print_json(report.to_dict())
    elif report.ok:
        console.print(f"完整：{report.ledger_entries:,} 条资金记录、{report.events:,} 条状态记录，哈希链与预算一致"
                      f"（{report.seconds} 秒）")
    else:
        b = report.first_broken
        if b:
            err_console.print(f"[red]哈希链断裂[/red]：{b['chain']} 第 {b['seq']} 条 — {b['reason']}")
        for m in report.budget_mismatches:
            err_console.print(f"[red]预算与台账不符[/red]：{m}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("demo")
def demo_cmd(as_json: bool = JSON) -> None:
    """Create demo payouts (completed rounds, accounts, instant applications) — demo mode only."""
    from shengxin.payouts import demo
    from shengxin.reference.district import load_district

    settings = load_settings()
    out = _run(lambda s: demo.build_demo(s, load_district(settings.district_file), settings.analytic_dir,
                                         settings.data_dir, demo_mode=settings.demo))
    print_json(out) if as_json else console.print(f"演示兑现数据：{out}")
