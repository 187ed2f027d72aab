"""``shengxin workdays``: the working-day calendar (load override files, show coverage)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import inspect

from shengxin.audit.service import Actor
from shengxin.cli.common import console, err_console, fail, load_settings, print_json
from shengxin.db import get_engine, session_scope
from shengxin.errors import DomainError, InvalidInput
from shengxin.workdays.calendar import WorkCalendar
from shengxin.workdays.service import load_calendar, override_history, store_override

app = typer.Typer(help="Working-day calendar: China's holidays and make-up working days, plus overrides.")
CLI_ACTOR = Actor("cli", "district_admin")


def store_ready() -> bool:
    """Whether the operational store has been migrated (it holds the loaded overrides)."""
    return inspect(get_engine()).has_table("workday_overrides")


def calendar_in_force() -> WorkCalendar:
    """The calendar with stored overrides; packaged ones only (and a note) before ``db upgrade``."""
    load_settings()
    if not store_ready():
        err_console.print("提示 / note: database not migrated yet (`shengxin db upgrade`); "
                          "using the packaged calendar only")
        return load_calendar(None)
    with session_scope() as s:
        return load_calendar(s)


@app.command()
def load(file: Path = typer.Argument(..., exists=False, help="Override file (.yaml or .csv)."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Load a year's holidays and make-up working days (e.g. the State Council's notice for next year).

    Stores a new version for the year (audited) and recomputes provisional appeal deadlines.
    """
    load_settings()
    if not file.is_file():
        fail(InvalidInput("file not found", where=str(file)))
    if not store_ready():
        fail(InvalidInput("the database is not migrated; run `shengxin db upgrade` first"))
    try:
        with session_scope() as s:
            override = store_override(s, file.read_bytes(), file.name, CLI_ACTOR)
            recomputed = _recompute(s)
    except DomainError as exc:
        fail(exc)
    result = {"year": override.year, "version": override.version, "source": override.source,
              "holidays": len(override.holidays), "workdays": len(override.workdays),
              "recomputed_deadlines": recomputed}
    if as_json:
        print_json(result)
        return
    console.print(f"已载入 / loaded {override.year} v{override.version}: {len(override.holidays)} holidays, "
                  f"{len(override.workdays)} make-up working days; recomputed {recomputed} deadlines")


def _recompute(session) -> int:
    from shengxin.appeals.deadlines import recompute_provisional

    return recompute_provisional(session, load_calendar(session), CLI_ACTOR)


@app.command("coverage")
def coverage_cmd(
    years: list[int] = typer.Option(None, "--year", help="Year(s) to show (default: last, this and next 2)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Which source decides each year (override, chinesecalendar, or provisional weekends-only)."""
    cal = calendar_in_force()
    this_year = dt.date.today().year
    wanted = sorted(set(years or range(this_year - 1, this_year + 3)))
    rows = [cal.coverage(y) for y in wanted]
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    table = Table("year", "source", "provisional", "working days", "holidays (weekdays)", "make-up days")
    for r in rows:
        table.add_row(str(r.year), r.source + (f" v{r.override_version}" if r.override_version else ""),
                      "yes" if r.provisional else "no", str(r.working_days), str(r.holidays),
                      str(r.make_up_working_days))
    console.print(table)


@app.command("check")
def check_cmd(day: str = typer.Argument(..., help="Date YYYY-MM-DD."),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Is DAY a working day?"""
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        fail(InvalidInput(f"{day!r} is not a date; write YYYY-MM-DD", where="DAY"))
    cal = calendar_in_force()
    working, provisional = cal.day(date)
    if as_json:
        print_json({"date": date.isoformat(), "working_day": working, "provisional": provisional})
        return
    console.print(f"{date} {'工作日 working day' if working else '休息日 day off'}"
                  + (" (provisional)" if provisional else ""))


@app.command("history")
def history_cmd(year: int = typer.Option(None, "--year"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Every loaded override version, newest first."""
    load_settings()
    if not store_ready():
        fail(InvalidInput("the database is not migrated; run `shengxin db upgrade` first"))
    with session_scope() as s:
        rows = override_history(s, year)
    if as_json:
        print_json(rows)
        return
    table = Table("year", "version", "file", "source", "loaded by", "loaded at")
    for r in rows:
        table.add_row(str(r["year"]), str(r["version"]), r["file_name"], r["source"], r["loaded_by"],
                      str(r["loaded_at"]))
    console.print(table)
