"""Monthly series (revenue, tax, insured headcount, electricity), simulated for a block of
enterprises at a time as (enterprises × months) numpy matrices.

Model of one enterprise's true monthly revenue::

    level × seasonal(sector, month, Spring Festival) × exp(growth · years from as-of)
          × ramp-up after founding × log-normal noise (AR(1) + independent part) × event multipliers

Tax is revenue × the firm's effective rate (with its own noise); small-scale VAT taxpayers file
quarterly and pay nothing on quarterly sales up to 300,000 元. Headcount follows revenue growth with
elasticity 0.5 and a slow random walk; electricity follows activity, the Hangzhou climate and the
days in the month. Each source then loses random rows, planned gaps and months outside the
enterprise's life, and only months inside the window are delivered. From the same matrices the
block also reports the truth the realised series hold (``realised.py``): each planted drop's and
layoff's evidence months, and the sustained drops the noise made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shengxin.synth import events as ev
from shengxin.synth import realised
from shengxin.synth.calendar import (
    Timeline,
    days_in_month,
    month_number,
    month_of_year,
    spring_festival_share,
    year_of,
)
from shengxin.synth.formats import fen_to_decimal, int_text, month_lookup
from shengxin.synth.population import Population
from shengxin.synth.profiles import CLIMATE_SHAPE, SECTORS, sector_array, seasonal_matrix

#: Probability that one month's row of a source is simply missing.
MISSING_RATE = {"tax": 0.004, "social_insurance": 0.003, "electricity": 0.004}
#: Quarterly sales up to this amount (元) are exempt from VAT for small-scale taxpayers.
SMALL_SCALE_EXEMPT_QUARTER = 300_000.0

TAX_COLUMNS = ("纳税人识别号", "所属期", "营业收入(元)", "实缴税额(元)")
SOCIAL_COLUMNS = ("统一社会信用代码", "月份", "参保人数")
ELECTRICITY_COLUMNS = ("统一社会信用代码", "抄表年月", "用电量(千瓦时)")

TAX_SCHEMA = pa.schema([
    (TAX_COLUMNS[0], pa.string()), (TAX_COLUMNS[1], pa.string()),
    (TAX_COLUMNS[2], pa.decimal128(18, 2)), (TAX_COLUMNS[3], pa.decimal128(18, 2)),
])
SOCIAL_SCHEMA = pa.schema([
    (SOCIAL_COLUMNS[0], pa.string()), (SOCIAL_COLUMNS[1], pa.string()), (SOCIAL_COLUMNS[2], pa.int32()),
])


@dataclass(frozen=True)
class Seasonality:
    revenue: np.ndarray  # (sectors × horizon months)
    electricity: np.ndarray
    headcount: np.ndarray


def seasonality(timeline: Timeline) -> Seasonality:
    """Per-sector monthly multipliers over the horizon, Spring Festival included."""
    t = timeline.horizon
    moy = month_of_year(t) - 1
    shape = seasonal_matrix()[:, moy]
    climate = np.asarray(CLIMATE_SHAPE)[moy]
    days = days_in_month(t) / 30.44
    rev = np.empty((len(SECTORS), len(t)))
    ele = np.empty_like(rev)
    head = np.ones_like(rev)
    for i, s in enumerate(SECTORS):
        slowdown = spring_festival_share(t, s.sf_before, s.sf_after)
        factor = 1.0 - s.sf_depth * slowdown
        if s.sf_boost:
            factor = factor + s.sf_boost * spring_festival_share(t, 25, -4)
        rev[i] = shape[i] * factor
        climate_weight = 0.3 if s.key == "manufacturing" else 0.7
        ele[i] = ((1 - climate_weight) + climate_weight * climate) * (1.0 - 0.9 * s.sf_depth * slowdown) * days
        if s.key in ("manufacturing", "construction"):
            # some migrant workers do not come back after the festival; most are replaced within weeks
            head[i] = 1.0 - 0.04 * spring_festival_share(t, -7, 40)
    return Seasonality(rev, ele, head)


@dataclass
class Chunk:
    """Delivered rows of one block of enterprises, plus the annual figures the lists need."""

    tax: pa.Table
    social: pa.Table
    electricity: pa.Table
    annual_revenue: np.ndarray  # (enterprises × revenue years), 元, true revenue
    december_employees: np.ndarray  # (enterprises × revenue years), 0 when not active in December
    #: per enterprise of the block: evidence months of its planted revenue / tax / headcount event
    evidence: dict[str, np.ndarray] | None = None
    #: realised drops the noise made, per metric (rows are enterprise indexes, months horizon columns)
    realised_drops: dict[str, realised.Runs] | None = None


class SeriesGenerator:
    def __init__(self, pop: Population, plan: ev.EventPlan, timeline: Timeline):
        self.pop, self.plan, self.timeline = pop, plan, timeline
        self.season = seasonality(timeline)
        self.t = timeline.horizon
        self.offset = timeline.window_start - timeline.start
        window = timeline.window
        self.month_dash = month_lookup(window, "-")
        self.month_compact = month_lookup(window, "")
        self.uscc = pa.array(pop.uscc)
        self.noise = sector_array("noise")

    def simulate(self, lo: int, hi: int, rng: np.random.Generator) -> Chunk:
        pop, plan, tl, t = self.pop, self.plan, self.timeline, self.t
        idx = np.arange(lo, hi)
        n, h = len(idx), len(t)
        sector = pop.sector[idx]
        rel = (t - tl.as_of) / 12.0
        age = t[None, :] - pop.founded_month[idx, None]
        active = (age >= 0) & (t[None, :] <= pop.last_month[idx, None])
        ramp = np.where(age >= 0, 1.0 - 0.6 * np.exp(-np.maximum(age, 0) / 6.0), 0.0)
        growth = pop.growth[idx, None]
        kind = plan.kind[idx]
        start, end = plan.start[idx, None], plan.end[idx, None]
        # a firm that lays staff off stops growing from then on
        frozen = np.minimum(rel[None, :], (start - tl.as_of) / 12.0)
        years = np.where((kind == ev.LAYOFF)[:, None], frozen, rel[None, :])
        trend = np.exp(growth * years)

        sigma = self.noise[sector] * np.clip((pop.employees[idx] / 10.0) ** -0.15, 0.6, 1.8)
        innovations = rng.standard_normal((n, h))
        ar = np.empty((n, h))
        ar[:, 0] = innovations[:, 0]
        for j in range(1, h):  # a loop over months, vectorised over enterprises
            ar[:, j] = 0.6 * ar[:, j - 1] + 0.8 * innovations[:, j]
        log_noise = sigma[:, None] * (0.6 * ar + 0.8 * rng.standard_normal((n, h)))
        noise = np.exp(log_noise - sigma[:, None] ** 2 / 2)

        rev_mult = np.ones((n, h))
        tax_mult = np.ones((n, h))
        head_mult = np.ones((n, h))
        elec_mult = np.ones((n, h))
        inside = (t[None, :] >= start) & (t[None, :] <= end)
        mag, tax_mag = plan.magnitude[idx, None], plan.tax_magnitude[idx, None]

        drop = (kind == ev.REVENUE_DROP)[:, None] & inside
        rev_mult = np.where(drop, 1.0 - mag, rev_mult)
        tax_mult = np.where(drop, (1.0 - tax_mag) / np.maximum(1.0 - mag, 1e-9), tax_mult)
        tax_only = (kind == ev.TAX_DROP)[:, None] & inside
        tax_mult = np.where(tax_only, 1.0 - tax_mag, tax_mult)

        layoff = (kind == ev.LAYOFF)[:, None]
        first = layoff & (t[None, :] == start)
        after = layoff & (t[None, :] > start)
        head_mult = np.where(first, 1.0 - 0.6 * mag, np.where(after, 1.0 - mag, head_mult))
        rev_mult = np.where(layoff & (t[None, :] >= start), 1.0 - 0.25 * mag, rev_mult)
        elec_mult = np.where(layoff & (t[None, :] >= start), 1.0 - 0.3 * mag, elec_mult)

        moving = (kind == ev.RELOCATION)[:, None]
        for step in range(3):
            at = moving & (t[None, :] == start + step)
            head_mult = np.where(at, plan.steps_headcount[idx, step, None], head_mult)
            elec_mult = np.where(at, plan.steps_electricity[idx, step, None], elec_mult)
            rev_mult = np.where(at, plan.steps_revenue[idx, step, None], rev_mult)

        dip = t[None, :] == plan.dip_month[idx, None]
        rev_mult = np.where(dip, plan.dip_factor[idx, None], rev_mult)

        level = pop.revenue[idx] * 1e4 / 12.0
        revenue = level[:, None] * self.season.revenue[sector] * trend * ramp * noise * rev_mult
        revenue = np.where(active, revenue, 0.0)

        tax_noise = np.exp(0.25 * rng.standard_normal((n, h)) - 0.03)
        tax = revenue * pop.tax_rate[idx, None] * tax_noise * tax_mult

        walk = np.cumsum(0.012 * rng.standard_normal((n, h)), axis=1)
        walk -= walk[:, -1:]
        people = (
            pop.employees[idx, None] * np.exp(0.5 * growth * years + walk)
            * (0.5 + 0.5 * ramp) * self.season.headcount[sector] * head_mult
        )
        employees = np.where(active, np.maximum(np.round(people), 1), 0).astype(np.int64)
        insured = np.round(employees * pop.coverage[idx, None]).astype(np.int64)

        kwh_level = pop.kwh_per_wan[idx] * pop.revenue[idx] / 12.0
        electricity = (
            kwh_level[:, None] * self.season.electricity[sector] * trend ** 0.8 * ramp
            * np.exp(0.12 * rng.standard_normal((n, h))) * elec_mult * np.sqrt(rev_mult)
        )
        electricity = np.where(active & pop.has_meter[idx, None], np.round(electricity), 0).astype(np.int64)

        # annual truth for the statistics files
        years = np.asarray(tl.revenue_years)
        annual = np.stack([revenue[:, year_of(t) == y].sum(axis=1) for y in years], axis=1)
        december_cols = [month_number(y, 12) - tl.start for y in years]
        december = employees[:, december_cols]

        # quarterly filers: one row per quarter, at its last month, with the quarter's sums
        quarterly = pop.quarterly_tax[idx]
        pad = (-h) % 3
        q_rev = np.pad(revenue, ((0, 0), (0, pad))).reshape(n, -1, 3).sum(axis=2)
        q_active = np.pad(active, ((0, 0), (0, pad))).reshape(n, -1, 3).any(axis=2)
        profit_tax = rng.uniform(0.0005, 0.002, n)[:, None]
        q_tax = np.where(q_rev > SMALL_SCALE_EXEMPT_QUARTER, q_rev * 0.0112, 0.0) + q_rev * profit_tax
        quarter_end = month_of_year(t) % 3 == 0
        q_col = np.arange(h) // 3
        rep_revenue = np.where(quarterly[:, None], np.where(quarter_end, q_rev[:, q_col], 0.0), revenue)
        rep_tax = np.where(quarterly[:, None], np.where(quarter_end, q_tax[:, q_col], 0.0), tax)
        tax_rows = np.where(quarterly[:, None], quarter_end & q_active[:, q_col], active)

        gap_src = plan.gap_source[idx, None]
        in_gap = (t[None, :] >= plan.gap_start[idx, None]) & (
            t[None, :] < plan.gap_start[idx, None] + plan.gap_length[idx, None]
        )

        def present(mask: np.ndarray, source: str, code: int) -> np.ndarray:
            missing = rng.random((n, h)) < MISSING_RATE[source]
            return mask & ~missing & ~((gap_src == code) & in_gap)

        tax_rows = present(tax_rows, "tax", ev.GAP_TAX)
        social_rows = present(active & (insured > 0), "social_insurance", ev.GAP_SOCIAL)
        elec_rows = present(electricity > 0, "electricity", ev.GAP_ELECTRICITY)

        evidence, drops = self._realised(
            idx, kind, active, ramp, trend, sector, revenue, tax, insured, tax_rows, social_rows)

        w = slice(self.offset, h)
        return Chunk(
            tax=self._tax_table(lo, tax_rows[:, w], rep_revenue[:, w], rep_tax[:, w]),
            social=self._long(lo, social_rows[:, w], insured[:, w], SOCIAL_COLUMNS, self.month_dash,
                              lambda v: pa.array(v.astype(np.int32))),
            electricity=self._long(lo, elec_rows[:, w], electricity[:, w], ELECTRICITY_COLUMNS,
                                   self.month_dash, int_text),
            annual_revenue=annual,
            december_employees=december,
            evidence=evidence,
            realised_drops=drops,
        )

    def _realised(self, idx, kind, active, ramp, trend, sector, revenue, tax, insured, tax_rows, social_rows):
        """Evidence months of the planted events and the drops the noise made (``realised.py``).

        Only monthly tax filers' revenue and tax are read (a quarterly row shows no month), and a
        relocating firm's fade is its relocation, not a drop."""
        pop, plan, tl = self.pop, self.plan, self.timeline
        first = self.offset
        expected = pop.revenue[idx, None] * 1e4 / 12.0 * self.season.revenue[sector] * trend * ramp
        monthly = ~pop.quarterly_tax[idx]
        lq_rev = realised.log_ratio(revenue, expected, active & monthly[:, None])
        lq_tax = realised.log_ratio(tax, expected * pop.tax_rate[idx, None], active & monthly[:, None])
        lq_head = np.log(np.where(active & (insured > 0), insured, np.nan))
        start = plan.start[idx] - tl.start
        end = plan.end[idx] - tl.start
        evidence = {}
        for metric, lq, rows_ok, kinds, share in (
            ("revenue", lq_rev, tax_rows, (ev.REVENUE_DROP,), realised.EVIDENCE_SHARE),
            ("tax", lq_tax, tax_rows, (ev.REVENUE_DROP, ev.TAX_DROP), realised.EVIDENCE_SHARE),
            ("headcount", lq_head, social_rows, (ev.LAYOFF,), realised.HEADCOUNT_EVIDENCE_SHARE),
        ):
            out = np.zeros(len(idx), dtype=np.int64)
            r = np.flatnonzero(np.isin(kind, kinds))
            out[r] = realised.evidence_months(lq, rows_ok, r, start[r], end[r], first, share)
            evidence[metric] = out
        moving = kind == ev.RELOCATION
        established = pop.founded_month[idx] - tl.start + realised.MIN_AGE_MONTHS
        drops = {
            "revenue": realised.drop_runs(lq_rev, first, moving | (kind == ev.REVENUE_DROP), established),
            "tax": realised.drop_runs(lq_tax, first, moving | np.isin(kind, [ev.REVENUE_DROP, ev.TAX_DROP]),
                                      established),
        }
        for metric, runs in drops.items():
            rows_ok = tax_rows
            runs.evidence = realised.evidence_months(
                lq_rev if metric == "revenue" else lq_tax, rows_ok, runs.row, runs.start, runs.end, first,
                realised.EVIDENCE_SHARE)
            runs.row = idx[runs.row]
            runs.start = runs.start + tl.start
            runs.end = runs.end + tl.start
        return evidence, drops

    def _tax_table(self, lo, rows, revenue, tax) -> pa.Table:
        r, c = np.nonzero(rows)
        return pa.table(
            [
                self.uscc.take(pa.array(lo + r)),
                self.month_compact.take(pa.array(c)),
                fen_to_decimal(np.round(revenue[r, c] * 100)),
                fen_to_decimal(np.round(tax[r, c] * 100)),
            ],
            schema=TAX_SCHEMA,
        )

    def _long(self, lo, rows, values, columns, months, convert) -> pa.Table:
        r, c = np.nonzero(rows)
        return pa.table(
            [self.uscc.take(pa.array(lo + r)), months.take(pa.array(c)), convert(values[r, c])],
            names=list(columns),
        )
