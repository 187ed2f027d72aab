"""``shengxin appeals-model``: train, evaluate and query the appeal classifier; build its corpus."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from shengxin.cli.common import console, err_console, fail, load_settings, print_json
from shengxin.errors import DomainError, InvalidInput

app = typer.Typer(help="Appeal classifier (jieba + scikit-learn): train, evaluate, suggest; demo appeal texts.",
                  no_args_is_help=True)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                    transient=True)


def _read_corrections(path: Path):
    from shengxin.appeals.classify.corpus import read_labelled_csv
    from shengxin.appeals.classify.model import Correction

    return [Correction(e.text, e.category, e.subcategory, e.unit) for e in read_labelled_csv(path, "correction")]


@app.command()
def train(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    seed: int = typer.Option(42, "--seed", help="Random seed of the linear model."),
    corrections: Path = typer.Option(None, "--corrections", help="CSV of staff corrections "
                                     "(text,category,subcategory,unit) to train on as well."),
    from_db: bool = typer.Option(False, "--from-db", help="Also train on staff corrections stored with the "
                                 "appeals in the operational store."),
    evaluate_only: bool = typer.Option(False, "--evaluate-only", help="Report the held-out scores; save nothing."),
) -> None:
    """Evaluate on the held-out split, then train on all examples (+ corrections) and save the model."""
    settings = load_settings()
    from shengxin.appeals.classify import evaluate as ev
    from shengxin.appeals.classify.corpus import load_examples
    from shengxin.appeals.classify.model import save_model
    from shengxin.appeals.classify.model import train as fit

    try:
        extra = _read_corrections(corrections) if corrections else []
        if from_db:
            from shengxin.appeals.classify.store import corrections_from_appeals
            from shengxin.db import session_scope

            with session_scope() as s:
                extra += corrections_from_appeals(s)
        examples = load_examples()
        with _progress() as progress:
            task = progress.add_task("评估：留出集训练与打分 / evaluating on the held-out split", total=None)
            report = ev.evaluate(examples, extra, seed=seed)
            train_rows, test_rows = ev.split(examples)
            report["baselines"] = ev.baseline_scores(train_rows, test_rows)
            path = None
            if not evaluate_only:
                progress.update(task, description="训练：全部样本 / training on all examples")
                model = fit(examples, extra, seed=seed)
                model.report = report
                path = save_model(model, settings.data_dir)
                report["model"] = model.info()
    except DomainError as exc:
        fail(exc)
    report["saved_to"] = str(path) if path else None
    if as_json:
        print_json(report)
        return
    _print_report(report)


def _print_report(report: dict) -> None:
    t = report["test"]
    console.print(f"[bold]留出集 / held-out split[/bold] (n={t['n']}, trained on {report['n_train']} examples "
                  f"+ {report['n_corrections']} corrections in {report['train_seconds']} s)")
    console.print(f"  macro-F1 subcategory {t['macro_f1_subcategory']:.3f} · category {t['macro_f1_category']:.3f} · "
                  f"accuracy {t['accuracy_subcategory']:.3f}")
    hw, hard = report["test_handwritten"], report["hard"]
    console.print(f"  hand-written part (n={hw['n']}): macro-F1 subcategory {hw['macro_f1_subcategory']:.3f} · "
                  f"category {hw['macro_f1_category']:.3f}")
    u = report["unseen_templates"]
    console.print(f"  unseen sentence templates (n={u['n']}): macro-F1 subcategory {u['macro_f1_subcategory']:.3f} · "
                  f"category {u['macro_f1_category']:.3f}")
    console.print(f"[bold]难例集 / hard set[/bold] (n={hard['n']}, never trained on): macro-F1 subcategory "
                  f"{hard['macro_f1_subcategory']:.3f} · category {hard['macro_f1_category']:.3f}")
    for kind, s in report["hard_by_kind"].items():
        console.print(f"  {kind}: category macro-F1 {s['macro_f1_category']:.3f} (n={s['n']})")
    kw = report["baselines"]["keyword_rules"]
    console.print(f"  baseline keyword rules on the held-out split: macro-F1 subcategory "
                  f"{kw['macro_f1_subcategory']:.3f} · category {kw['macro_f1_category']:.3f}")
    table = Table(title="各类别 F1 / per-category F1 (held-out split · hard set)")
    for col in ("category", "名称", "F1", "precision", "recall", "n", "hard F1", "hard n"):
        table.add_column(col)
    hard_by = {r["category"]: r for r in report["hard_per_category"]}
    for r in report["per_category"]:
        h = hard_by.get(r["category"], {})
        table.add_row(r["category"], r["name"], f"{r['f1']:.3f}", f"{r['precision']:.3f}", f"{r['recall']:.3f}",
                      str(r["support"]), f"{h.get('f1', 0):.3f}", str(h.get("support", 0)))
    console.print(table)
    conf = Table(title="最常见的混淆 / most frequent confusions (category level)")
    for col in ("set", "true", "predicted", "count"):
        conf.add_column(col)
    for name, rows in (("held-out", report["confusions"]), ("hard", report["hard_confusions"])):
        for r in rows[:6]:
            conf.add_row(name, r["true"], r["predicted"], str(r["count"]))
    console.print(conf)
    if report.get("saved_to"):
        console.print(f"模型已保存 / model saved: {report['saved_to']} (fingerprint {report['model']['fingerprint']})")


@app.command()
def suggest(
    text: str = typer.Argument(..., help="The appeal text."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Suggest category, subcategory and responsible unit for a text (trains a model when none is saved)."""
    settings = load_settings()
    from shengxin.appeals.classify.model import get_model

    try:
        if not text.strip():
            raise InvalidInput("the appeal text is empty; give the text to classify", where="TEXT")
        with _progress() as progress:
            progress.add_task("加载或训练模型 / loading or training the model", total=None)
            model = get_model(settings.data_dir)
        result = model.suggest(text)
    except DomainError as exc:
        fail(exc)
    if as_json:
        print_json(result.as_dict())
        return
    from shengxin.appeals.classify.taxonomy import load_taxonomy

    tax = load_taxonomy()
    sub = tax.subcategory(result.subcategory_code)
    console.print(f"{tax.category(result.category_code).name} / {sub.name}  ({result.subcategory_code}) → "
                  f"{result.unit_code}  置信度 {result.confidence:.2f}")
    for a in result.alternatives:
        console.print(f"  备选 {tax.subcategory(a.subcategory_code).name} ({a.subcategory_code}) {a.confidence:.2f}")


@app.command()
def info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the saved model (fingerprint, training data, versions)."""
    settings = load_settings()
    from shengxin.appeals.classify.model import IncompatibleModel, load_model, model_path

    try:
        model = load_model(settings.data_dir)
    except IncompatibleModel as exc:
        err_console.print(f"[yellow]saved model cannot be used:[/yellow] {exc}; run `shengxin appeals-model train`")
        raise typer.Exit(1) from exc
    if model is None:
        err_console.print(f"no model at {model_path(settings.data_dir)}; run `shengxin appeals-model train`")
        raise typer.Exit(1)
    data = model.info()
    if as_json:
        print_json(data)
        return
    for k, v in data.items():
        console.print(f"{k}: {v}")


@app.command("build-examples")
def build_examples(
    output: Path = typer.Option(None, "--output", help="Where to write (default: the packaged examples.csv)."),
    check: bool = typer.Option(False, "--check", help="Only check that the packaged file is up to date."),
    seed: int = typer.Option(None, "--seed", help="Generator seed (default: the committed one)."),
    per_subcategory: int = typer.Option(None, "--per-subcategory", help="Generated texts per subcategory."),
) -> None:
    """Regenerate examples.csv from the seeded generator plus the hand-written examples."""
    from shengxin.appeals.classify import corpus

    try:
        rows = corpus.build_examples(seed=seed if seed is not None else corpus.DEFAULT_SEED,
                                     per_subcategory=per_subcategory or corpus.DEFAULT_PER_SUBCATEGORY)
    except DomainError as exc:
        fail(exc)
    text = corpus.examples_csv_text(rows)
    if check:
        current = corpus.EXAMPLES_CSV.read_text(encoding="utf-8") if corpus.EXAMPLES_CSV.exists() else ""
        if current != text:
            err_console.print(f"{corpus.EXAMPLES_CSV} is out of date; run `shengxin appeals-model build-examples`")
            raise typer.Exit(1)
        console.print(f"up to date: {len(rows)} examples")
        return
    target = output or corpus.EXAMPLES_CSV
    size = corpus.write_examples_csv(target, rows)
    console.print(f"wrote {len(rows)} examples ({size / 1024:.0f} KiB) to {target}")


@app.command("demo-texts")
def demo_texts(
    n: int = typer.Option(4000, "--n", help="How many appeals."),
    year: int = typer.Option(2025, "--year", help="Year of the submission times."),
    seed: int = typer.Option(7, "--seed", help="Random seed."),
    output: Path = typer.Option(None, "--output", help="Write CSV here instead of JSON lines to stdout."),
) -> None:
    """A year of demo appeal texts with category, unit, town, channel and submission time."""
    from shengxin.appeals.classify.corpus import generate_demo_appeals

    try:
        rows = generate_demo_appeals(n, year, seed)
    except DomainError as exc:
        fail(exc)
    fields = ("submitted_at", "category_code", "subcategory_code", "unit_code", "town_code", "channel", "hotspot",
              "text")
    if output is None:
        for r in rows:
            typer.echo(json.dumps({k: r[k] for k in fields}, ensure_ascii=False, default=str))
        return
    with open(output, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for r in rows:
            w.writerow([r["submitted_at"].isoformat() if k == "submitted_at" else
                        ("" if r[k] is None else r[k]) for k in fields])
    console.print(f"wrote {len(rows)} demo appeals to {output}")
