"""What happens to which enterprise: planted events (ground truth) and distractors.

Events are decided per enterprise before any series is drawn, so that the monthly generator only
applies multipliers and the truth files can be written from the same arrays. Each enterprise has at
most one planted event of the kinds below, and distractors go to enterprises without one, so a
detector's hits can be scored unambiguously.

* ``sustained_revenue_drop`` (+ ``sustained_tax_drop``): revenue 30-60 % below its level for 3-8
  months, or for good; tax falls with it, somewhat more (profits fall faster than sales).
* ``sustained_tax_drop`` alone: tax down 35-70 % while revenue holds (e.g. a lost incentive).
* ``layoff``: insured headcount down by 20-60 % and by at least 10 people, within 1-2 months,
  for the rest of the window.
* ``relocation_out``: over three months headcount and electricity fall away, then every monthly
  source stops; the registry shows a neighbour town's code and, mostly, status 迁出.

Distractors: one-off single-month dips, reporting gaps of 2-4 months in one source, quarterly
tax reporters and the Spring Festival dip of strongly seasonal firms (listed in ``series.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shengxin.synth.calendar import Timeline, last_day
from shengxin.synth.names import addresses
from shengxin.synth.population import ACTIVE, MOVED_OUT, Population

NONE, REVENUE_DROP, TAX_DROP, LAYOFF, RELOCATION = 0, 1, 2, 3, 4
GAP_TAX, GAP_SOCIAL, GAP_ELECTRICITY = 1, 2, 3
GAP_SOURCES = {GAP_TAX: "tax", GAP_SOCIAL: "social_insurance", GAP_ELECTRICITY: "electricity"}

#: Shares of all enterprises that get each planted event or distractor (when enough are eligible).
SHARES = {
    REVENUE_DROP: 0.015,
    TAX_DROP: 0.003,
    LAYOFF: 0.008,
    RELOCATION: 0.004,
    "one_off_dip": 0.03,
    "gap": 0.02,
}


@dataclass
class EventPlan:
    kind: np.ndarray  # int8 per enterprise
    start: np.ndarray  # first month of the event
    end: np.ndarray  # last month of the event (inclusive)
    magnitude: np.ndarray  # revenue drop share / headcount share lost
    tax_magnitude: np.ndarray
    persistent: np.ndarray
    # relocation: multipliers for the three months before leaving (headcount, electricity, revenue)
    steps_headcount: np.ndarray  # (n, 3)
    steps_electricity: np.ndarray
    steps_revenue: np.ndarray
    relocation_town: np.ndarray  # neighbour town code ('' when none)
    # distractors
    dip_month: np.ndarray  # -1 when none
    dip_factor: np.ndarray
    gap_source: np.ndarray  # 0 when none
    gap_start: np.ndarray
    gap_length: np.ndarray


def _carve(rng: np.random.Generator, pool: np.ndarray, taken: np.ndarray, count: int) -> np.ndarray:
    """Pick up to ``count`` enterprises from ``pool`` (a mask) that are not yet taken."""
    candidates = np.flatnonzero(pool & ~taken)
    k = min(count, len(candidates))
    picked = np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]
    taken[picked] = True
    return picked


def plan_events(
    rng: np.random.Generator,
    pop: Population,
    timeline: Timeline,
    neighbours: list[tuple[str, str]],
    district_prefix: str,
) -> EventPlan:
    n = pop.n
    w0, a = timeline.window_start, timeline.as_of
    kind = np.zeros(n, dtype=np.int8)
    start = np.full(n, -1, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    magnitude = np.zeros(n)
    tax_magnitude = np.zeros(n)
    persistent = np.zeros(n, dtype=bool)
    steps_h = np.ones((n, 3))
    steps_e = np.ones((n, 3))
    steps_r = np.ones((n, 3))
    reloc_town = np.full(n, "", dtype="U9")

    settled = (
        ~pop.inert
        & (pop.founded_month <= w0 - 12)
        & (pop.last_month > a)
        & ~pop.planted_growth
    )
    insured = np.round(pop.employees * pop.coverage)
    monthly_tax = ~pop.quarterly_tax
    taken = np.zeros(n, dtype=bool)
    count = {k: int(round(v * n)) for k, v in SHARES.items()}

    # sustained revenue (and tax) drops
    ids = _carve(rng, settled & monthly_tax & (pop.revenue >= 50), taken, count[REVENUE_DROP])
    s = rng.integers(w0 + 6, a - 1, size=len(ids))
    pers = rng.random(len(ids)) < 0.4
    dur = rng.integers(3, 9, size=len(ids))
    m = rng.uniform(0.30, 0.60, size=len(ids))
    kind[ids], start[ids], persistent[ids] = REVENUE_DROP, s, pers
    end[ids] = np.where(pers, a, np.minimum(s + dur - 1, a))
    magnitude[ids] = m
    tax_magnitude[ids] = np.minimum(0.85, m * rng.uniform(1.0, 1.3, size=len(ids)))

    # tax-only drops
    ids = _carve(rng, settled & monthly_tax & (pop.revenue >= 100), taken, count[TAX_DROP])
    s = rng.integers(w0 + 6, a - 1, size=len(ids))
    pers = rng.random(len(ids)) < 0.5
    kind[ids], start[ids], persistent[ids] = TAX_DROP, s, pers
    end[ids] = np.where(pers, a, np.minimum(s + rng.integers(3, 9, size=len(ids)) - 1, a))
    tax_magnitude[ids] = rng.uniform(0.35, 0.70, size=len(ids))

    # layoffs: 20-60 % of the insured staff and never fewer than 12 people
    ids = _carve(rng, settled & (insured >= 60), taken, count[LAYOFF])
    kind[ids] = LAYOFF
    start[ids] = rng.integers(w0 + 6, a - 1, size=len(ids))
    end[ids] = a
    persistent[ids] = True
    at_start = insured[ids] * np.exp(0.5 * pop.growth[ids] * (start[ids] - a) / 12)
    magnitude[ids] = np.clip(np.maximum(rng.uniform(0.20, 0.60, size=len(ids)), 12 / at_start), 0.2, 0.6)

    # relocations out of the district
    if neighbours:
        ids = _carve(rng, settled & ((insured >= 5) | pop.has_meter), taken, count[RELOCATION])
        r = rng.integers(w0 + 8, a, size=len(ids))
        kind[ids], start[ids], end[ids] = RELOCATION, r - 2, r
        steps_h[ids] = np.sort(rng.uniform([0.6, 0.35, 0.05], [0.9, 0.6, 0.25], (len(ids), 3)), axis=1)[:, ::-1]
        steps_e[ids] = np.sort(rng.uniform([0.5, 0.2, 0.02], [0.8, 0.45, 0.15], (len(ids), 3)), axis=1)[:, ::-1]
        steps_r[ids] = np.sort(rng.uniform([0.8, 0.6, 0.4], [1.0, 0.85, 0.7], (len(ids), 3)), axis=1)[:, ::-1]
        magnitude[ids] = 1.0 - steps_h[ids, 2]
        dest = rng.integers(0, len(neighbours), size=len(ids))
        codes = np.asarray([c for c, _ in neighbours])
        town_names = np.asarray([t for _, t in neighbours])
        reloc_town[ids] = codes[dest]
        # the registry at the as-of date: a neighbour town's code and address; most show 迁出
        pop.town_code[ids] = codes[dest]
        city_prefix = district_prefix[: district_prefix.find("市") + 1] or district_prefix
        pop.address[ids] = addresses(rng, np.full(len(ids), city_prefix), town_names[dest])
        moved = rng.random(len(ids)) < 0.75
        day = rng.integers(0, 28, size=len(ids)).astype("timedelta64[D]")
        pop.status[ids] = np.where(moved, MOVED_OUT, ACTIVE)
        pop.status_date[ids] = np.where(
            moved, last_day(r) - day, np.datetime64("NaT", "D")
        )
        pop.last_month[ids] = r

    # distractors, on enterprises without a planted event
    ids = _carve(rng, settled & monthly_tax, taken, count["one_off_dip"])
    dip_month = np.full(n, -1, dtype=np.int64)
    dip_factor = np.ones(n)
    dip_month[ids] = rng.integers(w0 + 3, a, size=len(ids))
    dip_factor[ids] = rng.uniform(0.35, 0.6, size=len(ids))

    ids = _carve(rng, settled, taken, count["gap"])
    gap_source = np.zeros(n, dtype=np.int8)
    gap_start = np.full(n, -1, dtype=np.int64)
    gap_length = np.zeros(n, dtype=np.int64)
    src = np.where(insured[ids] > 0, GAP_SOCIAL, GAP_TAX)
    src = np.where(pop.has_meter[ids] & (rng.random(len(ids)) < 0.4), GAP_ELECTRICITY, src)
    src = np.where((src == GAP_TAX) & pop.quarterly_tax[ids], GAP_SOCIAL, src)
    src = np.where((src == GAP_SOCIAL) & (insured[ids] == 0), GAP_ELECTRICITY, src)
    keep = (src != GAP_ELECTRICITY) | pop.has_meter[ids]
    ids, src = ids[keep], src[keep]
    gap_source[ids] = src
    gap_length[ids] = rng.integers(2, 5, size=len(ids))
    gap_start[ids] = rng.integers(w0 + 3, a - 5, size=len(ids))

    return EventPlan(
        kind=kind, start=start, end=end, magnitude=magnitude, tax_magnitude=tax_magnitude,
        persistent=persistent, steps_headcount=steps_h, steps_electricity=steps_e,
        steps_revenue=steps_r, relocation_town=reloc_town, dip_month=dip_month,
        dip_factor=dip_factor, gap_source=gap_source, gap_start=gap_start, gap_length=gap_length,
    )
