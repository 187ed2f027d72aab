"""Benchmark of payouts: a 50,000-payee no-application round from snapshot rows to the bank file, and
``verify`` over 1,000,000 ledger entries.

Run: ``python benchmarks/bench_payouts.py [--payees 50000] [--entries 1000000] [--url URL] [--json]``
(default: a fresh SQLite file in a temporary folder; ``--url`` a PostgreSQL database that is emptied).

Baselines in the same process (the machine is shared, absolute times vary):

* round: the items written one ORM object per flush (``session.add`` + ``flush`` per row, as naive code
  does) for a sample of ``--naive`` payees, extrapolated to ``--payees``, against the bulk creation;
* verify: the chain checked with the ORM (one ``PayoutLedgerEntry`` object per row, JSON
  canonical form) on a sample of ``--naive-entries`` entries, extrapolated, against ``ledger.verify``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session


def _setup(url: str):
    from shengxin import migrate
    from shengxin.audit.service import Actor
    from shengxin.config import DEFAULT_DISTRICT_FILE
    from shengxin.db import make_engine
    from shengxin.policies import service
    from shengxin.reference.district import load_district

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.integration.test_policies_store import text

    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as s:
        service.import_published(s, text().replace("budget: 100万元", "budget: 100亿元"), Actor("bench"),
                                 load_district(DEFAULT_DISTRICT_FILE))
        s.commit()
    return engine


def _principals():
    from shengxin.accounts.roles import Role
    from shengxin.accounts.service import Principal

    return (Principal(1, "dept", "dept", Role.DEPARTMENT, department_code="jxj"),
            Principal(2, "dept2", "dept2", Role.DEPARTMENT, department_code="jxj"))


def _usccs(n: int, prefix: str = "T") -> list[str]:
    return [f"9133011{prefix}{i:010d}"[:18] for i in range(n)]


def bench_round(engine, payees: int, naive: int) -> dict:
    from shengxin.payouts import bankfile, rounds
    from shengxin.payouts.models import PayoutAccount, PayoutItem

    dept, dept2 = _principals()
    usccs = _usccs(payees)
    rows = [{"uscc": u, "amount_fen": 10_000 + i % 997, "town": "330110001", "name": f"企业{i}"}
            for i, u in enumerate(usccs)]
    with Session(engine) as s:  # accounts on file exist before the round (imported earlier)
        s.execute(insert(PayoutAccount), [{"uscc": u, "account_name": f"企业{i}", "account_no": "6222000011112222",
                                            "bank_name": "工行", "source": "import", "created_by": "bench",
                                            "created_at": dt.datetime.now(dt.UTC)} for i, u in enumerate(usccs)])
        s.commit()
    steps = {}
    started = time.perf_counter()
    with Session(engine) as s:
        t = time.perf_counter()
        r = rounds.create_round_from_rows(s, "TEST-REV", rows, dept, as_of=dt.date(2026, 10, 31),
                                          match_snapshot="bench")
        s.commit()
        steps["create"] = time.perf_counter() - t
        t = time.perf_counter()
        rounds.publicise(s, r.id, dept, days=0)
        rounds.confirm_accounts(s, r.id, dept)
        s.commit()
        steps["publicise+accounts"] = time.perf_counter() - t
        t = time.perf_counter()
        rounds.approve(s, r.id, dept2)
        s.commit()
        steps["approve (budget, ledger)"] = time.perf_counter() - t
        t = time.perf_counter()
        batch = rounds.build_batch(s, r.id, dept)
        s.commit()
        steps["batch"] = time.perf_counter() - t
        t = time.perf_counter()
        f = bankfile.export_batch(s, batch.id, dept, encoding="gbk")
        steps["bank file (GBK CSV)"] = time.perf_counter() - t
    total = time.perf_counter() - started
    # naive baseline: one ORM object per flush
    with Session(engine) as s:
        sample = _usccs(naive, "N")
        t = time.perf_counter()
        for i, u in enumerate(sample):
            s.add(PayoutItem(round_id=r.id, policy_id="TEST-REV", uscc=u, name=f"企业{i}", town="330110001",
                             policy_version=1, computed_fen=10_000, amount_fen=10_000, status="proposed", reason="",
                             eligible_on=dt.date(2026, 10, 31), created_by="dept"))
            s.flush()
        naive_items = (time.perf_counter() - t) * payees / naive
        s.rollback()
    return {"payees": payees, "seconds": round(total, 2), "steps": {k: round(v, 2) for k, v in steps.items()},
            "file_bytes": len(f.content), "naive_item_writes_extrapolated_s": round(naive_items, 2),
            "bulk_create_s": round(steps["create"], 2),
            "ratio_item_writes": round(naive_items / steps["create"], 1)}


def bench_verify(engine, entries: int, naive: int) -> dict:
    from shengxin.payouts import ledger
    from shengxin.payouts.models import PayoutBudget, PayoutLedgerEntry

    with Session(engine) as s:
        already = ledger.count_entries(s)
        need = entries - already
        t = time.perf_counter()
        budget = s.get(PayoutBudget, "TEST-REV")
        committed = budget.committed_fen
        step = 100_000
        for start in range(0, max(need, 0), step):
            w = ledger.ChainWriter()
            for i in range(start, min(start + step, need)):
                committed += 100
                w.entry("commit", policy_id="TEST-REV", round_id=1, item_id=10_000_000 + i, uscc="91330110T000000000",
                        amount_fen=100, committed_after_fen=committed, budget_fen=budget.budget_fen,
                        key=f"bench:{i}", actor="bench")
            ledger.write(s, w)
        budget.committed_fen = committed
        s.commit()
        fill = time.perf_counter() - t
    with Session(engine) as s:
        report = ledger.verify(s)
    assert report.ok, report.to_dict()
    # naive baseline: ORM objects, JSON canonical form, one row at a time
    with Session(engine) as s:
        t = time.perf_counter()
        prev = ledger.GENESIS
        for e in s.scalars(select(PayoutLedgerEntry).order_by(PayoutLedgerEntry.seq).limit(naive)):
            canon = json.dumps([e.seq, e.at.isoformat(), e.kind, e.policy_id, e.round_id, e.item_id, e.uscc,
                                e.amount_fen, e.committed_after_fen, e.budget_fen, e.idempotency_key, e.actor],
                               ensure_ascii=False)
            hashlib.sha256((prev + canon).encode()).hexdigest()
            prev = e.hash
        naive_s = (time.perf_counter() - t) * report.ledger_entries / naive
    return {"entries": report.ledger_entries, "events": report.events, "verify_s": report.seconds,
            "fill_s": round(fill, 1), "naive_orm_extrapolated_s": round(naive_s, 1),
            "ratio": round(naive_s / report.seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--payees", type=int, default=50_000)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--naive", type=int, default=2_000)
    ap.add_argument("--naive-entries", type=int, default=50_000)
    ap.add_argument("--url", default=None, help="Database URL (default: a temporary SQLite file).")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("SHENGXIN_SECRET_KEY", "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("SHENGXIN_DATA_DIR", tmp)
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = _setup(url)
        out = {"date": dt.date.today().isoformat(), "machine": platform.platform(), "cpus": os.cpu_count(),
               "load": os.getloadavg(), "database": engine.dialect.name,
               "round": bench_round(engine, args.payees, args.naive),
               "verify": bench_verify(engine, args.entries, args.naive_entries)}
        engine.dispose()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    r, v = out["round"], out["verify"]
    print(f"{out['database']}, load {out['load']}")
    print(f"round of {r['payees']:,} payees, snapshot rows → bank file: {r['seconds']} s (target ≤ 30 s) {r['steps']}")
    print(f"  item writes: bulk {r['bulk_create_s']} s vs naive ORM {r['naive_item_writes_extrapolated_s']} s "
          f"(×{r['ratio_item_writes']})")
    print(f"verify {v['entries']:,} ledger entries + {v['events']:,} events: {v['verify_s']} s (target ≤ 10 s); "
          f"naive ORM {v['naive_orm_extrapolated_s']} s (×{v['ratio']})")


if __name__ == "__main__":
    main()
