"""No-application rounds (免申即享): snapshot → items → review → publicity → accounts → approval →
batches → reconciliation → retry/cancel → close. States in :mod:`shengxin.payouts.states`.

Rules:

* a round is created from a published no-application policy and one match snapshot; it records the
  policy version, the match and data snapshot ids and the as-of date; one snapshot yields at most one
  round of a policy (UNIQUE (policy_id, match_snapshot)), so two processes creating "the same" round
  get one round and a clear error;
* amounts come from the snapshot's eligible rows; policy caps are applied again against what the ledger
  already commits to the enterprise; rows left with nothing to pay are skipped;
* approval is by a second person (never the creator; a DB CHECK too), only after the publicity period
  has ended and every objection is answered; it commits the budget item by item under the budget lock,
  and items that do not fit stay unpaid as ``over_budget`` with the reason;
* a batch takes every approved item that has a bank account; building it is one transaction (a crash
  leaves nothing half-built), under the round's row lock (two builders never batch an item twice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shengxin.accounts.service import Principal
from shengxin.db import utcnow
from shengxin.errors import Conflict, InvalidInput, NotFound
from shengxin.payouts import budget as B
from shengxin.payouts import ledger as L
from shengxin.payouts import states
from shengxin.payouts.models import (
    PayoutAccount,
    PayoutBatch,
    PayoutBatchLine,
    PayoutEvent,
    PayoutItem,
    PayoutObjection,
    PayoutRound,
)
from shengxin.payouts.permissions import require_approve, require_manage, require_read, town_filter
from shengxin.payouts.views import BatchPublic, EventPublic, ItemPublic, RoundPublic
from shengxin.policies import states as policy_states
from shengxin.policies.models import Policy

CHUNK = 5_000
#: test hook: seconds to sleep between chunks of long steps, so a test can SIGKILL the process mid-way
PAUSE_ENV = "SHENGXIN_TEST_PAYOUT_PAUSE"


#: test hook: a file to which each pause appends a line (the test waits for it, then kills)
PAUSE_FILE_ENV = "SHENGXIN_TEST_PAYOUT_PAUSE_FILE"
#: test hook: chunk size of batch building and bank-file import (default CHUNK / reconcile.CHUNK)
CHUNK_ENV = "SHENGXIN_TEST_PAYOUT_CHUNK"


def chunk_size(default: int) -> int:
    return int(os.environ.get(CHUNK_ENV) or default)


def pause_between_chunks() -> None:
    """Sleep when the test hook asks for it (crash tests kill the process during this pause)."""
    seconds = float(os.environ.get(PAUSE_ENV) or 0)
    if seconds > 0:
        marker = os.environ.get(PAUSE_FILE_ENV)
        if marker:
            with open(marker, "a", encoding="utf-8") as f:
                f.write(f"{os.getpid()}\n")
        time.sleep(seconds)


# ----------------------------------------------------------------------------- reading


def _by_id(session: Session, model, row_id: int, missing: str, where: str, *, lock: bool = False):
    """The row of ``model`` with this id (``lock``: ``SELECT … FOR UPDATE``, refreshed), or NotFound."""
    q = select(model).where(model.id == row_id)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    row = session.execute(q).scalar_one_or_none()
    if row is None:
        raise NotFound(missing, where=where)
    return row


def _round(session: Session, round_id: int, *, lock: bool = False) -> PayoutRound:
    return _by_id(session, PayoutRound, round_id, f"没有编号为 {round_id} 的兑现批次", "round_id", lock=lock)


def _publics(session: Session, rounds: list[PayoutRound]) -> list[RoundPublic]:
    """The summaries of many rounds with three grouped queries in all (not three per round)."""
    ids = [r.id for r in rounds]
    if not ids:
        return []
    counts: dict[int, dict] = {i: {} for i in ids}
    amounts: dict[int, dict] = {i: {} for i in ids}
    for rid, status, n, amount in session.execute(
            select(PayoutItem.round_id, PayoutItem.status, func.count(),
                   func.coalesce(func.sum(PayoutItem.amount_fen), 0))
            .where(PayoutItem.round_id.in_(ids)).group_by(PayoutItem.round_id, PayoutItem.status)):
        counts[rid][status], amounts[rid][status] = int(n), int(amount)
    open_objections = dict(session.execute(
        select(PayoutObjection.round_id, func.count()).where(
            PayoutObjection.round_id.in_(ids), PayoutObjection.answered_at.is_(None))
        .group_by(PayoutObjection.round_id)).all())
    without = dict(session.execute(
        select(PayoutItem.round_id, func.count()).where(
            PayoutItem.round_id.in_(ids), PayoutItem.account_id.is_(None),
            PayoutItem.status.in_(("proposed", "approved")))
        .group_by(PayoutItem.round_id)).all())
    return [RoundPublic.of(r, counts[r.id], amounts[r.id], int(open_objections.get(r.id, 0)),
                           int(without.get(r.id, 0))) for r in rounds]


def _public(session: Session, r: PayoutRound) -> RoundPublic:
    return _publics(session, [r])[0]


def get_round(session: Session, round_id: int, principal: Principal) -> RoundPublic:
    require_read(principal)
    return _public(session, _round(session, round_id))


def list_rounds(session: Session, principal: Principal, *, policy_id: str | None = None,
                status: str | None = None, mode: str | None = None) -> list[RoundPublic]:
    """Rounds, newest first."""
    require_read(principal)
    q = select(PayoutRound)
    if policy_id:
        q = q.where(PayoutRound.policy_id == policy_id)
    if status:
        q = q.where(PayoutRound.status == status)
    if mode:
        q = q.where(PayoutRound.mode == mode)
    return _publics(session, list(session.scalars(q.order_by(PayoutRound.id.desc()))))


def _accounts(session: Session, items: list[PayoutItem]) -> dict[int, PayoutAccount]:
    ids = {i.account_id for i in items if i.account_id}
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(PayoutAccount).where(PayoutAccount.id.in_(ids)))}


def item_views(session: Session, items: list[PayoutItem]) -> list[ItemPublic]:
    accounts = _accounts(session, items)
    return [ItemPublic.of(i, accounts.get(i.account_id)) for i in items]


def list_items(session: Session, round_id: int, principal: Principal, *, status: str | None = None,
               town: str | None = None, q: str | None = None, page: int = 1,
               page_size: int = 50) -> tuple[list[ItemPublic], int]:
    """A round's items, paged; town staff see only their town's."""
    require_read(principal)
    _round(session, round_id)
    query = select(PayoutItem).where(PayoutItem.round_id == round_id)
    limited = town_filter(principal)
    if limited:
        query = query.where(PayoutItem.town == limited)
    if town:
        query = query.where(PayoutItem.town == town)
    if status:
        query = query.where(PayoutItem.status == status)
    if q:
        query = query.where((PayoutItem.uscc.like(f"%{q}%")) | (PayoutItem.name.like(f"%{q}%")))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(session.scalars(query.order_by(PayoutItem.id).offset((max(page, 1) - 1) * page_size)
                                 .limit(page_size)))
    return item_views(session, items), int(total)


def _item(session: Session, item_id: int, *, lock: bool = False) -> PayoutItem:
    return _by_id(session, PayoutItem, item_id, f"没有编号为 {item_id} 的兑现明细", "item_id", lock=lock)


def get_item(session: Session, item_id: int, principal: Principal) -> ItemPublic:
    """One item: staff (town staff: their town), or the enterprise it pays."""
    from shengxin.accounts.roles import Role
    from shengxin.errors import Forbidden

    item = _item(session, item_id)
    if principal.role is Role.ENTERPRISE:
        if principal.uscc != item.uscc:
            raise NotFound(f"没有编号为 {item_id} 的兑现明细", where="item_id")
    else:
        require_read(principal)
        limited = town_filter(principal)
        if limited and item.town != limited:
            raise Forbidden("镇街工作人员只能查看本镇街企业的兑现明细")
    return item_views(session, [item])[0]


def round_events(session: Session, round_id: int, principal: Principal) -> list[EventPublic]:
    """The chained state changes of the round and its items, in order."""
    require_read(principal)
    item_ids = [str(i) for i in session.scalars(select(PayoutItem.id).where(PayoutItem.round_id == round_id))]
    q = select(PayoutEvent).where(((PayoutEvent.object_type == "round") & (PayoutEvent.object_id == str(round_id)))
                                  | ((PayoutEvent.object_type == "item") & PayoutEvent.object_id.in_(item_ids)))
    return [EventPublic(e.seq, e.at, e.object_type, e.object_id, e.action, e.from_status, e.to_status, e.actor,
                        e.detail) for e in session.scalars(q.order_by(PayoutEvent.seq))]


# ----------------------------------------------------------------------------- creating


def _live_policy(session: Session, policy_id: str, delivery: str) -> Policy:
    policy = session.get(Policy, policy_id)
    if policy is None:
        raise NotFound(f"没有编号为 {policy_id} 的政策", where="policy_id")
    if not policy_states.is_live(policy.status, policy.published_version):
        raise Conflict(f"政策 {policy_id} 未发布或已暂停/失效，不能兑现", where="policy_id")
    if policy.delivery != delivery:
        raise Conflict(f"政策 {policy_id} 的兑现方式是 {policy.delivery}，不是 {delivery}", where="policy_id")
    return policy


def creatable_policies(session: Session, principal: Principal):
    """Live no-application policies the principal may create rounds for (the create-round form)."""
    from shengxin.payouts.permissions import can_manage
    from shengxin.policies.service import list_policies

    return [p for p in list_policies(session, delivery="no_application", live_only=True)
            if can_manage(principal, p.department_code)]


def create_round(session: Session, district, analytic_dir: Path, policy_id: str, principal: Principal, *,
                 progress=None) -> RoundPublic:
    """A no-application round from the eligible rows of the current match snapshot."""
    from shengxin.policies.matching import open_results
    from shengxin.policies.service import compiled_version

    policy = _live_policy(session, policy_id, "no_application")
    require_manage(principal, policy.department_code)
    con, snap = open_results(analytic_dir)
    try:
        table = con.sql(
            "SELECT r.uscc, r.town, r.version, r.amount_fen FROM policy_results r "
            "WHERE r.policy_id = ? AND r.status = 'eligible' AND r.amount_fen > 0 ORDER BY r.uscc",
            params=[policy_id]).to_arrow_table()
    finally:
        con.close()
    if table.num_rows == 0:
        raise Conflict(f"匹配快照 {snap.id} 中没有符合政策 {policy_id} 且金额大于 0 的企业", where="policy_id")
    versions = set(table.column("version").to_pylist())
    if versions != {policy.published_version}:
        raise Conflict(f"匹配快照 {snap.id} 用的是第 {sorted(versions)} 版，政策现行第 {policy.published_version} 版："
                       "请先重新运行 shengxin policies match", where="match_snapshot")
    compiled, _ = compiled_version(session, district, policy_id, policy.published_version)
    names = _names(analytic_dir, snap)
    usccs = table.column("uscc").to_pylist()
    rows = [{"uscc": u, "town": t, "amount_fen": a, "name": names.get(u, "")}
            for u, t, a in zip(usccs, table.column("town").to_pylist(), table.column("amount_fen").to_pylist())]
    return create_round_from_rows(session, policy_id, rows, principal, as_of=snap.as_of, match_snapshot=snap.id,
                                  data_snapshot=snap.manifest.get("data_snapshot"), caps=compiled.caps,
                                  progress=progress)


def _names(analytic_dir: Path, snap) -> dict[str, str]:
    """Enterprise names from the data snapshot the match used (for lists and bank files)."""
    from shengxin.enterprises.store import current_snapshot, open_snapshot

    data = current_snapshot(analytic_dir)
    if data is None:
        return {}
    con = open_snapshot(data, analytic_dir=analytic_dir)
    try:
        return dict(con.execute("SELECT uscc, name FROM enterprises").fetchall())
    except Exception:  # noqa: BLE001 - names are a convenience; a snapshot without them still pays
        return {}
    finally:
        con.close()


def create_round_from_rows(session: Session, policy_id: str, rows: list[dict], principal: Principal, *,
                           as_of: dt.date, match_snapshot: str, data_snapshot: str | None = None, caps=None,
                           progress=None) -> RoundPublic:
    """A no-application round from explicit eligible rows ``{uscc, amount_fen, town?, name?}``."""
    policy = _live_policy(session, policy_id, "no_application")
    require_manage(principal, policy.department_code)
    if session.scalar(select(PayoutRound.id).where(PayoutRound.policy_id == policy_id,
                                                   PayoutRound.match_snapshot == match_snapshot)) is not None:
        raise Conflict(f"政策 {policy_id} 已用匹配快照 {match_snapshot} 创建过一轮兑现", where="match_snapshot")
    committed = L.committed_by_payee(session, policy_id) if caps is not None and caps.any else {}
    r = PayoutRound(policy_id=policy_id, policy_version=policy.published_version, policy_title=policy.title,
                    department_code=policy.department_code, mode="no_application", period=None, status="review",
                    match_snapshot=match_snapshot, data_snapshot=data_snapshot, as_of=as_of,
                    created_by=principal.username)
    session.add(r)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"政策 {policy_id} 已用匹配快照 {match_snapshot} 创建过一轮兑现", where="match_snapshot") from exc
    now = utcnow()
    values, skipped, seen = [], 0, set()
    for row in rows:
        uscc, computed = row["uscc"], int(row["amount_fen"] or 0)
        if uscc in seen:
            raise InvalidInput(f"企业 {uscc} 在输入中出现了两次", where="rows")
        seen.add(uscc)
        amount = computed
        if caps is not None and caps.any:
            total, year = committed.get(uscc, (0, 0))
            if caps.per_enterprise is not None:
                amount = min(amount, caps.per_enterprise - total)
            if caps.per_year is not None:
                amount = min(amount, caps.per_year - year)
        if amount <= 0:
            skipped += 1
            continue
        values.append({"round_id": r.id, "policy_id": policy_id, "uscc": uscc, "name": row.get("name") or "",
                       "town": row.get("town"), "policy_version": policy.published_version, "computed_fen": computed,
                       "amount_fen": amount, "status": "proposed", "reason": "", "eligible_on": as_of,
                       "created_by": principal.username, "created_at": now, "updated_at": now})
    if not values:
        raise Conflict(f"政策 {policy_id} 没有需要兑现的企业（{skipped} 家已达封顶）", where="rows")
    for start in range(0, len(values), CHUNK):
        session.execute(insert(PayoutItem), values[start:start + CHUNK])
        if progress is not None:
            progress(len(values[start:start + CHUNK]))
    digest = hashlib.sha256("".join(f"{v['uscc']}:{v['amount_fen']};" for v in values).encode()).hexdigest()
    with L.chain(session) as w:
        w.event("round", r.id, "create", principal.username, to_status="review",
                detail=f"policy={policy_id} v{policy.published_version} snapshot={match_snapshot} "
                       f"data={data_snapshot} as_of={as_of} items={len(values)} skipped_caps={skipped} "
                       f"total_fen={sum(v['amount_fen'] for v in values)} items_sha256={digest}")
    session.flush()
    return _public(session, r)


# ----------------------------------------------------------------------------- review


def _set_item(session: Session, item: PayoutItem, action: str, principal: Principal, reason: str = "",
              w: L.ChainWriter | None = None) -> None:
    t = states.check_item(item.status, action)
    before = item.status
    item.status = t.target
    item.updated_at = utcnow()
    if reason:
        item.reason = reason[:500]
    if w is not None:
        w.event("item", item.id, action, principal.username, from_status=before, to_status=t.target, detail=reason)


def exclude_item(session: Session, item_id: int, principal: Principal, reason: str) -> ItemPublic:
    """Staff exclude an item during review, with a reason."""
    r = _round(session, _item(session, item_id).round_id, lock=True)
    item = _item(session, item_id, lock=True)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "exclude")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("排除企业需要填写原因", where="reason")
    with L.chain(session) as w:
        _set_item(session, item, "exclude", principal, reason, w)
    session.flush()
    return item_views(session, [item])[0]


def include_item(session: Session, item_id: int, principal: Principal) -> ItemPublic:
    """Undo an exclusion while the round is still in review."""
    r = _round(session, _item(session, item_id).round_id, lock=True)
    item = _item(session, item_id, lock=True)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "exclude")
    with L.chain(session) as w:
        _set_item(session, item, "include", principal, "", w)
        item.reason = ""
    session.flush()
    return item_views(session, [item])[0]


def _round_to(session: Session, r: PayoutRound, action: str, principal: Principal, w: L.ChainWriter,
              detail: str = "") -> None:
    t = states.check_round(r.status, action)
    before = r.status
    if t.target:
        r.status = t.target
    w.event("round", r.id, action, principal.username, from_status=before, to_status=r.status, detail=detail)


def publicise(session: Session, round_id: int, principal: Principal, *, days: int | None = None,
              now: dt.datetime | None = None) -> RoundPublic:
    """Start the publicity period: ``days`` working days (``0``: it ends at once)."""
    from shengxin.config import get_settings
    from shengxin.workdays import load_calendar

    r = _round(session, round_id, lock=True)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "publicise")
    days = get_settings().payout_publicity_days if days is None else days
    if days < 0 or days > 60:
        raise InvalidInput("公示天数应为 0–60 个工作日", where="days")
    now = now or utcnow()
    live = session.scalar(select(func.count()).select_from(PayoutItem).where(
        PayoutItem.round_id == r.id, PayoutItem.status == "proposed")) or 0
    if not live:
        raise Conflict("本轮没有待兑现的企业（全部已排除），不能公示", where="round_id")
    end = now if days == 0 else load_calendar(session).add_working_days(now, days).due
    r.publicity_days, r.publicity_start, r.publicity_end = days, now, end
    with L.chain(session) as w:
        _round_to(session, r, "publicise", principal, w, f"days={days} end={end.isoformat()}")
    session.flush()
    return _public(session, r)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def confirm_accounts(session: Session, round_id: int, principal: Principal, *,
                     now: dt.datetime | None = None) -> RoundPublic:
    """After the publicity end: items whose enterprise has not confirmed an account get the account on
    file; items with no account at all stay without one (they cannot go into a batch)."""
    r = _round(session, round_id, lock=True)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "confirm_accounts")
    now = now or utcnow()
    if r.publicity_end is not None and _aware(now) < _aware(r.publicity_end):
        raise Conflict(f"公示期至 {_aware(r.publicity_end).astimezone(dt.timezone(dt.timedelta(hours=8))):%Y-%m-%d %H:%M} 结束，"
                       "公示期满后才能确认账户", where="publicity_end")
    latest = (select(func.max(PayoutAccount.id)).where(PayoutAccount.uscc == PayoutItem.uscc)
              .correlate(PayoutItem).scalar_subquery())
    on_file = session.execute(
        update(PayoutItem).where(PayoutItem.round_id == r.id, PayoutItem.status == "proposed",
                                 PayoutItem.account_id.is_(None))
        .values(account_id=latest, account_confirmed_by=f"on_file:{principal.username}", account_confirmed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.expire_all()
    r = _round(session, round_id)
    missing = session.scalar(select(func.count()).select_from(PayoutItem).where(
        PayoutItem.round_id == r.id, PayoutItem.status == "proposed", PayoutItem.account_id.is_(None))) or 0
    with L.chain(session) as w:
        _round_to(session, r, "confirm_accounts", principal, w, f"on_file={on_file} without_account={missing}")
    session.flush()
    return _public(session, r)


def approve(session: Session, round_id: int, principal: Principal, *, now: dt.datetime | None = None,
            progress=None) -> RoundPublic:
    """The second person approves: budget is committed item by item; what does not fit stays unpaid."""
    r = _round(session, round_id, lock=True)
    require_approve(principal, r.department_code, r.created_by)
    states.check_round(r.status, "approve")
    open_objections = session.scalar(select(func.count()).select_from(PayoutObjection).where(
        PayoutObjection.round_id == r.id, PayoutObjection.answered_at.is_(None))) or 0
    if open_objections:
        raise Conflict(f"还有 {open_objections} 条公示异议未答复，答复后才能审批", where="objections")
    locked = B.lock(session, r.policy_id)
    items = session.execute(select(PayoutItem.id, PayoutItem.uscc, PayoutItem.amount_fen).where(
        PayoutItem.round_id == r.id, PayoutItem.status == "proposed").order_by(PayoutItem.id)).all()
    now_ = now or utcnow()
    approved, over = [], []
    with L.chain(session) as w:
        for item_id, uscc, amount in items:
            if locked.fits(amount):
                after = locked.commit(amount)
                w.entry("commit", policy_id=r.policy_id, round_id=r.id, item_id=item_id, uscc=uscc, amount_fen=amount,
                        committed_after_fen=after, budget_fen=locked.budget_fen, key=f"commit:{item_id}",
                        actor=principal.username)
                approved.append({"id": item_id, "status": "approved", "approved_by": principal.username,
                                 "updated_at": now_})
            else:
                reason = f"政策预算不足：剩余 {locked.left_fen / 100:,.2f} 元，本笔 {amount / 100:,.2f} 元"
                over.append({"id": item_id, "status": "over_budget", "reason": reason, "updated_at": now_})
                w.event("item", item_id, "no_budget", principal.username, from_status="proposed",
                        to_status="over_budget", detail=reason)
            if progress is not None:
                progress(1)
        r.approved_by, r.approved_at = principal.username, now_
        _round_to(session, r, "approve", principal, w,
                  f"approved={len(approved)} over_budget={len(over)} committed_after={locked.committed_fen}")
        for start in range(0, len(approved), CHUNK):
            session.execute(update(PayoutItem), approved[start:start + CHUNK])
        if over:
            session.execute(update(PayoutItem), over)
        B.save(session, locked)
    session.flush()
    return _public(session, r)


# ----------------------------------------------------------------------------- paying


def build_batch(session: Session, round_id: int, principal: Principal, *, progress=None) -> BatchPublic:
    """Put every approved item that has a bank account into a new batch (one transaction)."""
    r = _round(session, round_id, lock=True)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "batch")
    rows = session.execute(
        select(PayoutItem.id, PayoutItem.amount_fen, PayoutAccount.account_name, PayoutAccount.account_no,
               PayoutAccount.bank_name)
        .join(PayoutAccount, PayoutAccount.id == PayoutItem.account_id)
        .where(PayoutItem.round_id == r.id, PayoutItem.status == "approved").order_by(PayoutItem.id)).all()
    if not rows:
        raise Conflict("没有可支付的明细（待支付且已有收款账户的为 0 笔）", where="round_id")
    batch = PayoutBatch(round_id=r.id, item_count=len(rows), total_fen=sum(x[1] for x in rows),
                        created_by=principal.username)
    session.add(batch)
    session.flush()
    now = utcnow()
    size = chunk_size(CHUNK)
    for start in range(0, len(rows), size):
        part = rows[start:start + size]
        session.execute(insert(PayoutBatchLine), [
            {"batch_id": batch.id, "item_id": i, "line_no": start + n + 1, "ref": line_ref(batch.id, i),
             "amount_fen": a, "account_name": an, "account_no": no, "bank_name": bn, "result": "pending"}
            for n, (i, a, an, no, bn) in enumerate(part)])
        result = session.execute(
            update(PayoutItem).where(PayoutItem.id.in_([x[0] for x in part]), PayoutItem.status == "approved")
            .values(status="in_batch", batch_id=batch.id, updated_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != len(part):
            raise Conflict("有明细在生成批次时被他人改动，请重试", where="round_id")
        if progress is not None:
            progress(len(part))
        pause_between_chunks()
    digest = hashlib.sha256("".join(f"{x[0]}:{x[1]};" for x in rows).encode()).hexdigest()
    with L.chain(session) as w:
        _round_to(session, r, "batch", principal, w,
                  f"batch={batch.id} items={len(rows)} total_fen={batch.total_fen} items_sha256={digest}")
    session.flush()
    session.expire_all()
    return BatchPublic.of(batch, {"pending": len(rows)})


def line_ref(batch_id: int, item_id: int) -> str:
    """The bank-file line reference of an item in a batch (unique: one line per item per batch)."""
    return f"B{batch_id}-{item_id:06d}"


def list_batches(session: Session, round_id: int, principal: Principal) -> list[BatchPublic]:
    require_read(principal)
    out = []
    for b in session.scalars(select(PayoutBatch).where(PayoutBatch.round_id == round_id).order_by(PayoutBatch.id)):
        res = dict(session.execute(select(PayoutBatchLine.result, func.count()).where(
            PayoutBatchLine.batch_id == b.id).group_by(PayoutBatchLine.result)).all())
        out.append(BatchPublic.of(b, res))
    return out


def _selected(session: Session, r: PayoutRound, statuses: tuple[str, ...], item_ids) -> list[PayoutItem]:
    q = select(PayoutItem).where(PayoutItem.round_id == r.id, PayoutItem.status.in_(statuses))
    if item_ids:
        q = q.where(PayoutItem.id.in_(list(item_ids)))
    items = list(session.scalars(q.order_by(PayoutItem.id).with_for_update()
                                 .execution_options(populate_existing=True)))
    if item_ids and len(items) != len(set(item_ids)):
        found = {i.id for i in items}
        bad = [str(i) for i in item_ids if i not in found]
        raise Conflict(f"明细 {', '.join(bad)} 不属于本轮或状态不允许此操作", where="item_ids")
    return items


def retry_failed(session: Session, round_id: int, principal: Principal, item_ids=None) -> int:
    """Failed items go back to the payment queue (a new batch pays them); returns how many."""
    r = _round(session, round_id, lock=True)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "retry")
    items = _selected(session, r, ("failed",), item_ids)
    if not items:
        raise Conflict("没有支付失败的明细", where="round_id")
    with L.chain(session) as w:
        for item in items:
            _set_item(session, item, "retry", principal, "", w)
            item.batch_id = None
        _round_to(session, r, "retry", principal, w, f"items={len(items)}")
    session.flush()
    return len(items)


def cancel_items(session: Session, round_id: int, principal: Principal, item_ids=None, *, reason: str) -> int:
    """Cancel failed (or approved, unbatched) items and release their budget."""
    r = _round(session, round_id, lock=True)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "cancel")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("取消需要填写原因", where="reason")
    items = _selected(session, r, ("failed", "approved") if item_ids else ("failed",), item_ids)
    if not items:
        raise Conflict("没有可取消的明细（支付失败的为 0 笔）", where="round_id")
    locked = B.lock(session, r.policy_id)
    with L.chain(session) as w:
        for item in items:
            after = locked.release(item.amount_fen)
            w.entry("release", policy_id=r.policy_id, round_id=r.id, item_id=item.id, uscc=item.uscc,
                    amount_fen=item.amount_fen, committed_after_fen=after, budget_fen=locked.budget_fen,
                    key=f"release:{item.id}", actor=principal.username)
            _set_item(session, item, "cancel", principal, reason, w)
        _round_to(session, r, "cancel", principal, w, f"items={len(items)} reason={reason}")
    B.save(session, locked)
    session.flush()
    return len(items)


def close_round(session: Session, round_id: int, principal: Principal) -> RoundPublic:
    """Close a round once nothing is waiting to be paid (no approved, in-batch or failed item)."""
    r = _round(session, round_id, lock=True)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "close")
    if r.mode == "instant_application":
        raise Conflict("即申即享的常设批次按月份自动滚动，不需要结束", where="round_id")
    waiting = dict(session.execute(select(PayoutItem.status, func.count()).where(
        PayoutItem.round_id == r.id, PayoutItem.status.in_(tuple(states.OPEN_ITEM_STATES)))
        .group_by(PayoutItem.status)).all())
    if waiting:
        text = "，".join(f"{states.ITEM_LABELS[s]} {n} 笔" for s, n in waiting.items())
        raise Conflict(f"还有未完成的明细（{text}）：请支付、重新支付或取消后再结束", where="round_id")
    r.closed_at = utcnow()
    with L.chain(session) as w:
        _round_to(session, r, "close", principal, w)
    session.flush()
    return _public(session, r)
