"""``shengxin synth``: write a synthetic district's department deliveries, truth and manifest.

A single-command Typer app; the main CLI mounts it with ``app.add_typer(synth.app, name="synth")``.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shengxin.synth.generate import TIERS, SynthConfig, generate

app = typer.Typer(
    invoke_without_command=True,
    add_completion=False,
    help="Generate a synthetic district: department files (GBK/UTF-8 CSV, Excel, Parquet), "
    "ground truth in truth/ and manifest.json.",
)
console = Console(stderr=True)


def _error(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)


class RichProgress:
    """Adapter from the generator's progress protocol to Rich progress bars."""

    def __init__(self, progress: Progress):
        self._progress = progress
        self._tasks: dict[str, int] = {}

    def start(self, key: str, description: str, total: float) -> None:
        self._tasks[key] = self._progress.add_task(description, total=total)

    def advance(self, key: str, amount: float = 1) -> None:
        self._progress.advance(self._tasks[key], amount)


@app.callback()
def synth(
    enterprises: int = typer.Option(
        TIERS["demo"], "--enterprises", "-n",
        help=f"Number of enterprises. Tiers: {TIERS['demo']:,} (demo), {TIERS['district']:,} "
        f"(the district), {TIERS['province']:,} (province-scale test).",
    ),
    months: int = typer.Option(36, "--months", "-m", help="Months of monthly series, ending at --as-of (24-120)."),
    seed: int = typer.Option(20241, "--seed", "-s", help="Random seed; the same seed gives byte-identical files."),
    out: Path = typer.Option(Path("var/synth"), "--out", "-o", help="Folder to write the delivery into."),
    as_of: str = typer.Option("2026-10", "--as-of", help="Last month of the data, YYYY-MM."),
    defect_rate: float = typer.Option(0.002, "--defect-rate", help="Share of rows given a realistic defect (0-0.05)."),
    force: bool = typer.Option(False, "--force", help="Write into --out even if it is not empty."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary table."),
) -> None:
    """Write a synthetic district's deliveries into OUT (see docs/synth.md)."""
    config = SynthConfig(enterprises=enterprises, months=months, seed=seed, as_of=as_of, defect_rate=defect_rate)
    problems = config.validate()
    if problems:
        for p in problems:
            _error(p)
        raise typer.Exit(code=2)
    if out.exists() and not out.is_dir():
        _error(f"--out {out} is a file; give a folder")
        raise typer.Exit(code=2)
    if out.is_dir() and any(out.iterdir()) and not force:
        _error(f"{out} is not empty; choose another --out or add --force to overwrite the generated files in it")
        raise typer.Exit(code=2)

    if quiet:
        manifest = generate(config, out)
    else:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as bars:
            manifest = generate(config, out, RichProgress(bars))
        table = Table(title=f"{out} — seed {seed}, {enterprises:,} enterprises, window "
                      f"{manifest['window']['start']}..{manifest['window']['end']}")
        for col in ("file", "format", "encoding", "rows"):
            table.add_column(col, justify="right" if col == "rows" else "left")
        for f in manifest["files"]:
            table.add_row(f["path"], f["format"], f["encoding"] or "", f"{f['rows']:,}")
        for f in manifest["truth"]:
            table.add_row(f["path"], "csv", "utf-8", f"{f['rows']:,}")
        console.print(table)
    typer.echo(str(out / "manifest.json"))
