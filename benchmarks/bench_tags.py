"""Benchmark of ``shengxin tags compute``: every shipped tag for a district and a province.

Run: ``python benchmarks/bench_tags.py [--sizes 232800,1000000] [--baseline-sample 400]``
(needs the ``bench`` extra for pandas: ``pip install -e .[bench]``).

For each size it generates the data hub's canonical tables directly with numpy/pyarrow — 36 months
of tax (40% quarterly filers), social-insurance and electricity series, three annual reports,
certifications, patents, financing, court and market-regulation lists, the survey list — publishes
them as a hub snapshot, then runs the real computation (compile → plan → one DuckDB query →
sparse + evidence Parquet → atomic publish) in a fresh process and reports its wall time and peak
resident memory. Targets on the 2-core machine: 232,800 enterprises ≤ 5 s, 1,000,000 ≤ 20 s.

Baseline, in the same run: the same definitions computed the way a typical Python team would —
pandas frames grouped by enterprise, then for each tag a row-wise ``DataFrame.apply`` that
evaluates the tag for one enterprise at a time (nothing shared between tags) — on a sample of
enterprises, extrapolated linearly to the full size, reported as a ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

AS_OF = dt.date(2026, 10, 31)
MONTHS = 36
BLOCK = 50_000
WAN = 1_000_000


def _uscc(ids: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(np.char.add("91330110", np.char.zfill(ids.astype(str), 9)), "X"))


def _month_dates(months: int) -> np.ndarray:
    last = np.datetime64(AS_OF.replace(day=1), "M")
    return (last - np.arange(months)[::-1]).astype("datetime64[D]")


def generate(n: int, folder: Path, seed: int = 7) -> dict[str, list[Path]]:
    """Canonical tables for ``n`` enterprises in ``folder`` (one Parquet file per table)."""
    from shengxin.enterprises.hub.tables import load_tables

    rng = np.random.default_rng(seed)
    defs = load_tables()
    writers: dict[str, pq.ParquetWriter] = {}
    paths: dict[str, list[Path]] = {}

    def write(name: str, columns: dict) -> None:
        schema = defs[name].arrow_schema()
        rows = len(next(iter(columns.values())))
        lineage = {"_source": pa.array(["bench"] * rows), "_file": pa.array([f"{name}.parquet"] * rows),
                   "_row": pa.array(np.arange(rows, dtype=np.int64)), "_run": pa.array(["bench-run"] * rows)}
        table = pa.table({f.name: (columns.get(f.name) if f.name in columns else lineage.get(f.name, pa.nulls(rows, f.type)))
                          for f in schema}, schema=schema)
        if name not in writers:
            paths[name] = [folder / f"{name}.parquet"]
            writers[name] = pq.ParquetWriter(paths[name][0], schema, compression="zstd")
        writers[name].write_table(table)

    months = _month_dates(MONTHS)
    classes = np.array(["6511", "6513", "6432", "5193", "5292", "5111", "5211", "3911", "3841", "2710", "3562",
                        "4710", "7010", "7211", "7340", "7511", "6210", "5411", "8710", "0111"])
    towns = np.array(["330110005", "330110009", "330110010", "330110011", "330110012", "330110013", "330110014",
                      "330110109", "330110110", "330110111", "330110112", "330110113"])
    forms = np.array(["有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）", "股份有限公司（非上市、自然人投资或控股）",
                      "有限合伙企业", "个人独资企业", "有限责任公司（外国法人独资）"])
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        ids = np.arange(start, start + m)
        uscc = _uscc(ids)
        established = (np.datetime64("2026-10-31") - rng.integers(0, 30 * 365, m).astype("timedelta64[D]"))
        status = rng.choice(np.array(["active", "moved_out", "deregistered"]), m, p=[0.93, 0.02, 0.05])
        write("enterprises", {
            "uscc": uscc, "name": pa.array(np.char.add("企业", ids.astype(str))),
            "established_on": pa.array(established), "legal_form": pa.array(rng.choice(forms, m)),
            "industry_code": pa.array(rng.choice(classes, m)),
            "registered_capital_fen": pa.array((10 ** rng.uniform(4, 9, m)).astype(np.int64) * 100),
            "town_code": pa.array(rng.choice(towns, m)), "status": pa.array(status),
            "status_changed_on": pa.array(np.where(status == "active", np.datetime64("NaT"),
                                                    np.datetime64("2025-06-30")).astype("datetime64[D]")),
        })
        level = (10 ** rng.normal(5.5, 1.0, m)).astype(np.int64) * 100  # monthly revenue, fen
        growth = rng.normal(1.05, 0.2, m).clip(0.2, 3)
        trend = growth[:, None] ** (np.arange(MONTHS)[None, :] / 12)
        revenue = (level[:, None] * trend * rng.uniform(0.8, 1.2, (m, MONTHS))).astype(np.int64)
        present = rng.random((m, MONTHS)) > 0.03
        quarterly = rng.random(m) < 0.4
        quarter_end = np.isin(months.astype("datetime64[M]").astype(int) % 12, [2, 5, 8, 11])
        present &= ~quarterly[:, None] | quarter_end[None, :]
        rows_e, rows_m = np.nonzero(present)
        write("monthly_tax", {"uscc": uscc.take(pa.array(rows_e)), "month": pa.array(months[rows_m]),
                              "revenue_fen": pa.array(revenue[rows_e, rows_m] * np.where(quarterly[rows_e], 3, 1)),
                              "tax_fen": pa.array((revenue[rows_e, rows_m] * 0.03).astype(np.int64))})
        heads = (10 ** rng.normal(1.0, 0.6, m)).astype(np.int64)
        hc = (heads[:, None] * trend).astype(np.int64)
        present = rng.random((m, MONTHS)) > 0.05
        rows_e, rows_m = np.nonzero(present)
        write("monthly_social_insurance", {"uscc": uscc.take(pa.array(rows_e)), "month": pa.array(months[rows_m]),
                                           "headcount": pa.array(hc[rows_e, rows_m])})
        metered = rng.random(m) < 0.6
        kwh = (10 ** rng.normal(3.5, 0.8, m))[:, None] * trend
        present = (rng.random((m, MONTHS)) > 0.05) & metered[:, None]
        rows_e, rows_m = np.nonzero(present)
        cents = np.round(kwh[rows_e, rows_m] * 100).astype(np.int64)
        write("monthly_electricity", {"uscc": uscc.take(pa.array(rows_e)), "month": pa.array(months[rows_m]),
                                      "electricity_kwh": hundredths(cents)})
        years = np.array([2023, 2024, 2025])
        ye, yy = np.repeat(np.arange(m), 3), np.tile(years, m)
        annual_rev = level[ye] * 12
        write("annual_finance", {"uscc": uscc.take(pa.array(ye)), "year": pa.array(yy),
                                 "employees": pa.array(heads[ye]), "revenue_fen": pa.array(annual_rev),
                                 "assets_fen": pa.array((annual_rev * rng.uniform(0.3, 3, len(ye))).astype(np.int64)),
                                 "rd_expense_fen": pa.array((annual_rev * rng.choice([0, 0.01, 0.03, 0.06], len(ye))).astype(np.int64))})
        _events(rng, uscc, ids, m, write)
    for w in writers.values():
        w.close()
    return paths


def hundredths(cents: np.ndarray) -> pa.Array:
    """Integer hundredths as exact decimal(18,2) values (the unscaled 128-bit integers directly)."""
    unscaled = np.zeros((len(cents), 2), dtype=np.int64)
    unscaled[:, 0] = cents
    unscaled[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(unscaled.tobytes())])


def _events(rng, uscc: pa.Array, ids: np.ndarray, m: int, write) -> None:
    def dates(k: int, days: int = 3000) -> pa.Array:
        return pa.array(np.datetime64("2026-10-31") - rng.integers(-60, days, k).astype("timedelta64[D]"))

    def firms(rate: float, max_per: int) -> np.ndarray:
        counts = np.where(rng.random(m) < rate, rng.integers(1, max_per + 1, m), 0)
        return np.repeat(np.arange(m), counts)

    f = firms(0.35, 12)
    kinds = np.array(["invention_patent", "utility_model", "design_patent", "software_copyright"])
    write("ip_rights", {"uscc": uscc.take(pa.array(f)), "kind": pa.array(rng.choice(kinds, len(f))),
                        "registration_no": pa.array(np.char.add(np.char.add("R", ids[f].astype(str)), np.char.add("-", np.arange(len(f)).astype(str)))),
                        "granted_on": dates(len(f))})
    f = firms(0.12, 3)
    kinds = np.array(["high_tech", "tech_sme", "innovative_sme", "specialised_sme", "little_giant"])
    certified = np.datetime64("2026-10-31") - rng.integers(0, 2000, len(f)).astype("timedelta64[D]")
    write("certifications", {"uscc": uscc.take(pa.array(f)), "kind": pa.array(rng.choice(kinds, len(f), p=[.3, .35, .2, .12, .03])),
                             "certificate_no": pa.array(np.char.add("C", np.arange(len(f)).astype(str))),
                             "certified_on": pa.array(certified), "valid_until": pa.array(certified + np.timedelta64(3 * 365, "D"))})
    f = firms(0.02, 3)
    write("financing", {"uscc": uscc.take(pa.array(f)), "financed_on": dates(len(f)),
                        "round": pa.array(rng.choice(np.array(["angel", "a", "b", "c", "strategic"]), len(f))),
                        "amount_fen": pa.array(rng.choice([500, 2000, 8000, 20000], len(f)) * WAN)})
    for name, date_col, extra in (("dishonesty_list", "published_on", {"case_no": "D"}),
                                  ("abnormal_operations", "listed_on", {}),
                                  ("penalties", "decided_on", {"decision_no": "P"})):
        f = firms(0.01 if name != "penalties" else 0.03, 2)
        cols = {"uscc": uscc.take(pa.array(f)), date_col: dates(len(f), 1500)}
        for key, prefix in extra.items():
            cols[key] = pa.array(np.char.add(prefix + str(ids[0]) + "-", np.arange(len(f)).astype(str)))
        if name == "abnormal_operations":
            cols[date_col] = pa.array(np.datetime64("2026-10-31") - (np.arange(len(f)) % 1400).astype("timedelta64[D]"))
        if name == "penalties":
            cols["fine_fen"] = pa.array(rng.choice([1000, 50000, 200000], len(f)) * 100)
        if name != "penalties":
            cols["removed_on"] = pa.array(np.where(rng.random(len(f)) < 0.5, np.datetime64("NaT"),
                                                   np.datetime64("2026-03-01")).astype("datetime64[D]"))
        write(name, cols)
    f = firms(0.05, 1)
    scopes = np.array(["industry", "wholesale", "retail", "services"])
    write("survey_list", {"uscc": uscc.take(pa.array(f)), "scope": pa.array(rng.choice(scopes, len(f))),
                          "included_month": pa.array(np.full(len(f), np.datetime64("2024-01-01")))})


def publish(folder: Path, analytic: Path, paths: dict[str, list[Path]]) -> None:
    from shengxin.enterprises.hub.snapshot import SnapshotBuilder, empty_manifest, hub_dir, new_id
    from shengxin.enterprises.hub.tables import load_tables

    root = hub_dir(analytic)
    sid = new_id()
    builder = SnapshotBuilder(root, empty_manifest(), sid)
    defs = load_tables()
    for name, files in paths.items():
        for p in files:
            builder.add_file(name, p, list(defs[name].key))
    builder.publish({"as_of": AS_OF.replace(day=1).isoformat(), "inputs": [], "runs": [],
                     "tables": {name: {"files": [rel for rel, _ in segs], "key": list(defs[name].key),
                                       "rows": sum(pq.read_metadata(p).num_rows for _, p in segs)}
                                for name, segs in builder.tables.items()}})


def _compute_child(analytic: str, queue) -> None:
    from shengxin.config import DEFAULT_DISTRICT_FILE
    from shengxin.reference.district import load_district
    from shengxin.tags.catalogue import load_shipped
    from shengxin.tags.compute import compute

    district = load_district(DEFAULT_DISTRICT_FILE)
    catalogue = load_shipped(district)
    start = time.perf_counter()
    result = compute(catalogue, district, Path(analytic), as_of=AS_OF)
    seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "tags": result.tags, "rows": result.rows, "enterprises": result.enterprises})


def measure_compute(analytic: Path) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_compute_child, args=(str(analytic), queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def baseline(analytic: Path, sample: int) -> dict:
    """The pandas way: frames grouped by enterprise, each tag a row-wise apply (nothing shared)."""
    import pandas as pd

    from shengxin.config import DEFAULT_DISTRICT_FILE
    from shengxin.engine.evaluate import Facts, FactsEnv, evaluate
    from shengxin.enterprises import store
    from shengxin.reference.district import load_district
    from shengxin.tags.catalogue import compile_at, load_shipped

    district = load_district(DEFAULT_DISTRICT_FILE)
    compiled, _ = compile_at(load_shipped(district), AS_OF, district)
    snap = store.current_snapshot(analytic)
    frames = {name: pd.read_parquet(snap.table_files(name)[0]) for name in snap.manifest["tables"]}
    ent = frames.pop("enterprises").head(sample)
    established = pd.to_datetime(ent["established_on"])
    ent = ent[established.isna() | (established <= pd.Timestamp(AS_OF))]
    chosen = set(ent["uscc"])
    prep_start = time.perf_counter()
    grouped = {name: {u: g.to_dict("records") for u, g in df[df["uscc"].isin(chosen)].groupby("uscc")}
               for name, df in frames.items()}
    records = ent.to_dict("records")
    for r in [*records, *(r for t in grouped.values() for g in t.values() for r in g)]:
        for k, v in r.items():
            if isinstance(v, pd.Timestamp):
                r[k] = v.date()
            elif v is pd.NaT or v is None or (isinstance(v, float) and np.isnan(v)):
                r[k] = None
    facts = [Facts(r, {name: grouped[name].get(r["uscc"], []) for name in grouped}) for r in records]
    frame = pd.DataFrame({"i": range(len(facts))})
    prep = time.perf_counter() - prep_start  # grouping the sample's rows: not extrapolated
    start = time.perf_counter()
    results = {}
    for tag_id, tag in compiled.items():
        ranks: dict = {}  # a typical team computes a rank column once per tag
        results[tag_id] = frame["i"].apply(
            lambda i: evaluate(tag.condition, FactsEnv(facts[i], AS_OF, facts, ranks)) is True)
    seconds = time.perf_counter() - start
    return {"sample": len(facts), "prep": prep, "seconds": seconds, "per_enterprise": seconds / max(1, len(facts))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="232800,1000000")
    parser.add_argument("--baseline-sample", type=int, default=400)
    parser.add_argument("--keep", help="keep the generated data in this folder")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"date {dt.date.today().isoformat()}")
    for n in (int(s) for s in args.sizes.split(",")):
        tmp = Path(args.keep or tempfile.mkdtemp(prefix="bench-tags-"))
        analytic = tmp / f"analytic-{n}"
        folder = tmp / f"inputs-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        paths = generate(n, folder)
        rows = sum(pq.read_metadata(p).num_rows for ps in paths.values() for p in ps)
        publish(folder, analytic, paths)  # moves the files into the hub snapshot
        print(f"\n{n:,} enterprises: generated {rows:,} canonical rows in {time.perf_counter() - t:.1f} s")
        result = measure_compute(analytic)
        print(f"  tags compute: {result['tags']} tags, {result['enterprises']:,} enterprises tagged, "
              f"{result['rows']:,} tag rows — {result['seconds']:.2f} s, peak RSS {result['peak_mib']:.0f} MiB")
        if args.baseline_sample:
            b = baseline(analytic, args.baseline_sample)
            extrapolated = b["per_enterprise"] * result["enterprises"]
            print(f"  baseline (pandas, per tag, row-wise apply) on {b['sample']:,} enterprises: {b['seconds']:.1f} s "
                  f"for the tags (+{b['prep']:.1f} s grouping, not extrapolated) → {extrapolated:,.0f} s extrapolated "
                  f"to {result['enterprises']:,}; ratio {extrapolated / result['seconds']:,.0f}× slower")
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
