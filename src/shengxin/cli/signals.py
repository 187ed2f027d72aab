"""``shengxin signals``: detect warning and growth signals, evaluate them, read them.

* ``signals detect [--as-of YYYY-MM] [--months N] [--inputs DIR] [--json]`` — detect every signal
  for every enterprise and publish an immutable snapshot (as-of month, catalogue fingerprint,
  input snapshot id);
* ``signals evaluate --truth DIR [--as-of YYYY-MM] [--json]`` — precision and recall per signal
  against a synthetic district's ground truth, with the naive "down 30 % on last year" rule;
* ``signals list``, ``signals show KEY``, ``signals definitions``, ``signals snapshots``,
  ``signals precision`` (measured from the town desks' feedback).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from shengxin.cli.common import console, err_console, fail, load_settings, print_json
from shengxin.db import session_scope
from shengxin.errors import DomainError
from shengxin.reference.district import load_district
from shengxin.signals import followup, queries, service, store
from shengxin.signals.catalogue import KINDS, SEVERITIES, load_catalogue

app = typer.Typer(help="Warning and growth signals (预警与成长信号).", no_args_is_help=True)


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@app.command()
def detect(
    as_of: str = typer.Option(None, "--as-of", help="Detect as of this month (YYYY-MM); default: the latest month of data."),
    months: int = typer.Option(36, "--months", help="Months of history to read, ending at the as-of month (13-120)."),
    inputs: Path = typer.Option(None, "--inputs", help="Read canonical Parquet files from this folder instead of the data hub."),
    as_json: bool = typer.Option(False, "--json", help="Print the snapshot's manifest as JSON."),
) -> None:
    """Detect all signals for all enterprises and publish a snapshot."""
    settings = load_settings()
    district = load_district(settings.district_file)
    catalogue = load_catalogue()
    try:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err_console, disable=as_json) as bars:
            task = bars.add_task("检测信号 detecting", total=len(catalogue))
            result, snapshot = service.detect_and_publish(
                settings, district, as_of=as_of, months=months, inputs=inputs, catalogue=catalogue,
                progress=lambda definition: bars.advance(task))
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(snapshot.manifest)
        return
    table = Table("signal", "名称", "episodes", "active", "new")
    for definition in catalogue:
        c = snapshot.manifest["counts"].get(definition.id, {"episodes": 0, "active": 0, "new": 0})
        table.add_row(definition.id, definition.name, str(c["episodes"]), str(c["active"]), str(c["new"]))
    console.print(table)
    console.print(f"快照 / snapshot [bold]{snapshot.id}[/bold]: as of {snapshot.as_of}, "
                  f"{snapshot.manifest['enterprises']:,} enterprises, {snapshot.manifest['rows']:,} signals, "
                  f"{result.timings['total']:.2f}s")


@app.command()
def evaluate(
    truth: Path = typer.Option(..., "--truth", help="Folder written by `shengxin synth` (or its truth/ folder)."),
    as_of: str = typer.Option(None, "--as-of", help="Evaluate as of this month (YYYY-MM); default: latest month."),
    inputs: Path = typer.Option(None, "--inputs", help="Read canonical Parquet files from this folder instead of the data hub."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    """Precision and recall of each signal against synthetic ground truth (and the naive rule)."""
    settings = load_settings()
    try:
        report = service.evaluate_against(settings, load_district(settings.district_file), truth, as_of=as_of,
                                          inputs=inputs)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(report)
        return
    table = Table("signal", "truth event", "signals", "precision", "observable", "recall", "target")
    for sid, e in report["signals"].items():
        target = "" if "target" not in e else ("met" if e["meets_target"] else "NOT met")
        event = e["truth_event"] if isinstance(e["truth_event"], str) else ", ".join(e["truth_event"])
        table.add_row(sid, event, str(e["signals"]), _percent(e["precision"]),
                      f"{e['observable_truth_events']}/{e['truth_events']}", _percent(e["recall"]), target)
    console.print(table)
    for e in report["naive"].values():
        console.print(f"naive rule ({e['rule']}): {e['alarms']} alarms, precision {_percent(e['precision'])}, "
                      f"recall {_percent(e['recall'])}")


@app.command("list")
def list_cmd(
    signal: str = typer.Option(None, "--signal", help="Only this signal id."),
    kind: str = typer.Option(None, "--kind", help="warning | growth"),
    town: str = typer.Option(None, "--town", help="Only this town's desk (NBS code); 'district' for the district desk."),
    include_inactive: bool = typer.Option(False, "--all", help="Include signals that no longer hold."),
    limit: int = typer.Option(50, "--limit", help="At most this many (1-500)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List signals of the current snapshot, most severe first."""
    settings = load_settings()
    try:
        snapshot = service.require_snapshot(settings)
        desk = "" if town == "district" else town
        filt = queries.SignalFilter(signal=signal, kind=kind, town=desk, active=None if include_inactive else True)
        rows, total = queries.list_signals(snapshot, filt.validate(load_catalogue().ids()), limit=limit)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json({"snapshot_id": snapshot.id, "as_of": snapshot.as_of, "total": total, "signals": rows})
        return
    table = Table("key", "signal", "severity", "uscc", "name", "town", "detected", "change")
    for r in rows:
        change = "" if r["change"] is None else _percent(r["change"])
        table.add_row(r["signal_key"], r["signal"], SEVERITIES[r["severity"]], r["uscc"], r["name"],
                      r["town_code"] or "区级", str(r["detected_month"])[:7], change)
    console.print(table)
    console.print(f"{len(rows)} of {total} — snapshot {snapshot.id} (as of {snapshot.as_of})")


@app.command()
def show(key: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """One signal with its evidence and follow-up history."""
    settings = load_settings()
    try:
        snapshot = service.require_snapshot(settings)
        row = queries.get_signal(snapshot, key)
    except DomainError as exc:
        fail(exc)
    with session_scope() as s:
        case = followup.cases_for(s, [key]).get(key)
        events = [e.as_dict() for e in followup.history(s, key)]
    row["case"] = case.as_dict() if case else None
    row["history"] = events
    if as_json:
        print_json(row)
        return
    definition = load_catalogue().get(row["signal"])
    console.print(f"[bold]{definition.name}[/bold] ({row['signal']}) — {row['name']} {row['uscc']}")
    for field in ("start_month", "end_month", "detected_month", "months", "value", "baseline", "change", "score"):
        console.print(f"  {field}: {row[field]}")
    console.print(f"  状态 / status: {case.status_label if case else followup.STATUS_LABELS['open']}")


@app.command()
def definitions(as_json: bool = typer.Option(False, "--json")) -> None:
    """The signal catalogue (definitions are data files in shengxin/signals/definitions/)."""
    catalogue = load_catalogue()
    if as_json:
        print_json({"fingerprint": catalogue.fingerprint, "definitions": [d.canonical() for d in catalogue]})
        return
    table = Table("id", "名称", "kind", "severity", "detector", "version")
    for d in catalogue:
        table.add_row(d.id, d.name, KINDS[d.kind], SEVERITIES[d.severity], d.detector, str(d.version))
    console.print(table)
    console.print(f"fingerprint {catalogue.fingerprint[:16]}")


@app.command()
def snapshots(as_json: bool = typer.Option(False, "--json")) -> None:
    """Signal snapshots on disk, oldest first; the current one is marked."""
    settings = load_settings()
    now = store.read_current_id(settings.analytic_dir)
    items = [dict(s.manifest, current=s.id == now) for s in store.list_snapshots(settings.analytic_dir)]
    if as_json:
        print_json(items)
        return
    table = Table("snapshot", "as of", "signals", "input", "created", "current")
    for m in items:
        table.add_row(m["snapshot_id"], m["as_of"], str(m["rows"]), m["input_snapshot_id"], m["created_at"],
                      "✓" if m["current"] else "")
    console.print(table)


@app.command()
def precision(as_json: bool = typer.Option(False, "--json")) -> None:
    """Each signal's precision as measured from the town desks' feedback."""
    load_settings()
    with session_scope() as s:
        measured = followup.measured_precision(s)
    if as_json:
        print_json(measured)
        return
    table = Table("signal", "decided", "confirmed", "handled", "dismissed", "precision")
    for sid, e in measured.items():
        table.add_row(sid, str(e["decided"]), str(e["confirmed"]), str(e["handled"]), str(e["dismissed"]),
                      _percent(e["precision"]))
    console.print(table)
