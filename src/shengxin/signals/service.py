"""Signals as the rest of the platform uses them: detect and publish, read the current snapshot,
evaluate against ground truth. The web and CLI call these; they never reach into the modules'
internals."""

from __future__ import annotations

from pathlib import Path

from shengxin.config import Settings
from shengxin.errors import InvalidInput, NotFound
from shengxin.reference.district import District
from shengxin.signals import store
from shengxin.signals.catalogue import Catalogue, load_catalogue
from shengxin.signals.detect import DEFAULT_MONTHS, DetectionResult, run_detection
from shengxin.signals.evaluate import evaluate, read_distractors, read_truth
from shengxin.signals.inputs import (
    connect,
    folder_source,
    latest_month,
    open_hub,
    parse_month,
)


def _open(settings: Settings, inputs: Path | None):
    if inputs is not None:
        source = folder_source(inputs)
        return connect(source), source.snapshot_id
    return open_hub(settings.analytic_dir)


def detect(settings: Settings, district: District, *, as_of: str | None = None, months: int = DEFAULT_MONTHS,
           catalogue: Catalogue | None = None, inputs: Path | None = None, progress=None) -> DetectionResult:
    """Run detection on the data hub's current snapshot (or a folder of canonical Parquet files).

    The as-of month defaults to the latest month of monthly data; signals first confirmed after
    the previous detection's as-of month are marked new.
    """
    catalogue = catalogue or load_catalogue()
    if not 13 <= months <= 120:
        raise InvalidInput("months must be between 13 and 120", where="--months")
    con, input_id = _open(settings, inputs)
    try:
        month = parse_month(as_of, where="--as-of") if as_of else latest_month(con)
        if month is None:
            raise NotFound("no monthly data (tax, social insurance, electricity) to detect signals on; "
                           "ingest the departments' monthly files first (shengxin ingest …)")
        previous = store.previous_as_of(settings.analytic_dir, month)
        return run_detection(con, district, catalogue, input_snapshot_id=input_id, as_of=month, months=months,
                             previous_as_of=previous, progress=progress)
    finally:
        con.close()


def detect_and_publish(settings: Settings, district: District, **kwargs) -> tuple[DetectionResult, store.SignalSnapshot]:
    catalogue = kwargs.pop("catalogue", None) or load_catalogue()
    result = detect(settings, district, catalogue=catalogue, **kwargs)
    snapshot = store.publish(result, settings.analytic_dir, {d.id: d.version for d in catalogue})
    return result, snapshot


def current_snapshot(settings: Settings) -> store.SignalSnapshot | None:
    return store.current(settings.analytic_dir)


def require_snapshot(settings: Settings) -> store.SignalSnapshot:
    snapshot = store.current(settings.analytic_dir)
    if snapshot is None:
        raise NotFound("还没有信号快照：请先运行 shengxin signals detect")
    return snapshot


def evaluate_against(settings: Settings, district: District, truth: Path, *, as_of: str | None = None,
                     months: int = DEFAULT_MONTHS, inputs: Path | None = None) -> dict:
    """Detect on the current inputs and score every signal against the ground truth folder."""
    catalogue = load_catalogue()
    truth_events = read_truth(truth)
    distractors = read_distractors(truth)
    result = detect(settings, district, as_of=as_of, months=months, catalogue=catalogue, inputs=inputs)
    report = evaluate(result, catalogue, truth_events, distractors)
    report["truth"] = str(truth)
    report["detection_seconds"] = round(result.timings.get("total", float("nan")), 3)
    return report

