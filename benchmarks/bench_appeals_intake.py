"""Benchmark of appeal intake: 200 concurrent submissions through the Open311 API on loopback.

Run: ``python benchmarks/bench_appeals_intake.py [--concurrent 200] [--sequential 50]
[--database-url postgresql+psycopg://…]``

Starts a real ``shengxin serve`` process on 127.0.0.1 with a fresh SQLite store (or the given
PostgreSQL database, whose tables are created with ``db upgrade``), creates an API key, warms up
(the first submission trains the classifier), then measures in the same run:

* baseline: ``--sequential`` submissions one after another;
* load: ``--concurrent`` submissions sent at once (httpx async, one connection each).

For both it prints p50/p95/p99 latency and throughput, then checks that none was lost: every
response carries a distinct ``service_request_id`` and the store holds exactly those appeals.
Every request has a timeout and the run stops by itself; only loopback is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

TEXTS = [
    ("utilities.power", "园区上周三次停电，生产线被迫停工，请尽快协调供电部门恢复稳定供电。"),
    ("tax.invoice", "增值税专用发票领用额度不足，影响正常开票，申请提高领用数量。"),
    ("talent.housing", "新招聘的研发人员申请人才公寓一直没有排上，希望加快审核。"),
    ("policy.payout", "去年申报的技术改造补助一直没有到账，请帮忙查询兑付进度。"),
    ("land.plant", "企业扩产需要新增三千平方米厂房，希望推荐园区内的闲置空间。"),
]
USCC = "91330110MA2H8K9X1F"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, latencies: list[float], wall: float) -> dict:
    return {"run": name, "requests": len(latencies), "wall_s": round(wall, 3),
            "throughput_rps": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1), "max_ms": round(max(latencies) * 1000, 1),
            "mean_ms": round(statistics.fmean(latencies) * 1000, 1)}


def form(key: str, i: int) -> dict:
    code, description = TEXTS[i % len(TEXTS)]
    return {"api_key": key, "service_code": code, "description": f"{description}（压测第 {i} 件）",
            "attribute[enterprise_name]": f"杭州压测企业{i % 97}有限公司", "attribute[uscc]": USCC,
            "attribute[town_code]": "330110005"}


async def submit(client: httpx.AsyncClient, url: str, data: dict) -> tuple[float, str]:
    started = time.perf_counter()
    response = await client.post(url, data=data)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    return elapsed, response.json()[0]["service_request_id"]


async def sequential(base: str, key: str, n: int, offset: int) -> tuple[list[float], list[str], float]:
    url = f"{base}/api/open311/v2/requests.json"
    latencies, ids = [], []
    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        for i in range(n):
            elapsed, rid = await submit(client, url, form(key, offset + i))
            latencies.append(elapsed)
            ids.append(rid)
        return latencies, ids, time.perf_counter() - started


async def concurrent(base: str, key: str, n: int, offset: int) -> tuple[list[float], list[str], float]:
    url = f"{base}/api/open311/v2/requests.json"
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(submit(client, url, form(key, offset + i)) for i in range(n)))
        wall = time.perf_counter() - started
    return [r[0] for r in results], [r[1] for r in results], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="Use this (empty) database instead of SQLite.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON only.")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-appeals-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DATA_DIR=str(tmp / "data"), SHENGXIN_SECRET_KEY="bench-" + "k" * 40)
    if args.database_url:
        env["SHENGXIN_DATABASE_URL"] = args.database_url

    def cli(*a: str) -> str:
        return subprocess.run([sys.executable, "-m", "shengxin", *a], env=env, check=True, capture_output=True,
                              text=True, timeout=600).stdout

    cli("db", "upgrade")
    key = json.loads(cli("appeals", "keys", "create", "benchmark", "--json"))["api_key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "shengxin", "serve", "--port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"server did not start; see {tmp / 'server.log'}")
        warm_latencies, warm_ids, _ = asyncio.run(sequential(base, key, 3, 0))
        seq_lat, seq_ids, seq_wall = asyncio.run(sequential(base, key, args.sequential, 1000))
        con_lat, con_ids, con_wall = asyncio.run(concurrent(base, key, args.concurrent, 2000))
    finally:
        server.terminate()
        server.wait(timeout=30)

    url = args.database_url or f"sqlite:///{tmp / 'data' / 'shengxin.sqlite3'}"
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT code FROM appeals WHERE channel = 'open311'"))}
    engine.dispose()
    sent = warm_ids + seq_ids + con_ids
    lost = sorted(set(sent) - stored)
    result = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "store": "postgresql" if args.database_url else "sqlite",
        "first_request_ms": round(warm_latencies[0] * 1000, 1),
        "baseline": summary(f"sequential x{args.sequential}", seq_lat, seq_wall),
        "load": summary(f"concurrent x{args.concurrent}", con_lat, con_wall),
        "responses": len(sent), "distinct_ids": len(set(sent)), "stored": len(stored), "lost": lost,
    }
    result["p95_ratio_load_to_baseline"] = round(result["load"]["p95_ms"] / result["baseline"]["p95_ms"], 2)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"machine: {result['machine']}; store: {result['store']}; {result['date']}")
        print(f"first request (trains the classifier): {result['first_request_ms']} ms")
        print(f"{'run':<18}{'n':>5}{'wall s':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        for row in (result["baseline"], result["load"]):
            print(f"{row['run']:<18}{row['requests']:>5}{row['wall_s']:>9}{row['throughput_rps']:>8}"
                  f"{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}{row['max_ms']:>9}")
        print(f"none lost: {not lost} (responses {result['responses']}, distinct ids {result['distinct_ids']}, "
              f"stored {result['stored']}); p95 load/baseline = {result['p95_ratio_load_to_baseline']}")
    if lost or len(set(sent)) != len(sent) or len(stored) != len(sent):
        sys.exit(1)


if __name__ == "__main__":
    main()
