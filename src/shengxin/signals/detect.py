"""Detection of every signal for every enterprise at once, as one Arrow table.

``run_detection`` reads the panel once, runs each definition's detector over whole matrices,
applies supersession (a relocation covers the layoff and drops it causes), and returns one row
per signal episode with its evidence. ``shengxin signals detect`` publishes that table as a
snapshot (:mod:`shengxin.signals.store`).

Rules:

* only data up to the as-of month is read (monthly rows up to it, events dated up to its last day);
* a signal is *active* when it still holds at the as-of month, and *new* when it was first
  confirmed after the previous detection's as-of month (or in the as-of month itself when there
  was no earlier detection);
* a signal is routed to the desk of the enterprise's town; an enterprise whose registered town is
  outside the district (it moved away) goes to the district desk (``town_code`` empty).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.errors import NotFound
from shengxin.reference.district import District
from shengxin.signals import affiliates
from shengxin.signals import detectors as det
from shengxin.signals.catalogue import (
    AlternativesParams,
    Catalogue,
    DeviationParams,
    ListingParams,
    RelocationParams,
    ThresholdParams,
)
from shengxin.signals.inputs import (
    Panel,
    latest_month,
    load_events,
    load_panel,
    survey_inclusion,
)

DEFAULT_MONTHS = 36

SIGNAL_SCHEMA = pa.schema([
    ("signal_key", pa.string()),
    ("signal", pa.string()),
    ("kind", pa.string()),
    ("severity", pa.string()),
    ("reason_codes", pa.string()),
    ("uscc", pa.string()),
    ("name", pa.string()),
    ("town_code", pa.string()),
    ("industry_code", pa.string()),
    ("start_month", pa.date32()),
    ("end_month", pa.date32()),
    ("detected_month", pa.date32()),
    ("months", pa.int32()),
    ("active", pa.bool_()),
    ("new", pa.bool_()),
    ("value", pa.float64()),
    ("baseline", pa.float64()),
    ("change", pa.float64()),
    ("score", pa.float64()),
    ("lost", pa.float64()),
    ("ratio", pa.float64()),
    ("detail", pa.string()),
    ("series_metric", pa.string()),
    ("series_values", pa.list_(pa.float64())),
    ("series_baseline", pa.list_(pa.float64())),
])


@dataclass
class DetectionResult:
    table: pa.Table
    as_of: np.datetime64
    window_start: np.datetime64
    months: int
    fingerprint: str
    input_snapshot_id: str
    previous_as_of: np.datetime64 | None
    enterprises: int
    timings: dict[str, float] = field(default_factory=dict)
    #: The inputs and intermediate frames (kept in memory for the evaluation; never stored).
    panel: Panel | None = None
    cache: det.FrameCache | None = None
    trailing: det.TrailingRevenue | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        """Per signal: all episodes in the window, active ones, new ones."""
        out: dict[str, dict[str, int]] = {}
        sig = self.table.column("signal").to_numpy(zero_copy_only=False)
        active = self.table.column("active").to_numpy(zero_copy_only=False)
        new = self.table.column("new").to_numpy(zero_copy_only=False)
        for s in np.unique(sig):
            m = sig == s
            out[str(s)] = {"episodes": int(m.sum()), "active": int((m & active).sum()), "new": int((m & new).sum())}
        return out


def _supersede(results: dict[str, det.Episodes], catalogue: Catalogue, n: int) -> dict[str, det.Episodes]:
    """Drop episodes of superseded signals that overlap (± a few months) an episode of the
    superseding signal for the same enterprise."""
    out = dict(results)
    for definition in catalogue:
        cover = results.get(definition.id)
        if not definition.supersedes or cover is None or len(cover) == 0:
            continue
        weak = {r.code for r in definition.reason_codes if not r.supersedes}
        if weak:
            cover = cover.take(~np.asarray([set(str(r).split(",")) <= weak for r in cover.reasons], dtype=bool))
        lo = np.full(n, np.iinfo(np.int64).max)
        hi = np.full(n, np.iinfo(np.int64).min)
        np.minimum.at(lo, cover.row, cover.start - det.SUPERSEDE_MONTHS)
        np.maximum.at(hi, cover.row, cover.end + det.SUPERSEDE_MONTHS)
        for target in definition.supersedes:
            eps = out.get(target)
            if eps is None or len(eps) == 0:
                continue
            overlap = (eps.start <= hi[eps.row]) & (eps.end >= lo[eps.row])
            out[target] = eps.take(~overlap)
    return out


def _keys(signal: str, uscc: np.ndarray, start: np.ndarray) -> list[str]:
    """Stable id of an episode: signal, enterprise and first month (one hash per episode)."""
    return [hashlib.sha256(f"{signal}|{u}|{s}".encode()).hexdigest()[:20] for u, s in zip(uscc, start)]


def _list_array(matrix: np.ndarray | None, rows: int) -> pa.Array:
    if matrix is None:
        return pa.nulls(rows, pa.list_(pa.float64()))
    width = matrix.shape[1]
    flat = np.round(matrix.reshape(-1), 2)
    offsets = pa.array(np.arange(0, rows * width + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(flat, mask=np.isnan(flat)))


def _month_dates(months: np.ndarray) -> pa.Array:
    return pa.array(months.astype("datetime64[D]"), type=pa.date32())


def run_detection(
    con: duckdb.DuckDBPyConnection,
    district: District,
    catalogue: Catalogue,
    *,
    input_snapshot_id: str,
    as_of: np.datetime64 | None = None,
    months: int = DEFAULT_MONTHS,
    previous_as_of: np.datetime64 | None = None,
    progress=None,
) -> DetectionResult:
    """Run every definition of the catalogue over the canonical tables behind ``con``."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    if as_of is None:
        as_of = latest_month(con)
        if as_of is None:
            raise NotFound("no monthly data (tax, social insurance, electricity) to detect signals on; "
                           "ingest the departments' monthly files first")
    as_of = np.datetime64(as_of, "M")
    if previous_as_of is not None and np.datetime64(previous_as_of, "M") >= as_of:
        previous_as_of = None
    panel = load_panel(con, as_of, months)
    timings["load"] = time.perf_counter() - clock
    cache = det.FrameCache(panel)
    towns = frozenset(t.code for t in district.towns)
    trailing = inclusion = None
    results: dict[str, det.Episodes] = {}
    for definition in catalogue:
        started = time.perf_counter()
        reason = definition.reason_codes[0].code
        params = definition.params
        if isinstance(params, DeviationParams):
            eps = det.detect_deviation(panel, params, cache, reason)
        elif isinstance(params, AlternativesParams):
            eps = det.detect_alternatives(panel, params, cache, [r.code for r in definition.reason_codes])
        elif isinstance(params, RelocationParams):
            linked = None
            if params.affiliates is not None:
                links = affiliates.read_links(con, panel, params.affiliates, district.code)
                linked = affiliates.episodes(panel, links, params.affiliates)
            eps = det.detect_relocation(panel, params, cache, towns, definition, linked)
        elif isinstance(params, ListingParams):
            fields = list(dict.fromkeys(params.detail_fields + [f for f in (params.removed_field, params.first_of) if f]))
            since = None if params.first_of else panel.months[0]  # "first of" needs the whole history
            events = load_events(con, params.table, params.date_field, fields, since, as_of)
            eps = det.detect_listing(panel, params, events, reason)
        elif isinstance(params, ThresholdParams):
            if trailing is None:
                lowest = min(d.params.min_ratio for d in catalogue if isinstance(d.params, ThresholdParams))
                trailing = det.trailing_revenue(panel, params.min_coverage, lowest)
                inclusion = survey_inclusion(con, panel)
            eps = det.detect_threshold(panel, params, trailing, inclusion, reason)
        else:  # the catalogue validates detectors, so this is a programming error
            raise TypeError(f"no detector for {definition.detector}")
        results[definition.id] = eps
        timings[definition.id] = time.perf_counter() - started
        if progress is not None:
            progress(definition)
    started = time.perf_counter()
    results = _supersede(results, catalogue, panel.n)
    table = _assemble(panel, catalogue, results, towns, previous_as_of)
    timings["assemble"] = time.perf_counter() - started
    timings["total"] = time.perf_counter() - clock
    return DetectionResult(
        table=table, as_of=as_of, window_start=panel.months[0], months=months,
        fingerprint=catalogue.fingerprint, input_snapshot_id=input_snapshot_id,
        previous_as_of=previous_as_of, enterprises=panel.n, timings=timings,
        panel=panel, cache=cache, trailing=trailing,
    )


def _assemble(panel: Panel, catalogue: Catalogue, results: dict[str, det.Episodes], towns: frozenset[str],
              previous_as_of: np.datetime64 | None) -> pa.Table:
    tables = []
    town_of = panel.town_code.astype(str)
    in_district = np.isin(town_of, sorted(towns))
    desk = np.where(in_district, town_of, "")
    for definition in catalogue:
        eps = results.get(definition.id)
        if eps is None or len(eps) == 0:
            continue
        n = len(eps)
        start_m = panel.months[eps.start]
        detected_m = panel.months[eps.detected]
        if previous_as_of is not None:
            new = detected_m > np.datetime64(previous_as_of, "M")
        else:
            new = detected_m == panel.as_of
        uscc = panel.uscc[eps.row].astype(str)
        columns = {
            "signal_key": pa.array(_keys(definition.id, uscc, start_m.astype(str))),
            "signal": pa.array([definition.id] * n),
            "kind": pa.array([definition.kind] * n),
            "severity": pa.array([definition.severity] * n),
            "reason_codes": pa.array(eps.reasons.astype(str)),
            "uscc": pa.array(uscc),
            "name": pa.array(panel.name[eps.row].astype(str)),
            "town_code": pa.array(desk[eps.row]),
            "industry_code": pa.array(panel.industry_code[eps.row].astype(str)),
            "start_month": _month_dates(start_m),
            "end_month": _month_dates(panel.months[eps.end]),
            "detected_month": _month_dates(detected_m),
            "months": pa.array(eps.months.astype(np.int32)),
            "active": pa.array(eps.active.astype(bool)),
            "new": pa.array(np.asarray(new, dtype=bool)),
            "value": pa.array(eps.value, mask=np.isnan(eps.value)),
            "baseline": pa.array(eps.baseline, mask=np.isnan(eps.baseline)),
            "change": pa.array(eps.change, mask=np.isnan(eps.change)),
            "score": pa.array(eps.score, mask=np.isnan(eps.score)),
            "lost": pa.array(eps.lost, mask=np.isnan(eps.lost)),
            "ratio": pa.array(eps.ratio, mask=np.isnan(eps.ratio)),
            "detail": pa.array(eps.detail if eps.detail else [None] * n, type=pa.string()),
            "series_metric": pa.array(list(eps.series_metric) if eps.series_metric is not None else [None] * n,
                                      type=pa.string()),
            "series_values": _list_array(eps.series_values, n),
            "series_baseline": _list_array(eps.series_baseline, n),
        }
        tables.append(pa.table(columns, schema=SIGNAL_SCHEMA))
    if not tables:
        return SIGNAL_SCHEMA.empty_table()
    table = pa.concat_tables(tables)
    # stable order: signal, town, enterprise, start
    order = pc.sort_indices(table, sort_keys=[("signal", "ascending"), ("uscc", "ascending"),
                                                      ("start_month", "ascending")])
    return table.take(order)
