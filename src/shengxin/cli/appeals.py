"""``shengxin appeals``: deadlines, the deadline sweep, Open311 API keys, statistics."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from shengxin.audit.service import Actor
from shengxin.cli.common import console, fail, load_settings, print_json
from shengxin.cli.workdays import calendar_in_force, store_ready
from shengxin.db import session_scope
from shengxin.errors import DomainError, InvalidInput
from shengxin.reference.district import load_district
from shengxin.workdays.calendar import MAX_WORKING_DAYS, TZ

app = typer.Typer(help="Appeals (诉求): deadlines, sweep, Open311 keys, statistics.")
CLI_ACTOR = Actor("cli", "district_admin")


def parse_start(text: str) -> dt.datetime:
    """An ISO date-time (or date); without a zone it is Asia/Shanghai local time."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date-time; write e.g. 2025-01-24T10:00 or 2025-01-24T10:00+08:00",
                           where="--start") from None
    return value if value.tzinfo else value.replace(tzinfo=TZ)


@app.command()
def deadline(
    start: str = typer.Option(..., "--start", help="When the appeal arrived (ISO date-time; local time if no zone)."),
    working_days: int = typer.Option(..., "--working-days", help="The limit N in working days."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """When a limit of N working days ends: at 23:59:59 local time of the N-th working day after
    the arrival day (the arrival day does not count)."""
    try:
        begin = parse_start(start)
        if not 0 <= working_days <= MAX_WORKING_DAYS:
            raise InvalidInput(f"must be between 0 and {MAX_WORKING_DAYS}", where="--working-days")
    except DomainError as exc:
        fail(exc, 2)
    cal = calendar_in_force()
    due = cal.add_working_days(begin, working_days)
    if as_json:
        print_json(due.as_dict())
        return
    console.print(f"到期 / due: [bold]{due.due.isoformat()}[/bold]"
                  + ("  (provisional: the calendar for that year is not loaded yet)" if due.provisional else ""))


@app.command()
def sweep(as_json: bool = typer.Option(False, "--json"),
          deliver: bool = typer.Option(True, "--deliver/--no-deliver", help="Deliver the outbox afterwards.")) -> None:
    """Mark warnings (80%) and overdue (100%) deadlines, notify the units, escalate overdue ones;
    fill in the classifier's suggestion of appeals still waiting for one."""
    from shengxin.appeals.service import make_env
    from shengxin.appeals.suggestions import classify_all_pending
    from shengxin.appeals.sweep import sweep as run_sweep
    from shengxin.db import get_sessionmaker
    from shengxin.notify.senders import sender_from_settings
    from shengxin.notify.service import deliver_pending

    settings = load_settings()
    if not store_ready():
        fail(InvalidInput("the database is not migrated; run `shengxin db upgrade` first"))
    with session_scope() as s:
        report = run_sweep(s, make_env(s, settings, load_district(settings.district_file)), CLI_ACTOR)
    result = report.as_dict()
    result["classified"] = classify_all_pending(get_sessionmaker(), settings.data_dir)
    if deliver:
        with session_scope() as s:
            result["delivery"] = deliver_pending(s, sender_from_settings(settings)).as_dict()
    if as_json:
        print_json(result)
        return
    console.print(f"预警 / warnings {report.warnings}, 超期 / overdue {report.overdue}, "
                  f"督办 / escalated {report.escalated}, 重算 / recomputed {report.recomputed}, "
                  f"分类建议 / classified {result['classified']}"
                  + (f"; delivery {result['delivery']}" if deliver else ""))


keys = typer.Typer(help="Open311 API keys of systems that push appeals (hotline, other platforms).")
app.add_typer(keys, name="keys")


@keys.command("create")
def keys_create(name: str = typer.Argument(..., help="Which system uses the key, e.g. 12345-hotline."),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    from shengxin.appeals.apikeys import create_key

    load_settings()
    try:
        with session_scope() as s:
            key, row = create_key(s, name, CLI_ACTOR)
            info = {"id": row.id, "name": row.name, "prefix": row.prefix, "api_key": key}
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(info)
        return
    console.print(f"API key for [bold]{name}[/bold] (shown once): {key}")


@keys.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List keys (never the keys themselves)."""
    from shengxin.appeals.apikeys import list_keys

    load_settings()
    with session_scope() as s:
        rows = [k.as_dict() for k in list_keys(s)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "prefix", "created", "revoked", "last used")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["prefix"], str(r["created_at"]), str(r["revoked_at"] or ""),
                      str(r["last_used_at"] or ""))
    console.print(table)


@keys.command("revoke")
def keys_revoke(name: str) -> None:
    """Revoke a key at once."""
    from shengxin.appeals.apikeys import revoke_key

    load_settings()
    try:
        with session_scope() as s:
            revoke_key(s, name, CLI_ACTOR)
    except DomainError as exc:
        fail(exc)
    console.print(f"已吊销 / revoked {name}")


@app.command()
def stats(by: str = typer.Option("unit", "--by", help="unit | town | category | month"),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Average working days to close, on-time rate, satisfaction, reopen and bounce rates."""
    from shengxin.appeals.stats import DIMENSIONS, appeal_stats

    settings = load_settings()
    if by not in DIMENSIONS:
        fail(InvalidInput(f"--by must be one of {', '.join(DIMENSIONS)}", where="--by"), 2)
    with session_scope() as s:
        rows = appeal_stats(s, load_district(settings.district_file), by)
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    table = Table(by, "appeals", "closed", "avg days", "on time", "satisfied", "reopen", "bounce")
    pct = lambda v: "—" if v is None else f"{v:.1%}"  # noqa: E731
    for r in rows:
        table.add_row(r.label, str(r.appeals), str(r.closed), "—" if r.avg_working_days is None else f"{r.avg_working_days:.2f}",
                      pct(r.on_time_rate), pct(r.satisfaction_rate), pct(r.reopen_rate), pct(r.bounce_rate))
    console.print(table)


@app.command()
def demo(n: int = typer.Option(4000, "--n", help="How many appeals (about a year's worth)."),
         seed: int = typer.Option(7, "--seed"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Create a year of demo appeals walked through the state machine (demo mode only, once)."""
    from rich.progress import Progress

    from shengxin.appeals.demo import load_demo_appeals
    from shengxin.appeals.service import make_env

    settings = load_settings()
    if not store_ready():
        fail(InvalidInput("the database is not migrated; run `shengxin db upgrade` first"))
    try:
        with session_scope() as s, Progress(transient=True, disable=as_json) as bar:
            task = bar.add_task("诉求演示数据 / demo appeals", total=n)
            result = load_demo_appeals(s, make_env(s, settings, load_district(settings.district_file)), n=n,
                                       seed=seed, progress=lambda done, total: bar.update(task, completed=done,
                                                                                          total=total))
        with session_scope() as s:  # today's warnings and overdue for the appeals still open
            from shengxin.appeals.sweep import sweep as run_sweep

            result["sweep"] = run_sweep(s, make_env(s, settings, load_district(settings.district_file)),
                                        CLI_ACTOR).as_dict()
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(result)
        return
    console.print(f"演示诉求 / demo appeals: {result}")
