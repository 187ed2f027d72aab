"""Benchmark of signal detection: every signal for 232,800 enterprises × 36 months.

Run: ``python benchmarks/bench_signals.py [--enterprises 232800] [--months 36] [--sample 2000]
[--repeat 2] [--json] [--cockpit-data-dir DIR]``

1. Canonical inputs are generated directly with numpy/pyarrow (the data hub's table shapes): a
   district-like mix — about a third of the enterprises file tax monthly, the rest quarterly;
   insured headcount for most, metered electricity for about half; seasonal shapes with a Spring
   Festival dip that moves between January and February; noise; planted drops, layoffs and
   relocations; certification, financing and credit lists. Generation is not timed.
2. Detection runs in a child process (so its peak resident memory is its own): load the panel
   from Parquet through DuckDB, compute all 11 signals, assemble the result table. Best of
   ``--repeat`` runs, with the per-signal split of the best run.
3. Baseline in the same child process: the way a typical Python team would do it — per enterprise,
   a pandas DataFrame of its months, a rolling 12-month median, a flag of sustained drops —
   for revenue drops only, timed on ``--sample`` enterprises and extrapolated to all; reported as
   the ratio to the vectorised detection of *all* signals.
4. With ``--cockpit-data-dir`` (a data directory holding an ingested district and a signal
   snapshot, e.g. after ``shengxin synth --enterprises 232800`` + ``ingest`` + ``signals detect``),
   the cockpit page is served and loaded in headless Chromium; the time to the page's load event
   and to all charts drawn is reported (cold, then warm).

The machine is shared: compare the ratio, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SECTORS = (  # (industry classes, share, revenue 元/month median, Spring Festival dip)
    (("6513", "6511", "6520"), 0.30, 150_000, 0.10),
    (("5191", "5211", "5292"), 0.30, 120_000, 0.08),
    (("3411", "3484", "3990"), 0.15, 600_000, 0.35),
    (("7519", "7512"), 0.15, 60_000, 0.10),
    (("4710", "4811"), 0.10, 250_000, 0.50),
)
TOWNS = ("330110005", "330110009", "330110010", "330110011", "330110012", "330110013",
         "330110014", "330110109", "330110110", "330110111", "330110112", "330110113")


def generate(folder: Path, n: int, months: int, seed: int = 2026) -> dict:
    """Write the canonical tables of a synthetic district into ``folder``."""
    from shengxin.enterprises.hub.tables import get_table

    rng = np.random.default_rng(seed)
    as_of = np.datetime64("2026-10", "M")
    axis = np.arange(as_of - months + 1, as_of + 1)
    moy = axis.astype(np.int64) % 12 + 1
    festival = np.isin(axis, np.asarray(["2024-02", "2025-01", "2026-02"], dtype="datetime64[M]"))
    sector = rng.choice(len(SECTORS), size=n, p=[s[1] for s in SECTORS])
    classes = np.asarray([SECTORS[s][0][i % len(SECTORS[s][0])] for i, s in enumerate(sector)])
    level = np.asarray([SECTORS[s][2] for s in sector]) * np.exp(rng.normal(0, 1.0, n))
    dip = np.asarray([SECTORS[s][3] for s in sector])
    seasonal = 1 + 0.08 * np.sin(2 * np.pi * (moy - 3) / 12)[None, :] - dip[:, None] * festival[None, :]
    growth = rng.normal(0.05, 0.12, n)
    trend = np.exp(growth[:, None] * (np.arange(months) - months + 1)[None, :] / 12)
    noise = np.exp(rng.normal(0, 0.15, (n, months)))
    revenue = level[:, None] * seasonal * trend * noise
    monthly = (level * 12 >= 5_000_000) | (rng.random(n) < 0.1)
    # planted events: drops, layoffs, relocations (about 1 %, 0.8 %, 0.4 %)
    kind = rng.choice(4, size=n, p=[0.978, 0.01, 0.008, 0.004])
    start = rng.integers(8, months - 2, size=n)
    after = np.arange(months)[None, :] >= start[:, None]
    revenue = np.where((kind == 1)[:, None] & after, revenue * rng.uniform(0.4, 0.7, n)[:, None], revenue)
    head0 = np.maximum(1, np.round(level / 25_000 * np.exp(rng.normal(0, 0.3, n)))).astype(np.int64)
    head = np.round(head0[:, None] * np.exp(rng.normal(0, 0.01, (n, months)))).astype(np.int64)
    head = np.where((kind == 2)[:, None] & after, np.round(head * 0.6), head).astype(np.int64)
    kwh = level[:, None] / 20 * seasonal ** 0.5 * np.exp(rng.normal(0, 0.1, (n, months)))
    moved = (kind == 3)[:, None] & after
    has_head = rng.random(n) < 0.9
    metered = (rng.random(n) < 0.5) | (head0 >= 30)
    present_tax = np.where(monthly[:, None], rng.random((n, months)) > 0.004, (moy % 3 == 0)[None, :]) & ~moved
    quarter_sum = np.stack([revenue[:, max(0, j - 2): j + 1].sum(axis=1) for j in range(months)], axis=1)
    reported = np.where(monthly[:, None], revenue, quarter_sum)
    present_head = has_head[:, None] & (rng.random((n, months)) > 0.003) & ~moved
    present_kwh = metered[:, None] & (rng.random((n, months)) > 0.004) & ~moved

    uscc = np.char.add("91330110MA", np.char.zfill(np.arange(n).astype(str), 8))
    date = lambda cols: pa.array(axis[cols].astype("datetime64[D]"), type=pa.date32())

    def write(table: str, columns: dict) -> None:
        schema = get_table(table).arrow_schema(lineage=False)
        pq.write_table(pa.table({f.name: columns[f.name] for f in schema}, schema=schema), folder / f"{table}.parquet")

    status = np.where(kind == 3, "moved_out", "active")
    # own mobile numbers; one firm in a hundred gives an agency's number
    phones = np.where(rng.random(n) < 0.01, "0571-00000000", np.char.add("138", np.char.zfill(np.arange(n).astype(str), 8)))
    write("enterprises", {
        "uscc": uscc, "name": np.char.add("基准企业", np.arange(n).astype(str)),
        "established_on": pa.array(np.full(n, np.datetime64("2015-01-01")), type=pa.date32()),
        "legal_form": np.full(n, "有限责任公司"), "industry_code": classes,
        "registered_capital_fen": np.full(n, 100_000_000), "address": np.full(n, "浙江省杭州市余杭区"),
        "town_code": np.asarray(TOWNS)[np.arange(n) % len(TOWNS)], "status": status,
        "status_changed_on": pa.array([dt.date(2026, 9, 1) if k == 3 else None for k in kind], type=pa.date32()),
        "legal_representative": np.full(n, "张三"), "phone": phones,
    })
    r, c = np.nonzero(present_tax)
    write("monthly_tax", {"uscc": uscc[r], "month": date(c), "revenue_fen": np.round(reported[r, c] * 100).astype(np.int64),
                          "tax_fen": np.round(reported[r, c] * 4).astype(np.int64)})
    r, c = np.nonzero(present_head)
    write("monthly_social_insurance", {"uscc": uscc[r], "month": date(c), "headcount": head[r, c]})
    r, c = np.nonzero(present_kwh)
    write("monthly_electricity", {"uscc": uscc[r], "month": date(c),
                                  "electricity_kwh": pa.array(np.round(kwh[r, c]).astype(np.int32)).cast(pa.decimal128(18, 2))})
    k = max(n // 100, 1)
    picks = rng.choice(n, size=(5, k), replace=False)
    days = lambda: pa.array(np.datetime64("2024-01-01") + rng.integers(0, 1030, k).astype("timedelta64[D]"), type=pa.date32())
    write("certifications", {"uscc": uscc[picks[0]], "kind": np.full(k, "high_tech"),
                             "certificate_no": np.char.add("GR", np.arange(k).astype(str)), "certified_on": days(),
                             "valid_until": pa.array(np.full(k, np.datetime64("2029-12-31")), type=pa.date32())})
    write("financing", {"uscc": uscc[picks[1]], "financed_on": days(), "round": np.full(k, "a"),
                        "amount_fen": np.full(k, 1_000_000_000)})
    write("dishonesty_list", {"uscc": uscc[picks[2]], "name": np.full(k, "x"), "case_no": np.char.add("案", np.arange(k).astype(str)),
                              "filed_on": days(), "published_on": days(), "removed_on": pa.nulls(k, pa.date32())})
    write("abnormal_operations", {"uscc": uscc[picks[3]], "listed_on": days(), "reason": np.full(k, "无法联系"),
                                  "removed_on": pa.nulls(k, pa.date32())})
    write("survey_list", {"uscc": uscc[picks[4]], "name": np.full(k, "x"), "scope": np.full(k, "industry"),
                          "included_month": pa.array(np.full(k, np.datetime64("2024-01-01")), type=pa.date32())})
    # shareholder register (two natural persons per enterprise) and the outside-registrations feed
    # (3 % of n companies; each shares a shareholder or, every second one, the phone of a district firm)
    person = np.char.add("股东", np.arange(2 * n).astype(str))
    masked = np.char.add("330106********", np.char.zfill((np.arange(2 * n) % 10_000).astype(str), 4))
    m = max(n * 3 // 100, 1)
    o_uscc = np.char.add("91330113MA", np.char.zfill(np.arange(m).astype(str), 8))
    linked = rng.choice(n, size=m, replace=False)
    shares = np.arange(m) % 2 == 0
    pct = pa.array(np.full(2 * n, 50.0)).cast(pa.decimal128(7, 4))
    write("shareholders", {"uscc": np.repeat(uscc, 2), "shareholder_name": person, "shareholder_kind": np.full(2 * n, "person"),
                           "shareholder_id": masked, "subscribed_fen": np.full(2 * n, 1_000_000), "share_pct": pct})
    write("outside_shareholders", {
        "uscc": o_uscc, "shareholder_name": np.where(shares, person[2 * linked], np.char.add("外", person[:m])),
        "shareholder_kind": np.full(m, "person"), "shareholder_id": masked[2 * linked],
        "subscribed_fen": np.full(m, 1_000_000), "share_pct": pct[:m]})
    write("outside_enterprises", {
        "uscc": o_uscc, "name": np.char.add("区外企业", np.arange(m).astype(str)),
        "established_on": pa.array(np.datetime64("2024-01-01") + rng.integers(0, 1000, m).astype("timedelta64[D]"), type=pa.date32()),
        "industry_code": classes[linked], "region_code": np.full(m, "330113"),
        "registration_authority": np.full(m, "杭州市临平区市场监督管理局"), "address": np.full(m, "浙江省杭州市临平区"),
        "legal_representative": np.full(m, "李四"),
        "phone": np.where(shares, np.char.add("139", np.char.zfill(np.arange(m).astype(str), 8)), phones[linked]),
    })
    return {"enterprises": n, "months": months, "tax_rows": int(present_tax.sum()), "headcount_rows": int(present_head.sum()),
            "electricity_rows": int(present_kwh.sum()), "monthly_filers": int(monthly.sum())}


def naive_revenue_drops(folder: Path, sample: int) -> tuple[float, int]:
    """Per-enterprise pandas: rolling median baseline and sustained-drop flags, one enterprise at a time."""

    tax = pq.read_table(folder / "monthly_tax.parquet").to_pandas()
    firms = tax["uscc"].drop_duplicates().sort_values().head(sample).tolist()
    tax = tax[tax["uscc"].isin(set(firms))]
    start = time.perf_counter()
    found = 0
    for uscc in firms:  # the per-enterprise loop a typical team writes
        s = tax[tax["uscc"] == uscc].set_index("month")["revenue_fen"].astype(float).sort_index()
        if len(s) < 8:
            continue
        base = s.rolling(12, min_periods=5).median().shift(2)
        low = (s < 0.7 * base)
        run = low.groupby((~low).cumsum()).cumcount() + 1
        if ((run >= 2) & low).any():
            found += 1
    return time.perf_counter() - start, found


def measure(folder: Path, repeat: int, sample: int, hub: Path | None = None) -> dict:
    """Child process: time detection (best of ``repeat``), the naive baseline, peak memory.

    With ``hub`` (an analytic directory), detection reads the data hub's current snapshot instead
    of the generated folder; the naive baseline still runs on the generated folder."""
    from shengxin.config import DEFAULT_DISTRICT_FILE
    from shengxin.reference.district import load_district
    from shengxin.signals.catalogue import load_catalogue
    from shengxin.signals.detect import run_detection
    from shengxin.signals.inputs import connect, folder_source

    district = load_district(DEFAULT_DISTRICT_FILE)
    catalogue = load_catalogue()
    best = None
    for _ in range(repeat):
        if hub is not None:
            from shengxin.signals.inputs import open_hub

            con, input_id = open_hub(hub)
        else:
            source = folder_source(folder)
            con, input_id = connect(source), source.snapshot_id
        start = time.perf_counter()
        result = run_detection(con, district, catalogue, input_snapshot_id=input_id)
        elapsed = time.perf_counter() - start
        con.close()
        if best is None or elapsed < best[0]:
            best = (elapsed, dict(result.timings), result.table.num_rows, result.enterprises)
        del result  # the panel and frames of one run are freed before the next
    elapsed, timings, rows, enterprises = best
    peak_detect = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    naive_seconds, naive_found = naive_revenue_drops(folder, sample)
    naive_all = naive_seconds / sample * enterprises
    return {
        "seconds": round(elapsed, 3), "peak_rss_mib": round(peak_detect, 1), "signals": rows,
        "per_signal_seconds": {k: round(v, 3) for k, v in timings.items()},
        "naive_sample": sample, "naive_sample_seconds": round(naive_seconds, 3),
        "naive_extrapolated_seconds": round(naive_all, 1), "naive_revenue_drop_firms_in_sample": naive_found,
        "ratio_naive_over_vectorised": round(naive_all / elapsed, 1),
    }


def cockpit_load(data_dir: Path) -> dict:
    """Serve ``data_dir`` and load /cockpit in headless Chromium: load event and charts drawn (ms)."""
    import socket

    import httpx
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(data_dir))
    subprocess.run([sys.executable, "-m", "shengxin", "demo", "setup", "--no-data"], env=env, check=True,
                   capture_output=True, timeout=600)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "shengxin", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        out = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", "shengxin-demo")
            page.click("button[type=submit]")
            page.wait_for_selector("[data-testid=main-nav]")
            for label in ("cold", "warm"):
                start = time.perf_counter()
                page.goto(f"{base}/cockpit")
                page.wait_for_selector("#cockpit[data-rendered=true]", timeout=120_000)
                charts_ms = (time.perf_counter() - start) * 1000
                load_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
                out[label] = {"load_event_ms": round(load_ms), "charts_drawn_ms": round(charts_ms)}
            browser.close()
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=232_800)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--sample", type=int, default=2_000, help="enterprises timed for the naive baseline")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cockpit-data-dir", type=Path, default=None)
    parser.add_argument("--hub-data-dir", type=Path, default=None,
                        help="also time detection on this data directory's ingested district (e.g. the synth district tier)")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--hub", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.repeat, args.sample, args.hub)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-signals-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        shape = generate(folder, args.enterprises, args.months)
        generated = time.perf_counter() - started
        child = subprocess.run([sys.executable, __file__, "--measure", str(folder), "--repeat", str(args.repeat),
                                "--sample", str(args.sample)], capture_output=True, text=True)
        if child.returncode != 0:
            sys.exit(f"detection run failed:\n{child.stderr[-3000:]}")
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        hub_figures = None
        if args.hub_data_dir is not None:
            child = subprocess.run([sys.executable, __file__, "--measure", str(folder), "--repeat", str(args.repeat),
                                    "--sample", str(args.sample), "--hub", str(args.hub_data_dir / "analytic")],
                                   capture_output=True, text=True)
            if child.returncode != 0:
                sys.exit(f"detection run on the hub failed:\n{child.stderr[-3000:]}")
            hub_figures = json.loads(child.stdout.strip().splitlines()[-1])
    report = {
        "benchmark": "signals", "date": dt.date.today().isoformat(), "machine": platform.platform(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "inputs": shape,
        "generation_seconds": round(generated, 1), **figures,
    }
    if hub_figures is not None:
        report["synth_district"] = {k: hub_figures[k] for k in ("seconds", "peak_rss_mib", "signals",
                                                                 "per_signal_seconds")}
    if args.cockpit_data_dir is not None:
        report["cockpit_page"] = cockpit_load(args.cockpit_data_dir)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"signals for {shape['enterprises']:,} enterprises × {shape['months']} months "
          f"({shape['tax_rows']:,} tax, {shape['headcount_rows']:,} headcount, {shape['electricity_rows']:,} electricity rows)")
    print(f"  vectorised detection, all 11 signals: {figures['seconds']:.2f} s (best of {args.repeat}), "
          f"peak RSS {figures['peak_rss_mib']:.0f} MiB, {figures['signals']:,} signal episodes")
    print(f"  naive pandas per enterprise (revenue drops only): {figures['naive_sample_seconds']:.2f} s for "
          f"{figures['naive_sample']:,} → {figures['naive_extrapolated_seconds']:.0f} s extrapolated; "
          f"ratio {figures['ratio_naive_over_vectorised']:.0f}×")
    print("  per signal:", ", ".join(f"{k} {v:.2f}s" for k, v in figures["per_signal_seconds"].items()))
    if "synth_district" in report:
        s = report["synth_district"]
        print(f"  on the ingested synthetic district: {s['seconds']:.2f} s, peak RSS {s['peak_rss_mib']:.0f} MiB, "
              f"{s['signals']:,} signal episodes")
    if "cockpit_page" in report:
        print("  cockpit page:", report["cockpit_page"])


if __name__ == "__main__":
    main()
