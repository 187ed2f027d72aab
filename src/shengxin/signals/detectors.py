"""The detectors: each turns the panel into *episodes* of one signal for all enterprises at once.

An episode is one enterprise's stretch of months during which a signal holds: its first month
(``start``), last month (``end``), the month it was first confirmed (``detected`` — the month a
run of detection on data up to that month would have raised it) and the evidence statistics.
Detection over the whole window therefore also tells when each signal *would* have fired, which
the evaluation and the cockpit's monthly trends use.

The robust seasonal baseline (decision record ``docs/decisions/0013-seasonal-baseline-signals.md``)
of a metric ``x`` of enterprise ``i`` in month ``t``:

1. ``L = log x`` (values at or below zero are floored at 1 % of the enterprise's median);
2. the *peer seasonal factor* ``P[g, t]`` is the median, over the enterprise's industry group
   ``g`` (GB/T 4754 group, else division, else the whole district — the most specific with at
   least :data:`MIN_PEERS` regular reporters), of ``L - median(L)`` in month ``t``. It carries
   the seasonal shape, the Spring Festival wherever it falls that year, and shocks common to the
   industry;
3. the seasonally adjusted series ``R = L - P`` and its baseline ``B[t]``: the median of ``R``
   over the 12 months ending ``baseline_lag_months`` before ``t`` (at least
   ``min_baseline_months`` of them observed);
4. the deviation ``d = R - B`` (log of actual / expected), the expected value ``exp(B + P)``, and
   the robust z-score ``d / s`` with ``s`` the enterprise's noise level from the median absolute
   month-to-month change of ``R``;
5. optionally the same-month-last-year check: ``R[t] - R[t-12]`` must show the same fall, so an
   enterprise's own recurring seasonal dip is not a new drop;
6. optionally (``trend_adjust``) the baseline is carried forward along the enterprise's trend,
   shrunk by its reliability (:func:`shrunk_trend`), and (``min_history_months``) an enterprise
   that started reporting inside the window starts no run before its level is established.

Only the enterprises with a month that may start a run (a few per cent) go on to the month-by-
month run scan and the sequential test; aligned frames gather their matrices lazily.

Intermittent reporters (fewer than ``min_reported_share`` of the months between their first and
last report, e.g. quarterly filers) are left out of deviation signals and of the peer factors.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import bottleneck as bn
import numpy as np

from shengxin.errors import DomainError
from shengxin.reference import industries
from shengxin.reference.scope import load_scope_table, scope_threshold
from shengxin.signals import robust
from shengxin.signals.affiliates import AffiliateEpisodes
from shengxin.signals.affiliates import to_json as affiliate_json
from shengxin.signals.catalogue import (
    DeviationParams,
    ListingParams,
    RelocationParams,
    SignalDefinition,
    ThresholdParams,
)
from shengxin.signals.inputs import Panel

#: Fewest regular reporters an industry group needs to have its own seasonal factors.
MIN_PEERS = 30
#: Most members of a group used to estimate its seasonal factors (a deterministic sample).
MAX_PEER_SAMPLE = 600
#: Weight (in months) of the peer group's typical noise level when estimating an enterprise's own.
SCALE_PRIOR_WEIGHT = 12
#: Smallest noise level (log units) a z-score divides by: very stable series are not over-trusted.
SCALE_FLOOR = {"revenue": 0.03, "tax": 0.03, "headcount": 0.02, "electricity": 0.03, "tax_rate": 0.03}
#: Months of year-on-year changes (ending where the baseline window ends) an enterprise's trend is
#: the median of: more than the baseline's twelve, as a trend is noisier than a level.
TREND_MONTHS = 24
#: Smallest spread of real trends between enterprises (log change per year) the shrinkage assumes:
#: growth rates differ by at least this much in any district, so a clear trend of a steady
#: enterprise is kept even where its peers all happen to be flat.
MIN_TREND_SPREAD = 0.10
#: Metrics whose trend is read from another metric of the same enterprises: tax is paid on revenue
#: and grows with it, and revenue's trend is the steadier estimate (tax adds its own noise).
TREND_OF = {"tax": "revenue"}
#: A supersession covers the superseded episode when the two lie within this many months.
SUPERSEDE_MONTHS = 3
FEN_PER_WAN = 1_000_000
#: A single month's z-score counts at most this much towards the evidence, so one extreme month
#: (a one-off dip) cannot make a sustained signal on its own.
Z_CAP = 3.0
#: Default for :func:`trailing_revenue`: enterprises whose best month × 12 stays below this share
#: of their threshold are not examined (the catalogue allows no definition a ratio below it;
#: detection passes the lowest ratio its definitions actually ask for).
NEAR_THRESHOLD_SHARE = 0.5
#: Money metrics are stored in fen; evidence is shown in 元.
MONEY_SCALE = {"revenue": 0.01, "tax": 0.01}


@dataclass
class Episodes:
    """Episodes of one signal, column-wise (one entry per episode)."""

    row: np.ndarray  # enterprise index in the panel
    start: np.ndarray  # month indexes in the panel
    end: np.ndarray
    detected: np.ndarray
    active: np.ndarray  # bool: still holds at the as-of month
    months: np.ndarray  # months of evidence
    value: np.ndarray  # float, NaN when not applicable
    baseline: np.ndarray
    change: np.ndarray
    score: np.ndarray
    lost: np.ndarray
    ratio: np.ndarray
    reasons: np.ndarray  # str: comma-separated reason codes
    detail: list[str | None] = field(default_factory=list)  # JSON per episode, or None
    series_metric: np.ndarray | None = None  # per episode: the metric its series shows
    series_values: np.ndarray | None = None  # (episodes × months) or None
    series_baseline: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.row)

    def take(self, keep: np.ndarray) -> Episodes:
        idx = np.flatnonzero(keep) if keep.dtype == bool else keep
        return Episodes(
            row=self.row[idx], start=self.start[idx], end=self.end[idx], detected=self.detected[idx],
            active=self.active[idx], months=self.months[idx], value=self.value[idx],
            baseline=self.baseline[idx], change=self.change[idx], score=self.score[idx],
            lost=self.lost[idx], ratio=self.ratio[idx], reasons=self.reasons[idx],
            detail=[self.detail[i] for i in idx] if self.detail else [],
            series_metric=None if self.series_metric is None else self.series_metric[idx],
            series_values=None if self.series_values is None else self.series_values[idx],
            series_baseline=None if self.series_baseline is None else self.series_baseline[idx],
        )


def empty_episodes() -> Episodes:
    i = np.zeros(0, dtype=np.int64)
    f = np.zeros(0)
    return Episodes(i, i, i, i, np.zeros(0, dtype=bool), i, f, f, f, f, f, f, np.zeros(0, dtype=object))


# ------------------------------------------------------------------------------- metric frames


_MATRICES = ("actual", "adjusted", "base", "factor", "dev", "yoy")


class MetricFrame:
    """One metric's seasonal baseline for the enterprises that report it regularly.

    Matrices are (rows × months), one row per entry of ``rows`` (panel row indices, sorted): only
    regular reporters are kept, which at district scale is a fraction of the panel for the tax
    metrics (most small firms file quarterly). :meth:`aligned` re-indexes a frame to other rows;
    an aligned frame gathers each matrix from its source only when it is first read, so a
    detector pays only for the matrices it uses.

    * ``actual`` — reported values (float64); ``adjusted`` — log(actual) minus the peer seasonal
      factor (float32); ``base`` — trailing median of ``adjusted``; ``factor`` — the peer seasonal
      factor of the enterprise's group; ``dev`` — adjusted - base, log(actual / expected);
      ``yoy`` — adjusted[t] - adjusted[t-12], NaN when either month is missing;
    * ``scale`` — per row, the noise level of ``dev``; ``first`` — per row, the first month
      (column) the metric was reported.
    """

    def __init__(self, rows: np.ndarray, n_panel: int, params: DeviationParams, scale: np.ndarray,
                 first: np.ndarray | None = None, matrices: dict[str, np.ndarray] | None = None,
                 parent: MetricFrame | None = None, index: np.ndarray | None = None):
        self.rows, self.n_panel, self.params, self.scale, self.first = rows, n_panel, params, scale, first
        self._matrices: dict[str, np.ndarray] = dict(matrices or {})
        self._parent, self._index = parent, index
        self._trend: np.ndarray | None = None
        self._expected: np.ndarray | None = None
        self.trend_source: MetricFrame | None = None  # a frame whose trend this metric shares

    def _matrix(self, name: str) -> np.ndarray:
        out = self._matrices.get(name)
        if out is None:  # an aligned frame: gather the rows from the source frame
            source = self._parent._matrix(name)
            out = source[np.maximum(self._index, 0)]
            missing = self._index < 0
            if missing.any():
                out[missing] = np.nan
            self._matrices[name] = out
        return out

    def at(self, name: str, idx: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Values of one matrix at the cells ``idx`` (row and column arrays), without gathering
        the whole matrix of an aligned frame; NaN for rows the source frame does not cover."""
        out = self._matrices.get(name)
        if out is not None or self._parent is None:
            return self._matrix(name)[idx]
        src = self._index[idx[0]]
        values = self._parent.at(name, (np.maximum(src, 0), idx[1]))
        if (src < 0).any():
            values = np.where(src < 0, np.nan, values)
        return values

    actual = property(lambda self: self._matrix("actual"))
    adjusted = property(lambda self: self._matrix("adjusted"))
    base = property(lambda self: self._matrix("base"))
    factor = property(lambda self: self._matrix("factor"))
    dev = property(lambda self: self._matrix("dev"))
    yoy = property(lambda self: self._matrix("yoy"))

    @property
    def expected(self) -> np.ndarray:
        """Expected value of every cell, ``exp(B + P)`` (computed once per frame)."""
        if self._expected is None:
            self._expected = np.exp(self.base.astype(np.float64) + self.factor)
        return self._expected

    @property
    def usable(self) -> np.ndarray:
        """Observed and with a baseline."""
        return ~np.isnan(self.dev)

    @property
    def trend(self) -> np.ndarray:
        """Log change per year over each month's baseline window: the median year-on-year change,
        shrunk towards no change by how reliable it is (:func:`shrunk_trend`); 0 where unknown."""
        if self._trend is None:
            if self._parent is not None:
                self._trend = self._parent.trend[np.maximum(self._index, 0)]
                self._trend[self._index < 0] = 0.0
            elif self.trend_source is not None:  # e.g. tax grows with revenue, which is less noisy
                self._trend = self.trend_source.aligned(self.rows).trend.copy()
                alone = ~self.trend_source.regular_mask()[self.rows]  # not reporting the source metric
                if alone.any():
                    own = self.aligned(self.rows[alone])
                    self._trend[alone] = shrunk_trend(own.yoy, own.scale, self.params)
            else:
                self._trend = shrunk_trend(self.yoy, self.scale, self.params)
        return self._trend

    def trended_dev(self) -> np.ndarray:
        """Deviation from the baseline carried forward along the enterprise's trend: the baseline
        is the median of a window centred ``lag + (months - 1) / 2`` months back."""
        if "_trended_dev" not in self._matrices:
            p = self.params
            centre = p.baseline_lag_months + (p.baseline_months - 1) / 2.0
            self._matrices["_trended_dev"] = self.dev - self.trend * np.float32(centre / 12.0)
        return self._matrices["_trended_dev"]

    @property
    def n_months(self) -> int:
        source = self
        while source._parent is not None and "dev" not in source._matrices:
            source = source._parent
        return source._matrix("dev").shape[1]

    def peak(self) -> np.ndarray:
        """Per row: the largest reported value (computed once)."""
        if "_peak" not in self._matrices:
            self._matrices["_peak"] = bn.nanmax(self.actual, axis=1)
        return self._matrices["_peak"]

    def regular_mask(self) -> np.ndarray:
        """Per panel row: is it a regular reporter of this metric?"""
        mask = np.zeros(self.n_panel, dtype=bool)
        mask[self.rows] = True
        return mask

    def aligned(self, rows: np.ndarray) -> MetricFrame:
        """The frame re-indexed to panel ``rows``; rows the frame does not cover are all-NaN."""
        if len(rows) == len(self.rows) and np.array_equal(rows, self.rows):
            return self
        pos = np.full(self.n_panel, -1, dtype=np.int64)
        pos[self.rows] = np.arange(len(self.rows))
        idx = pos[rows]
        missing = idx < 0
        safe = np.maximum(idx, 0)
        scale = self.scale[safe]
        scale[missing] = np.nan
        return MetricFrame(
            rows=np.asarray(rows), n_panel=self.n_panel, params=self.params, scale=scale,
            first=None if self.first is None else np.where(missing, np.iinfo(np.int64).max // 2, self.first[safe]),
            parent=self, index=idx,
        )

    def established(self, need: int) -> np.ndarray:
        """Months in which the enterprise's level counts as established: ``need`` months
        after its first report, or from the start when it already reported in the window's first
        month (its earlier history is simply not in the window)."""
        t = self.n_months
        if need == 0 or self.first is None:
            return np.ones((len(self.rows), t), dtype=bool)
        cols = np.arange(t)[None, :]
        return (self.first[:, None] == 0) | (cols - self.first[:, None] >= need)


def _section_letters(divisions: np.ndarray) -> np.ndarray:
    """GB/T 4754 section letter of each 2-digit division ('' when unknown), once per distinct code."""
    keys, inverse = np.unique(divisions, return_inverse=True)
    letters = []
    for code in keys:  # one iteration per distinct division (at most 97)
        try:
            letters.append(industries.section_of(str(code)).code if code else "")
        except DomainError:  # unknown or malformed code: no section, the enterprise falls back to a wider group
            letters.append("")
    return np.asarray(letters, dtype="U1")[inverse] if len(keys) else np.zeros(0, dtype="U1")


@dataclass(frozen=True)
class IndustryLevels:
    """Each enterprise's GB/T 4754 section, division and group keys (computed once per panel)."""

    levels: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]  # (keys, inverse, valid) per level

    @classmethod
    def of(cls, industry_codes: np.ndarray) -> IndustryLevels:
        distinct, of_code = np.unique(np.asarray(industry_codes).astype(str), return_inverse=True)
        codes = np.asarray([str(c)[:4] for c in distinct], dtype="U4")  # one per distinct code
        g3 = np.asarray([c[:3] if len(c) >= 3 else "" for c in codes], dtype="U3")
        g2 = np.asarray([c[:2] if len(c) >= 2 else "" for c in codes], dtype="U2")
        out = []
        for level in (np.char.add("S", _section_letters(g2)), np.char.add("D", g2), np.char.add("G", g3)):
            keys, inverse = np.unique(level, return_inverse=True)  # least to most specific
            out.append((keys, inverse[of_code], np.char.str_len(keys) > 1))
        return cls(tuple(out))


def peer_groups(industry_codes: np.ndarray | IndustryLevels, eligible: np.ndarray,
                min_peers: int = MIN_PEERS) -> np.ndarray:
    """Group number per enterprise: the most specific of its GB/T 4754 group (3 digits), division
    (2 digits) and section (letter) that has ``min_peers`` eligible members, else the whole district."""
    levels = industry_codes if isinstance(industry_codes, IndustryLevels) else IndustryLevels.of(industry_codes)
    choice = np.zeros(len(eligible), dtype=np.int64)  # 0: the whole district
    offset = 1
    for keys, inverse, valid in levels.levels:  # a more specific level overrides when it is big enough
        counts = np.bincount(inverse, weights=eligible.astype(np.float64), minlength=len(keys))
        big = (counts >= min_peers) & valid
        choice = np.where(big[inverse], offset + inverse, choice)
        offset += len(keys)
    _, groups = np.unique(choice, return_inverse=True)
    return groups.astype(np.int64)


def metric_frame(panel: Panel, metric: str, params: DeviationParams,
                 levels: IndustryLevels | None = None) -> MetricFrame:
    """Seasonal baseline, deviation and noise level of one metric for its regular reporters."""
    x_all = panel.series[metric]
    observed = ~np.isnan(x_all)
    n, t = x_all.shape
    any_obs = observed.any(axis=1)
    first = np.where(any_obs, np.argmax(observed, axis=1), t)
    last = np.where(any_obs, t - 1 - np.argmax(observed[:, ::-1], axis=1), -1)
    span = np.maximum(last - first + 1, 1)
    count = observed.sum(axis=1)
    regular = (count >= params.min_baseline_months + 1) & (count / span >= params.min_reported_share)
    rows = np.flatnonzero(regular)
    x = x_all[rows]
    obs = observed[rows]

    # log values; a value at or below zero is floored at 1 % of the median of the positive ones
    logx = x.astype(np.float32)  # log and medians in single precision (money stays exact in ``actual``)
    with np.errstate(invalid="ignore"):
        positive = logx > 0
    non_positive = obs & ~positive
    np.log(logx, out=logx, where=positive)
    logx[non_positive] = np.nan  # missing months are NaN already
    level = robust.nanmedian_rows(logx).astype(np.float32)  # median of the positive values, in logs
    r, c = np.nonzero(non_positive)  # few cells
    logx[r, c] = level[r] + np.float32(np.log(0.01))
    deviation = logx - level[:, None]
    groups_all = peer_groups(levels if levels is not None else panel.industry_code, regular)
    groups = groups_all[rows]
    everyone = np.ones(len(rows), dtype=bool)
    peer = robust.group_column_medians(deviation, groups, everyone, MAX_PEER_SAMPLE)
    overall = robust.group_column_medians(deviation, np.zeros(len(rows), dtype=np.int64), everyone,
                                          MAX_PEER_SAMPLE * 4)[0]
    peer = np.where(np.isnan(peer), overall[None, :], peer)
    peer = np.where(np.isnan(peer), 0.0, peer).astype(np.float32)
    factor = peer[groups] if len(rows) else np.zeros((0, t), dtype=np.float32)
    adjusted = logx
    adjusted -= factor  # in place: the log values are not kept
    base = robust.trailing_median(adjusted, params.baseline_months, params.baseline_lag_months,
                                  params.min_baseline_months).astype(np.float32)
    dev = adjusted - base
    scale = noise_scale(adjusted, dev, groups, SCALE_FLOOR[metric]).astype(np.float32)
    yoy = np.full((len(rows), t), np.nan, dtype=np.float32)
    if t > 12:
        yoy[:, 12:] = adjusted[:, 12:] - adjusted[:, :-12]
    return MetricFrame(rows=rows, n_panel=n, params=params, scale=scale, first=first[rows],
                       matrices={"actual": x, "adjusted": adjusted, "base": base, "factor": factor, "dev": dev,
                                 "yoy": yoy})


def noise_scale(adjusted: np.ndarray, dev: np.ndarray, groups: np.ndarray, floor: float) -> np.ndarray:
    """Per enterprise: the noise level of its deviations from the baseline.

    1. ``s`` = 1.4826 · median |month-to-month change of the adjusted series| / √2 — a level shift
       moves one change and a one-off dip two, so the events themselves barely move it;
    2. shrunk towards the median ``s`` of its peer group, weighted by the number of changes
       (an enterprise with 30 months counts 30 against the group's :data:`SCALE_PRIOR_WEIGHT`);
    3. multiplied by the district-wide median ratio of |deviation| to ``s`` (the baseline's own
       error adds to the month's noise; the ratio is kept within 1-3), so z-scores are calibrated
       on the data itself.
    """
    own, changes = robust.robust_scale(adjusted, floor=floor, counts=True)
    changes = changes.astype(np.float64)
    ok = ~np.isnan(own)
    if not ok.any():
        return np.full(len(own), np.nan)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    group_scale = np.full(n_groups, np.nan)
    order = np.argsort(groups[ok], kind="stable")
    g_sorted = groups[ok][order]
    s_sorted = own[ok][order]
    bounds = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1], True])
    for lo, hi in itertools.pairwise(bounds):  # one iteration per industry group
        group_scale[g_sorted[lo]] = np.median(s_sorted[lo:hi])
    prior = np.where(np.isnan(group_scale[groups]), np.nanmedian(own[ok]), group_scale[groups])
    w = SCALE_PRIOR_WEIGHT
    shrunk = np.sqrt((changes * np.nan_to_num(own) ** 2 + w * prior ** 2) / (changes + w))
    shrunk[np.isnan(own)] = np.nan
    ratio = robust.MAD_TO_SD * robust.nanmedian_rows(np.abs(dev)) / shrunk
    finite = ok & np.isfinite(ratio)
    calibration = float(np.clip(np.median(ratio[finite]), 1.0, 3.0)) if finite.any() else 1.0
    return np.maximum(shrunk * calibration, floor)


def shrunk_trend(yoy: np.ndarray, scale: np.ndarray, params: DeviationParams) -> np.ndarray:
    """Per cell: the enterprise's trend (log change per year) over the baseline window.

    The raw trend is the median of the window's year-on-year changes. With noisy monthly values it
    is itself noisy (its standard error ≈ 1.25 · √2 · noise / √count), so it is shrunk towards no
    change by ``τ² / (τ² + se²)``, where ``τ²`` — how much real trends vary between enterprises —
    is estimated on the data: the variance of the raw trends minus their mean squared error
    (empirical Bayes), at least :data:`MIN_TREND_SPREAD` squared. A steady enterprise keeps most
    of its trend, a noisy one little of it. Until a year of year-on-year changes exists (the
    window's first 12 + ``min_baseline_months`` months) the trend is taken as none.
    """
    p = params
    window = max(p.baseline_months, TREND_MONTHS)
    raw = robust.trailing_median(yoy, window, p.baseline_lag_months, p.min_baseline_months)
    n, t = yoy.shape
    count = np.zeros((n, t), dtype=np.float32)
    if t > p.baseline_lag_months:
        moving = bn.move_sum((~np.isnan(yoy)).astype(np.float32), window=window, min_count=1, axis=1)
        count[:, p.baseline_lag_months:] = np.nan_to_num(moving[:, : t - p.baseline_lag_months])
    se2 = (1.2533 * np.sqrt(2.0) * scale[:, None]) ** 2 / np.maximum(count, 1.0)
    known = ~np.isnan(raw)
    tau2 = MIN_TREND_SPREAD ** 2
    if known.any():
        tau2 = max(float(np.var(raw[known]) - np.mean(se2[known])), tau2)
    out = np.where(known, raw * (tau2 / (tau2 + se2)), 0.0)
    return out.astype(np.float32)


class FrameCache:
    """Metric frames keyed by metric and baseline parameters (signals share them)."""

    def __init__(self, panel: Panel):
        self.panel = panel
        self._frames: dict[tuple, MetricFrame] = {}
        self._levels: IndustryLevels | None = None

    def get(self, metric: str, params: DeviationParams) -> MetricFrame:
        key = (metric, params.baseline_months, params.baseline_lag_months, params.min_baseline_months,
               params.min_reported_share)
        if key not in self._frames:
            if self._levels is None:
                self._levels = IndustryLevels.of(self.panel.industry_code)
            frame = metric_frame(self.panel, metric, params, self._levels)
            if metric in TREND_OF:
                frame.trend_source = self.get(TREND_OF[metric], params)
            self._frames[key] = frame
        return self._frames[key]


# ------------------------------------------------------------------------------- episodes


def _segments(flag: np.ndarray, run_id: np.ndarray, confirmed: np.ndarray):
    """Flagged cells grouped into runs: (rows, cols, segment starts, segment ends, confirmed mask of
    segments, first confirmed column per segment)."""
    r, c = np.nonzero(flag)
    if len(r) == 0:
        e = np.zeros(0, dtype=np.int64)
        return r, c, e, e, np.zeros(0, dtype=bool), e
    rid = run_id[r, c]
    new = np.r_[True, (r[1:] != r[:-1]) | (rid[1:] != rid[:-1])]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(r)]
    conf = confirmed[r, c]
    big = np.iinfo(np.int64).max
    first_conf = np.minimum.reduceat(np.where(conf, c, big), starts)
    has_conf = first_conf != big
    return r, c, starts, ends, has_conf, first_conf


def _reduce_mean(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Mean of ``values`` (one per flagged cell) over each segment, ignoring NaN."""
    if len(starts) == 0:
        return np.zeros(0)
    ok = ~np.isnan(values)
    sums = np.add.reduceat(np.where(ok, values, 0.0), starts)
    counts = np.add.reduceat(ok.astype(np.int64), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _month_ok(cond, params: DeviationParams, dev, z_at, expected_at, actual, yoy) -> np.ndarray:
    """Does a month count as evidence for one metric: deviation, z-score, absolute shortfall
    (excess) and, with ``yoy_check``, the same fall against the same month a year earlier.

    ``dev`` is a matrix or a column; the deviation test runs on every cell, the others only on the
    cells that pass it (few), through ``z_at(idx)`` and ``expected_at(idx)`` (the z-score and the
    expected value at the index tuple ``idx``); ``actual`` and ``yoy`` are arrays shaped like
    ``dev`` or callables taking ``idx``."""
    down = cond.direction == "down"
    with np.errstate(invalid="ignore"):
        ok = dev <= np.log1p(-cond.month_share) if down else dev >= np.log1p(cond.month_share)
        if not (cond.month_z or cond.min_abs or (params.yoy_check and down)):
            return ok
        idx = np.nonzero(ok)
        keep = np.ones(len(idx[0]), dtype=bool)
        if cond.month_z:
            z = z_at(idx)
            keep &= z <= -cond.month_z if down else z >= cond.month_z
        if cond.min_abs:
            a = actual(idx) if callable(actual) else actual[idx]
            gap = expected_at(idx) - a if down else a - expected_at(idx)
            keep &= gap >= cond.min_abs
        if params.yoy_check and down:
            y = yoy(idx) if callable(yoy) else yoy[idx]
            keep &= np.isnan(y) | (y <= np.log1p(-cond.month_share))
    ok[idx] = keep
    return ok


def _month_flags(frames: list[MetricFrame], params: DeviationParams, observed: np.ndarray) -> np.ndarray:
    """Months that may *start* a run: every metric deviates enough from its moving baseline."""
    flag = observed.copy()
    for cond, f in zip(params.metrics, frames):
        if params.min_history_months:
            flag &= f.established(params.min_history_months)
        dev = f.trended_dev() if params.trend_adjust else f.dev

        def z_at(idx, f=f, dev=dev):
            return dev[idx] / f.scale[idx[0]]

        def expected_at(idx, f=f, dev=dev):
            return np.exp(f.at("base", idx).astype(np.float64) + f.at("factor", idx) + (f.at("dev", idx) - dev[idx]))

        flag &= _month_ok(cond, params, dev, z_at, expected_at, lambda idx, f=f: f.at("actual", idx),
                          lambda idx, f=f: f.at("yoy", idx))
    return flag


@dataclass
class _Runs:
    flag: np.ndarray  # month belongs to a run
    run_id: np.ndarray  # per row, 1-based; 0 outside runs
    within: np.ndarray  # flagged months of the run up to and including this one
    start: np.ndarray  # month index where the cell's run started; -1 outside runs


def _scan_runs(frames: list[MetricFrame], params: DeviationParams, observed: np.ndarray,
               entry: np.ndarray) -> _Runs:
    """Runs of evidence months, found month by month (vectorised over enterprises); ``entry``
    marks the months that may start a run (:func:`_month_flags`).

    A run starts where a month deviates from the moving baseline; its later months are judged
    against the baseline *frozen at the run's first month* (trend-adjusted when asked), so a
    persistent fall keeps the run going however long it lasts. An observed month that fails ends
    the run, missing months are skipped, and more than ``max_gap_months`` of them end it too.
    """
    n, t = observed.shape
    centre = params.baseline_lag_months + (params.baseline_months - 1) / 2.0
    flag = np.zeros((n, t), dtype=bool)
    run_id = np.zeros((n, t), dtype=np.int64)
    within = np.zeros((n, t), dtype=np.int64)
    start_of = np.full((n, t), -1, dtype=np.int64)
    in_run = np.zeros(n, dtype=bool)
    start = np.zeros(n, dtype=np.int64)
    gap = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    runs = np.zeros(n, dtype=np.int64)
    base0 = [np.zeros(n) for _ in frames]
    trend0 = [np.zeros(n) for _ in frames]
    for c in range(t):  # a loop over months, vectorised over enterprises
        obs = observed[:, c]
        cont = in_run & obs
        if cont.any():
            for k, (cond, f) in enumerate(zip(params.metrics, frames)):
                base = base0[k] + trend0[k] * (c - start + centre) / 12.0
                dev = f.adjusted[:, c] - base
                cont &= _month_ok(cond, params, dev, lambda idx, dev=dev, f=f: dev[idx] / f.scale[idx],
                                  lambda idx, base=base, f=f, c=c: np.exp(base[idx] + f.factor[:, c][idx]),
                                  f.actual[:, c], f.yoy[:, c])
        gap = np.where(in_run & ~obs, gap + 1, 0)
        in_run &= (obs & cont) | (~obs & (gap <= params.max_gap_months))
        starting = ~in_run & entry[:, c]
        if starting.any():
            start = np.where(starting, c, start)
            runs += starting
            count = np.where(starting, 0, count)
            for k, f in enumerate(frames):
                base0[k] = np.where(starting, f.base[:, c], base0[k])
                trend = f.trend[:, c] if params.trend_adjust else 0.0
                trend0[k] = np.where(starting, trend, trend0[k])
            in_run |= starting
        here = (cont | starting) & obs
        count += here
        flag[:, c] = here
        run_id[:, c] = np.where(here, runs, 0)
        within[:, c] = np.where(here, count, 0)
        start_of[:, c] = np.where(here, start, -1)
    return _Runs(flag, run_id, within, start_of)


class _Frozen:
    """Values of one metric at given cells, judged against the baseline of each cell's run start.

    Inside a run every month is compared with the baseline of the run's first month, so the
    drop's own months never leak into the level it is compared with, however long it lasts. With
    ``trend_adjust`` the enterprise's trend over that baseline window (:func:`shrunk_trend`) is
    carried forward, so a decline already under way is not a new fall and growth raises the bar.
    """

    def __init__(self, frame: MetricFrame, params: DeviationParams, rows: np.ndarray, start: np.ndarray):
        self.f, self.rows, self.start = frame, rows, start
        self.base0 = frame.base[rows, start]
        self.trend0 = frame.trend[rows, start].astype(np.float64) if params.trend_adjust else np.zeros(len(rows))
        self.centre = params.baseline_lag_months + (params.baseline_months - 1) / 2.0
        self.scale = frame.scale[rows]

    def base_at(self, cols: np.ndarray) -> np.ndarray:
        return self.base0 + self.trend0 * (cols - self.start + self.centre) / 12.0

    def dev(self, cols: np.ndarray) -> np.ndarray:
        valid = cols >= 0
        c = np.maximum(cols, 0)
        out = self.f.adjusted[self.rows, c] - self.base_at(c)
        return np.where(valid, out, np.nan)

    def expected(self, cols: np.ndarray) -> np.ndarray:
        c = np.maximum(cols, 0)
        return np.where(cols >= 0, np.exp(self.base_at(c) + self.f.factor[self.rows, c]), np.nan)

    def z(self, dev: np.ndarray) -> np.ndarray:
        return np.clip(dev / self.scale, -Z_CAP, Z_CAP)


def _before_level(frame: MetricFrame, rows: np.ndarray, start: np.ndarray, months: int) -> np.ndarray:
    """Mean deviation (moving baseline) over the ``months`` months before each run start."""
    total = np.zeros(len(rows))
    count = np.zeros(len(rows))
    for k in range(1, months + 1):  # a few offsets, vectorised over the cells
        col = start - k
        v = np.where(col >= 0, frame.dev[rows, np.maximum(col, 0)], np.nan)
        ok = ~np.isnan(v)
        total += np.where(ok, v, 0.0)
        count += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _confirm(panel: Panel, params: DeviationParams, cache: FrameCache, frames: list[MetricFrame],
             observed: np.ndarray, flag: np.ndarray, within: np.ndarray, run_start: np.ndarray,
             prev: np.ndarray, panel_rows: np.ndarray) -> np.ndarray:
    """Sequential test at the candidate cells (flagged, with at least ``min_months`` of evidence):
    the evidence of the last k months, k = min_months … max_evidence_months, must be strong enough
    for some k — noisy enterprises need more months than steady ones."""
    n, t = flag.shape
    kmin = params.min_months
    kmax = max(kmin, params.max_evidence_months)
    # a run must prove itself within its first max_evidence_months months: a long, weak slide that
    # only adds up over many months is not a sudden change
    rows, cols = np.nonzero(flag & (within >= kmin) & (within <= kmax))
    confirmed = np.zeros((n, t), dtype=bool)
    if len(rows) == 0:
        return confirmed
    start = run_start[rows, cols]
    have = within[rows, cols]
    # positions of the last kmax evidence months of each candidate: itself, previous observed, …
    pos = np.empty((kmax, len(rows)), dtype=np.int64)
    pos[0] = cols
    for j in range(1, kmax):
        pos[j] = np.where(pos[j - 1] >= 0, prev[rows, np.maximum(pos[j - 1], 0)], -1)
    months_of_year = panel.months.astype(np.int64) % 12 + 1
    sums = []
    for cond, f in zip(params.metrics, frames):
        fr = _Frozen(f, params, rows, start)
        sign = -1.0 if cond.direction == "down" else 1.0
        dev = np.stack([fr.dev(pos[j]) for j in range(kmax)])
        z = fr.z(dev)
        gap = sign * (np.stack([f.actual[rows, np.maximum(pos[j], 0)] for j in range(kmax)])
                      - np.stack([fr.expected(pos[j]) for j in range(kmax)]))
        yoy = np.stack([np.where(pos[j] >= 0, f.yoy[rows, np.maximum(pos[j], 0)], np.nan) for j in range(kmax)])
        before = _before_level(f, rows, start, params.step_months) if cond.step_share else None
        sums.append((cond, sign, np.cumsum(dev, axis=0), np.cumsum(z, axis=0), np.cumsum(gap, axis=0),
                     np.cumsum(yoy, axis=0), before))
    corr = params.corroborate
    if corr is not None:
        cf = cache.get(corr.metric, params).aligned(panel_rows)
        cfr = _Frozen(cf, params, rows, start)
        csign = -1.0 if corr.direction == "down" else 1.0
        cdev = np.stack([np.where(pos[j] >= 0, np.where(cf.usable[rows, np.maximum(pos[j], 0)],
                                                         cfr.dev(pos[j]), np.nan), np.nan) for j in range(kmax)])
        c_dev_sum = np.cumsum(csign * cdev, axis=0)
        c_z_sum = np.cumsum(csign * cfr.z(cdev), axis=0)
    festive = None
    if params.festival_months and params.festival_extra_months:
        festive = np.cumsum(np.stack([np.isin(months_of_year[np.maximum(pos[j], 0)], params.festival_months)
                                      for j in range(kmax)]), axis=0)
    ok_any = np.zeros(len(rows), dtype=bool)
    for k in range(kmin, kmax + 1):
        ok = have >= k
        for j, (cond, sign, dev_sum, z_sum, gap_sum, yoy_sum, before) in enumerate(sums):
            mean_dev = dev_sum[k - 1] / k
            evidence = sign * z_sum[k - 1] / np.sqrt(k)
            strong = evidence >= cond.min_evidence
            if j == 0 and corr is not None:
                c_mean = c_dev_sum[k - 1] / k
                c_evidence = c_z_sum[k - 1] / np.sqrt(k)
                reported = ~np.isnan(c_mean)
                combined = (evidence + np.nan_to_num(c_evidence)) / np.sqrt(2.0)
                corroborated = (combined >= corr.combined_evidence) & (np.nan_to_num(c_mean) >= -np.log1p(-corr.min_share))
                strong = np.where(reported, corroborated, strong)
            limit = np.log1p(-cond.mean_share) if sign < 0 else np.log1p(cond.mean_share)
            with np.errstate(invalid="ignore"):
                good = strong & (sign * mean_dev >= sign * limit) & (gap_sum[k - 1] / k >= cond.min_abs)
                if cond.yoy_share:
                    yoy_mean = yoy_sum[k - 1] / k
                    ylimit = np.log1p(-cond.yoy_share) if sign < 0 else np.log1p(cond.yoy_share)
                    good &= np.isnan(yoy_mean) | (sign * yoy_mean >= sign * ylimit)
                if before is not None:
                    slimit = np.log1p(-cond.step_share) if sign < 0 else np.log1p(cond.step_share)
                    good &= np.isnan(before) | (sign * (mean_dev - before) >= sign * slimit)
            ok &= np.where(np.isnan(mean_dev), False, good)
        if festive is not None:
            ok &= (festive[k - 1] < k) | (have >= k + params.festival_extra_months)
        ok_any |= ok
    confirmed[rows[ok_any], cols[ok_any]] = True
    return confirmed


def detect_deviation(panel: Panel, params: DeviationParams, cache: FrameCache, reason: str) -> Episodes:
    """Sustained deviation of one or more metrics from their seasonal baselines (all must hold)."""
    full = [cache.get(c.metric, params) for c in params.metrics]
    panel_rows = full[0].rows
    if len(full) > 1:
        both = full[0].regular_mask()
        for f in full[1:]:
            both &= f.regular_mask()
        panel_rows = np.flatnonzero(both)
    for cond, f in zip(params.metrics, full):
        if cond.direction == "up" and cond.min_abs > 0:
            # a rise of min_abs above a positive expected value needs a month above min_abs at least
            possible = np.zeros(f.n_panel, dtype=bool)
            possible[f.rows] = f.peak() > cond.min_abs
            panel_rows = panel_rows[possible[panel_rows]]
    frames = [f.aligned(panel_rows) for f in full]  # the enterprises reporting every metric regularly
    t = panel.t
    observed = frames[0].usable
    for f in frames[1:]:
        observed &= f.usable
    entry = _month_flags(frames, params, observed)
    # from here on only the enterprises that ever start a run (a few per cent) are looked at
    candidates = np.flatnonzero(entry.any(axis=1))
    if len(candidates) == 0:
        return empty_episodes()
    panel_rows = panel_rows[candidates]
    frames = [f.aligned(panel_rows) for f in frames]
    observed, entry = observed[candidates], entry[candidates]
    runs = _scan_runs(frames, params, observed, entry)
    flag, run_id, within, run_start = runs.flag, runs.run_id, runs.within, runs.start
    prev = robust.previous_observed(observed)
    confirmed = _confirm(panel, params, cache, frames, observed, flag, within, run_start, prev, panel_rows)

    r, c, starts, ends, has_conf, first_conf = _segments(flag, run_id, confirmed)
    if len(starts) == 0 or not has_conf.any():
        return empty_episodes()
    keep_seg = np.flatnonzero(has_conf)
    # flagged cells of the confirmed segments only
    seg_of_cell = np.repeat(np.arange(len(starts)), ends - starts)
    keep_cell = has_conf[seg_of_cell]
    r, c, seg_of_cell = r[keep_cell], c[keep_cell], seg_of_cell[keep_cell]
    new_starts = np.flatnonzero(np.r_[True, seg_of_cell[1:] != seg_of_cell[:-1]])
    new_ends = np.r_[new_starts[1:], len(r)]
    first_conf = first_conf[keep_seg]
    start_cell = run_start[r, c]
    primary, cond0 = frames[0], params.metrics[0]
    fr = _Frozen(primary, params, r, start_cell)
    dev = fr.dev(c)
    expected = fr.expected(c)
    actual = primary.actual[r, c]
    sign = -1.0 if cond0.direction == "down" else 1.0
    value = _reduce_mean(actual, new_starts)
    baseline = _reduce_mean(expected, new_starts)
    mean_dev = _reduce_mean(dev, new_starts)
    score = _reduce_mean(np.clip(dev / fr.scale, -Z_CAP, Z_CAP), new_starts)
    lost = _reduce_mean((expected - actual) if sign < 0 else (actual - expected), new_starts)
    local = r[new_starts]
    rows = panel_rows[local]
    start_col = c[new_starts]
    end_col = c[new_ends - 1]
    months = (new_ends - new_starts).astype(np.int64)
    # still holding at the as-of month: no observed month after the run's end, within the gap allowance
    later_obs = np.cumsum(observed[:, ::-1], axis=1)[:, ::-1]  # observed months from t to the end
    after = np.where(end_col + 1 < t, later_obs[local, np.minimum(end_col + 1, t - 1)], 0)
    active = (after == 0) & (t - 1 - end_col <= params.max_gap_months)
    unit = MONEY_SCALE.get(cond0.metric, 1.0)
    # evidence series: actual values over the window, expected values (frozen inside the episode)
    series_b = primary.expected[local]
    episode_of_cell = np.cumsum(np.r_[True, seg_of_cell[1:] != seg_of_cell[:-1]]) - 1
    series_b[episode_of_cell, c] = expected
    extra: list[str | None] = [None] * len(rows)
    if len(frames) > 1:
        columns: dict[str, np.ndarray] = {}
        for cond, f in list(zip(params.metrics, frames))[1:]:
            ofr = _Frozen(f, params, r, start_cell)
            u = MONEY_SCALE.get(cond.metric, 1.0)
            columns[f"{cond.metric}_change"] = np.expm1(_reduce_mean(ofr.dev(c), new_starts))
            columns[f"{cond.metric}_value"] = _reduce_mean(f.actual[r, c], new_starts) * u
            columns[f"{cond.metric}_baseline"] = _reduce_mean(ofr.expected(c), new_starts) * u
        extra = _json_objects(columns)
    return Episodes(
        row=rows, start=start_col, end=end_col, detected=first_conf, active=active, months=months,
        value=value * unit, baseline=baseline * unit, change=np.expm1(mean_dev), score=score, lost=lost * unit,
        ratio=np.full(len(rows), np.nan), reasons=np.full(len(rows), reason, dtype=object), detail=extra,
        series_metric=np.full(len(rows), cond0.metric, dtype=object),
        series_values=primary.actual[local] * unit, series_baseline=series_b * unit,
    )


def _json_objects(columns: dict[str, np.ndarray]) -> list[str]:
    """One JSON object per row of the columns (numbers rounded to 4 decimals, null when not
    finite), formatted column by column rather than row by row."""
    parts = []
    for k, (name, col) in enumerate(columns.items()):
        col = np.asarray(col, dtype=np.float64)
        finite = np.isfinite(col)
        text = np.char.mod("%.15g", np.round(np.where(finite, col, 0.0), 4))
        text = np.where(finite, text, "null")
        parts.append(np.char.add(("{" if k == 0 else ", ") + json.dumps(name) + ": ", text))
    if not parts:
        return []
    out = parts[0]
    for part in parts[1:]:
        out = np.char.add(out, part)
    return [str(v) + "}" for v in out]


def merge_overlapping(eps: Episodes) -> Episodes:
    """Merge episodes of the same enterprise whose months overlap or touch: the merged episode
    spans both, keeps the earliest detection and the evidence of the first, and lists every
    reason code."""
    if len(eps) < 2:
        return eps
    order = np.lexsort((eps.start, eps.row))
    e = eps.take(order)
    big = np.int64(10_000_000)
    running_end = np.maximum.accumulate(e.row * big + e.end) - e.row * big
    new = np.r_[True, (e.row[1:] != e.row[:-1]) | (e.start[1:] > running_end[:-1] + 1)]
    first = np.flatnonzero(new)
    merged = e.take(first)
    merged.end = np.maximum.reduceat(e.end, first)
    merged.detected = np.minimum.reduceat(e.detected, first)
    merged.active = np.logical_or.reduceat(e.active, first)
    # every reason code of a group, as a bit mask over the distinct codes (few), OR-ed per group
    texts, of_episode = np.unique(e.reasons.astype(str), return_inverse=True)
    codes = sorted({code for text in texts for code in text.split(",")})
    bit = {code: 1 << i for i, code in enumerate(codes)}
    text_mask = np.asarray([sum(bit[c] for c in set(text.split(","))) for text in texts], dtype=np.int64)
    masks = np.bitwise_or.reduceat(text_mask[of_episode], first)
    distinct, of_group = np.unique(masks, return_inverse=True)
    labels = np.asarray([",".join(c for c in codes if m & bit[c]) for m in distinct], dtype=object)
    merged.reasons = labels[of_group]
    return merged


def detect_alternatives(panel: Panel, params, cache: FrameCache, reasons: list[str]) -> Episodes:
    """Any of several sustained-deviation tests; the i-th reports the i-th reason code."""
    parts = [detect_deviation(panel, alt, cache, reasons[i]) for i, alt in enumerate(params.alternatives)]
    return merge_overlapping(concat(parts))


# ------------------------------------------------------------------------------- relocation


def detect_relocation(panel: Panel, params: RelocationParams, cache: FrameCache,
                      district_towns: frozenset[str], definition: SignalDefinition,
                      affiliates: AffiliateEpisodes | None = None) -> Episodes:
    """Registry shows the enterprise left (status or town outside the district), or headcount and
    electricity fall together (sustained), or a same-industry company was set up outside the
    district with shared shareholders or contacts (``affiliates``, see ``signals/affiliates.py``).
    One episode per enterprise and event: an outside company set up at most ``merge_months``
    before or after a registry or data episode of the same enterprise is the same move."""
    codes = [r.code for r in definition.reason_codes]
    data_reason = next((c for c in codes if c.startswith("headcount")), codes[-1])
    data = detect_deviation(panel, params.data, cache, data_reason)
    as_of_col = panel.t - 1
    as_of_end = (panel.as_of + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    changed = panel.status_changed_on
    known_change = ~np.isnat(changed)
    not_future = ~known_change | (changed <= as_of_end)
    moved = np.isin(panel.status.astype(str), params.moved_out_statuses) & not_future
    town = panel.town_code.astype(str)
    outside = (town != "") & ~np.isin(town, sorted(district_towns)) & not_future
    registry = moved | outside
    # the month the registry change happened: its date, else the month after the last monthly report
    any_obs = np.zeros((panel.n, panel.t), dtype=bool)
    for x in panel.series.values():
        any_obs |= ~np.isnan(x)
    last_obs = np.where(any_obs.any(axis=1), panel.t - 1 - np.argmax(any_obs[:, ::-1], axis=1), -1)
    change_col = np.where(known_change, (changed.astype("datetime64[M]") - panel.months[0]).astype(np.int64), -1)
    fallback = np.where((last_obs >= 0) & (last_obs < as_of_col), last_obs + 1, as_of_col)
    reg_col = np.where(known_change, change_col, fallback)
    reg_col = np.clip(reg_col, 0, as_of_col)
    reg_rows = np.flatnonzero(registry)

    # merge a data episode into the registry episode of the same enterprise when it ends at most
    # six months before the registry change
    merged = np.zeros(len(data), dtype=bool)
    reg_index = np.full(panel.n, -1, dtype=np.int64)
    reg_index[reg_rows] = np.arange(len(reg_rows))
    j = reg_index[data.row] if len(data) else np.zeros(0, dtype=np.int64)
    near = (j >= 0) & (data.end >= reg_col[data.row] - 6) & (data.start <= reg_col[data.row] + 1) if len(data) else j >= 0
    merged[near] = True

    n_reg = len(reg_rows)
    start = reg_col[reg_rows].copy()
    detected = reg_col[reg_rows].copy()
    value = np.full(n_reg, np.nan)
    baseline = np.full(n_reg, np.nan)
    change = np.full(n_reg, np.nan)
    score = np.full(n_reg, np.nan)
    lost = np.full(n_reg, np.nan)
    months = np.zeros(n_reg, dtype=np.int64)
    has_data = np.zeros(n_reg, dtype=bool)
    series_v = np.full((n_reg, panel.t), np.nan)
    series_b = np.full((n_reg, panel.t), np.nan)
    if near.any():
        di = np.flatnonzero(near)
        ri = j[di]
        start[ri] = np.minimum(start[ri], data.start[di])
        detected[ri] = np.minimum(detected[ri], data.detected[di])
        value[ri], baseline[ri], change[ri] = data.value[di], data.baseline[di], data.change[di]
        score[ri], lost[ri], months[ri] = data.score[di], data.lost[di], data.months[di]
        has_data[ri] = True
        if data.series_values is not None:
            series_v[ri], series_b[ri] = data.series_values[di], data.series_baseline[di]
    if "headcount" in panel.series and (~has_data).any():
        fill = ~has_data
        head = cache.get("headcount", params.data).aligned(reg_rows[fill])
        series_v[fill] = panel.series["headcount"][reg_rows[fill]]
        series_b[fill] = head.expected
    reasons = []
    details = []
    for k, row in enumerate(reg_rows):  # one iteration per enterprise that left, not per enterprise
        parts = []
        if moved[row]:
            parts.append("registry_moved_out")
        if outside[row]:
            parts.append("registry_town_outside")
        if has_data[k]:
            parts.append(data_reason)
        reasons.append(",".join(parts))
        details.append(json.dumps({
            "status": str(panel.status[row]), "town_code": str(panel.town_code[row]),
            "status_changed_on": None if np.isnat(changed[row]) else str(changed[row]),
        }, ensure_ascii=False))
    registry_eps = Episodes(
        row=reg_rows, start=start, end=np.full(n_reg, as_of_col, dtype=np.int64), detected=detected,
        active=np.ones(n_reg, dtype=bool), months=months, value=value, baseline=baseline, change=change,
        score=score, lost=lost, ratio=np.full(n_reg, np.nan), reasons=np.asarray(reasons, dtype=object),
        detail=details, series_metric=np.full(n_reg, "headcount", dtype=object), series_values=series_v, series_baseline=series_b,
    )
    rest = data.take(~merged)
    base = concat([registry_eps, rest])
    if affiliates is None or len(affiliates) == 0 or params.affiliates is None:
        return base
    return _merge_affiliates(panel, base, affiliates, params, cache)


def _merge_affiliates(panel: Panel, base: Episodes, aff: AffiliateEpisodes, params: RelocationParams,
                      cache: FrameCache) -> Episodes:
    """Add the outside-affiliate evidence to the enterprise's relocation episode of the same move, or
    make it an episode of its own (the firm still operates here: the earliest warning)."""
    window = params.affiliates.merge_months
    by_row: dict[int, list[int]] = {}
    for i, r in enumerate(base.row.tolist()):
        by_row.setdefault(r, []).append(i)
    base = base.take(np.arange(len(base)))  # a copy: its arrays are updated below
    if not base.detail:
        base.detail = [None] * len(base)
    alone = []
    for k in range(len(aff)):  # one iteration per enterprise with an outside affiliate
        r, a = int(aff.row[k]), int(aff.start[k])
        same = [i for i in by_row.get(r, []) if abs(int(base.start[i]) - a) <= window]
        if not same:
            alone.append(k)
            continue
        for i in same:
            base.start[i] = min(int(base.start[i]), a)
            base.detected[i] = min(int(base.detected[i]), a)
            codes = [c for c in str(base.reasons[i]).split(",") if c]
            base.reasons[i] = ",".join(codes + [c for c in str(aff.reasons[k]).split(",") if c not in codes])
            base.detail[i] = affiliate_json(json.loads(base.detail[i]) if base.detail[i] else None, aff.detail[k])
    if not alone:
        return base
    idx = np.asarray(alone, dtype=np.int64)
    rows = aff.row[idx]
    n = len(idx)
    nan = np.full(n, np.nan)
    series_v = series_b = None
    if "headcount" in panel.series:
        series_v = panel.series["headcount"][rows]
        series_b = cache.get("headcount", params.data).aligned(rows).expected
    own = Episodes(
        row=rows, start=aff.start[idx], end=aff.end[idx], detected=aff.start[idx],
        active=aff.end[idx] == panel.t - 1, months=aff.end[idx] - aff.start[idx] + 1,
        value=nan, baseline=nan.copy(), change=nan.copy(), score=nan.copy(), lost=nan.copy(), ratio=nan.copy(),
        reasons=aff.reasons[idx], detail=[affiliate_json(None, aff.detail[k]) for k in alone],
        series_metric=np.full(n, "headcount" if series_v is not None else None, dtype=object),
        series_values=series_v, series_baseline=series_b,
    )
    return concat([base, own])


def concat(parts: list[Episodes]) -> Episodes:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_episodes()
    if len(parts) == 1:
        return parts[0]
    width = max((p.series_values.shape[1] for p in parts if p.series_values is not None), default=0)

    def series(p: Episodes, attr: str) -> np.ndarray:
        arr = getattr(p, attr)
        return arr if arr is not None else np.full((len(p), width), np.nan)

    return Episodes(
        row=np.concatenate([p.row for p in parts]), start=np.concatenate([p.start for p in parts]),
        end=np.concatenate([p.end for p in parts]), detected=np.concatenate([p.detected for p in parts]),
        active=np.concatenate([p.active for p in parts]), months=np.concatenate([p.months for p in parts]),
        value=np.concatenate([p.value for p in parts]), baseline=np.concatenate([p.baseline for p in parts]),
        change=np.concatenate([p.change for p in parts]), score=np.concatenate([p.score for p in parts]),
        lost=np.concatenate([p.lost for p in parts]), ratio=np.concatenate([p.ratio for p in parts]),
        reasons=np.concatenate([p.reasons for p in parts]),
        detail=[d for p in parts for d in (p.detail or [None] * len(p))],
        series_metric=np.concatenate([p.series_metric if p.series_metric is not None
                                      else np.full(len(p), None, dtype=object) for p in parts]),
        series_values=np.concatenate([series(p, "series_values") for p in parts]) if width else None,
        series_baseline=np.concatenate([series(p, "series_baseline") for p in parts]) if width else None,
    )


# ------------------------------------------------------------------------------- listings


def _json_value(value):
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def detect_listing(panel: Panel, params: ListingParams, events, reason: str) -> Episodes:
    """Each dated event of the window (a listing, certificate or financing round) is an episode in
    its month; it is *active* when dated within the last ``recent_months`` months and not removed."""
    if events.num_rows == 0 or panel.n == 0:
        return empty_episodes()
    uscc = np.asarray(events.column("uscc").to_pylist(), dtype=str)
    known = panel.uscc.astype(str)
    pos = np.clip(np.searchsorted(known, uscc), 0, panel.n - 1)
    found = known[pos] == uscc
    dates = events.column(params.date_field).to_numpy(zero_copy_only=False).astype("datetime64[D]")
    col = (dates.astype("datetime64[M]") - panel.months[0]).astype(np.int64)
    inside = found & (col >= 0) & (col < panel.t)
    if params.first_of:
        # rows come ordered by USCC and date: keep each (enterprise, value)'s earliest row only
        value = np.asarray(events.column(params.first_of).fill_null("").to_pylist(), dtype=object).astype(str)
        key = np.char.add(np.char.add(uscc, "|"), value)
        order = np.lexsort((dates, key))
        first_rows = order[np.r_[True, key[order][1:] != key[order][:-1]]]
        is_first = np.zeros(len(uscc), dtype=bool)
        is_first[first_rows] = True
        inside &= is_first
    as_of_end = (panel.as_of + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    recent = col >= panel.t - params.recent_months
    if params.removed_field:
        removed = events.column(params.removed_field).to_numpy(zero_copy_only=False).astype("datetime64[D]")
        still = np.isnat(removed) | (removed > as_of_end)
    else:
        still = np.ones(len(uscc), dtype=bool)
    idx = np.flatnonzero(inside)
    columns = {f: events.column(f).to_pylist() for f in params.detail_fields}
    details = [json.dumps({f: _json_value(columns[f][i]) for f in params.detail_fields}, ensure_ascii=False)
               for i in idx]  # one per event row
    n = len(idx)
    nan = np.full(n, np.nan)
    value = nan.copy()
    if "amount_fen" in columns:
        value = np.asarray([np.nan if columns["amount_fen"][i] is None else columns["amount_fen"][i] / 100
                            for i in idx], dtype=np.float64)
    return Episodes(
        row=pos[idx], start=col[idx], end=col[idx], detected=col[idx], active=(recent & still)[idx],
        months=np.ones(n, dtype=np.int64), value=value, baseline=nan.copy(), change=nan.copy(),
        score=nan.copy(), lost=nan.copy(), ratio=nan.copy(), reasons=np.full(n, reason, dtype=object),
        detail=details,
    )


# ------------------------------------------------------------------------------- thresholds


def industry_thresholds_fen(industry_codes: np.ndarray) -> np.ndarray:
    """Annual revenue threshold of each enterprise's industry in fen (NaN: no revenue threshold).

    ``scope_threshold`` is called once per *distinct* industry code; unknown or ambiguous codes
    have no threshold.
    """
    codes, inverse = np.unique(np.asarray([str(c) for c in industry_codes], dtype=object).astype(str),
                               return_inverse=True)
    values = np.full(len(codes), np.nan)
    by_class = load_scope_table().rule_of_class  # GB/T 4754 class -> its rule (or None)
    for k, code in enumerate(codes):  # one iteration per distinct industry class
        if not code:
            continue
        if code in by_class:
            rule = by_class[code]
            threshold = rule.threshold if rule is not None else None
        else:
            try:
                threshold = scope_threshold(code)
            except DomainError:  # unknown or ambiguous industry code: no threshold to compare with
                continue
        if threshold is not None:
            values[k] = float(threshold) * FEN_PER_WAN
    return values[inverse]


@dataclass
class TrailingRevenue:
    """Annualised trailing-12-month revenue (fen) of the enterprises that could come near their
    threshold: ``annual[k]`` belongs to panel row ``rows[k]``; every other enterprise has none."""

    annual: np.ndarray  # (len(rows) × months), NaN: too little data
    threshold: np.ndarray  # per panel enterprise, fen (NaN: no threshold)
    rows: np.ndarray  # sorted panel rows

    def annual_at(self, panel_rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Trailing revenue of panel rows at month columns (element-wise; NaN where none)."""
        if len(self.rows) == 0:
            return np.full(len(panel_rows), np.nan)
        pos = np.clip(np.searchsorted(self.rows, panel_rows), 0, len(self.rows) - 1)
        return np.where(self.rows[pos] == panel_rows, self.annual[pos, cols], np.nan)


def trailing_revenue(panel: Panel, min_coverage: float, min_share: float = NEAR_THRESHOLD_SHARE) -> TrailingRevenue:
    """Trailing 12 months of revenue, annualised over the months reported.

    Quarterly filers (all their reports in March, June, September, December) are expected to report
    4 times a year, monthly filers 12 times; a window reporting less than ``min_coverage`` of that
    gets NaN. Only enterprises whose best month × 12 reaches ``min_share`` of their threshold (the
    smallest ratio any threshold definition asks for) are computed: no trailing total can exceed it.
    """
    threshold = industry_thresholds_fen(panel.industry_code)
    x_all = panel.series["revenue"]
    n_all, t = x_all.shape
    # only enterprises that could come near their threshold: 12 × their best reported month bounds
    # any trailing-12-month total from above (monthly or quarterly filer alike)
    with np.errstate(invalid="ignore"):
        best = bn.nanmax(x_all, axis=1) if t else np.full(n_all, np.nan)
        keep = np.flatnonzero(~np.isnan(threshold) & (12 * best >= min_share * threshold))
    x = x_all[keep]
    obs = ~np.isnan(x)
    n = len(keep)
    quarter_end = (panel.months.astype(np.int64) % 12 + 1) % 3 == 0
    n_obs = obs.sum(axis=1)
    on_quarter = (obs & quarter_end[None, :]).sum(axis=1)
    quarterly = (n_obs >= 2) & (on_quarter >= 0.95 * n_obs)
    expected = np.where(quarterly, 4, 12)
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(np.where(obs, x, 0.0), axis=1)], axis=1)
    ccount = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(obs, axis=1)], axis=1)
    annual = np.full((n, t), np.nan)
    if t >= 12:
        sums = csum[:, 12:] - csum[:, :-12]
        counts = ccount[:, 12:] - ccount[:, :-12]
        coverage = counts / expected[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            ann = sums * expected[:, None] / np.maximum(counts, 1)
        annual[:, 11:] = np.where(coverage >= min_coverage, ann, np.nan)
    return TrailingRevenue(annual, threshold, keep)


def detect_threshold(panel: Panel, params: ThresholdParams, trailing: TrailingRevenue,
                     inclusion: np.ndarray, reason: str) -> Episodes:
    """Trailing revenue near (``approaching``) or above (``above_unlisted``) the statistical threshold
    of the enterprise's industry while the enterprise is not yet in the survey list."""
    # only the enterprises that could come near their threshold are examined
    sel = trailing.rows
    annual, thr, inclusion = trailing.annual, trailing.threshold[sel], inclusion[sel]
    n, t = annual.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = annual / thr[:, None]
    listed = ~np.isnat(inclusion)[:, None] & (inclusion[:, None] <= panel.months[None, :])
    evaluable = ~np.isnan(ratio) & ~listed
    growth = np.full((n, t), np.nan)
    lag = params.growth_lag_months
    if t > lag:
        with np.errstate(invalid="ignore", divide="ignore"):
            growth[:, lag:] = annual[:, lag:] / annual[:, :-lag] - 1
    if params.mode == "approaching":
        with np.errstate(invalid="ignore"):
            flag = evaluable & (ratio >= params.min_ratio) & (ratio < 1.0) & (growth >= params.min_growth)
            if params.horizon_months:
                # at the pace of the last growth_lag_months, the threshold is reached within the horizon
                projected = ratio * (1 + growth) ** (params.horizon_months / lag)
                flag &= projected >= 1.0
        gap = 2  # a month or two of flicker around the edges does not split an episode
    else:
        flag = evaluable & (ratio >= params.min_ratio)
        gap = 1
    flag = np.where(np.isnan(ratio), False, flag)
    hit = np.flatnonzero(flag.any(axis=1))  # runs are labelled only where something holds
    sub = flag[hit]
    run_id, _within, _start = robust.label_runs(sub, sub, gap)
    r, c, starts, ends, _has_conf, first_conf = _segments(sub, run_id, sub)
    if len(starts) == 0:
        return empty_episodes()
    r = hit[r]
    local = r[starts]
    rows = sel[local]
    end_col = c[ends - 1]
    value = annual[local, end_col]
    baseline = thr[local]
    ep_growth = growth[local, end_col]
    return Episodes(
        row=rows, start=c[starts], end=end_col, detected=first_conf, active=end_col == t - 1,
        months=(ends - starts).astype(np.int64), value=value / 100, baseline=baseline / 100,
        change=ep_growth, score=np.full(len(rows), np.nan), lost=np.full(len(rows), np.nan),
        ratio=value / baseline, reasons=np.full(len(rows), reason, dtype=object), detail=[],
        series_metric=np.full(len(rows), "revenue_ttm", dtype=object), series_values=annual[local] / 100,
        series_baseline=np.broadcast_to(baseline[:, None] / 100, (len(rows), t)).copy(),
    )
