"""Precision and recall of every signal against the synthetic district's ground truth.

``shengxin synth`` writes ``truth/events.csv`` (uscc, event, start_month, end_month, magnitude,
detail, evidence_months) and ``truth/distractors.csv``; each definition's ``evaluation.truth_event`` names the
truth event it should find.

**Matching rule.** A signal episode (enterprise, first month ``s0``, last month ``s1``) matches a
truth event (enterprise, ``t0``, ``t1``) when the USCC is the same, the event's type is (one of)
the definition's truth event(s) — relocation risk covers both ``relocation_out`` and
``relocation_affiliate``, and reports the recall of each — and the two periods overlap once the truth period is widened by the
definition's ``tolerance_months`` ``k``: ``s0 <= t1 + k`` and ``s1 >= t0 - k``. With
``before_only`` (approaching the threshold, which must come *before* reaching it) the widening
applies before the event only: ``s0 <= t1`` and ``s1 >= t0 - k``. Precision = matched episodes /
episodes; recall = truth events matched by at least one episode / observable truth events.

**Observable truth events** (a detector working on the delivered data can only see these):

* deviation signals (revenue, tax, headcount): the enterprise reports the metric(s) regularly
  (at least ``min_reported_share`` of the months between its first and last report — quarterly
  filers are not), the event starts late enough in the window for a baseline to exist
  (``baseline_lag_months + min_baseline_months - 1`` months after the window start), at
  least ``min_months`` of its months inside the window were reported (for a signal with
  alternatives: under any of them) and the truth states at least ``min_months`` *evidence
  months* (the ``evidence_months`` column: months delivered and really standing clearly below
  the enterprise's level, see ``shengxin.synth.realised``) — the issue's "sustained drops and
  layoffs with at least two months of evidence". Events the truth lists with fewer evidence
  months still make a signal on them correct; they only do not count for recall;
* ``reached_threshold``: revenue-based scopes only (a qualification scope shows in no delivered
  file), the enterprise's industry has a revenue threshold, and a trailing-12-month revenue
  exists in the 12 months before the event;
* everything else (relocation, certification, financing): the event month lies in the window.

For the threshold signals, episodes starting after the last survey-list inclusion month (January)
inside the window are not scored: the truth can only confirm a crossing at the next inclusion,
which lies after the as-of month.

For deviation signals the report also counts the unmatched episodes whose delivered data show a
visible drop that the ground truth does not list (median of the episode's first four months, seasonally
adjusted, at least 30 % below the median of the twelve months before): these are not detector
errors but unlabelled drops in the synthetic data, reported separately and never hidden.

The naive rule — "this month's revenue (tax) is at least 30 % below the same month last year" —
runs over every enterprise and month in the same evaluation; each alarm is matched like an
episode of one month, and its recall is counted over the same observable events as the detector's.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shengxin.errors import InvalidInput, NotFound
from shengxin.signals.catalogue import (
    AlternativesParams,
    Catalogue,
    DeviationParams,
    RelocationParams,
    SignalDefinition,
    ThresholdParams,
)
from shengxin.signals.detect import DetectionResult
from shengxin.signals.inputs import Panel, parse_month

TRUTH_COLUMNS = ("uscc", "event", "start_month", "end_month", "magnitude", "detail", "evidence_months")
#: Files written before the truth stated its evidence months.
LEGACY_TRUTH_COLUMNS = TRUTH_COLUMNS[:-1]
DISTRACTOR_COLUMNS = ("uscc", "kind", "series", "start_month", "end_month", "detail")
#: The issue's targets: sustained drops and layoffs with at least two months of evidence.
TARGETS = {"revenue_drop": (0.90, 0.80), "tax_drop": (0.90, 0.80), "layoff": (0.90, 0.80)}
NAIVE_SHARE = 0.30
METRIC_OF_EVENT = {"sustained_revenue_drop": "revenue", "sustained_tax_drop": "tax"}


@dataclass
class Truth:
    uscc: np.ndarray
    event: np.ndarray
    start: np.ndarray  # datetime64[M]
    end: np.ndarray
    detail: np.ndarray
    evidence: np.ndarray  # evidence months stated by the truth; -1 when it states none

    def of(self, event: str) -> Truth:
        return self.take(self.event == event)

    def take(self, m: np.ndarray) -> Truth:
        return Truth(self.uscc[m], self.event[m], self.start[m], self.end[m], self.detail[m], self.evidence[m])

    def __len__(self) -> int:
        return len(self.uscc)


def _read_csv(path: Path, columns: tuple[str, ...], month_fields: tuple[str, ...],
              legacy: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFound("ground-truth file not found; point --truth at the folder `shengxin synth` wrote "
                       "(it holds truth/events.csv) or at its truth/ folder", where=str(path)) from None
    rows = list(csv.reader(text.splitlines()))
    if rows and legacy is not None and tuple(rows[0]) == legacy:
        columns = legacy
    if not rows or tuple(rows[0]) != columns:
        raise InvalidInput(f"header must be {','.join(columns)}", where=f"{path.name}: line 1")
    out: dict[str, list] = {c: [] for c in columns}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(columns):
            raise InvalidInput(f"expected {len(columns)} fields, found {len(row)}", where=f"{path.name}: line {line}")
        for c, v in zip(columns, row):
            if c in month_fields:
                v = parse_month(v, where=f"{path.name}: line {line}, {c}")
            out[c].append(v)
    arrays = {c: np.asarray(v, dtype=object) for c, v in out.items()}
    for c in month_fields:
        arrays[c] = np.asarray(out[c], dtype="datetime64[M]")
    return arrays


def truth_folder(path: Path) -> Path:
    """Accept the synth output folder or its ``truth/`` folder."""
    path = Path(path)
    if (path / "truth" / "events.csv").exists():
        return path / "truth"
    if not path.exists():
        raise NotFound("truth folder does not exist", where=str(path))
    return path


def read_truth(path: Path) -> Truth:
    folder = truth_folder(path)
    data = _read_csv(folder / "events.csv", TRUTH_COLUMNS, ("start_month", "end_month"), LEGACY_TRUTH_COLUMNS)
    raw = data.get("evidence_months", np.full(len(data["uscc"]), "", dtype=object))
    evidence = np.full(len(raw), -1, dtype=np.int64)
    for i, v in enumerate(raw):  # one pass over the truth rows (thousands), once per evaluation
        if v not in ("", None):
            try:
                evidence[i] = int(v)
            except ValueError:
                raise InvalidInput(f"evidence_months must be a whole number or empty (got {v!r})",
                                   where=f"events.csv: line {i + 2}, evidence_months") from None
    return Truth(data["uscc"].astype(str), data["event"].astype(str), data["start_month"], data["end_month"],
                 data["detail"].astype(str), evidence)


def read_distractors(path: Path) -> dict[str, np.ndarray] | None:
    folder = truth_folder(path)
    if not (folder / "distractors.csv").exists():
        return None
    return _read_csv(folder / "distractors.csv", DISTRACTOR_COLUMNS, ("start_month", "end_month"))


def _match(sig_uscc, sig_start, sig_end, truth: Truth, tol: int, before_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Matched mask for signals and for truth events (vectorised through a sort by USCC)."""
    sig_matched = np.zeros(len(sig_uscc), dtype=bool)
    truth_matched = np.zeros(len(truth), dtype=bool)
    if len(sig_uscc) == 0 or len(truth) == 0:
        return sig_matched, truth_matched
    order = np.argsort(truth.uscc, kind="stable")
    keys = truth.uscc[order]
    lo = np.searchsorted(keys, sig_uscc, side="left")
    hi = np.searchsorted(keys, sig_uscc, side="right")
    # enterprises carry few truth events; expand signal × (events of its enterprise) pairs
    counts = hi - lo
    pairs_sig = np.repeat(np.arange(len(sig_uscc)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pairs_truth = order[np.repeat(lo, counts) + offsets]
    t0 = truth.start[pairs_truth]
    t1 = truth.end[pairs_truth]
    s0 = sig_start[pairs_sig]
    s1 = sig_end[pairs_sig]
    after = 0 if before_only else tol
    ok = (s0 <= t1 + after) & (s1 >= t0 - tol)
    sig_matched[pairs_sig[ok]] = True
    truth_matched[pairs_truth[ok]] = True
    return sig_matched, truth_matched


def _panel_rows(panel: Panel, uscc: np.ndarray) -> np.ndarray:
    known = panel.uscc.astype(str)
    pos = np.clip(np.searchsorted(known, uscc), 0, max(panel.n - 1, 0))
    return np.where(known[pos] == uscc, pos, -1)


def observable(definition: SignalDefinition, truth: Truth, result: DetectionResult) -> np.ndarray:
    """Which truth events of this definition a detector on the delivered data could see."""
    panel, cache = result.panel, result.cache
    rows = _panel_rows(panel, truth.uscc)
    col0 = (truth.start - panel.months[0]).astype(np.int64)
    col1 = np.minimum((truth.end - panel.months[0]).astype(np.int64), panel.t - 1)
    inside = (rows >= 0) & (col0 >= 0) & (col0 < panel.t)
    params = definition.params

    def deviation_observable(p: DeviationParams) -> np.ndarray:
        first_possible = p.baseline_lag_months + p.min_baseline_months - 1
        ok = inside & (col0 >= first_possible)
        usable = np.ones((panel.n, panel.t), dtype=bool)
        regular = np.ones(panel.n, dtype=bool)
        for cond in p.metrics:
            frame = cache.get(cond.metric, p)
            usable &= ~np.isnan(panel.series[cond.metric])
            regular &= frame.regular_mask()
        csum = np.concatenate([np.zeros((panel.n, 1), dtype=np.int64), np.cumsum(usable, axis=1)], axis=1)
        r = np.maximum(rows, 0)
        reported = csum[r, np.clip(col1, 0, panel.t - 1) + 1] - csum[r, np.clip(col0, 0, panel.t - 1)]
        stated = (truth.evidence < 0) | (truth.evidence >= p.min_months)  # the truth's own evidence months
        return ok & regular[r] & (reported >= p.min_months) & stated

    if isinstance(params, DeviationParams):
        return deviation_observable(params)
    if isinstance(params, AlternativesParams):  # observable when any of the alternatives could see it
        out = np.zeros(len(truth), dtype=bool)
        for alternative in params.alternatives:
            out |= deviation_observable(alternative)
        return out
    if isinstance(params, ThresholdParams):
        trailing = result.trailing
        if trailing is None:
            return np.zeros(len(truth), dtype=bool)
        r = np.maximum(rows, 0)
        has_thr = ~np.isnan(trailing.threshold[r])
        revenue_based = np.char.find(truth.detail.astype(str), "qualification") < 0
        seen = np.zeros(len(truth), dtype=bool)
        for k in range(1, 13):  # the 12 months before the event
            c = col0 - k
            valid = (c >= 0) & (c < panel.t) & inside
            seen |= valid & ~np.isnan(trailing.annual_at(r, np.clip(c, 0, panel.t - 1)))
        return inside & has_thr & revenue_based & seen
    if isinstance(params, RelocationParams):
        return (rows >= 0) & (col1 >= 0) & (col0 < panel.t)
    return inside


def _visible_drop(result: DetectionResult, definition: SignalDefinition, uscc: np.ndarray, start: np.ndarray,
                  share: float = 0.30) -> np.ndarray:
    """Model-free check of the delivered data: does the signal's metric, seasonally adjusted, show a
    median over the episode's first four months at least ``share`` below the median of the twelve
    months before it? (Used to tell apart false alarms from drops the ground truth does not list.)"""
    params = definition.params
    alternatives = getattr(params, "alternatives", None) or [params]
    first = alternatives[0]
    if not isinstance(first, DeviationParams) or first.metrics[0].direction != "down":
        return np.zeros(len(uscc), dtype=bool)
    panel = result.panel
    rows = _panel_rows(panel, uscc)
    frame = result.cache.get(first.metrics[0].metric, first).aligned(np.maximum(rows, 0))
    col = (start - panel.months[0]).astype(np.int64)
    r = np.arange(len(rows))
    before = np.stack([np.where(col - k >= 0, frame.adjusted[r, np.clip(col - k, 0, panel.t - 1)], np.nan)
                       for k in range(1, 13)])
    during = np.stack([np.where(col + k < panel.t, frame.adjusted[r, np.clip(col + k, 0, panel.t - 1)], np.nan)
                       for k in range(4)])
    with np.errstate(invalid="ignore"):
        drop = np.nanmedian(during, axis=0) - np.nanmedian(before, axis=0)
    out = (rows >= 0) & (np.sum(~np.isnan(before), axis=0) >= 6) & (drop <= np.log1p(-share))
    return out


def _scored_signals(definition: SignalDefinition, starts: np.ndarray, panel: Panel) -> np.ndarray:
    if isinstance(definition.params, ThresholdParams):
        months_of_year = panel.months.astype(np.int64) % 12
        januaries = panel.months[months_of_year == 0]
        if len(januaries) == 0:
            return np.zeros(len(starts), dtype=bool)
        return starts < januaries[-1]
    return np.ones(len(starts), dtype=bool)


def _naive(panel: Panel, metric: str, truth: Truth, observable_truth: Truth, tol: int) -> dict:
    x = panel.series[metric]
    alarm = np.zeros_like(x, dtype=bool)
    if panel.t > 12:
        prev, cur = x[:, :-12], x[:, 12:]
        with np.errstate(invalid="ignore"):
            alarm[:, 12:] = (prev > 0) & (cur <= (1 - NAIVE_SHARE) * prev)
    r, c = np.nonzero(alarm)
    uscc = panel.uscc[r].astype(str)
    months = panel.months[c]
    sig_m, _ = _match(uscc, months, months, truth, tol, False)
    _, truth_m = _match(uscc, months, months, observable_truth, tol, False)
    alarms = len(r)
    return {
        "alarms": alarms, "matched_alarms": int(sig_m.sum()),
        "precision": round(float(sig_m.mean()), 4) if alarms else None,
        "truth_events": len(truth), "observable_truth_events": len(observable_truth), "recalled": int(truth_m.sum()),
        "recall": round(float(truth_m.mean()), 4) if len(observable_truth) else None,
    }


def evaluate(result: DetectionResult, catalogue: Catalogue, truth: Truth,
             distractors: dict[str, np.ndarray] | None = None) -> dict:
    """The evaluation report (plain data, ready for ``--json``)."""
    table = result.table
    sig = np.asarray(table.column("signal").to_pylist(), dtype=object).astype(str)
    uscc = np.asarray(table.column("uscc").to_pylist(), dtype=object).astype(str)
    start = table.column("start_month").to_numpy(zero_copy_only=False).astype("datetime64[M]")
    end = table.column("end_month").to_numpy(zero_copy_only=False).astype("datetime64[M]")
    panel = result.panel
    report: dict = {
        "as_of": str(result.as_of), "window": {"start": str(result.window_start), "end": str(result.as_of)},
        "enterprises": result.enterprises, "catalogue_fingerprint": result.fingerprint,
        "input_snapshot_id": result.input_snapshot_id,
        "matching_rule": ("same USCC and event type; periods overlap after widening the truth period by "
                          "tolerance_months (before the event only for before_only signals)"),
        "signals": {}, "naive": {},
    }
    observable_of: dict[str, tuple[Truth, Truth]] = {}
    for definition in catalogue:
        events = definition.evaluation.truth_events
        if not events:
            continue
        event = events[0] if len(events) == 1 else events
        m = sig == definition.id
        tol = definition.evaluation.tolerance_months
        t = truth.take(np.isin(truth.event, events))
        obs = observable(definition, t, result)
        scored = _scored_signals(definition, start[m], panel)
        t_obs = t.take(obs)
        sig_m, _ = _match(uscc[m][scored], start[m][scored], end[m][scored], t, tol, definition.evaluation.before_only)
        _, truth_m = _match(uscc[m], start[m], end[m], t_obs, tol, definition.evaluation.before_only)
        n_sig = int(scored.sum())
        entry = {
            "name": definition.name, "truth_event": event, "tolerance_months": tol,
            "signals": n_sig, "matched_signals": int(sig_m.sum()),
            "precision": round(float(sig_m.mean()), 4) if n_sig else None,
            "truth_events": len(t), "observable_truth_events": int(obs.sum()),
            "recalled": int(truth_m.sum()),
            "recall": round(float(truth_m.mean()), 4) if len(t_obs) else None,
        }
        if len(events) > 1:  # recall of each truth event the signal covers, and its share of the episodes
            entry["by_truth_event"] = {}
            for name in events:
                of = t_obs.event == name
                sig_k, _ = _match(uscc[m][scored], start[m][scored], end[m][scored], t.take(t.event == name), tol,
                                  definition.evaluation.before_only)
                entry["by_truth_event"][name] = {
                    "truth_events": int((t.event == name).sum()), "observable_truth_events": int(of.sum()),
                    "recalled": int(truth_m[of].sum()),
                    "recall": round(float(truth_m[of].mean()), 4) if of.any() else None,
                    "matching_signals": int(sig_k.sum()),
                }
        if definition.id in TARGETS:
            p_target, r_target = TARGETS[definition.id]
            entry["target"] = {"precision": p_target, "recall": r_target}
            entry["meets_target"] = bool(entry["precision"] is not None and entry["recall"] is not None
                                         and entry["precision"] >= p_target and entry["recall"] >= r_target)
        if isinstance(definition.params, (DeviationParams, AlternativesParams)) and n_sig:
            unmatched = ~sig_m
            visible = _visible_drop(result, definition, uscc[m][scored][unmatched], start[m][scored][unmatched])
            entry["unmatched_with_visible_unlabelled_drop"] = int(visible.sum())
            entry["precision_counting_visible_unlabelled_drops"] = round(
                float((sig_m.sum() + visible.sum()) / n_sig), 4)
        if distractors is not None and n_sig:
            unmatched = set(uscc[m][scored][~sig_m])
            by_kind: dict[str, int] = {}
            for kind in np.unique(distractors["kind"].astype(str)):
                firms = set(distractors["uscc"][distractors["kind"] == kind].astype(str))
                by_kind[str(kind)] = len(unmatched & firms)
            entry["false_alarms_on_distractor_enterprises"] = by_kind
        report["signals"][definition.id] = entry
        for name in events:
            observable_of.setdefault(name, (t.take(t.event == name), t_obs.take(t_obs.event == name)))
    for event, metric in METRIC_OF_EVENT.items():
        # scored like the detector: precision against every truth event, recall over the observable ones
        t, t_obs = observable_of.get(event, (truth.of(event), truth.of(event)))
        report["naive"][metric] = {"rule": f"{metric} this month ≤ 70% of the same month last year",
                                   **_naive(panel, metric, t, t_obs, 2)}
    return report


def format_report(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)

