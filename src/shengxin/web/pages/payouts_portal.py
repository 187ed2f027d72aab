"""The enterprise's payout portal and the reviewers' page for instant applications (即申即享).

An enterprise sees its own payouts in every round and their status, confirms or changes the bank
account for a round, and applies for an instant-application policy with a form pre-filled from its
data; the rules answer at once (payment queue, refused with reasons, or to a reviewer with a
working-day deadline). District admins and the policy's department staff review the applications the
rules could not decide; auditors read them. Every scope check (own enterprise, own department) is
the domain's (``shengxin.payouts``); these routes only declare the roles.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals.attachments import ALLOWED_LABEL, Upload
from shengxin.errors import Conflict, InvalidInput, NotFound
from shengxin.payouts import accounts, applications, states
from shengxin.web.deps import get_db
from shengxin.web.nav import Section, register
from shengxin.web.pages.payouts_format import install_filters, parse_yuan
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)
REVIEWERS = (Role.ADMIN, Role.DEPARTMENT)
#: Who may open one application: the applicant, its reviewers and the auditor (the domain scopes it).
APPLICATION_READERS = (Role.ENTERPRISE, Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR)
#: Form fields of the apply form that carry the policy's own inputs are named ``in_<input name>``.
INPUT_PREFIX = "in_"

install_filters()
register(Section("my-payouts", "我的兑现", "/payouts/mine", frozenset({Role.ENTERPRISE})), before="appeals")


#: Match answers under which an instant policy is suggested to the enterprise first.
SUGGESTED = {"eligible": "符合条件", "missing_data": "需补充信息", "near_miss": "接近符合"}


def _instant_choices(request: Request, db: Session, uscc: str) -> tuple[list[dict], list]:
    """Live instant-application policies, those the current match answered eligible, to be checked
    or nearly eligible for this enterprise first (with the answer), the rest after."""
    from shengxin.errors import DomainError
    from shengxin.policies.matching import open_results

    policies = applications.instant_policies(db)
    answers: dict[str, tuple[str, int | None]] = {}
    try:
        con, _ = open_results(request.app.state.settings.analytic_dir)
    except DomainError:  # not matched yet: every policy is simply listed
        con = None
    if con is not None:
        try:
            answers = {p: (st, a) for p, st, a in con.execute(
                "SELECT policy_id, status, amount_fen FROM policy_results WHERE uscc = ?", [uscc]).fetchall()}
        finally:
            con.close()
    order = list(SUGGESTED)
    suggested = sorted(({"p": p, "status": answers[p.id][0], "label": SUGGESTED[answers[p.id][0]],
                         "amount_fen": answers[p.id][1]} for p in policies if answers.get(p.id, ("",))[0] in SUGGESTED),
                       key=lambda x: (order.index(x["status"]), x["p"].id))
    shown = {x["p"].id for x in suggested}
    return suggested, [p for p in policies if p.id not in shown]


def _mine(request: Request, db: Session, principal: Principal, *, error: str | None = None,
          message: str | None = None, status_code: int = 200):
    suggested, others = _instant_choices(request, db, principal.uscc)
    return render(request, "payouts_mine.html", {
        "items": accounts.items_for_enterprise(db, principal),
        "apps": applications.list_applications(db, principal),
        "suggested": suggested, "others": others,
        "on_file": accounts.account_on_file(db, principal.uscc),
        "error": error, "message": message, "item_labels": states.ITEM_LABELS}, status_code=status_code)


MINE_MESSAGES = {"confirmed": "收款账户已确认。", "changed": "已登记新的收款账户，本笔兑现将付至该账户。",
                 "account": "备案收款账户已更新。"}


@router.get("/payouts/mine")
def mine_page(request: Request, done: str = "", db: Session = Depends(get_db),
              principal: Principal = Depends(access(Role.ENTERPRISE))):
    return _mine(request, db, principal, message=MINE_MESSAGES.get(done))


@router.post("/payouts/mine/items/{item_id}/account")
def mine_confirm_account(item_id: int, request: Request, mode: str = Form("confirm"), account_name: str = Form(""),
                         account_no: str = Form(""), bank_name: str = Form(""), db: Session = Depends(get_db),
                         principal: Principal = Depends(access(Role.ENTERPRISE))):
    """Confirm the account on file for one payout, or give another one (stored as the new account on file)."""
    try:
        if mode == "change":
            accounts.confirm_item_account(db, item_id, principal, account_name=account_name.strip(),
                                          account_no=account_no.strip().replace(" ", ""), bank_name=bank_name.strip())
        else:
            accounts.confirm_item_account(db, item_id, principal)
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _mine(request, db, principal, error=str(exc), status_code=409 if isinstance(exc, Conflict) else 422)
    db.commit()
    return RedirectResponse(f"/payouts/mine?done={'changed' if mode == 'change' else 'confirmed'}#items",
                            status_code=303)


@router.post("/payouts/mine/account")
def mine_set_account(request: Request, account_name: str = Form(""), account_no: str = Form(""),
                     bank_name: str = Form(""), db: Session = Depends(get_db),
                     principal: Principal = Depends(access(Role.ENTERPRISE))):
    """Record the enterprise's bank account on file (used for future payouts it does not confirm itself)."""
    try:
        accounts.set_account(db, principal, principal.uscc, account_name=account_name.strip(),
                             account_no=account_no.strip().replace(" ", ""), bank_name=bank_name.strip())
    except InvalidInput as exc:
        db.rollback()
        return _mine(request, db, principal, error=str(exc), status_code=422)
    db.commit()
    return RedirectResponse("/payouts/mine?done=account#account", status_code=303)


# -- instant application ----------------------------------------------------------------------
def _form_page(request: Request, db: Session, principal: Principal, policy_id: str, *, values: dict | None = None,
               error: str | None = None, status_code: int = 200):
    s = request.app.state.settings
    form = applications.application_form(db, request.app.state.district, s.analytic_dir, policy_id, principal)
    return render(request, "payouts_apply.html", {
        "f": form, "values": values or {}, "error": error, "prefix": INPUT_PREFIX, "allowed": ALLOWED_LABEL,
        "max_mb": s.appeal_attachment_max_bytes // (1024 * 1024), "max_files": s.appeal_attachment_max_count},
        status_code=status_code)


@router.get("/payouts/apply/{policy_id}")
def apply_page(policy_id: str, request: Request, db: Session = Depends(get_db),
               principal: Principal = Depends(access(Role.ENTERPRISE))):
    return _form_page(request, db, principal, policy_id)


@router.post("/payouts/apply/{policy_id}")
async def apply_submit(policy_id: str, request: Request, db: Session = Depends(get_db),
                       principal: Principal = Depends(access(Role.ENTERPRISE))):
    """Apply: the rules answer at once; the answer page shows the outcome."""
    form = await request.form()
    s = request.app.state.settings
    values = {k[len(INPUT_PREFIX):]: str(v) for k, v in form.multi_items()
              if k.startswith(INPUT_PREFIX) and isinstance(v, str)}
    files = [f for f in form.getlist("materials") if not isinstance(f, str) and f.filename]
    if len(files) > s.appeal_attachment_max_count:
        return await run_in_threadpool(_form_page, request, db, principal, policy_id, values=values,
                                       error=f"最多上传 {s.appeal_attachment_max_count} 个材料文件", status_code=422)
    uploads = [Upload(f.filename, await f.read(s.appeal_attachment_max_bytes + 1)) for f in files]

    def run():
        try:
            app = applications.apply(db, request.app.state.district, s.analytic_dir, s.data_dir, policy_id,
                                     principal, inputs=values, uploads=uploads)
        except (InvalidInput, Conflict) as exc:
            db.rollback()
            return _form_page(request, db, principal, policy_id, values=values, error=str(exc),
                              status_code=409 if isinstance(exc, Conflict) else 422)
        app_id = app.id
        db.commit()
        return RedirectResponse(f"/payouts/applications/{app_id}?submitted=1", status_code=303)

    return await run_in_threadpool(run)


# -- reviewers ----------------------------------------------------------------------------------
@router.get("/payouts/applications")
def applications_page(request: Request, status: str = "review", db: Session = Depends(get_db),
                      principal: Principal = Depends(access(Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR))):
    if status and status not in states.APPLICATION_LABELS:
        raise InvalidInput(f"状态只能是 {', '.join(states.APPLICATION_LABELS)}", where="status")
    rows = applications.list_applications(db, principal, status=status or None)
    return render(request, "payouts_applications.html", {
        "rows": rows, "status": status, "labels": states.APPLICATION_LABELS})


def _application(request: Request, db: Session, principal: Principal, application_id: int, *,
                 error: str | None = None, submitted: bool = False, status_code: int = 200):
    a = applications.get_application(db, application_id, principal)
    from shengxin.payouts import permissions
    from shengxin.policies import service as policies

    try:
        department = policies.get(db, a.policy_id).department_code
    except NotFound:
        department = None
    can_review = (a.status == "review" and department is not None
                  and permissions.can_manage(principal, department) and principal.uscc != a.uscc)
    return render(request, "payouts_application.html", {
        "a": a, "error": error, "submitted": submitted, "can_review": can_review,
        "item_labels": states.ITEM_LABELS}, status_code=status_code)


@router.get("/payouts/applications/{application_id}")
def application_page(application_id: int, request: Request, submitted: int = 0, db: Session = Depends(get_db),
                     principal: Principal = Depends(access(*APPLICATION_READERS))):
    return _application(request, db, principal, application_id, submitted=bool(submitted))


@router.post("/payouts/applications/{application_id}/review")
def application_review(application_id: int, request: Request, decision: str = Form(""), reason: str = Form(""),
                       amount: str = Form(""), db: Session = Depends(get_db),
                       principal: Principal = Depends(access(*REVIEWERS))):
    try:
        if decision not in ("approve", "reject"):
            raise InvalidInput("请选择审核结论：通过或不通过", where="decision")
        if decision == "reject" and not reason.strip():
            raise InvalidInput("审核不通过须填写原因，企业将看到该原因", where="reason")
        fen = parse_yuan(amount, "amount") if amount.strip() else None
        applications.review_application(db, application_id, principal, decision, reason=reason.strip(), amount_fen=fen)
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _application(request, db, principal, application_id, error=str(exc),
                            status_code=409 if isinstance(exc, Conflict) else 422)
    db.commit()
    return RedirectResponse(f"/payouts/applications/{application_id}", status_code=303)


@router.get("/payouts/applications/{application_id}/files/{file_id}")
def application_file(application_id: int, file_id: int, request: Request, db: Session = Depends(get_db),
                     principal: Principal = Depends(access(*APPLICATION_READERS))):
    path, name, content_type = applications.application_file(db, request.app.state.settings.data_dir,
                                                             application_id, file_id, principal)
    return FileResponse(path, media_type=content_type, filename=name, content_disposition_type="attachment")

