"""Benchmark of ``shengxin ingest``: throughput in data items per second, peak memory, scaling.

Run: ``python benchmarks/bench_ingest.py [--sizes 6e6,2e7,6e7] [--json OUT]``

A *data item* is one field value of one row (a 4-column row is 4 items). For each size the script
generates, with pyarrow, a registry of 232,800 enterprises and two monthly deliveries of the data
contract with realistic defects (0.2 % of rows: lower-case and mistyped codes, impossible months,
negative amounts, unknown enterprises, exact repeats):

* ``税收月报.parquet`` — Parquet, 4 items per row (code, period, revenue, tax as decimal(18,2));
* ``用电月报.csv`` — CSV UTF-8, 3 items per row (code, month, kWh as text).

Each ingest runs in its own subprocess (fresh data directory, the registry ingested first and not
timed) so that its peak resident memory (``VmHWM``, the process's high-water mark) is its own. The timed part is the whole
``ingest()`` call: fingerprint, both validation passes, quarantine, merge and atomic publication.

Baseline, measured in this process right before each run (the machine is shared and noisy, so
absolute times do not compare across runs — the ratio does): a naive validator that reads the same
file row by row in Python (``csv.reader`` for CSV, ``to_pylist`` for Parquet) and checks each value
with the scalar rules (``uscc.check``, a month regex, ``Decimal`` → fen, a set of known codes),
on a sample of the file.

The time for 600 million items is extrapolated from a least-squares line through the three sizes.
Each line also gives the process's CPU time and the machine's load average before the run: on a
shared machine, wall time above CPU time / 2 means the run waited for the cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ENTERPRISES = 232_800
DEFECT_RATE = 0.002
BASELINE_SAMPLE_ROWS = 200_000
TARGET_ITEMS = 600_000_000
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --- input generation (vectorised) --------------------------------------------------------------


def make_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct valid codes ``9133011 0…`` with correct check characters (numpy, exact)."""
    alphabet = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    org = rng.choice(len(ALPHABET), size=(n * 2, 9))
    org = np.unique(org, axis=0)[:n]
    rng.shuffle(org)
    head = np.array([ALPHABET.index(c) for c in "91330110"], dtype=np.int64)
    values = np.hstack([np.tile(head, (n, 1)), org])
    weights = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
    check = (31 - (values @ weights) % 31) % 31
    chars = alphabet[np.hstack([values, check[:, None]])]
    return chars.view("S18").ravel().astype(str)


def wrong_check(codes: np.ndarray) -> np.ndarray:
    last = np.array([c[-1] for c in codes])
    replacement = np.where(last == "0", "1", "0")
    return np.char.add(np.array([c[:17] for c in codes]), replacement)


def write_registry(path: Path, codes: np.ndarray) -> None:
    n = len(codes)
    table = pa.table({
        "统一社会信用代码": codes, "企业名称": np.char.add("杭州基准测试企业", np.arange(n).astype(str)),
        "成立日期": np.full(n, "2015-06-01"), "企业类型": np.full(n, "有限责任公司"), "行业代码": np.full(n, "6511"),
        "注册资本(万元)": np.full(n, "100"), "住所": np.full(n, "余杭区文一西路1号"), "所属镇街代码": np.full(n, "330110005"),
        "登记状态": np.full(n, "存续"), "状态变更日期": np.full(n, ""), "法定代表人": np.full(n, "张三"),
        "联系电话": np.full(n, "0571-88880000"),
    })
    buffer = pa.BufferOutputStream()
    pacsv.write_csv(table, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().to_pybytes().decode("utf-8").encode("gbk"))


CHUNK_ROWS = 1_000_000


def _monthly_chunks(codes: np.ndarray, rows: int, rng: np.random.Generator):
    """Enterprise-major rows (each enterprise's months together) in chunks, with defects:
    yields (codes, year, month, bad-month rows, negative rows, order) per chunk, where ``order``
    repeats some rows (exact repeats) right after themselves."""
    months = -(-rows // len(codes))
    ghosts = make_codes(64, np.random.default_rng(99))
    for start in range(0, rows, CHUNK_ROWS):
        index = np.arange(start, min(rows, start + CHUNK_ROWS))
        n = len(index)
        firm, month = index // months, index % months
        year, mon = 2020 + month // 12, month % 12 + 1
        uscc = codes[firm].astype(object)
        defect = rng.random(n) < DEFECT_RATE
        kind = rng.integers(0, 6, size=n)

        def pick(k: int, defect=defect, kind=kind) -> np.ndarray:
            return np.flatnonzero(defect & (kind == k))

        uscc[pick(0)] = np.char.lower(codes[firm[pick(0)]].astype(str))          # accepted
        uscc[pick(1)] = wrong_check(codes[firm[pick(1)]])                       # warned
        uscc[pick(2)] = ghosts[rng.integers(0, 64, size=len(pick(2)))]          # unknown enterprise
        order = np.sort(np.concatenate([np.arange(n), pick(5)]))                # exact repeats
        yield uscc, year, mon, pick(3), pick(4), order


def write_tax_parquet(path: Path, codes: np.ndarray, rows: int, rng: np.random.Generator) -> int:
    """The tax bureau's monthly file: code, period YYYYMM, revenue and tax as decimal(18,2)."""

    def decimal(fen: np.ndarray) -> pa.Array:
        words = np.empty((len(fen), 2), dtype=np.int64)
        words[:, 0], words[:, 1] = fen, fen >> 63
        return pa.Array.from_buffers(pa.decimal128(18, 2), len(fen), [None, pa.py_buffer(words.tobytes())])

    schema = pa.schema([("纳税人识别号", pa.string()), ("所属期", pa.string()),
                        ("营业收入(元)", pa.decimal128(18, 2)), ("实缴税额(元)", pa.decimal128(18, 2))])
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for uscc, year, mon, bad_month, negative, order in _monthly_chunks(codes, rows, rng):
            period = np.char.add(year.astype(str), np.char.zfill(mon.astype(str), 2)).astype(object)
            period[bad_month] = np.char.add(year[bad_month].astype(str), "13")           # impossible month
            revenue = rng.integers(0, 10**11, size=len(uscc))
            revenue[negative] = -revenue[negative] - 1                                  # negative amount
            table = pa.table([pa.array(uscc, pa.string()), pa.array(period, pa.string()), decimal(revenue),
                              decimal(revenue // 17)], schema=schema).take(pa.array(order))
            writer.write_table(table, row_group_size=1 << 18)
            written += table.num_rows
    return written


def write_electricity_csv(path: Path, codes: np.ndarray, rows: int, rng: np.random.Generator) -> int:
    """The power company's monthly file: code, month YYYY-MM, kWh as text with 2 decimals."""
    schema = pa.schema([("统一社会信用代码", pa.string()), ("抄表年月", pa.string()), ("用电量(千瓦时)", pa.string())])
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with pacsv.CSVWriter(path, schema, write_options=pacsv.WriteOptions(quoting_style="needed")) as writer:
        for uscc, year, mon, bad_month, negative, order in _monthly_chunks(codes, rows, rng):
            month = np.char.add(np.char.add(year.astype(str), "-"), np.char.zfill(mon.astype(str), 2)).astype(object)
            month[bad_month] = np.char.add(year[bad_month].astype(str), "-13")
            kwh = rng.integers(0, 10**8, size=len(uscc))
            text = np.char.add(np.char.add((kwh // 100).astype(str), "."), np.char.zfill((kwh % 100).astype(str), 2))
            text = text.astype(object)
            text[negative] = np.char.add("-", text[negative].astype(str))
            table = pa.table([pa.array(uscc, pa.string()), pa.array(month, pa.string()), pa.array(text, pa.string())],
                             schema=schema).take(pa.array(order))
            writer.write_table(table)
            written += table.num_rows
    return written


def peak_rss_mb() -> float:
    """Peak resident memory of this process image (VmHWM: unlike ru_maxrss it does not carry over
    the parent's peak across fork and exec)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the naive baseline -------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-?(\d{2})$")


def _naive_row(code: str, month: str, amounts: list, known: set, check) -> bool:
    result = check(code)
    ok = result.severity != "error" and result.code in known
    m = _MONTH.match(month or "")
    ok &= bool(m) and 1 <= int(m.group(2)) <= 12
    for value in amounts:
        try:
            fen = Decimal(str(value).replace(",", "")) * 100
            ok &= fen == fen.to_integral_value() and fen >= 0
        except InvalidOperation:
            ok = False
    return ok


def naive_items_per_second(path: Path, known: set) -> float:
    """Row-by-row Python validation of the first BASELINE_SAMPLE_ROWS rows."""
    from shengxin.enterprises.uscc import check

    start = time.perf_counter()
    rows = items = 0
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for row in reader:
                _naive_row(row[0], row[1], row[2:], known, check)
                rows += 1
                items += len(row)
                if rows >= BASELINE_SAMPLE_ROWS:
                    break
    else:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
            for row in batch.to_pylist():
                values = list(row.values())
                _naive_row(values[0], values[1], values[2:], known, check)
                rows += 1
                items += len(values)
            if rows >= BASELINE_SAMPLE_ROWS:
                break
    return items / (time.perf_counter() - start)


# --- one measured ingest in a subprocess --------------------------------------------------------


def child(data_dir: Path, registry: Path, delivery: Path) -> None:
    os.environ.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(data_dir))
    from shengxin.enterprises.hub import ingest

    ingest([registry])
    start = time.perf_counter()
    report = ingest([delivery])
    seconds = time.perf_counter() - start
    [f] = [f for f in report.files if f.file.endswith(delivery.name)]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "items": f.items, "rows": f.rows, "accepted": f.accepted,
                      "rejected": f.rejected, "warned": f.warned, "status": f.status,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime, "max_rss_mb": peak_rss_mb()}))


def measured(work: Path, registry: Path, delivery: Path) -> dict:
    data = Path(tempfile.mkdtemp(dir=work, prefix="data-"))
    proc = subprocess.run([sys.executable, __file__, "--child", str(data), str(registry), str(delivery)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"ingest of {delivery} failed:\n{proc.stderr[-3000:]}")
    subprocess.run(["rm", "-rf", str(data)], check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def extrapolate(points: list[tuple[int, float]]) -> float:
    """Seconds for TARGET_ITEMS from a least-squares line through (items, seconds)."""
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    slope, intercept = np.polyfit(x, y, 1) if len(points) > 1 else (y[0] / x[0], 0.0)
    return float(intercept + slope * TARGET_ITEMS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="6e6,2e7,6e7", help="data items per file, comma separated")
    parser.add_argument("--work", type=Path, default=None, help="scratch directory (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*(Path(p) for p in args.child))
        return
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20241)
    codes = make_codes(ENTERPRISES, rng)
    registry = work / "scjg" / "企业登记信息.csv"
    write_registry(registry, codes)
    known = set(codes.tolist())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"pyarrow {pa.__version__}; registry {ENTERPRISES:,} enterprises; defect rate {DEFECT_RATE:.1%}")
    results = []
    for fmt, writer, items_per_row, name in (
        ("parquet", write_tax_parquet, 4, "sw/税收月报.parquet"),
        ("csv", write_electricity_csv, 3, "dl/用电月报.csv"),
    ):
        for size in sizes:
            path = work / f"{fmt}-{size}" / name
            rows = writer(path, codes, size // items_per_row, np.random.default_rng(size))
            baseline = naive_items_per_second(path, known)
            load = os.getloadavg()[0]
            run = measured(work, registry, path)
            rate = run["items"] / run["seconds"]
            results.append({"format": fmt, "target_items": size, "file_rows": rows, "file_mb": path.stat().st_size / 1e6,
                            **run, "items_per_second": rate, "items_per_cpu_second": run["items"] / run["cpu_seconds"],
                            "baseline_items_per_second": baseline, "ratio_to_baseline": rate / baseline,
                            "load_average_before": load})
            print(f"{fmt:8s} {run['items']:>12,} items {run['seconds']:8.2f} s {rate / 1e6:7.2f} M items/s "
                  f"(cpu {run['cpu_seconds']:6.1f} s)  peak RSS {run['max_rss_mb']:7.0f} MB  "
                  f"baseline {baseline / 1e6:5.2f} M items/s  ratio {rate / baseline:6.1f}x  "
                  f"accepted {run['accepted']:,} rejected {run['rejected']:,} warned {run['warned']:,}  "
                  f"(load average {load:.1f})", flush=True)
            path.unlink()
    summary = {}
    for fmt in ("parquet", "csv"):
        points = [(r["items"], r["seconds"]) for r in results if r["format"] == fmt]
        seconds = extrapolate(points)
        summary[fmt] = {"extrapolated_seconds_600M": seconds}
        print(f"{fmt:8s} extrapolated time for {TARGET_ITEMS / 1e6:.0f} million items: {seconds / 60:.1f} min")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "summary": summary}, indent=2), encoding="utf-8")
    if args.work is None:
        subprocess.run(["rm", "-rf", str(work)], check=True)


if __name__ == "__main__":
    main()
