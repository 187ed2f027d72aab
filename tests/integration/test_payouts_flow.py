"""Payouts in the operational store (SQLite and PostgreSQL): the whole no-application round, the
ledger and its chain, budgets, four eyes, bank files and their bad rows, clawback, statistics."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text as sql
from sqlalchemy.exc import DBAPIError, IntegrityError

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.audit.service import Actor
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound
from shengxin.payouts import accounts, bankfile, clawback, ledger, publicity, reconcile, rounds, stats
from shengxin.payouts.models import PayoutItem, PayoutLedgerEntry
from shengxin.policies import service
from shengxin.reference.district import load_district
from tests.integration.test_policies_store import text as policy_text

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)
ADMIN = Principal(1, "admin", "管理员", Role.ADMIN)
DEPT = Principal(2, "dept", "经信局甲", Role.DEPARTMENT, department_code="jxj")
DEPT2 = Principal(3, "dept2", "经信局乙", Role.DEPARTMENT, department_code="jxj")
KJJ = Principal(4, "kjj", "科技局", Role.DEPARTMENT, department_code="kjj")
AUDITOR = Principal(5, "auditor", "审计", Role.AUDITOR)
TOWN = Principal(6, "town", "街道", Role.TOWN, town_code="330110005")
A, B, C = "91330110T000000010", "91330110T000000029", "91330110T000000037"
ENT_A = Principal(7, "ent-a", "甲企业", Role.ENTERPRISE, uscc=A)
ENT_B = Principal(8, "ent-b", "乙企业", Role.ENTERPRISE, uscc=B)
LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)


def publish(session, policy_id="TEST-REV", budget="100万元"):
    body = policy_text().replace("id: TEST-REV", f"id: {policy_id}").replace("budget: 100万元", f"budget: {budget}")
    service.import_published(session, body, Actor("test"), DISTRICT)
    return policy_id


def rows(*usccs, amount=1_000_000):
    return [{"uscc": u, "amount_fen": amount, "town": "330110005" if u == A else "330110001", "name": f"企业{u[-3:]}"}
            for u in usccs]


def new_round(session, snapshot="snap-1", policy_id="TEST-REV", usccs=(A, B, C), amount=1_000_000):
    return rounds.create_round_from_rows(session, policy_id, rows(*usccs, amount=amount), DEPT,
                                         as_of=dt.date(2026, 10, 31), match_snapshot=snapshot)


def items_by_uscc(session, round_id):
    return {i.uscc: i for i in rounds.list_items(session, round_id, ADMIN, page_size=1000)[0]}


def to_confirming(session, r):
    """review → publicity (0 days) → confirming, with accounts on file for every payee."""
    for u in (A, B, C):
        accounts.set_account(session, ADMIN, u, account_name=f"企业{u[-3:]}", account_no=f"6222{u[-8:-1]}01",
                             bank_name="工商银行余杭支行")
    rounds.publicise(session, r.id, DEPT, days=0)
    return rounds.confirm_accounts(session, r.id, DEPT)


def result_file(lines, *, encoding="utf-8-sig") -> bytes:
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(bankfile.RESULT_COLUMNS)
    w.writerows(lines)
    return out.getvalue().encode(encoding)


def batch_lines(session, batch_id):
    from shengxin.payouts.models import PayoutBatchLine

    return {ln.item_id: ln for ln in session.scalars(select(PayoutBatchLine).where(PayoutBatchLine.batch_id == batch_id))}


def test_a_whole_no_application_round(db_session):
    s = db_session
    publish(s)
    r = new_round(s)
    assert (r.status, r.counts, r.total_fen) == ("review", {"proposed": 3}, 3_000_000)
    items = items_by_uscc(s, r.id)
    with pytest.raises(InvalidInput, match="原因"):
        rounds.exclude_item(s, items[C].id, DEPT, " ")
    with pytest.raises(Forbidden):
        rounds.exclude_item(s, items[C].id, KJJ, "不属于本部门")
    rounds.exclude_item(s, items[C].id, DEPT, "已迁出本区")
    r = rounds.publicise(s, r.id, DEPT, days=5, now=dt.datetime(2026, 9, 28, 10, tzinfo=dt.UTC))
    # 5 working days after Mon 28 Sep 2026 skip the National Day holiday
    assert r.status == "publicity" and r.publicity_end.date() > dt.date(2026, 10, 5)
    head, public, total = publicity.public_list(s, r.id)
    assert total == 2 and {p.uscc_masked for p in public} == {"9133*********00010", "9133*********00029"}
    assert all(not hasattr(p, "account_no") for p in public)
    o = publicity.lodge_objection(s, r.id, "该企业去年已有违规记录", item_ref=public[0].ref, client="1.2.3.4")
    with pytest.raises(InvalidInput):
        publicity.lodge_objection(s, r.id, "短")
    for _ in range(5):  # five objections per window from one address are allowed, the sixth is not
        publicity.lodge_objection(s, r.id, "同一地址的连续异议", client="9.9.9.9")
    with pytest.raises(Conflict, match="频繁"):
        publicity.lodge_objection(s, r.id, "同一地址的第六条异议", client="9.9.9.9")
    for extra in publicity.list_objections(s, r.id, ADMIN)[1:]:
        publicity.answer_objection(s, extra.id, DEPT, "已核实，不影响名单")
    with pytest.raises(Conflict, match="公示期"):
        rounds.confirm_accounts(s, r.id, DEPT, now=dt.datetime(2026, 9, 30, tzinfo=dt.UTC))
    # the enterprise confirms its own account; another enterprise cannot touch it
    accounts.set_account(s, ADMIN, A, account_name="甲企业", account_no="6222 0000 1111 0001", bank_name="工行")
    with pytest.raises(NotFound):
        accounts.confirm_item_account(s, items[A].id, ENT_B)
    item = accounts.confirm_item_account(s, items[B].id, ENT_B, account_name="乙企业", account_no="6222000022220002",
                                         bank_name="农行")
    assert item.account.account_no_masked.endswith("0002") and item.account_confirmed_by == "ent-b"
    r = rounds.confirm_accounts(s, r.id, DEPT, now=LATER)
    assert r.status == "confirming" and r.without_account == 0
    with pytest.raises(Forbidden, match="创建"):
        rounds.approve(s, r.id, DEPT)
    with pytest.raises(Conflict, match="异议"):
        rounds.approve(s, r.id, DEPT2)
    with pytest.raises(Forbidden):
        publicity.answer_objection(s, o.id, KJJ, "不是本部门")
    publicity.answer_objection(s, o.id, DEPT, "经核查，违规记录已整改完毕，符合条件")
    r = rounds.approve(s, r.id, DEPT2)
    assert (r.status, r.approved_by, r.counts) == ("approved", "dept2", {"approved": 2, "excluded": 1})
    [bal] = ledger.balances(s, "TEST-REV")
    assert (bal.budget_fen, bal.committed_fen, bal.paid_fen, bal.left_fen) == (100_000_000, 2_000_000, 0, 98_000_000)

    batch = rounds.build_batch(s, r.id, DEPT)
    assert (batch.item_count, batch.total_fen) == (2, 2_000_000)
    with pytest.raises(Conflict, match="没有可支付"):
        rounds.build_batch(s, r.id, DEPT)
    csv_file = bankfile.export_batch(s, batch.id, DEPT)
    assert csv_file.content.startswith(b"\xef\xbb\xbf\xe5\xba\x8f\xe5\x8f\xb7")  # BOM + 序号
    body = csv_file.content.decode("utf-8-sig").splitlines()
    assert body[0] == ",".join(bankfile.PAYMENT_COLUMNS) and body[1].endswith(",10000.00,营业收入奖励（TEST-REV）")
    gbk = bankfile.export_batch(s, batch.id, DEPT, encoding="gbk")
    assert gbk.content.decode("gbk").splitlines()[1:] == body[1:]
    xlsx = bankfile.export_batch(s, batch.id, DEPT, fmt="xlsx")
    _, parsed = bankfile.read_table(xlsx.filename, xlsx.content, bankfile.PAYMENT_COLUMNS)
    assert [row["金额（元）"] for _, row in parsed] == ["10000.00", "10000.00"]
    with pytest.raises(Forbidden):
        bankfile.export_batch(s, batch.id, KJJ)

    lines = batch_lines(s, batch.id)
    a_line, b_line = lines[items[A].id], lines[items[B].id]
    content = result_file([(a_line.ref, "10000.00", "成功", "", "BK001"), (b_line.ref, "10,000.00", "失败", "户名不符", "")])
    res = reconcile.import_result_file(s, "回单1.csv", content, DEPT)
    assert (res.already_imported, res.rows_paid, res.rows_failed, res.errors) == (False, 1, 1, [])
    again = reconcile.import_result_file(s, "回单1-副本.csv", content, DEPT)
    assert again.already_imported and again.import_id == res.import_id
    assert s.scalar(select(PayoutLedgerEntry.seq).where(PayoutLedgerEntry.kind == "pay").order_by(
        PayoutLedgerEntry.seq.desc())) is not None
    assert len(s.scalars(select(PayoutLedgerEntry).where(PayoutLedgerEntry.kind == "pay")).all()) == 1
    with pytest.raises(Conflict, match="未完成"):
        rounds.close_round(s, r.id, DEPT)
    assert rounds.retry_failed(s, r.id, DEPT) == 1
    batch2 = rounds.build_batch(s, r.id, DEPT)
    b_line2 = batch_lines(s, batch2.id)[items[B].id]
    res2 = reconcile.import_result_file(s, "回单2.csv", result_file([(b_line2.ref, "10000", "成功", "", "BK002")]), DEPT)
    assert (res2.rows_paid, res2.errors) == (1, [])
    r = rounds.close_round(s, r.id, DEPT)
    assert (r.status, r.counts) == ("closed", {"paid": 2, "excluded": 1})

    # enterprise, town and auditor views
    assert [i.status for i in accounts.items_for_enterprise(s, ENT_A)] == ["paid"]
    assert {i.uscc for i in rounds.list_items(s, r.id, TOWN)[0]} == {A}
    with pytest.raises(Forbidden):
        rounds.get_item(s, items[B].id, TOWN)
    assert rounds.get_round(s, r.id, AUDITOR).status == "closed"
    with pytest.raises(Forbidden):
        rounds.get_round(s, r.id, ENT_A)

    # clawback of a paid item, also after closing
    with pytest.raises(Conflict):
        clawback.clawback(s, items[C].id, DEPT, "未支付的不能追回")
    item = clawback.clawback(s, items[A].id, DEPT, "经核查营业收入虚报")
    assert item.status == "clawed_back"
    [bal] = ledger.balances(s, "TEST-REV")
    assert (bal.committed_fen, bal.paid_fen) == (1_000_000, 1_000_000)
    rows_ = stats.payout_stats(s, ADMIN, by=("policy", "mode"))
    assert rows_ == [{"policy": "TEST-REV", "mode": "no_application", "payees": 1, "amount_fen": 1_000_000,
                      "days_median": rows_[0]["days_median"], "days_avg": rows_[0]["days_avg"]}]
    report = ledger.verify(s)
    assert report.ok, report.to_dict()
    assert report.ledger_entries >= 5 and report.events >= 10
    events = [e.action for e in rounds.round_events(s, r.id, AUDITOR) if e.object_type == "round"]
    assert events == ["create", "publicise", "confirm_accounts", "approve", "batch", "retry", "batch", "close"]


def test_the_database_refuses_changes_to_the_ledger_and_a_self_approval(db_session):
    s = db_session
    publish(s)
    r = new_round(s)
    to_confirming(s, r)
    rounds.approve(s, r.id, DEPT2)
    s.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        with s.begin_nested():
            s.execute(sql("UPDATE payout_ledger SET amount_fen = 1"))
    with pytest.raises(DBAPIError, match="append-only"):
        with s.begin_nested():
            s.execute(sql("DELETE FROM payout_events"))
    with pytest.raises(IntegrityError):  # four eyes, enforced by a CHECK
        with s.begin_nested():
            s.execute(sql("UPDATE payout_rounds SET approved_by = created_by WHERE id = :id"), {"id": r.id})
    with pytest.raises(IntegrityError):  # one payee once per round
        with s.begin_nested():
            item = s.scalars(select(PayoutItem).where(PayoutItem.round_id == r.id)).first()
            s.execute(sql("INSERT INTO payout_items (round_id, policy_id, uscc, name, policy_version, computed_fen, "
                          "amount_fen, status, reason, eligible_on, created_by, created_at, updated_at) "
                          "SELECT round_id, policy_id, uscc, name, policy_version, computed_fen, amount_fen, status, "
                          "reason, eligible_on, created_by, created_at, updated_at FROM payout_items WHERE id = :id"),
                      {"id": item.id})
    with pytest.raises(IntegrityError):  # one pay entry per item
        with s.begin_nested():
            e = s.scalars(select(PayoutLedgerEntry).order_by(PayoutLedgerEntry.seq.desc())).first()
            s.execute(sql("INSERT INTO payout_ledger (seq, at, kind, policy_id, round_id, item_id, uscc, amount_fen, "
                          "committed_after_fen, budget_fen, idempotency_key, actor, prev_hash, hash) VALUES "
                          "(:seq, :at, 'commit', :p, :r, :i, :u, 1, 1, NULL, :k, 'x', 'x', 'x')"),
                      {"seq": e.seq + 1, "at": e.at, "p": e.policy_id, "r": e.round_id, "i": e.item_id, "u": e.uscc,
                       "k": e.idempotency_key})
    with pytest.raises(IntegrityError):  # over budget, enforced by a CHECK on the entry
        with s.begin_nested():
            s.execute(sql("UPDATE payout_budgets SET committed_fen = budget_fen + 1"))
    assert ledger.verify(s).ok


def test_verify_names_the_first_broken_link(db_session):
    s = db_session
    publish(s)
    r = new_round(s)
    to_confirming(s, r)
    rounds.approve(s, r.id, DEPT2)
    assert ledger.verify(s).ok
    last = s.scalars(select(PayoutLedgerEntry).order_by(PayoutLedgerEntry.seq.desc())).first()
    # a forged entry appended behind the application's back: the head does not know it, its hash is wrong
    s.execute(sql("INSERT INTO payout_ledger (seq, at, kind, policy_id, round_id, item_id, uscc, amount_fen, "
                  "committed_after_fen, budget_fen, idempotency_key, actor, prev_hash, hash) VALUES "
                  "(:seq, :at, 'pay', :p, :r, :i, :u, 5, :c, NULL, 'forged', 'x', :prev, :h)"),
              {"seq": last.seq + 1, "at": last.at, "p": last.policy_id, "r": last.round_id, "i": last.item_id,
               "u": last.uscc, "c": last.committed_after_fen, "prev": last.hash, "h": "f" * 64})
    report = ledger.verify(s)
    assert not report.ok and report.first_broken["chain"] == "ledger" and report.first_broken["seq"] == last.seq + 1


def test_budget_is_never_over_committed_across_rounds(db_session):
    s = db_session
    publish(s, budget="2.5万元")
    r1 = new_round(s, "snap-1", usccs=(A, B))
    r2 = new_round(s, "snap-2", usccs=(C, A))
    with pytest.raises(Conflict, match="snap-1"):
        new_round(s, "snap-1")
    to_confirming(s, r1)
    rounds.publicise(s, r2.id, DEPT, days=0)
    rounds.confirm_accounts(s, r2.id, DEPT)
    assert rounds.approve(s, r1.id, DEPT2).counts == {"approved": 2}
    r2 = rounds.approve(s, r2.id, ADMIN)
    assert r2.counts == {"over_budget": 2}
    item = next(iter(items_by_uscc(s, r2.id).values()))
    assert "预算不足" in item.reason
    [bal] = ledger.balances(s, "TEST-REV")
    assert (bal.committed_fen, bal.left_fen) == (2_000_000, 500_000)
    # cancelling releases the budget
    assert rounds.cancel_items(s, r1.id, DEPT, [items_by_uscc(s, r1.id)[A].id], reason="企业注销") == 1
    assert ledger.balances(s, "TEST-REV")[0].committed_fen == 1_000_000
    assert ledger.verify(s).ok


def test_caps_count_what_is_already_committed(db_session):
    s = db_session
    body = policy_text().replace("\namount: 1万元", "\namount: 1万元\ncaps: {per_enterprise: 1.5万元}", 1)
    service.import_published(s, body, Actor("test"), DISTRICT)
    from shengxin.policies.service import compiled_version

    caps = compiled_version(s, DISTRICT, "TEST-REV")[0].caps
    r1 = rounds.create_round_from_rows(s, "TEST-REV", rows(A), DEPT, as_of=dt.date(2026, 10, 31),
                                       match_snapshot="s1", caps=caps)
    to_confirming(s, r1)
    rounds.approve(s, r1.id, DEPT2)
    r2 = rounds.create_round_from_rows(s, "TEST-REV", rows(A, B), DEPT, as_of=dt.date(2026, 10, 31),
                                       match_snapshot="s2", caps=caps)
    got = {i.uscc: (i.computed_fen, i.amount_fen) for i in rounds.list_items(s, r2.id, ADMIN)[0]}
    assert got == {A: (1_000_000, 500_000), B: (1_000_000, 1_000_000)}
    assert ledger.paid_table(s) == {}


def test_bad_bank_result_rows_are_reported_and_good_rows_kept(db_session):
    s = db_session
    publish(s)
    r = new_round(s)
    to_confirming(s, r)
    rounds.approve(s, r.id, DEPT2)
    batch = rounds.build_batch(s, r.id, DEPT)
    lines = sorted(batch_lines(s, batch.id).values(), key=lambda ln: ln.line_no)
    content = result_file([
        (lines[0].ref, "10000.00", "成功", "", "BK1"),
        ("B999-000001", "10000.00", "成功", "", ""),          # unknown line
        (lines[1].ref, "9999.99", "成功", "", ""),            # wrong amount
        (lines[2].ref, "1万", "成功", "", ""),                # malformed number
        (lines[2].ref, "10000.00", "退款", "", ""),           # bad status (and a duplicate ref after a bad row)
        (lines[0].ref, "10000.00", "成功", "", "BK1"),        # duplicate line
        ("", "1", "成功", "", ""),                            # no reference
    ], encoding="gbk")
    res = reconcile.import_result_file(s, "bad.csv", content, DEPT)
    assert (res.rows_paid, res.rows_failed) == (1, 0)
    by_row = {e["row"]: e for e in res.errors}
    assert set(by_row) == {3, 4, 5, 6, 7, 8}
    assert "没有这个明细编号" in by_row[3]["message"] and "应为 10000.00" in by_row[4]["message"]
    assert "不是数字" in by_row[5]["message"] and by_row[6]["field"] == "状态"
    assert "重复" in by_row[7]["message"] and "为空" in by_row[8]["message"]
    # a failure without a reason, a line settled differently later, a missing column, a non-text file
    res = reconcile.import_result_file(s, "b.csv", result_file([(lines[1].ref, "10000", "失败", "", ""),
                                                                (lines[0].ref, "10000", "失败", "账户冻结", "")]), DEPT)
    assert [e["field"] for e in res.errors] == ["失败原因", "状态"]
    with pytest.raises(InvalidInput, match="缺少列"):
        reconcile.import_result_file(s, "c.csv", "明细编号,金额\r\nB1-1,1\r\n".encode(), DEPT)
    with pytest.raises(InvalidInput, match="编码"):
        reconcile.import_result_file(s, "d.csv", b"\xff\xfe\x00\x81\x00" * 20, DEPT)
    with pytest.raises(Forbidden):
        reconcile.import_result_file(s, "e.csv", content + b"\r\n", TOWN)
    assert ledger.verify(s).ok


def test_bad_account_import_rows(db_session):
    s = db_session
    content = ("统一社会信用代码,收款户名,收款账号,开户银行\r\n"
               f"{A},甲企业,6222000011110001,工行\r\n"
               "123,乙企业,6222000011110002,工行\r\n"
               f"{B},,6222000011110003,工行\r\n"
               f"{C},丙企业,62-22,工行\r\n"
               f"{A},甲企业,6222000011110001,工行\r\n").encode("utf-8-sig")
    res = accounts.import_accounts(s, ADMIN, "accounts.csv", content)
    assert res.created == 1 and [e["row"] for e in res.errors] == [3, 4, 5, 6]
    assert accounts.account_on_file(s, A).account_no == "6222000011110001"
    with pytest.raises(Forbidden):
        accounts.import_accounts(s, TOWN, "accounts.csv", content)
    with pytest.raises(Forbidden):
        accounts.set_account(s, ENT_B, A, account_name="x", account_no="62220000", bank_name="x")
