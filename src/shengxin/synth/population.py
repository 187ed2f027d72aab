"""The enterprises of the synthetic district, drawn column-wise (one numpy array per attribute).

Sizes are long-tailed and mutually consistent: employees are log-normal per sector, revenue is
employees × a log-normal revenue per employee of the sector, assets are revenue × a log-normal
asset ratio of the sector, and registered capital is a round figure near the firm's scale.
Figures are "mature levels at the as-of month"; the monthly series add growth, seasonality and
ramp-up of young firms around them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import yaml

from shengxin.reference.district import District
from shengxin.synth import names
from shengxin.synth.calendar import Timeline, first_day, month_of_date, year_of
from shengxin.synth.codes import make_usccs, unique_org_codes
from shengxin.synth.profiles import (
    SECTOR_INDEX,
    industry_table,
    scope_of_classes,
    scopes,
    sector_array,
)

#: Round registered-capital figures (万元) that founders actually choose.
CAPITAL_STEPS = np.asarray(
    [1, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 800, 1000, 2000, 3000, 5000, 10000, 20000,
     50000, 100000], dtype=np.float64,
)
#: Registering authorities' region codes seen on district enterprises' USCCs: mostly the district,
#: some registered by the city bureau or in neighbouring districts before moving in.
REGION_MIX = (("district", 0.86), ("330100", 0.08), ("330106", 0.03), ("330108", 0.02), ("330105", 0.01))
NEW_CODES_FROM = np.datetime64("2015-10-01")  # first USCCs with new subject identifiers
EARLIEST_FOUNDING = np.datetime64("1993-01-01")

# registry status
ACTIVE, MOVED_OUT, DEREGISTERED = "存续", "迁出", "注销"


@dataclass
class Population:
    """Column arrays, one entry per enterprise (index = enterprise number)."""

    n: int
    uscc: np.ndarray
    name: np.ndarray
    class_code: np.ndarray
    sector: np.ndarray
    legal_form: np.ndarray  # index into names.LEGAL_FORMS
    town_code: np.ndarray
    address: np.ndarray
    representative: np.ndarray
    phone: np.ndarray
    founded: np.ndarray  # datetime64[D]
    founded_month: np.ndarray
    status: np.ndarray
    status_date: np.ndarray  # datetime64[D], NaT when unchanged
    last_month: np.ndarray  # last month with activity in the district (huge when still active)
    inert: np.ndarray  # closed before the horizon: registry row only, nothing else anywhere
    employees: np.ndarray  # at the as-of month (mature level)
    revenue: np.ndarray  # 万元 per year (mature level at the as-of month)
    assets_ratio: np.ndarray
    capital: np.ndarray  # registered capital, 万元
    tax_rate: np.ndarray
    kwh_per_wan: np.ndarray
    rd_intensity: np.ndarray  # 0 for firms without R&D
    growth: np.ndarray  # annual growth rate (log)
    coverage: np.ndarray  # insured share of employees
    has_meter: np.ndarray
    quarterly_tax: np.ndarray  # small-scale VAT taxpayer filing quarterly
    scope: np.ndarray  # index into profiles.scopes(), -1 when none
    threshold: np.ndarray  # 万元, NaN for qualification scopes / none
    planted_growth: np.ndarray
    ghosts: np.ndarray  # valid USCCs that are NOT in the registry (for defects)

    def active_at(self, month: int) -> np.ndarray:
        return (self.founded_month <= month) & (self.last_month >= month)


def nearest_step(values: np.ndarray, steps: np.ndarray = CAPITAL_STEPS) -> np.ndarray:
    """The step closest to each value on a log scale."""
    logs = np.log(steps)
    v = np.log(np.clip(values, steps[0], steps[-1]))
    i = np.clip(np.searchsorted(logs, v), 1, len(steps) - 1)
    lower_closer = (v - logs[i - 1]) < (logs[i] - v)
    return steps[np.where(lower_closer, i - 1, i)]


def neighbour_towns(district_file) -> list[tuple[str, str]]:
    """(code, name) of the neighbour towns listed in the district file."""
    with open(district_file, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return [(str(t["code"]), str(t.get("name", ""))) for t in data.get("neighbour_towns") or []]


def build_population(
    rng: np.random.Generator, n: int, timeline: Timeline, district: District
) -> Population:
    table = industry_table()
    cls = rng.choice(len(table.codes), size=n, p=table.weight)
    class_code = table.codes[cls]
    sector = table.sector[cls].astype(np.int64)
    manufacturing = sector == SECTOR_INDEX["manufacturing"]
    agriculture = sector == SECTOR_INDEX["agriculture"]

    # --- founding, closure ----------------------------------------------------------------
    as_of_date = timeline.as_of_date
    horizon_years = (timeline.as_of - timeline.start) / 12
    age = np.where(rng.random(n) < 0.7, rng.exponential(7.0, n), rng.uniform(0, 28, n))
    inert = rng.random(n) < 0.02
    age = np.where(inert, horizon_years + 2 + rng.exponential(6.0, n), age)
    founded = as_of_date - (age * 365.25).astype("timedelta64[D]")
    founded = np.maximum(founded, EARLIEST_FOUNDING + rng.integers(0, 365, n).astype("timedelta64[D]"))
    founded_month = month_of_date(founded)
    last_month = np.full(n, timeline.as_of + 10_000, dtype=np.int64)
    status = np.full(n, ACTIVE, dtype="U2")
    status_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")

    horizon_start_date = np.datetime64(f"{year_of(timeline.start):04d}-01-01")
    span = (horizon_start_date - founded).astype(np.int64)
    closed_on = founded + (365 + rng.random(n) * np.maximum(span - 366, 1)).astype("timedelta64[D]")
    status = np.where(inert, DEREGISTERED, status)
    status_date = np.where(inert, closed_on, status_date)
    last_month = np.where(inert, month_of_date(closed_on), last_month)

    # closures inside the horizon: activity stops, the deregistration follows within months
    closing = ~inert & (rng.random(n) < 0.025) & (founded_month + 12 < timeline.as_of - 1)
    first_possible = np.maximum(founded_month + 12, timeline.start)
    stop = first_possible + (rng.random(n) * np.maximum(timeline.as_of - first_possible, 1)).astype(np.int64)
    last_month = np.where(closing, stop, last_month)
    dereg_date = first_day(stop + 1) + rng.integers(20, 120, n).astype("timedelta64[D]")
    done = closing & (dereg_date <= as_of_date)
    status = np.where(done, DEREGISTERED, status)
    status_date = np.where(done, dereg_date, status_date)

    # --- size -------------------------------------------------------------------------------
    young = age < 1.5
    emp_med = sector_array("employees_median")[sector]
    emp_sig = sector_array("employees_sigma")[sector]
    employees = np.exp(np.log(emp_med) + emp_sig * rng.standard_normal(n))
    # a Pareto tail on top of the log-normal body: the district's few very large employers
    employees = np.where(rng.random(n) < 0.02, employees * (1 + rng.pareto(1.1, n)) * 4, employees)
    employees = np.where(young, employees * 0.5, employees)
    employees = np.clip(np.round(employees), 1, 50_000).astype(np.int64)
    rpe = sector_array("revenue_per_employee")[sector] * np.exp(
        sector_array("revenue_sigma")[sector] * rng.standard_normal(n)
    )
    rpe = np.where(young, rpe * 0.6, rpe)
    # a fifth of registered firms barely trade (shells, dormant or side businesses)
    dormant = rng.random(n) < 0.2
    employees = np.where(dormant, np.minimum(employees, rng.integers(1, 4, n)), employees)
    rpe = np.where(dormant, rpe * 0.15, rpe)
    revenue = employees * rpe
    assets_ratio = sector_array("asset_ratio")[sector] * np.exp(0.5 * rng.standard_normal(n))
    tax_rate = sector_array("tax_rate")[sector] * np.exp(0.3 * rng.standard_normal(n))
    kwh = sector_array("kwh_per_wan")[sector] * np.exp(0.5 * rng.standard_normal(n))
    does_rd = rng.random(n) < sector_array("rd_share")[sector] * (0.4 + 0.6 * np.minimum(1, employees / 20))
    rd = np.where(
        does_rd,
        np.clip(sector_array("rd_intensity")[sector] * np.exp(0.6 * rng.standard_normal(n)), 0.001, 0.35),
        0.0,
    )
    growth = np.clip(sector_array("growth_mean")[sector] + 0.12 * rng.standard_normal(n), -0.35, 0.45)
    coverage = rng.uniform(0.72, 1.0, n)
    coverage = np.where((employees <= 5) & (rng.random(n) < 0.1), 0.0, coverage)
    has_meter = (rng.random(n) < sector_array("meter_share")[sector]) | (employees >= 30)

    # --- statistical scope; plant firms that grow through the threshold in the window --------
    scope_idx, threshold = scope_of_classes(table.codes)
    scope = scope_idx[cls].astype(np.int64)
    thr = threshold[cls]
    eligible_growth = (
        ~inert & ~closing & ~np.isnan(thr) & (founded_month <= timeline.start - 12)
    )
    planted = eligible_growth & (rng.random(n) < 0.012)
    target = thr * rng.uniform(1.15, 2.2, n)
    revenue = np.where(planted, target, revenue)
    growth = np.where(planted, rng.uniform(0.30, 0.55, n), growth)
    employees = np.where(
        planted, np.maximum(5, np.round(target / sector_array("revenue_per_employee")[sector])), employees
    ).astype(np.int64)

    quarterly_tax = (revenue < 500) & (rng.random(n) < 0.85)
    capital = nearest_step(revenue * rng.uniform(0.05, 1.2, n) + 3)

    # --- legal form ---------------------------------------------------------------------------
    shares = np.asarray([f[1] for f in names.LEGAL_FORMS])
    legal_form = rng.choice(len(shares), size=n, p=shares / shares.sum())
    big = revenue >= np.quantile(revenue, 0.9995) if n >= 2000 else np.zeros(n, dtype=bool)
    legal_form = np.where(big & (rng.random(n) < 0.5), names.LISTED_FORM, legal_form)
    coop = agriculture & (rng.random(n) < 0.4)
    legal_form = np.where(coop, names.COOPERATIVE_FORM, legal_form)

    # --- codes, names, places -----------------------------------------------------------------
    n_ghosts = max(20, n // 500)
    total = n + n_ghosts
    founded_all = np.concatenate([founded, np.full(n_ghosts, as_of_date)])
    org = unique_org_codes(rng, founded_all >= NEW_CODES_FROM)
    regions = np.asarray([district.code if r == "district" else r for r, _ in REGION_MIX])
    region_p = np.asarray([p for _, p in REGION_MIX])
    region = regions[rng.choice(len(regions), size=total, p=region_p / region_p.sum())]
    region[n:] = district.code
    entity = np.where(np.concatenate([coop, np.zeros(n_ghosts, dtype=bool)]), "3", "1")
    codes = make_usccs(np.full(total, "9"), entity, region, org)
    uscc, ghosts = codes[:n], codes[n:]

    provincial = (capital >= 1000) & (rng.random(n) < 0.5)
    name = names.company_names(rng, sector, class_code, legal_form, provincial)

    towns = district.towns
    town_codes = np.asarray([t.code for t in towns])
    town_names = np.asarray([t.name for t in towns])
    street = np.asarray([t.kind == "街道" for t in towns])
    w_office = np.where(street, 3.0, 1.0)
    w_factory = np.where(street, 1.0, 2.0)
    pick_office = rng.choice(len(towns), size=n, p=w_office / w_office.sum())
    pick_factory = rng.choice(len(towns), size=n, p=w_factory / w_factory.sum())
    town = np.where(manufacturing | agriculture, pick_factory, pick_office)
    prefix = district.full_name
    address = names.addresses(rng, np.full(n, prefix), town_names[town])

    return Population(
        n=n,
        uscc=uscc,
        name=name,
        class_code=class_code,
        sector=sector,
        legal_form=legal_form,
        town_code=town_codes[town],
        address=address,
        representative=names.person_names(rng, n),
        phone=names.phone_numbers(rng, n),
        founded=founded,
        founded_month=founded_month,
        status=status,
        status_date=status_date,
        last_month=last_month,
        inert=inert,
        employees=employees,
        revenue=revenue,
        assets_ratio=assets_ratio,
        capital=capital,
        tax_rate=tax_rate,
        kwh_per_wan=kwh,
        rd_intensity=rd,
        growth=growth,
        coverage=coverage,
        has_meter=has_meter,
        quarterly_tax=quarterly_tax,
        scope=scope,
        threshold=thr,
        planted_growth=planted,
        ghosts=ghosts,
    )


def scope_names() -> np.ndarray:
    return np.asarray([s.name for s in scopes()])

