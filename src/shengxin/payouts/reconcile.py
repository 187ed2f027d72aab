"""Reconciliation: import the bank's result file — each line paid, or failed with the bank's reason.

Rules:

* the file's SHA-256 is recorded (UNIQUE): importing the same file again changes nothing and says so;
* every row is checked — known line reference, exact amount, known status (成功/失败 or paid/failed),
  a reason for a failure, no reference twice in the file, not already settled differently — and a bad
  row is reported with its row number, field and value while the good rows are applied;
* a paid line appends a ``pay`` ledger entry with the idempotency key ``pay:<item>`` (UNIQUE), so an
  item is paid at most once whatever happens; a failed line marks the item failed (budget stays
  committed until it is retried or cancelled);
* rows are applied in chunks, each committed; the import row stays ``running`` until the end, so a
  process killed mid-file is resumed by importing the same file again — applied lines are recognised
  (already settled the same way) and skipped, the rest applied: no duplicate and no loss.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.db import utcnow
from shengxin.errors import Forbidden, InvalidInput
from shengxin.payouts import budget as B
from shengxin.payouts import ledger as L
from shengxin.payouts import states
from shengxin.payouts.bankfile import RESULT_COLUMNS, check_size, parse_yuan, read_table
from shengxin.payouts.models import PayoutBankImport, PayoutBatchLine, PayoutItem, PayoutRound
from shengxin.payouts.permissions import can_manage
from shengxin.payouts.rounds import chunk_size, pause_between_chunks

CHUNK = 2_000
PAID = {"成功", "已成功", "支付成功", "paid", "success", "ok"}
FAILED = {"失败", "支付失败", "退票", "failed", "fail"}


@dataclass
class ImportResult:
    import_id: int
    filename: str
    digest: str
    already_imported: bool
    rows_total: int = 0
    rows_paid: int = 0
    rows_failed: int = 0
    rows_skipped: int = 0
    errors: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _result(imp: PayoutBankImport, already: bool, skipped: int = 0) -> ImportResult:
    return ImportResult(imp.id, imp.filename, imp.digest, already, imp.rows_total, imp.rows_paid, imp.rows_failed,
                        skipped, list(imp.errors or []))


def _err(row: int, fld: str, value, message: str) -> dict:
    return {"row": row, "field": fld, "value": "" if value is None else str(value)[:100], "message": message}


def import_result_file(session: Session, filename: str, content: bytes, principal: Principal, *,
                       progress=None) -> ImportResult:
    """Apply a bank result file (commits per chunk; see the module rules)."""
    if principal.role not in (Role.ADMIN, Role.DEPARTMENT):
        raise Forbidden("只有部门工作人员或区级管理员可以导入银行回单")
    filename = (filename or "result.csv").replace("\\", "/").rsplit("/", 1)[-1][:200]
    check_size(content, filename)
    digest = hashlib.sha256(content).hexdigest()
    imp = session.scalar(select(PayoutBankImport).where(PayoutBankImport.digest == digest))
    if imp is not None and imp.status == "done":
        return _result(imp, True)
    _, rows = read_table(filename, content, RESULT_COLUMNS)
    if imp is None:
        imp = PayoutBankImport(digest=digest, filename=filename, status="running", imported_by=principal.username,
                               rows_total=len(rows), errors=[])
        session.add(imp)
        try:
            session.commit()
        except IntegrityError:  # another process registered the same file a moment ago
            session.rollback()
            imp = session.scalar(select(PayoutBankImport).where(PayoutBankImport.digest == digest))
            if imp.status == "done":
                return _result(imp, True)
    errors: list[dict] = []
    seen: set[str] = set()
    parsed = []
    for n, row in rows:
        ref = row.get("明细编号", "").strip()
        if not ref:
            errors.append(_err(n, "明细编号", ref, "明细编号为空"))
            continue
        if ref in seen:
            errors.append(_err(n, "明细编号", ref, "同一文件中重复的明细编号（只处理第一次出现）"))
            continue
        try:
            amount = parse_yuan(row.get("金额（元）"), f"{filename}:{n}:金额（元）")
        except InvalidInput as exc:
            errors.append(_err(n, "金额（元）", row.get("金额（元）"), exc.message))
            continue
        status_text = row.get("状态", "").strip().lower()
        if status_text in PAID:
            result = "paid"
        elif status_text in FAILED:
            result = "failed"
        else:
            errors.append(_err(n, "状态", row.get("状态"), "状态应为“成功”或“失败”"))
            continue
        reason = row.get("失败原因", "").strip()
        if result == "failed" and not reason:
            errors.append(_err(n, "失败原因", reason, "失败的明细必须写明失败原因"))
            continue
        seen.add(ref)
        parsed.append((n, ref, amount, result, reason, row.get("银行流水号", "").strip()[:64]))
    paid = failed = skipped = 0
    size = chunk_size(CHUNK)
    for start in range(0, len(parsed), size):
        part = parsed[start:start + size]
        p, f, s = _apply_chunk(session, part, principal, errors, digest)
        paid, failed, skipped = paid + p, failed + f, skipped + s
        imp = session.get(PayoutBankImport, imp.id, populate_existing=True)
        session.commit()
        if progress is not None:
            progress(len(part))
        pause_between_chunks()
    imp = session.get(PayoutBankImport, imp.id, populate_existing=True)
    imp.status = "done"
    imp.rows_paid = session.scalar(_count("paid", digest)) or 0
    imp.rows_failed = session.scalar(_count("failed", digest)) or 0
    imp.errors = errors
    imp.finished_at = utcnow()
    session.commit()
    return _result(imp, False, skipped)


def _count(result: str, digest: str):
    from sqlalchemy import func

    return select(func.count()).select_from(PayoutBatchLine).where(PayoutBatchLine.result == result,
                                                                    PayoutBatchLine.import_digest == digest)


def _apply_chunk(session: Session, part: list, principal: Principal, errors: list[dict],
                 digest: str) -> tuple[int, int, int]:
    refs = [p[1] for p in part]
    lines = {ln.ref: ln for ln in session.scalars(select(PayoutBatchLine).where(PayoutBatchLine.ref.in_(refs))
                                                  .with_for_update().execution_options(populate_existing=True))}
    items = {i.id: i for i in session.scalars(select(PayoutItem).where(
        PayoutItem.id.in_([ln.item_id for ln in lines.values()])).with_for_update()
        .execution_options(populate_existing=True))}
    rounds = {r.id: r for r in session.scalars(select(PayoutRound).where(
        PayoutRound.id.in_({i.round_id for i in items.values()})))}
    todo: dict[str, list] = {}
    paid = failed = skipped = 0
    for n, ref, amount, result, reason, bank_ref in part:
        line = lines.get(ref)
        if line is None:
            errors.append(_err(n, "明细编号", ref, "没有这个明细编号（不是本平台生成的支付文件中的明细）"))
            continue
        item = items[line.item_id]
        r = rounds[item.round_id]
        if not can_manage(principal, r.department_code):
            errors.append(_err(n, "明细编号", ref, f"无权办理部门 {r.department_code} 的兑现"))
            continue
        if amount != line.amount_fen:
            errors.append(_err(n, "金额（元）", amount / 100, f"金额与支付文件不符：应为 {line.amount_fen / 100:.2f} 元"))
            continue
        if line.result != "pending":
            if line.result == result:
                skipped += 1  # this line was applied by an earlier (interrupted) run of the same file
            else:
                errors.append(_err(n, "状态", result, f"该明细已登记为 {line.result}，与本文件不一致"))
            continue
        if item.status != "in_batch" or item.batch_id != line.batch_id:
            errors.append(_err(n, "明细编号", ref, f"该明细当前状态为“{states.ITEM_LABELS[item.status]}”，不在这个支付批次中"))
            continue
        todo.setdefault(r.policy_id, []).append((line, item, r, result, reason, bank_ref))
    now = utcnow()
    for policy_id in sorted(todo):
        locked = B.lock(session, policy_id)
        with L.chain(session) as w:
            for line, item, r, result, reason, bank_ref in todo[policy_id]:
                line.result = result
                line.import_digest = digest
                before = item.status
                if result == "paid":
                    w.entry("pay", policy_id=policy_id, round_id=r.id, item_id=item.id, uscc=item.uscc,
                            amount_fen=item.amount_fen, committed_after_fen=locked.committed_fen,
                            budget_fen=locked.budget_fen, key=f"pay:{item.id}", actor=principal.username)
                    locked.pay(item.amount_fen)
                    item.status, item.bank_ref, item.paid_on = "paid", bank_ref or line.ref, now.date()
                    paid += 1
                else:
                    item.status, item.reason = "failed", f"银行退回：{reason}"[:500]
                    failed += 1
                item.updated_at = now
                w.event("item", item.id, result, principal.username, from_status=before, to_status=item.status,
                        detail=f"line={line.ref} bank_ref={bank_ref} {reason}".strip())
        B.save(session, locked)
    session.flush()
    return paid, failed, skipped


def list_imports(session: Session, principal: Principal) -> list[ImportResult]:
    if principal.role not in (Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR):
        raise Forbidden("只有部门工作人员、区级管理员或审计员可以查看银行回单导入记录")
    return [_result(i, False) for i in session.scalars(select(PayoutBankImport).order_by(PayoutBankImport.id.desc()))]
