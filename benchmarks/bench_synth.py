"""Benchmark of ``shengxin synth``: generation time per tier, scaling, and a naive baseline.

Run: ``python benchmarks/bench_synth.py [--district] [--province]``

Prints, for each tier, the wall time of a full generation (all twelve department files, truth and
manifest) and its throughput in enterprise-months per second, then two baselines measured in the
same process, because absolute times on a shared machine do not compare across runs:

* the same generator on a tier a quarter the size of the demo tier (linear scaling: the time per
  enterprise should stay about the same);
* the monthly-series stage written as a naive per enterprise-month Python loop (same model,
  fewer features) against the vectorised stage, on the same 5,000-enterprise population.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import random
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.reference.district import load_district
from shengxin.synth.calendar import Timeline, parse_month
from shengxin.synth.events import plan_events
from shengxin.synth.generate import TIERS, SynthConfig, generate
from shengxin.synth.population import build_population, neighbour_towns
from shengxin.synth.profiles import sector_array
from shengxin.synth.series import SeriesGenerator


def timed_generation(enterprises: int, months: int = 36) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        manifest = generate(SynthConfig(enterprises=enterprises, months=months), Path(tmp))
        seconds = time.perf_counter() - start
    rows = sum(f["rows"] for f in manifest["files"])
    return seconds, rows


def series_stage(enterprises: int, months: int = 36) -> tuple[float, float, int]:
    """The monthly-series stage on one population, two ways, writing the three monthly tables.

    Returns (vectorised seconds, naive seconds, enterprise-months). The naive version computes
    the same model (level, sector seasonality with the Spring Festival, growth, AR(1) and
    independent noise, tax rate, headcount, electricity) one enterprise-month at a time in Python
    and writes rows with the csv module; it skips events, quarterly filing and missing rows, so it
    does less than the vectorised code.
    """
    district = load_district(DEFAULT_DISTRICT_FILE)
    tl = Timeline(parse_month("2026-10"), months)
    pop = build_population(np.random.default_rng(1), enterprises, tl, district)
    neighbours = neighbour_towns(DEFAULT_DISTRICT_FILE)
    plan = plan_events(np.random.default_rng(2), pop, tl, neighbours, district.full_name)
    gen = SeriesGenerator(pop, plan, tl)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        chunk = gen.simulate(0, enterprises, np.random.default_rng(3))
        for name, table in (("tax", chunk.tax), ("social", chunk.social), ("electricity", chunk.electricity)):
            pacsv.write_csv(table, str(Path(tmp) / f"{name}.csv"))
        vectorised = time.perf_counter() - start

        rng = random.Random(3)
        noise = sector_array("noise")
        start = time.perf_counter()
        files = [open(Path(tmp) / f"naive_{k}.csv", "w", newline="", encoding="utf-8") for k in range(3)]
        writers = [csv.writer(f) for f in files]
        t0 = tl.window_start - tl.start
        for i in range(enterprises):
            s = int(pop.sector[i])
            sigma = float(noise[s])
            level = float(pop.revenue[i]) * 1e4 / 12
            ar = rng.gauss(0, 1)
            for j in range(len(tl.horizon)):
                month = int(tl.horizon[j])
                ar = 0.6 * ar + 0.8 * rng.gauss(0, 1)
                if j < t0 or month < pop.founded_month[i] or month > pop.last_month[i]:
                    continue
                years = (month - tl.as_of) / 12
                trend = math.exp(float(pop.growth[i]) * years)
                shock = math.exp(sigma * (0.6 * ar + 0.8 * rng.gauss(0, 1)))
                revenue = level * gen.season.revenue[s, j] * trend * shock
                tax = revenue * float(pop.tax_rate[i]) * math.exp(0.25 * rng.gauss(0, 1))
                staff = float(pop.employees[i]) * math.exp(0.5 * float(pop.growth[i]) * years)
                head = round(staff * float(pop.coverage[i]))
                kwh_level = float(pop.kwh_per_wan[i]) * float(pop.revenue[i]) / 12
                kwh = round(kwh_level * gen.season.electricity[s, j] * trend)
                period = f"{month // 12}{month % 12 + 1:02d}"
                writers[0].writerow([pop.uscc[i], period, f"{revenue:.2f}", f"{tax:.2f}"])
                writers[1].writerow([pop.uscc[i], f"{month // 12}-{month % 12 + 1:02d}", head])
                writers[2].writerow([pop.uscc[i], f"{month // 12}-{month % 12 + 1:02d}", kwh])
        for f in files:
            f.close()
        naive = time.perf_counter() - start
    return vectorised, naive, enterprises * months


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", action="store_true", help=f"also run the {TIERS['district']:,} tier")
    parser.add_argument("--province", action="store_true", help=f"also run the {TIERS['province']:,} tier")
    args = parser.parse_args()
    months = 36
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"date: {time.strftime('%Y-%m-%d')}\n")

    tiers = [("quarter-demo (baseline)", TIERS["demo"] // 4), ("demo", TIERS["demo"])]
    if args.district:
        tiers.append(("district", TIERS["district"]))
    if args.province:
        tiers.append(("province", TIERS["province"]))
    print(f"{'tier':<24}{'enterprises':>12}{'seconds':>10}{'rows':>12}{'ent-months/s':>14}{'µs/enterprise':>15}")
    results = {}
    for name, n in tiers:
        seconds, rows = timed_generation(n, months)
        results[name] = seconds / n
        print(f"{name:<24}{n:>12,}{seconds:>10.2f}{rows:>12,}{n * months / seconds:>14,.0f}{seconds / n * 1e6:>15.1f}")
    base = results["quarter-demo (baseline)"]
    print("\nscaling (time per enterprise relative to the quarter-demo tier; 1.0 = linear):")
    for name, per in results.items():
        print(f"  {name:<22} {per / base:.2f}")

    sample = 5_000
    vectorised, naive, cells = series_stage(sample, months)
    print(f"\nmonthly-series stage, {sample:,} enterprises x {months} months, same process:")
    rate = "enterprise-months/s"
    print(f"  vectorised (numpy blocks, pyarrow CSV): {vectorised:6.2f} s = {cells / vectorised:>10,.0f} {rate}")
    print(f"  naive per-row Python loop, csv module:  {naive:6.2f} s = {cells / naive:>10,.0f} {rate}")
    print(f"  ratio: {naive / vectorised:.1f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
