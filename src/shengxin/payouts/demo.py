"""Demo payouts, made with the real service functions (demo mode only; idempotent).

For up to two live no-application policies of the demo department (``dept``) with eligible enterprises in
the current match snapshot, a round is walked to the end: created by ``dept``, one item excluded,
publicised (0 days), an objection lodged and answered, accounts on file used, approved by ``admin``,
paid through a batch whose bank result fails two lines, those retried in a second batch and paid, the
round closed; in the first round one paid item is clawed back. Every demo enterprise in a round gets a
bank account on file. Then instant applications are made for enterprises eligible for an instant policy.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.errors import DomainError, Forbidden
from shengxin.payouts import accounts, applications, bankfile, clawback, publicity, reconcile, rounds
from shengxin.payouts.models import PayoutApplication, PayoutBatchLine, PayoutItem, PayoutRound

MAX_ROUNDS = 2
MAX_INSTANT = 3


def _user(session: Session, username: str) -> Principal:
    from shengxin.accounts.models import User
    from shengxin.accounts.service import get_principal

    uid = session.scalar(select(User.id).where(User.username == username))
    if uid is None:
        raise Forbidden(f"演示账户 {username} 不存在：请先运行 shengxin demo setup")
    return get_principal(session, uid)


def _account_no(uscc: str) -> str:
    digits = "".join(str(ord(ch) % 10) for ch in uscc)
    return ("6222" + digits)[:19]


def _result(session: Session, batch_id: int, fail: int) -> bytes:
    lines = session.scalars(select(PayoutBatchLine).where(PayoutBatchLine.batch_id == batch_id)
                            .order_by(PayoutBatchLine.line_no)).all()
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(bankfile.RESULT_COLUMNS)
    for n, ln in enumerate(lines):
        if n < fail:
            w.writerow([ln.ref, bankfile.yuan(ln.amount_fen), "失败", "收款账号户名不符", ""])
        else:
            w.writerow([ln.ref, bankfile.yuan(ln.amount_fen), "成功", "", f"DEMO{batch_id:04d}{n:05d}"])
    return out.getvalue().encode("utf-8-sig")


def _walk_round(session: Session, district, analytic_dir: Path, policy_id: str, dept: Principal, admin: Principal,
                first: bool) -> dict:
    r = rounds.create_round(session, district, analytic_dir, policy_id, dept)
    items = session.scalars(select(PayoutItem).where(PayoutItem.round_id == r.id).order_by(PayoutItem.id)).all()
    for item in items:
        if accounts.account_on_file(session, item.uscc) is None:
            accounts.set_account(session, admin, item.uscc, account_name=item.name or item.uscc,
                                 account_no=_account_no(item.uscc), bank_name="中国工商银行杭州余杭支行")
    if len(items) > 3:
        rounds.exclude_item(session, items[-1].id, dept, "企业已迁出本区，经复核不予兑现")
    rounds.publicise(session, r.id, dept, days=0)
    o = publicity.lodge_objection(session, r.id, "名单中的企业去年曾有欠税记录，请核实。", client="demo")
    publicity.answer_objection(session, o.id, dept, "经与税务部门核实，欠税已于当年补缴，符合兑现条件。")
    rounds.confirm_accounts(session, r.id, dept)
    r = rounds.approve(session, r.id, admin)
    batch = rounds.build_batch(session, r.id, dept)
    failing = 2 if batch.item_count > 2 else 0
    reconcile.import_result_file(session, f"demo-round{r.id}-batch{batch.id}.csv", _result(session, batch.id, failing),
                                 dept)
    if failing:
        rounds.retry_failed(session, r.id, dept)
        batch2 = rounds.build_batch(session, r.id, dept)
        reconcile.import_result_file(session, f"demo-round{r.id}-batch{batch2.id}.csv", _result(session, batch2.id, 0),
                                     dept)
    if first:
        paid = session.scalar(select(PayoutItem.id).where(PayoutItem.round_id == r.id, PayoutItem.status == "paid")
                              .order_by(PayoutItem.id.desc()).limit(1))
        if paid is not None:
            clawback.clawback(session, paid, dept, "复核发现申报的营业收入有误，不符合条件，予以追回")
    r = rounds.close_round(session, r.id, dept)
    session.commit()
    return {"round": r.id, "policy": policy_id, "items": sum(r.counts.values()), "status": r.status}


def _instant(session: Session, district, analytic_dir: Path, data_dir: Path) -> list[dict]:
    from shengxin.appeals.attachments import Upload
    from shengxin.policies.matching import open_results

    out = []
    policies = applications.instant_policies(session)
    if not policies:
        return out
    con, _ = open_results(analytic_dir)
    try:
        rows = con.execute(
            "SELECT uscc, policy_id, status FROM policy_results WHERE policy_id IN (SELECT unnest(?)) "
            "AND status IN ('eligible', 'missing_data') ORDER BY status, policy_id, uscc",
            [[p.id for p in policies]]).fetchall()
    finally:
        con.close()
    seen = set()
    demo_uscc = _demo_uscc(session)
    rows = sorted(rows, key=lambda r: r[0] != demo_uscc)
    for uscc, policy_id, status in rows:
        if (policy_id, status) in seen or len(out) >= MAX_INSTANT:
            continue
        if session.scalar(select(PayoutApplication.id).where(PayoutApplication.uscc == uscc,
                                                             PayoutApplication.policy_id == policy_id)):
            continue
        applicant = (_user(session, "enterprise") if uscc == demo_uscc else
                     Principal(0, f"demo-ent-{uscc[-6:]}", "演示企业", Role.ENTERPRISE, uscc=uscc))
        try:
            a = applications.apply(session, district, analytic_dir, data_dir, policy_id, applicant,
                                   uploads=[Upload("证明材料.pdf", b"%PDF-1.4\n% demo material\n")])
        except DomainError:
            continue
        seen.add((policy_id, status))
        out.append({"application": a.id, "policy": policy_id, "status": a.status})
        session.commit()
    return out


def _demo_uscc(session: Session) -> str | None:
    from shengxin.accounts.models import User

    return session.scalar(select(User.uscc).where(User.username == "enterprise"))


def _demo_enterprise_first(session: Session, analytic_dir: Path, policies: list) -> list:
    """Policies the demo enterprise account is eligible for come first (its portal then shows a payout),
    then those with the largest budgets (more payees paid, fewer left over budget)."""
    from shengxin.policies.matching import open_results

    uscc = _demo_uscc(session)
    con, _ = open_results(analytic_dir)
    try:
        mine = {p for (p,) in con.execute("SELECT policy_id FROM policy_results WHERE uscc = ? AND status = 'eligible' "
                                          "AND amount_fen > 0", [uscc]).fetchall()}
    finally:
        con.close()
    return sorted(policies, key=lambda p: (p.id not in mine, -(p.budget_fen or 10**15), p.id))


def build_demo(session: Session, district, analytic_dir: Path, data_dir: Path, *, demo_mode: bool) -> dict:
    """Completed demo rounds and instant applications (skips what already exists)."""
    from shengxin.policies.matching import current

    if not demo_mode:
        raise Forbidden("演示兑现数据只在演示模式（SHENGXIN_DEMO=true）下生成")
    dept, admin = _user(session, "dept"), _user(session, "admin")
    if session.scalar(select(PayoutRound.id).where(PayoutRound.mode == "no_application").limit(1)) is not None:
        return {"created": False, "reason": "已有兑现批次"}
    snap = current(analytic_dir)
    if snap is None:
        return {"created": False, "reason": "还没有政策匹配结果"}
    done = []
    for p in _demo_enterprise_first(session, analytic_dir, rounds.creatable_policies(session, dept)):
        if len(done) >= MAX_ROUNDS:
            break
        try:
            done.append(_walk_round(session, district, analytic_dir, p.id, dept, admin, not done))
        except DomainError:
            session.rollback()
            continue
    return {"created": True, "rounds": done, "applications": _instant(session, district, analytic_dir, data_dir)}
