"""Vectorised robust statistics over (enterprises × months) matrices.

Every function works on whole matrices at once — numpy and bottleneck (C implementations of
moving and NaN-aware medians) over arrays, never a Python loop over enterprises. Missing months are ``NaN`` and are skipped, never treated as zero. Loops that do
occur run over a handful of *patterns* (the number of missing months in a window, the groups of
an industry hierarchy, the months of the window), never over rows.
"""

from __future__ import annotations

import bottleneck as bn
import numpy as np

#: 1 / Φ⁻¹(3/4): turns a median absolute deviation into a standard deviation for normal data.
MAD_TO_SD = 1.4826


def nanmedian_rows(matrix: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for an all-NaN row)."""
    if matrix.shape[1] == 0:
        return np.full(matrix.shape[0], np.nan)
    return np.asarray(bn.nanmedian(matrix, axis=1), dtype=np.float64)


def trailing_median(values: np.ndarray, window: int, lag: int, min_count: int,
                    rows: np.ndarray | None = None) -> np.ndarray:
    """For each month t, the median of the row's values in months ``[t-lag-window+1, t-lag]``.

    Months with fewer than ``min_count`` observed values in that window get NaN. The window ends
    ``lag`` months before t, so the months being judged never contaminate their own baseline.
    Only ``rows`` (a boolean mask; default all) are computed, the others stay NaN.
    """
    n, t = values.shape
    out = np.full((n, t), np.nan, dtype=np.float32 if values.dtype == np.float32 else np.float64)
    if t <= lag:
        return out
    sel = np.flatnonzero(rows) if rows is not None else np.arange(n)
    if len(sel) == 0:
        return out
    moving = bn.move_median(values[sel], window=window, min_count=min_count, axis=1)
    out[sel, lag:] = moving[:, : t - lag]
    return out


def previous_observed(observed: np.ndarray) -> np.ndarray:
    """Index of the previous observed month (strictly before t) for every cell; -1 when none."""
    n, t = observed.shape
    idx = np.where(observed, np.arange(t)[None, :], -1)
    last = np.maximum.accumulate(idx, axis=1)
    prev = np.full((n, t), -1, dtype=np.int64)
    prev[:, 1:] = last[:, :-1]
    return prev


def robust_scale(residual: np.ndarray, floor: float, counts: bool = False):
    """Per-row noise level (log units) from month-to-month differences: 1.4826·median|Δ|/√2.

    Differences are taken between consecutive months (a pair with a missing month is skipped); a
    level shift moves one difference only and a one-off dip two, so the estimate is robust to the
    very events the signals look for. Rows with fewer than three differences get NaN; the result
    is never below ``floor``. With ``counts`` the number of changes per row is returned too.
    """
    diffs = np.abs(np.diff(residual, axis=1))
    count = np.sum(~np.isnan(diffs), axis=1)
    scale = MAD_TO_SD * nanmedian_rows(diffs) / np.sqrt(2.0)
    scale[count < 3] = np.nan
    scale = np.maximum(scale, floor)
    return (scale, count) if counts else scale


def group_column_medians(values: np.ndarray, groups: np.ndarray, eligible: np.ndarray,
                         max_members: int) -> np.ndarray:
    """Median of each month over the eligible rows of each group: (groups × months).

    ``groups`` holds a group number 0..G-1 per row. At most ``max_members`` eligible rows per group
    are used (the first ones in row order, which is sorted by USCC: a deterministic sample), which
    bounds the cost at province scale. Groups with no eligible row get NaN.
    """
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    out = np.full((n_groups, values.shape[1]), np.nan, dtype=values.dtype)
    rows = np.flatnonzero(eligible)
    if len(rows) == 0:
        return out
    order = np.argsort(groups[rows], kind="stable")
    rows = rows[order]
    g = groups[rows]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    for s, e in zip(starts, ends):  # one iteration per industry group, not per enterprise
        members = rows[s:min(e, s + max_members)]
        out[g[s]] = bn.nanmedian(values[members], axis=0)
    return out


def run_starts(flag: np.ndarray, observed: np.ndarray, prev: np.ndarray, max_gap: int) -> np.ndarray:
    """Cells where a run of flagged months starts.

    A run is a sequence of flagged observed months; an observed month that is not flagged ends it,
    missing months are skipped, but a gap longer than ``max_gap`` months also ends it.
    """
    cols = np.arange(flag.shape[1])[None, :]
    prev_flag = np.take_along_axis(flag, np.maximum(prev, 0), axis=1) & (prev >= 0)
    gap = cols - prev - 1
    continues = prev_flag & (gap <= max_gap)
    return flag & observed & ~continues


def label_runs(flag: np.ndarray, observed: np.ndarray, max_gap: int, prev: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every flagged cell: its run number (per row, 1-based; 0 elsewhere), how many flagged
    months its run holds up to and including it, and the month index where its run started."""
    if prev is None:
        prev = previous_observed(observed)
    starts = run_starts(flag, observed, prev, max_gap)
    run_id = np.cumsum(starts, axis=1)
    flagged = flag & observed
    run_id = np.where(flagged, run_id, 0)
    count = np.cumsum(flagged, axis=1)
    # count at the start of each run, carried forward to the run's later cells
    start_count = np.where(starts, count - 1, -1)
    start_count = np.maximum.accumulate(start_count, axis=1)
    within = np.where(flagged, count - start_count, 0)
    start_col = np.maximum.accumulate(np.where(starts, np.arange(flag.shape[1])[None, :], -1), axis=1)
    start_col = np.where(flagged, start_col, -1)
    return run_id, within, start_col
