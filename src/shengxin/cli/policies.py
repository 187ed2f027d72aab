"""``shengxin policies``: validate, test, save and publish policy rules; match, explain, impact, push."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.audit.service import Actor
from shengxin.cli.common import console, err_console, fail, load_settings, print_json
from shengxin.db import session_scope
from shengxin.errors import DomainError, InvalidInput
from shengxin.reference.district import load_district

app = typer.Typer(help="Policies as tested rules (政策): validate, test, publish, match, explain, impact, push.",
                  no_args_is_help=True)
CLI = Principal(0, "cli", "命令行", Role.ADMIN)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(InvalidInput(f"{text!r} is not a date; write YYYY-MM-DD", where=option), 2)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.yaml")) + sorted(p for p in path.rglob("*.yml"))
        if not files:
            fail(InvalidInput("no .yaml policy files in this folder", where=str(path)), 2)
        return files
    if not path.is_file():
        fail(InvalidInput("file not found", where=str(path)), 2)
    return [path]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(InvalidInput("the file is not UTF-8 text", where=str(path)), 2)


def _problems(exc: DomainError) -> list[str]:
    from shengxin.policies.errors import PolicyInvalid

    return [str(p) for p in exc.problems] if isinstance(exc, PolicyInvalid) else [str(exc)]


def _bars(as_json: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=as_json)


@app.command()
def validate(paths: list[Path] = typer.Argument(..., help="Policy files or folders."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Check policy files: structure, names, types, units, contradictions (no tests are run)."""
    from shengxin.policies.compile import compile_text

    settings = load_settings()
    district = load_district(settings.district_file)
    results = []
    for path in [f for p in paths for f in _files(p)]:
        try:
            policy = compile_text(_read(path), district, source=path.name)
            results.append({"file": str(path), "policy": policy.id, "ok": True, "problems": []})
        except DomainError as exc:
            results.append({"file": str(path), "policy": None, "ok": False, "problems": _problems(exc)})
    if as_json:
        print_json(results)
    else:
        for r in results:
            console.print(f"[green]✓[/green] {r['file']} ({r['policy']})" if r["ok"] else f"[red]✗[/red] {r['file']}")
            for p in r["problems"]:
                console.print(f"    {p}")
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


@app.command("test")
def test_cmd(path: Path | None = typer.Argument(None, help="A policy file or folder; default: every saved policy."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Run policies' own test cases through the evaluator and the SQL; exit 1 if any fails."""
    from shengxin.policies.compile import compile_text
    from shengxin.policies.errors import PolicyInvalid
    from shengxin.policies.testing import TestReport, run_tests_many

    settings = load_settings()
    district = load_district(settings.district_file)
    compiled, broken = [], []
    if path is not None:
        sources = [(str(f), _read(f)) for f in _files(path)]
    else:
        from shengxin.policies import service

        with session_scope() as s:
            sources = [(f"{p.id} v{p.current_version}", service.get_version(s, p.id).text)
                       for p in service.list_policies(s)]
        if not sources:
            fail(InvalidInput("no saved policies; give a file or folder, or save policies first"), 1)
    for label, text in sources:
        try:
            compiled.append((label, compile_text(text, district, source=label)))
        except DomainError as exc:
            broken.append({"source": label, "policy": None, "passed": False, "problems": _problems(exc), "cases": []})
    with _bars(as_json) as bars:
        task = bars.add_task("运行测试用例 / running policy tests", total=len(compiled))
        reports = run_tests_many([p for _, p in compiled], progress=lambda n: bars.advance(task, n))
        bars.update(task, completed=len(compiled))
    results = list(broken)
    for label, policy in compiled:
        r = reports[policy.id]
        if isinstance(r, PolicyInvalid):
            results.append({"source": label, "policy": policy.id, "passed": False, "problems": _problems(r), "cases": []})
        else:
            assert isinstance(r, TestReport)
            d = r.to_dict()
            results.append({"source": label, **d, "policy": policy.id})
    failed = [r for r in results if not r["passed"]]
    if as_json:
        print_json({"policies": len(results), "passed": len(results) - len(failed), "failed": len(failed),
                    "results": results})
    else:
        table = Table(title="政策测试 / policy tests")
        for col in ("政策", "用例", "结果"):
            table.add_column(col)
        for r in results:
            ok = "[green]通过[/green]" if r["passed"] else "[red]未通过[/red]"
            table.add_row(r["policy"] or r["source"], str(len(r["cases"])), ok)
        console.print(table)
        for r in failed:
            console.print(f"[red]{r['policy'] or r['source']}[/red]")
            for p in r["problems"]:
                console.print(f"    {p}")
        console.print(f"{len(results) - len(failed)}/{len(results)} 个政策的测试全部通过")
    if failed:
        raise typer.Exit(1)


@app.command()
def save(path: Path = typer.Argument(..., help="Policy file (YAML)."),
         note: str = typer.Option("", "--note", help="What changed (kept with the version)."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Save a policy file as the policy's next version (a new policy starts as a draft)."""
    from shengxin.policies import service

    settings = load_settings()
    try:
        with session_scope() as s:
            v = service.save(s, _read(path), CLI, load_district(settings.district_file), note)
    except DomainError as exc:
        for p in _problems(exc):
            err_console.print(f"[red]错误 / error:[/red] {p}")
        raise typer.Exit(1) from None
    data = {"policy_id": v.policy_id, "version": v.version, "tests_passed": v.tests_passed}
    if as_json:
        print_json(data)
    else:
        console.print(f"已保存 {v.policy_id} 第 {v.version} 版（测试{'通过' if v.tests_passed else '未通过'}）")


@app.command()
def transition(policy_id: str = typer.Argument(...),
               action: str = typer.Argument(..., help="submit, withdraw, reject, publish, suspend, resume, expire"),
               reason: str = typer.Option("", "--reason"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Move a policy through its workflow (publishing runs its tests first)."""
    from shengxin.policies import service

    settings = load_settings()
    try:
        with session_scope() as s:
            p = service.transition(s, policy_id, action, CLI, load_district(settings.district_file), reason)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(p.to_dict())
    else:
        console.print(f"{p.id}：{p.status_label}（当前第 {p.current_version} 版，生效第 {p.published_version or '—'} 版）")


@app.command("list")
def list_cmd(status: str | None = typer.Option(None, "--status"), as_json: bool = typer.Option(False, "--json")) -> None:
    """List saved policies."""
    from shengxin.policies import service

    load_settings()
    with session_scope() as s:
        rows = service.list_policies(s, status=status)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    table = Table(title=f"政策 / policies ({len(rows)})")
    for col in ("编号", "名称", "状态", "版本", "兑现方式"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.id, r.title, r.status_label, f"{r.current_version}/{r.published_version or '—'}", r.delivery)
    console.print(table)


@app.command()
def show(policy_id: str = typer.Argument(...), version: int | None = typer.Option(None, "--version"),
         sql: bool = typer.Option(False, "--sql", help="Also print the policy's SQL (DuckDB)."),
         dialect: str = typer.Option("duckdb", "--dialect", help="SQL dialect with --sql: duckdb or spark."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """A policy's conditions in plain Chinese (and its SQL)."""
    from shengxin.policies import service
    from shengxin.policies import sql as Q
    from shengxin.policies import text as X

    settings = load_settings()
    district = load_district(settings.district_file)
    try:
        with session_scope() as s:
            summary = service.get(s, policy_id)
            policy, version = service.compiled_version(s, district, policy_id, version)
    except DomainError as exc:
        fail(exc)
    lines = X.tree_lines(policy.root, policy.context)
    data = {**summary.to_dict(), "version": version,
            "conditions": [{"depth": d, "key": k, "text": t} for d, k, t in lines],
            "amount": X.amount_text(policy.amount, policy.context), "caps": X.caps_text(policy.caps)}
    if sql:
        mp = Q.build([(policy, version)], dt.date.today())
        data["sql"] = {"matrix": Q.matrix_sql(mp, dialect), "policy": Q.results_sql(mp, dialect=dialect, pretty=True)}
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{summary.title}[/bold]（{policy_id} 第 {version} 版，{summary.status_label}）")
    for depth, key, text in lines:
        console.print(escape(f"{'  ' * (depth + 1)}[{key}] {text}"))
    console.print(f"  金额：{data['amount']}" + (f"；{data['caps']}" if data["caps"] else ""))
    if sql:
        console.print(data["sql"]["matrix"])
        console.print(data["sql"]["policy"])


@app.command()
def seed(library: str = typer.Option("all", "--library", help="real, demo or all"),
         count: int = typer.Option(744, "--count", help="How many demo policies."),
         seed_value: int = typer.Option(20241, "--seed", help="Seed of the demo generator."),
         no_application: int = typer.Option(429, "--no-application", help="How many demo policies are 免申即享."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Load the policy library (real examples and/or the generated demo policies) as published
    policies — each only after its own tests pass."""
    from shengxin.policies import service
    from shengxin.policies.compile import compile_text
    from shengxin.policies.library import real_policy_files
    from shengxin.policies.library.generate import dump, generate
    from shengxin.policies.testing import TestReport, run_tests_many

    if library not in ("real", "demo", "all"):
        fail(InvalidInput("use real, demo or all", where="--library"), 2)
    if not 0 <= no_application <= count:
        fail(InvalidInput("must be between 0 and --count", where="--no-application"), 2)
    settings = load_settings()
    district = load_district(settings.district_file)
    texts = [t for _, t in real_policy_files()] if library in ("real", "all") else []
    if library in ("demo", "all"):
        try:
            texts += [dump(p) for p in generate(seed_value, count, no_application)]
        except ValueError as exc:
            fail(InvalidInput(str(exc), where="--no-application"), 2)
    outcome = {"published": 0, "unchanged": 0, "refused": []}
    with _bars(as_json) as bars:
        task = bars.add_task("校验并测试政策 / validating and testing", total=len(texts))
        compiled = [compile_text(t, district) for t in texts]
        reports = run_tests_many(compiled, progress=lambda n: bars.advance(task, n))
        bars.update(task, completed=len(texts))
        task2 = bars.add_task("发布 / publishing", total=len(texts))
        actor = Actor("cli:seed", "district_admin")
        with session_scope() as s:
            for text, policy in zip(texts, compiled):
                r = reports[policy.id]
                report = r.to_dict() if isinstance(r, TestReport) else {"passed": False, "problems": _problems(r)}
                try:
                    outcome[service.import_published(s, text, actor, district, report=report, compiled=policy)] += 1
                except DomainError as exc:
                    outcome["refused"].append({"policy": policy.id, "problem": str(exc)})
                bars.advance(task2)
    if as_json:
        print_json(outcome)
    else:
        console.print(f"已发布 {outcome['published']} 个，未变化 {outcome['unchanged']} 个，拒绝 {len(outcome['refused'])} 个")
        for r in outcome["refused"]:
            console.print(f"  [red]{r['policy']}[/red] {r['problem']}")
    if outcome["refused"]:
        raise typer.Exit(1)


@app.command()
def generate(out: Path = typer.Argument(..., help="Folder to write the demo policy files into."),
             count: int = typer.Option(744, "--count"), seed_value: int = typer.Option(20241, "--seed"),
             no_application: int = typer.Option(429, "--no-application")) -> None:
    """Write the seeded demo library as policy files (one YAML per policy)."""
    from shengxin.policies.library.generate import dump, generate as make

    try:
        policies = make(seed_value, count, no_application)
    except ValueError as exc:
        fail(InvalidInput(str(exc), where="--no-application"), 2)
    out.mkdir(parents=True, exist_ok=True)
    for p in policies:
        (out / f"{p['id']}.yaml").write_text(dump(p), encoding="utf-8")
    console.print(f"wrote {len(policies)} policy files to {out}")


@app.command()
def library(out: Path = typer.Argument(..., help="Folder to write the real example policies into.")) -> None:
    """Write the shipped real policies (with their test cases) as files: templates for officers."""
    from shengxin.policies.library import real_policy_files

    out.mkdir(parents=True, exist_ok=True)
    files = real_policy_files()
    for name, text in files:
        (out / name).write_text(text, encoding="utf-8")
    console.print(f"wrote {len(files)} policy files to {out}")


@app.command()
def match(policy: str | None = typer.Option(None, "--policy", help="Only this policy (the others carry over)."),
          as_of: str | None = typer.Option(None, "--as-of", help="As-of date (default: the data snapshot's)."),
          push: bool = typer.Option(True, "--push/--no-push", help="Write pushes for eligible enterprises."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Match the live policies against every enterprise and write a match snapshot."""
    from shengxin.policies import matching, pushes

    settings = load_settings()
    district = load_district(settings.district_file)
    date = _date(as_of, "--as-of")
    try:
        with _bars(as_json) as bars, session_scope() as s:
            task = bars.add_task("匹配企业 / matching enterprises", total=None)
            from shengxin.payouts.ledger import paid_table

            snap = matching.run_match(s, district, settings.analytic_dir, as_of=date, policy_id=policy,
                                      progress=lambda n: bars.advance(task, n),
                                      paid=paid_table(s, (date or dt.date.today()).year))
            bars.update(task, total=snap.manifest["enterprises"], completed=snap.manifest["enterprises"])
            new_pushes = pushes.enqueue_from_snapshot(s, settings.analytic_dir, snap, policy) if push else 0
    except DomainError as exc:
        fail(exc)
    data = {**snap.manifest, "new_pushes": new_pushes}
    if as_json:
        print_json(data)
        return
    c = data["counts"]
    console.print(f"匹配快照 {snap.id}（统计日 {data['as_of']}，{len(data['policies'])} 个政策 × {data['enterprises']:,} 家企业，"
                  f"{data['distinct_conditions']} 个不同条件，用时 {data['seconds']} 秒）")
    for key, label in (("eligible", "符合"), ("near_miss", "接近符合"), ("missing_data", "待补充信息")):
        item = c.get(key, {"pairs": 0, "amount_fen": None})
        extra = f"，金额合计 {item['amount_fen'] / 100:,.2f} 元" if item.get("amount_fen") else ""
        console.print(f"  {label}：{item['pairs']:,} 对{extra}")
    console.print(f"  新推送：{new_pushes:,}")


@app.command()
def explain(policy_id: str = typer.Argument(...), uscc: str = typer.Argument(...),
            version: int | None = typer.Option(None, "--version"),
            as_of: str | None = typer.Option(None, "--as-of"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """One enterprise's full answer for one policy: status, amount and every condition."""
    from shengxin.enterprises.uscc import normalise
    from shengxin.policies import matching

    settings = load_settings()
    try:
        with session_scope() as s:
            data = matching.explain(s, load_district(settings.district_file), settings.analytic_dir, policy_id,
                                    normalise(uscc), version=version, as_of=_date(as_of, "--as-of"))
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{data['title']}[/bold] · {data['name']}（{data['uscc']}）")
    console.print(escape(f"结论：{data['status_label']} —— {data['reason']}；金额：{data['amount']}"))

    def show_items(items, depth=1):
        for c in items:
            mark = {"pass": "[green]✓[/green]", "fail": "[red]✗[/red]", "unknown": "[yellow]?[/yellow]"}[c["result"]]
            console.print(f"{'  ' * depth}{mark} " + escape(f"[{c['key']}] {c['text']}" + (f" —— {c['gap']}" if c.get("gap") else "")))
            show_items(c.get("items", []), depth + 1)

    show_items(data["conditions"])


@app.command()
def rematch(uscc: str = typer.Argument(...), push: bool = typer.Option(True, "--push/--no-push"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Re-match one enterprise after its data changed (a delta of the current match snapshot)."""
    from shengxin.enterprises.uscc import normalise
    from shengxin.policies import matching, pushes

    settings = load_settings()
    try:
        with session_scope() as s:
            snap = matching.require_current(settings.analytic_dir)
            from shengxin.payouts.ledger import paid_table

            code = normalise(uscc)
            m = matching.rematch(s, load_district(settings.district_file), settings.analytic_dir, code,
                                 paid=paid_table(s, uscc=code))
            new = pushes.enqueue(s, f"{snap.id}+{m.uscc}", [r for r in m.rows if r["status"] == "eligible"]) if push else 0
    except DomainError as exc:
        fail(exc)
    data = {"uscc": m.uscc, "as_of": m.as_of.isoformat(), "seconds": round(m.seconds, 4), "rows": m.rows,
            "newly_eligible": [{"policy_id": p, "version": v} for p, v in m.newly_eligible], "new_pushes": new}
    if as_json:
        print_json(data)
    else:
        eligible = sum(1 for r in m.rows if r["status"] == "eligible")
        console.print(f"{m.uscc}：符合 {eligible} 个政策，新符合 {len(m.newly_eligible)} 个，用时 {m.seconds * 1000:.1f} 毫秒")


@app.command()
def impact(path: Path = typer.Argument(..., help="A new or changed policy file."),
           as_of: str | None = typer.Option(None, "--as-of"), as_json: bool = typer.Option(False, "--json")) -> None:
    """The impact sandbox: qualifying enterprises, cost against budget, by town, gains and losses."""
    from shengxin.policies.impact import impact as run

    settings = load_settings()
    try:
        with session_scope() as s:
            data = run(s, load_district(settings.district_file), settings.analytic_dir, _read(path),
                       as_of=_date(as_of, "--as-of"))
    except DomainError as exc:
        for p in _problems(exc):
            err_console.print(f"[red]错误 / error:[/red] {p}")
        raise typer.Exit(1) from None
    if as_json:
        print_json(data)
        return
    new = data["new"]
    console.print(f"[bold]{data['title']}[/bold]（{data['policy_id']}），统计日 {data['as_of']}")
    console.print(f"符合 {new['eligible']:,} 家，接近符合 {new['near_miss']:,} 家，待补充信息 {new['missing_data']:,} 家；"
                  f"资金 {new['cost_fen'] / 100:,.2f} 元" + (f"，预算 {data['budget_fen'] / 100:,.2f} 元" if data["budget_fen"] else ""))
    if "before" in data:
        console.print(f"与第 {data['published_version']} 版相比：新增 {data['gains']['count']:,} 家，减少 {data['losses']['count']:,} 家")


@app.command()
def deliver(limit: int = typer.Option(200, "--limit"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Send the push deliveries (e-mail, webhook) that are due; failures retry with backoff."""
    from shengxin.policies import pushes

    settings = load_settings()
    with session_scope() as s:
        report = pushes.deliver_due(s, settings, limit=limit)
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(f"已发送 {report.sent}，失败待重试 {report.failed}，放弃 {report.dead}，跳过 {report.skipped}")


@app.command()
def expire(as_json: bool = typer.Option(False, "--json")) -> None:
    """Mark policies whose validity has ended as expired."""
    from shengxin.policies import service

    load_settings()
    with session_scope() as s:
        ids = service.expire_due(s, dt.date.today(), Actor("cli", "district_admin"))
    if as_json:
        print_json({"expired": ids})
    else:
        console.print(f"已失效 {len(ids)} 个政策" + (f"：{', '.join(ids)}" if ids else ""))
