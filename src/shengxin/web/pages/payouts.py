"""Payout pages for staff (Simplified Chinese): the no-application rounds (免申即享) and their whole
workflow — create from a published policy, review and exclude with a reason, publicity, objections
and answers, bank-account confirmation, approval by a second person, bank payment file, bank result
file, retry or cancel failed items, close, clawback — plus the ledger check and the statistics.

Access: every staff role reads rounds (town staff see only their own town's items); district admins
and the policy's department staff act (``shengxin.payouts.permissions``); the approver is a manager
other than the round's creator — the page hides the button for the creator and the domain refuses
too; the auditor reads everything and changes nothing. The enterprise portal, the reviewers' page for
instant applications and the public publicity page live in ``payouts_portal.py`` and
``payouts_public.py``.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shengxin.accounts.roles import DISTRICT_WIDE_ROLES, STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.errors import Conflict, DomainError, InvalidInput
from shengxin.payouts import bankfile, ledger, permissions, publicity, reconcile, rounds, states, stats
from shengxin.payouts import clawback as clawbacks
from shengxin.web.deps import get_db
from shengxin.web.nav import Section, register
from shengxin.web.pages.payouts_format import install_filters
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)
#: Roles that may act on rounds at the route level; the domain narrows it to the policy's department.
MANAGERS = (Role.ADMIN, Role.DEPARTMENT)
PAGE_SIZE = 50
#: Round-level actions posted to ``/payouts/rounds/{id}/action`` (item-level ones have their own routes).
ROUND_ACTIONS = ("publicise", "confirm_accounts", "approve", "batch", "retry", "cancel", "close")

install_filters()
# One navigation entry for staff (the statistics, ledger and application review pages are linked from
# /payouts and the cockpit): the main navigation must stay on one line of the cockpit's wall screen.
register(Section("payouts", "政策兑现", "/payouts", STAFF_ROLES), before="appeals")


def _analytic(request: Request):
    return request.app.state.settings.analytic_dir


#: Chinese names of the recorded actions (the transitions' own labels, plus the non-transition events).
EVENT_LABELS = {**{a: t.label for a, t in states.ITEM_TRANSITIONS.items()},
                **{a: t.label for a, t in states.ROUND_TRANSITIONS.items()},
                "create": "生成", "confirm_account": "企业确认账户", "paid": "银行支付成功", "failed": "银行支付失败",
                "lodge": "提出异议", "answer": "答复异议", "set": "登记账户", "export": "下载支付文件"}
OBJECT_LABELS = {"round": "本轮", "item": "明细", "batch": "批次", "application": "申请", "objection": "异议",
                 "account": "账户"}


def _labels() -> dict:
    return {"round_labels": states.ROUND_LABELS, "item_labels": states.ITEM_LABELS,
            "mode_labels": states.MODE_LABELS, "event_labels": EVENT_LABELS, "object_labels": OBJECT_LABELS}


def _list(request: Request, db: Session, principal: Principal, *, policy_id: str = "", status: str = "",
          error: str | None = None, accounts_result=None, status_code: int = 200):
    rows = rounds.list_rounds(db, principal, policy_id=policy_id or None, status=status or None)
    return render(request, "payouts_list.html", {
        "rows": rows, "policy_id": policy_id, "status": status, "error": error, "accounts_result": accounts_result,
        "manager": principal.role in MANAGERS,
        "policies": rounds.creatable_policies(db, principal), **_labels()}, status_code=status_code)


@router.get("/payouts")
def list_page(request: Request, policy_id: str = "", status: str = "", db: Session = Depends(get_db),
              principal: Principal = Depends(access(STAFF_ROLES))):
    return _list(request, db, principal, policy_id=policy_id, status=status)


@router.post("/payouts/rounds")
def create_submit(request: Request, policy_id: str = Form(""), db: Session = Depends(get_db),
                  principal: Principal = Depends(access(*MANAGERS))):
    if not policy_id.strip():
        return _list(request, db, principal, error="请选择要兑现的免申即享政策", status_code=422)
    try:
        r = rounds.create_round(db, request.app.state.district, _analytic(request), policy_id.strip(), principal)
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _list(request, db, principal, error=str(exc), status_code=_status(exc))
    round_id = r.id
    db.commit()
    return RedirectResponse(f"/payouts/rounds/{round_id}?done=created", status_code=303)


@router.post("/payouts/accounts/import")
def accounts_import(request: Request, file: UploadFile | None = File(default=None), db: Session = Depends(get_db),
                    principal: Principal = Depends(access(*MANAGERS))):
    """Bank accounts on file from a list (CSV/Excel: 统一社会信用代码, 收款户名, 收款账号, 开户银行); bad rows listed."""
    from shengxin.payouts import accounts

    if file is None or not file.filename:
        return _list(request, db, principal, error="请选择收款账户文件（CSV 或 Excel）", status_code=422)
    limit = request.app.state.settings.payout_bank_file_max_bytes
    content = file.file.read(limit + 1)
    try:
        result = accounts.import_accounts(db, principal, file.filename, content)
    except InvalidInput as exc:
        db.rollback()
        return _list(request, db, principal, error=str(exc), status_code=422)
    db.commit()
    return _list(request, db, principal, accounts_result=result,
                 status_code=422 if result.errors and not (result.created or result.unchanged) else 200)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g}"


def _status(exc: DomainError) -> int:
    return 409 if isinstance(exc, Conflict) else 422


DONE_MESSAGES = {
    "created": "已根据当前匹配快照生成本轮兑现名单，请复核。",
    "excluded": "已排除该企业。", "included": "已恢复该企业。",
    "publicise": "已开始公示。公示期内公众可通过公示页面提出异议。",
    "answered": "异议已答复。",
    "confirm_accounts": "已确认收款账户：未自行确认的企业使用备案账户。",
    "approve": "已审批通过，预算已占用。",
    "batch": "已生成支付批次，请下载银行支付文件。",
    "retry": "失败项已重新进入待支付，请生成新的支付批次。",
    "cancel": "已取消，预算已释放。",
    "close": "本轮兑现已结束。",
    "clawback": "已登记追回。",
}


def _detail(request: Request, db: Session, principal: Principal, round_id: int, *, status: str = "", town: str = "",
            q: str = "", page: int = 1, error: str | None = None, message: str | None = None,
            import_result=None, status_code: int = 200):
    r = rounds.get_round(db, round_id, principal)
    page = max(1, page)
    items, total = rounds.list_items(db, round_id, principal, status=status or None, town=town or None,
                                     q=q or None, page=page, page_size=PAGE_SIZE)
    manager = permissions.can_manage(principal, r.department_code)
    filters = {k: v for k, v in {"status": status, "town": town, "q": q}.items() if v}
    return render(request, "payouts_round.html", {
        "r": r, "items": items, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": filters, "query": urlencode(filters), "status": status, "town": town, "q": q,
        "town_only": permissions.town_filter(principal),
        "objections": publicity.list_objections(db, round_id, principal),
        "batches": rounds.list_batches(db, round_id, principal),
        "events": rounds.round_events(db, round_id, principal),
        "manager": manager, "approver": permissions.can_approve(principal, r.department_code, r.created_by),
        "error": error, "message": message, "import_result": import_result,
        "bank_file_max_mb": _mb(request.app.state.settings.payout_bank_file_max_bytes), **_labels()}, status_code=status_code)


@router.get("/payouts/rounds/{round_id}")
def round_page(round_id: int, request: Request, status: str = "", town: str = "", q: str = "", page: int = 1,
               done: str = "", db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    return _detail(request, db, principal, round_id, status=status, town=town, q=q, page=page,
                   message=DONE_MESSAGES.get(done))


def _after(round_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/payouts/rounds/{round_id}?done={done}", status_code=303)


@router.post("/payouts/rounds/{round_id}/action")
def round_action(round_id: int, request: Request, action: str = Form(...), reason: str = Form(""),
                 days: str = Form(""), item_ids: list[int] = Form(default=[]), db: Session = Depends(get_db),
                 principal: Principal = Depends(access(*MANAGERS))):
    """One form per round step; the domain checks the state, the department and four eyes."""
    try:
        if action not in ROUND_ACTIONS:
            raise InvalidInput(f"未知的操作 {action!r}", where="action")
        if action == "publicise":
            n = None
            if days.strip():
                if not days.strip().isdigit():
                    raise InvalidInput("公示天数必须是不小于 0 的整数（工作日）", where="days")
                n = int(days)
            rounds.publicise(db, round_id, principal, days=n)
        elif action == "confirm_accounts":
            rounds.confirm_accounts(db, round_id, principal)
        elif action == "approve":
            rounds.approve(db, round_id, principal)
        elif action == "batch":
            rounds.build_batch(db, round_id, principal)
        elif action == "retry":
            rounds.retry_failed(db, round_id, principal, item_ids or None)
        elif action == "cancel":
            if not reason.strip():
                raise InvalidInput("取消须填写原因", where="reason")
            rounds.cancel_items(db, round_id, principal, item_ids or None, reason=reason.strip())
        else:
            rounds.close_round(db, round_id, principal)
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _detail(request, db, principal, round_id, error=str(exc), status_code=_status(exc))
    db.commit()
    return _after(round_id, action)


@router.post("/payouts/items/{item_id}/exclude")
def item_exclude(item_id: int, request: Request, reason: str = Form(""), undo: str = Form(""),
                 db: Session = Depends(get_db), principal: Principal = Depends(access(*MANAGERS))):
    item = rounds.get_item(db, item_id, principal)
    try:
        if undo:
            rounds.include_item(db, item_id, principal)
        else:
            if not reason.strip():
                raise InvalidInput("排除企业须填写原因", where="reason")
            rounds.exclude_item(db, item_id, principal, reason.strip())
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _detail(request, db, principal, item.round_id, error=str(exc), status_code=_status(exc))
    db.commit()
    return _after(item.round_id, "included" if undo else "excluded")


@router.post("/payouts/items/{item_id}/clawback")
def item_clawback(item_id: int, request: Request, reason: str = Form(""), db: Session = Depends(get_db),
                  principal: Principal = Depends(access(*MANAGERS))):
    item = rounds.get_item(db, item_id, principal)
    try:
        if not reason.strip():
            raise InvalidInput("追回须填写原因（例如：事后发现不符合条件的依据）", where="reason")
        clawbacks.clawback(db, item_id, principal, reason.strip())
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _detail(request, db, principal, item.round_id, error=str(exc), status_code=_status(exc))
    db.commit()
    return _after(item.round_id, "clawback")


@router.post("/payouts/objections/{objection_id}/answer")
def objection_answer(objection_id: int, request: Request, round_id: int = Form(...), answer: str = Form(""),
                     db: Session = Depends(get_db), principal: Principal = Depends(access(*MANAGERS))):
    try:
        if not answer.strip():
            raise InvalidInput("答复内容不能为空", where="answer")
        publicity.answer_objection(db, objection_id, principal, answer.strip())
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _detail(request, db, principal, round_id, error=str(exc), status_code=_status(exc))
    db.commit()
    return _after(round_id, "answered")


@router.post("/payouts/rounds/{round_id}/reconcile")
def reconcile_upload(round_id: int, request: Request, file: UploadFile | None = File(default=None),
                     db: Session = Depends(get_db), principal: Principal = Depends(access(*MANAGERS))):
    """Import the bank's result file; valid rows are applied, invalid ones are listed row by row."""
    r = rounds.get_round(db, round_id, principal)
    permissions.require_manage(principal, r.department_code)
    if file is None or not file.filename:
        return _detail(request, db, principal, round_id, error="请选择银行回单文件（CSV 或 Excel）", status_code=422)
    limit = request.app.state.settings.payout_bank_file_max_bytes
    content = file.file.read(limit + 1)  # stop reading at the limit: nothing bigger is held in memory
    if len(content) > limit:
        return _detail(request, db, principal, round_id, status_code=413,
                       error=f"回单文件超过 {_mb(limit)} MB 上限（设置 SHENGXIN_PAYOUT_BANK_FILE_MAX_BYTES），"
                             "请按批次拆分后分别上传")
    try:
        result = reconcile.import_result_file(db, file.filename, content, principal)
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _detail(request, db, principal, round_id, error=str(exc), status_code=_status(exc))
    db.commit()
    return _detail(request, db, principal, round_id, import_result=result,
                   status_code=422 if result.errors and not (result.rows_paid or result.rows_failed) else 200)


@router.get("/payouts/batches/{batch_id}/export")
def batch_export(batch_id: int, fmt: str = "csv", encoding: str = "utf-8", db: Session = Depends(get_db),
                 principal: Principal = Depends(access(*MANAGERS))):
    """The bank payment file of a batch (CSV or Excel; CSV in UTF-8 with BOM or GBK)."""
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput("文件格式只能是 csv 或 xlsx", where="fmt")
    if encoding not in ("utf-8", "gbk"):
        raise InvalidInput("编码只能是 utf-8 或 gbk", where="encoding")
    f = bankfile.export_batch(db, batch_id, principal, fmt=fmt, encoding=encoding)
    db.commit()  # the export is recorded in the chained event log
    return Response(f.content, media_type=f.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(f.filename)}"})


@router.get("/payouts/ledger")
def ledger_page(request: Request, db: Session = Depends(get_db),
                principal: Principal = Depends(access(DISTRICT_WIDE_ROLES))):
    """Budgets and balances derived from the ledger, and the hash-chain check."""
    return render(request, "payouts_ledger.html", {
        "balances": ledger.balances(db), "report": ledger.verify(db), "imports": reconcile.list_imports(db, principal)[:20]})


STATS_DIMENSIONS = {"policy": "政策", "town": "镇街", "mode": "兑现方式", "month": "月份"}


@router.get("/payouts/stats")
def stats_page(request: Request, by: list[str] = Query(default=[]), db: Session = Depends(get_db),
               principal: Principal = Depends(access(STAFF_ROLES))):
    """Paid payouts per policy, town, mode and month (town staff: their own town)."""
    chosen = tuple(d for d in STATS_DIMENSIONS if d in by) or ("policy",)
    bad = [d for d in by if d not in STATS_DIMENSIONS]
    if bad:
        raise InvalidInput(f"统计维度只能是 {', '.join(STATS_DIMENSIONS)}；收到 {', '.join(bad)}", where="by")
    rows = stats.payout_stats(db, principal, by=chosen)
    totals = {"payees": sum(r["payees"] for r in rows), "amount_fen": sum(r["amount_fen"] for r in rows)}
    return render(request, "payouts_stats.html", {"rows": rows, "by": chosen, "dimensions": STATS_DIMENSIONS,
                                                 "totals": totals, **_labels()})
