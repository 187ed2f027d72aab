"""Ground truth read off the realised series: what the generated months really show.

Planted events say what was *done* to an enterprise; the noise can hide a shallow planted drop or
make a drop of its own. The truth therefore also describes the series as generated, from the
enterprise's **realised ratio** ``q = actual / expected``, where *expected* is the noise-free path
(level × sector season × growth trend × ramp-up, × the tax rate for tax) — so seasonality, the
Spring Festival and slow growth or decline are not drops, and everything else (the idiosyncratic
noise and the planted multipliers) is in ``q``.

* **Reference level** of a run starting in month ``t0``: the median of ``log q`` over the twelve
  months before ``t0`` (at least :data:`MIN_REFERENCE_MONTHS` of them while active).
* **Realised sustained drop**: at least :data:`DROP_MONTHS` consecutive active months, each at
  least :data:`DROP_SHARE` below the reference level of the first one, starting once the
  enterprise is :data:`MIN_AGE_MONTHS` old (a firm still ramping up has no level yet). Drops the noise makes are
  written to the truth as events of their own (detail ``realised …``), so a detector that finds
  them is right, and one that misses them is scored for it.
* **Evidence months** of a truth event: its months inside the window that were *delivered* (a row
  exists in the department's file) and in which the metric really stood at least
  :data:`EVIDENCE_SHARE` below the reference level of the event's first month. An event with
  fewer than two evidence months is not observable from the files.

Everything is computed on (enterprises × months) matrices; the loop runs over months only.
"""

from __future__ import annotations

from dataclasses import dataclass

import bottleneck as bn
import numpy as np

#: A month is part of a realised drop when it stands at least this far below the reference level.
DROP_SHARE = 0.30
#: Consecutive such months that make a realised sustained drop.
DROP_MONTHS = 2
#: A month of a truth event is evidence when it stands at least this far below the reference level.
EVIDENCE_SHARE = 0.40
#: The same for insured headcount (layoffs): the layoff signal's own materiality.
HEADCOUNT_EVIDENCE_SHARE = 0.15
#: A young enterprise's level is not established before this age (months since founding): it is
#: still ramping up, so drops in its first months are not read against a level.
MIN_AGE_MONTHS = 18
#: Months before a run its reference level is the median of, and the fewest it needs.
REFERENCE_MONTHS = 12
MIN_REFERENCE_MONTHS = 6


@dataclass
class Runs:
    """Realised drops of one block, column-wise (block row, first and last horizon column)."""

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    shortfall: np.ndarray  # mean share lost over the run, against its reference level
    evidence: np.ndarray | None = None  # evidence months (set by the caller)


def log_ratio(actual: np.ndarray, expected: np.ndarray, active: np.ndarray) -> np.ndarray:
    """``log(actual / expected)`` where active and both positive, else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(actual / expected)
    out[~active | ~(actual > 0) | ~(expected > 0)] = np.nan
    return out


def reference_level(lq: np.ndarray) -> np.ndarray:
    """Per cell: the median of ``lq`` over the twelve months before it (NaN with too few)."""
    n, h = lq.shape
    out = np.full((n, h), np.nan)
    if h > 1:
        moving = bn.move_median(lq, window=REFERENCE_MONTHS, min_count=MIN_REFERENCE_MONTHS, axis=1)
        out[:, 1:] = moving[:, :-1]
    return out


def drop_runs(lq: np.ndarray, first_col: int, excluded: np.ndarray | None = None,
              established: np.ndarray | None = None) -> Runs:
    """Realised sustained drops starting at or after horizon column ``first_col``.

    A run starts in a month at least :data:`DROP_SHARE` below its reference level and goes on
    while every following month stays that far below the *same* level (frozen at the run's first
    month); an inactive month ends it. ``excluded`` (a row mask) marks enterprises whose drops of
    this metric are already planted truth events; ``established`` (per row, a horizon column) is
    the first month a run may start in (founding + :data:`MIN_AGE_MONTHS`).
    """
    n, h = lq.shape
    ref = reference_level(lq)
    limit = np.log1p(-DROP_SHARE)
    in_run = np.zeros(n, dtype=bool)
    base = np.zeros(n)
    start = np.zeros(n, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    total = np.zeros(n)
    rows, starts, ends, shortfalls = [], [], [], []

    def close(mask: np.ndarray, last: int) -> None:
        done = mask & (length >= DROP_MONTHS) & (start >= first_col)
        if established is not None:
            done &= start >= established
        if excluded is not None:
            done &= ~excluded
        idx = np.flatnonzero(done)
        rows.append(idx)
        starts.append(start[idx])
        ends.append(np.full(len(idx), last))
        shortfalls.append(1.0 - np.exp(total[idx] / length[idx]))

    for c in range(h):  # a loop over months, vectorised over enterprises
        x = lq[:, c]
        with np.errstate(invalid="ignore"):
            stays = in_run & (x - base <= limit)
        ending = in_run & ~stays
        if ending.any():
            close(ending, c - 1)
        in_run = stays
        with np.errstate(invalid="ignore"):
            starting = ~in_run & (x - ref[:, c] <= limit)
        base = np.where(starting, ref[:, c], base)
        start = np.where(starting, c, start)
        length = np.where(starting, 0, length)
        total = np.where(starting, 0.0, total)
        in_run = in_run | starting
        length = length + in_run
        total = total + np.where(in_run, x - base, 0.0)
    close(in_run, h - 1)
    return Runs(np.concatenate(rows), np.concatenate(starts), np.concatenate(ends), np.concatenate(shortfalls))


def evidence_months(lq: np.ndarray, delivered: np.ndarray, rows: np.ndarray, start: np.ndarray,
                    end: np.ndarray, first_col: int, share: float = EVIDENCE_SHARE) -> np.ndarray:
    """Per event (block row, first and last horizon column): delivered months inside the window,
    between its first and last month, at least :data:`EVIDENCE_SHARE` below the reference level
    of its first month (``share`` of it)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    n, h = lq.shape
    ref = reference_level(lq)[rows, np.clip(start, 0, h - 1)]
    cols = np.arange(h)[None, :]
    inside = (cols >= np.maximum(start, first_col)[:, None]) & (cols <= end[:, None])
    with np.errstate(invalid="ignore"):
        low = lq[rows] - ref[:, None] <= np.log1p(-share)
    return np.sum(inside & low & delivered[rows], axis=1).astype(np.int64)
