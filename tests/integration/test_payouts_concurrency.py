"""Crash and concurrency safety of payouts with real OS processes (the ``shengxin payouts`` CLI) on a
real database: two processes running the same step, a process SIGKILLed in the middle of building a
batch or importing a bank file and then rerun, a bank file imported twice, concurrent approvals of two
rounds of one policy against its budget, four eyes from the CLI.

The data live in a database of their own (committed, since several processes must see them).
Tests with two concurrent writers run on PostgreSQL only: SQLite allows one writer at a time, so a
second writer there fails with "database is locked" instead of waiting for a row lock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from shengxin import migrate
from shengxin.accounts.roles import Role
from shengxin.accounts.service import UserCreate, create_user
from shengxin.audit.service import Actor
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.db import make_engine
from shengxin.payouts import accounts, ledger, rounds
from shengxin.payouts.bankfile import RESULT_COLUMNS, yuan
from shengxin.payouts.models import PayoutBatch, PayoutBatchLine, PayoutBankImport, PayoutItem, PayoutLedgerEntry
from shengxin.policies import service
from shengxin.reference.district import load_district
from tests.conftest import POSTGRES_URL, TEST_SECRET, require_or_skip
from tests.integration.test_policies_store import text as policy_text

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)
SHENGXIN = str(Path(sys.executable).with_name("shengxin"))
PG_ONLY = "two concurrent writers: SQLite has a single writer (a second one fails with 'database is locked')"
N = 800


@pytest.fixture
def shared(backend, tmp_path):
    """A migrated database of its own (URL), with users dept, dept2 and admin and a published policy."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        drop = None
    else:
        require_or_skip(bool(POSTGRES_URL), "PostgreSQL not configured: set SHENGXIN_TEST_POSTGRES_URL")
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        name = f"shengxin_pc{os.getpid()}"
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = create_engine(POSTGRES_URL).url.set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as s:
        for username, role, dept in (("dept", Role.DEPARTMENT, "jxj"), ("dept2", Role.DEPARTMENT, "jxj"),
                                     ("admin", Role.ADMIN, None)):
            create_user(s, UserCreate(username, "password-123", username, role, department_code=dept), DISTRICT,
                        Actor("test"))
        service.import_published(s, policy_text().replace("budget: 100万元", "budget: 5000万元"), Actor("test"),
                                 DISTRICT)
        s.commit()
    try:
        yield {"url": url, "engine": engine, "tmp": tmp_path, "backend": backend}
    finally:
        engine.dispose()
        if drop:
            drop()


def principal(s, username):
    from shengxin.cli.payouts import _principal

    return _principal(s, username)


def prepared_round(shared, *, snapshot="s1", n=N, amount=10_000, stage="confirming") -> int:
    """A round of ``n`` payees with accounts, brought to ``stage`` (confirming or approved)."""
    with Session(shared["engine"]) as s:
        rows = [{"uscc": f"91330110T{i:08d}X"[:18], "amount_fen": amount, "town": "330110001", "name": f"企业{i}"}
                for i in range(n)]
        r = rounds.create_round_from_rows(s, "TEST-REV", rows, principal(s, "dept"), as_of=dt.date(2026, 10, 31),
                                          match_snapshot=snapshot)
        for row in rows:
            if accounts.account_on_file(s, row["uscc"]) is None:
                from shengxin.payouts.models import PayoutAccount

                s.add(PayoutAccount(uscc=row["uscc"], account_name=row["name"], account_no="6222000011112222",
                                    bank_name="工行", source="import", created_by="test"))
        s.flush()
        rounds.publicise(s, r.id, principal(s, "dept"), days=0)
        rounds.confirm_accounts(s, r.id, principal(s, "dept"))
        if stage == "approved":
            rounds.approve(s, r.id, principal(s, "dept2"))
        s.commit()
        return r.id


def cli(shared, *args, env=None, wait=True):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    environ.update({"SHENGXIN_DATABASE_URL": shared["url"], "SHENGXIN_SECRET_KEY": TEST_SECRET,
                    "SHENGXIN_DATA_DIR": str(shared["tmp"] / "data"), "NO_COLOR": "1", "COLUMNS": "200"})
    environ.update(env or {})
    p = subprocess.Popen([SHENGXIN, "payouts", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=environ)
    if wait:
        out, err = p.communicate()
        return p.returncode, out, err
    return p


def count(shared, query) -> int:
    with Session(shared["engine"]) as s:
        return int(s.scalar(query) or 0)


def verify_ok(shared) -> None:
    with Session(shared["engine"]) as s:
        report = ledger.verify(s)
    assert report.ok, report.to_dict()


def kill_when_paused(proc, marker: Path, pauses: int = 1) -> None:
    """SIGKILL ``proc`` once it has paused ``pauses`` times between chunks (the test hook)."""
    while not (marker.exists() and len(marker.read_text().splitlines()) >= pauses):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def result_file(shared, round_id, path: Path, fail_every: int = 0) -> Path:
    with Session(shared["engine"]) as s:
        lines = s.execute(select(PayoutBatchLine.ref, PayoutBatchLine.amount_fen)
                          .join(PayoutBatch, PayoutBatch.id == PayoutBatchLine.batch_id)
                          .where(PayoutBatch.round_id == round_id, PayoutBatchLine.result == "pending")
                          .order_by(PayoutBatchLine.id)).all()
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(RESULT_COLUMNS)
    for n, (ref, fen) in enumerate(lines):
        failed = fail_every and n % fail_every == 0
        w.writerow([ref, yuan(fen), "失败" if failed else "成功", "账户已销户" if failed else "", f"BK{n}"])
    path.write_bytes(out.getvalue().encode("gbk"))
    return path


# ----------------------------------------------------------------------------- crashes (both backends)


def test_killed_mid_batch_build_then_rerun(shared):
    round_id = prepared_round(shared, stage="approved")
    marker = shared["tmp"] / "paused"
    proc = cli(shared, "round", "export", str(round_id), "--out", str(shared["tmp"] / "pay.csv"), "--as", "dept",
               env={"SHENGXIN_TEST_PAYOUT_PAUSE": "30", "SHENGXIN_TEST_PAYOUT_PAUSE_FILE": str(marker),
                    "SHENGXIN_TEST_PAYOUT_CHUNK": "200"}, wait=False)
    kill_when_paused(proc, marker, pauses=2)  # two of four chunks written inside the open transaction
    assert count(shared, select(func.count()).select_from(PayoutBatch)) == 0
    assert count(shared, select(func.count()).select_from(PayoutBatchLine)) == 0
    assert count(shared, select(func.count()).select_from(PayoutItem).where(PayoutItem.status == "approved")) == N
    code, out, err = cli(shared, "round", "export", str(round_id), "--out", str(shared["tmp"] / "pay.csv"),
                         "--as", "dept", "--json")
    assert code == 0, err
    assert count(shared, select(func.count()).select_from(PayoutBatch)) == 1
    assert count(shared, select(func.count(func.distinct(PayoutBatchLine.item_id)))) == N
    assert count(shared, select(func.count()).select_from(PayoutItem).where(PayoutItem.status == "in_batch")) == N
    body = (shared["tmp"] / "pay.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert len(body) == N + 1
    verify_ok(shared)


def test_killed_mid_bank_file_import_then_rerun_and_imported_twice(shared):
    round_id = prepared_round(shared, stage="approved")
    assert cli(shared, "round", "export", str(round_id), "--out", str(shared["tmp"] / "pay.csv"), "--as", "dept")[0] == 0
    result = result_file(shared, round_id, shared["tmp"] / "回单.csv", fail_every=100)
    marker = shared["tmp"] / "paused"
    proc = cli(shared, "reconcile", str(result), "--as", "dept",
               env={"SHENGXIN_TEST_PAYOUT_PAUSE": "30", "SHENGXIN_TEST_PAYOUT_PAUSE_FILE": str(marker),
                    "SHENGXIN_TEST_PAYOUT_CHUNK": "200"}, wait=False)
    kill_when_paused(proc, marker, pauses=2)
    settled = count(shared, select(func.count()).select_from(PayoutBatchLine).where(PayoutBatchLine.result != "pending"))
    assert settled == 400  # two committed chunks, nothing of the third
    assert count(shared, select(func.count()).select_from(PayoutBankImport).where(PayoutBankImport.status == "running")) == 1
    code, out, err = cli(shared, "reconcile", str(result), "--as", "dept", "--json")
    assert code == 0, err
    assert count(shared, select(func.count()).select_from(PayoutItem).where(PayoutItem.status == "paid")) == N - N // 100
    assert count(shared, select(func.count()).select_from(PayoutItem).where(PayoutItem.status == "failed")) == N // 100
    pays = select(func.count()).select_from(PayoutLedgerEntry).where(PayoutLedgerEntry.kind == "pay")
    assert count(shared, pays) == N - N // 100
    # the same file again changes nothing
    code, out, err = cli(shared, "reconcile", str(result), "--as", "dept", "--json")
    assert code == 0 and '"already_imported": true' in out
    assert count(shared, pays) == N - N // 100
    verify_ok(shared)


def test_creator_cannot_approve_from_the_cli(shared):
    round_id = prepared_round(shared, n=5)
    code, out, err = cli(shared, "round", "approve", str(round_id), "--as", "dept")
    assert code == 1 and "不能审批" in err
    code, out, err = cli(shared, "round", "approve", str(round_id), "--as", "dept2", "--json")
    assert code == 0, err


# ----------------------------------------------------------------------------- concurrency (PostgreSQL)


def _both(shared, args_a, args_b):
    pa, pb = cli(shared, *args_a, wait=False), cli(shared, *args_b, wait=False)
    (oa, ea), (ob, eb) = pa.communicate(), pb.communicate()
    return (pa.returncode, oa, ea), (pb.returncode, ob, eb)


def test_two_processes_approve_the_same_round_once(shared):
    if shared["backend"] != "postgresql":
        pytest.skip(PG_ONLY)
    round_id = prepared_round(shared)
    a, b = _both(shared, ["round", "approve", str(round_id), "--as", "dept2"],
                 ["round", "approve", str(round_id), "--as", "admin"])
    assert sorted([a[0], b[0]]) == [0, 1], (a, b)
    assert "已审批" in (a[2] + b[2])  # the loser names the state it found
    commits = select(func.count()).select_from(PayoutLedgerEntry).where(PayoutLedgerEntry.kind == "commit")
    assert count(shared, commits) == N
    verify_ok(shared)


def test_two_processes_build_the_same_batch_once(shared):
    if shared["backend"] != "postgresql":
        pytest.skip(PG_ONLY)
    round_id = prepared_round(shared, stage="approved")
    a, b = _both(shared, ["round", "export", str(round_id), "--out", str(shared["tmp"] / "a.csv"), "--as", "dept"],
                 ["round", "export", str(round_id), "--out", str(shared["tmp"] / "b.csv"), "--as", "admin"])
    assert sorted([a[0], b[0]]) == [0, 1], (a, b)
    assert count(shared, select(func.count()).select_from(PayoutBatch)) == 1
    assert count(shared, select(func.count()).select_from(PayoutBatchLine)) == N
    verify_ok(shared)


def test_two_processes_import_the_same_bank_file(shared):
    if shared["backend"] != "postgresql":
        pytest.skip(PG_ONLY)
    round_id = prepared_round(shared, stage="approved")
    assert cli(shared, "round", "export", str(round_id), "--out", str(shared["tmp"] / "pay.csv"), "--as", "dept")[0] == 0
    result = result_file(shared, round_id, shared["tmp"] / "r.csv")
    a, b = _both(shared, ["reconcile", str(result), "--as", "dept"], ["reconcile", str(result), "--as", "admin"])
    assert a[0] == 0 and b[0] == 0, (a, b)
    pays = select(func.count()).select_from(PayoutLedgerEntry).where(PayoutLedgerEntry.kind == "pay")
    assert count(shared, pays) == N
    verify_ok(shared)


def test_concurrent_rounds_never_over_commit_the_budget(shared):
    if shared["backend"] != "postgresql":
        pytest.skip(PG_ONLY)
    # budget 5000万元; two rounds of 800 × 4万元 = 3200万元 each: together they do not fit
    amount = 4_000_000
    r1 = prepared_round(shared, snapshot="s1", amount=amount)
    r2 = prepared_round(shared, snapshot="s2", amount=amount)
    a, b = _both(shared, ["round", "approve", str(r1), "--as", "dept2"], ["round", "approve", str(r2), "--as", "admin"])
    assert a[0] == 0 and b[0] == 0, (a, b)
    with Session(shared["engine"]) as s:
        [bal] = ledger.balances(s, "TEST-REV")
        approved = s.scalar(select(func.coalesce(func.sum(PayoutItem.amount_fen), 0))
                            .where(PayoutItem.status == "approved"))
        over = s.scalar(select(func.count()).select_from(PayoutItem).where(PayoutItem.status == "over_budget"))
    assert bal.committed_fen == approved <= bal.budget_fen == 5_000_000_000
    assert bal.budget_fen - bal.committed_fen < amount and over == 2 * N - approved // amount > 0
    verify_ok(shared)
