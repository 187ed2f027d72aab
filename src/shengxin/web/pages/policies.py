"""Policy pages: the enterprise's "my policies", the staff policy list and per-policy page, the
officers' editor (write, validate, test, preview impact, save, move through the workflow), one
enterprise's explanation for one policy.

Access: enterprises see only their own answers; staff read every policy (town staff see matches of
their own town only); a district admin and the responsible department's staff edit and publish;
the auditor reads.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from shengxin.accounts.roles import ALL_ROLES, STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.enterprises.uscc import normalise
from shengxin.errors import DomainError, Forbidden
from shengxin.policies import pushes, service, states, views
from shengxin.policies import text as X
from shengxin.policies.definition import DELIVERY_MODES, LEVELS
from shengxin.policies.errors import PolicyInvalid
from shengxin.policies.evaluate import STATUSES
from shengxin.web.deps import get_db
from shengxin.web.nav import Section, register
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)
EDITORS = (Role.ADMIN, Role.DEPARTMENT)

register(Section("policies", "政策库", "/policies", STAFF_ROLES), before="appeals")
register(Section("my-policies", "我的政策", "/policies/mine", frozenset({Role.ENTERPRISE})), before="appeals")

NEW_POLICY_TEMPLATE = """\
id: NEW-POLICY-1
title: 政策名称
issuer: 杭州市余杭区人民政府
level: district            # national / provincial / city / district
department: jxj            # 责任部门编号
legal_basis:
  document: 文件名称和文号
  article: 第几条
valid_from: 2026-01-01
valid_until: 2027-12-31
budget: 500万元
delivery: no_application  # no_application 免申即享 / instant_application 即申即享 / ordinary 一般申报
targets: 适用对象说明
eligibility:
  all:
    - id: industry
      field: industry
      op: under
      value: C
      ref: 第二条
    - id: revenue
      field: sum(revenue, months=12)
      op: ">="
      value: 2000万元
      ref: 第二条
amount: 10万元
tests_as_of: 2026-10-31
tests:
  - name: 符合的制造业企业
    enterprise:
      industry: '3911'
      monthly: {revenue: [{from: 2025-11, to: 2026-10, each: 200万元}]}
    expect: {status: eligible, amount: 10万元}
  - name: 营业收入不足
    enterprise:
      industry: '3911'
      monthly: {revenue: [{from: 2025-11, to: 2026-10, each: 100万元}]}
    expect: {status: not_eligible, failed: [revenue]}
"""


def _analytic(request: Request):
    return request.app.state.settings.analytic_dir


def _district(request: Request):
    return request.app.state.district


def _labels() -> dict:
    return {"levels": LEVELS, "deliveries": DELIVERY_MODES, "statuses": states.STATUS_LABELS, "answer": STATUSES}


@router.get("/policies")
def list_page(request: Request, status: str = "", department: str = "", delivery: str = "", q: str = "",
              db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    rows = service.list_policies(db, status=status or None, department=department or None,
                                 delivery=delivery or None, q=q or None)
    return render(request, "policies_list.html", {
        "rows": rows, "counts": service.counts_by_status(db), "pushes": pushes.delivery_counts(db),
        "status": status, "department": department,
        "delivery": delivery, "q": q, "can_create": principal.role in EDITORS, **_labels()})


@router.get("/policies/mine")
def mine_page(request: Request, db: Session = Depends(get_db),
              principal: Principal = Depends(access(Role.ENTERPRISE))):
    overview = views.enterprise_overview(db, _district(request), _analytic(request), principal.uscc)
    items, unread = pushes.inbox(db, principal.uscc, limit=20)
    return render(request, "policies_mine.html", {
        "o": overview, "inbox": items, "unread": unread, "sub": pushes.subscription(db, principal.uscc),
        "money": X.money, "message": request.query_params.get("saved"), "error": None, **_labels()})


@router.post("/policies/mine/subscription")
def subscription_save(request: Request, email: str = Form(""), webhook_url: str = Form(""), action: str = Form("save"),
                      db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ENTERPRISE))):
    try:
        if action == "unsubscribe":
            pushes.unsubscribe(db, principal.uscc, principal.actor)
        else:
            pushes.subscribe(db, principal.uscc, email, webhook_url, principal.actor)
    except DomainError as exc:
        db.rollback()
        overview = views.enterprise_overview(db, _district(request), _analytic(request), principal.uscc)
        items, unread = pushes.inbox(db, principal.uscc, limit=20)
        return render(request, "policies_mine.html", {
            "o": overview, "inbox": items, "unread": unread, "sub": pushes.subscription(db, principal.uscc),
            "money": X.money, "message": None, "error": str(exc), **_labels()}, status_code=422)
    db.commit()
    return RedirectResponse("/policies/mine?saved=1#push-settings", status_code=303)


@router.post("/policies/mine/inbox/{push_id}/read")
def inbox_read(push_id: int, db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ENTERPRISE))):
    pushes.mark_read(db, principal.uscc, push_id)
    db.commit()
    return RedirectResponse("/policies/mine#inbox", status_code=303)


def _editor(request: Request, db: Session, principal: Principal, text: str, policy_id: str | None, *,
            problems=None, report=None, impact=None, message=None, status_code: int = 200):
    summary = None
    if policy_id:
        summary = service.get(db, policy_id)
        if not service.can_manage(principal, summary.department_code):
            raise Forbidden("只有区级管理员或责任部门的工作人员可以编辑此政策")
    return render(request, "policies_edit.html", {
        "text": text, "policy_id": policy_id, "summary": summary, "problems": problems, "report": report,
        "impact": impact, "message": message, "money": X.money, **_labels()}, status_code=status_code)


@router.get("/policies/new")
def new_page(request: Request, db: Session = Depends(get_db), principal: Principal = Depends(access(*EDITORS))):
    text = NEW_POLICY_TEMPLATE
    if principal.role is Role.DEPARTMENT:
        text = text.replace("department: jxj", f"department: {principal.department_code}")
    return _editor(request, db, principal, text, None)


@router.get("/policies/{policy_id}/edit")
def edit_page(policy_id: str, request: Request, db: Session = Depends(get_db),
              principal: Principal = Depends(access(*EDITORS))):
    return _editor(request, db, principal, service.get_version(db, policy_id).text, policy_id)


@router.post("/policies/editor")
def editor_submit(request: Request, text: str = Form(""), action: str = Form("validate"), note: str = Form(""),
                  policy_id: str = Form(""), db: Session = Depends(get_db),
                  principal: Principal = Depends(access(*EDITORS))):
    """One form, four buttons: validate, test, preview impact, save a new version."""
    from shengxin.policies.compile import compile_text
    from shengxin.policies.impact import impact as run_impact
    from shengxin.policies.testing import run_tests

    district = _district(request)
    pid = policy_id or None
    try:
        if action == "save":
            v = service.save(db, text, principal, district, note)
            db.commit()
            return RedirectResponse(f"/policies/{v.policy_id}?saved={v.version}", status_code=303)
        policy = compile_text(text, district)
        if action == "test":
            return _editor(request, db, principal, text, pid, report=run_tests(policy).to_dict())
        if action == "impact":
            data = run_impact(db, district, _analytic(request), text)
            return _editor(request, db, principal, text, pid, impact=data, report=data["tests"])
        return _editor(request, db, principal, text, pid, message="校验通过：字段、类型、单位和条件均无问题。")
    except PolicyInvalid as exc:
        db.rollback()
        return _editor(request, db, principal, text, pid, problems=exc.problems, status_code=422)
    except DomainError as exc:
        db.rollback()
        if isinstance(exc, Forbidden):
            raise
        return _editor(request, db, principal, text, pid, problems=[exc], status_code=422)


@router.get("/policies/{policy_id}")
def detail_page(policy_id: str, request: Request, status: str = "eligible", page: int = 1, version: int | None = None,
                db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    summary = service.get(db, policy_id)
    policy, shown = service.compiled_version(db, _district(request), policy_id, version)
    town = principal.town_code if principal.role is Role.TOWN else None
    matches = views.policy_matches(_analytic(request), _district(request), policy_id, town=town, status=status, page=page)
    if matches.get("ready"):
        for r in matches["rows"]:
            r["failed"] = views.masked_items(policy, r["false_mask"])
            r["unknown"] = views.masked_items(policy, r["unknown_mask"])
    return render(request, "policies_detail.html", {
        "s": summary, "p": policy, "shown": shown, "lines": X.tree_lines(policy.root, policy.context),
        "amount": X.amount_text(policy.amount, policy.context), "caps": X.caps_text(policy.caps),
        "versions": service.versions(db, policy_id), "events": service.events(db, policy_id),
        "m": matches, "town_only": town, "in_snapshot": _in_snapshot(request, policy_id), "can_manage": service.can_manage(principal, summary.department_code),
        "actions": [(a, states.TRANSITIONS[a]) for a in states.allowed_actions(summary.status) if a != "edit"],
        "saved": request.query_params.get("saved"), "money": X.money, **_labels()})


def _in_snapshot(request: Request, policy_id: str) -> int | None:
    """The version of the policy the current match snapshot used (None: not matched yet)."""
    from shengxin.policies.matching import current

    snap = current(_analytic(request))
    return snap.manifest.get("policies", {}).get(policy_id) if snap else None


@router.post("/policies/{policy_id}/transition")
def transition_submit(policy_id: str, request: Request, action: str = Form(...), reason: str = Form(""),
                      db: Session = Depends(get_db), principal: Principal = Depends(access(*EDITORS))):
    service.transition(db, policy_id, action, principal, _district(request), reason)
    db.commit()
    return RedirectResponse(f"/policies/{policy_id}", status_code=303)


@router.post("/policies/{policy_id}/match")
def match_submit(policy_id: str, request: Request, db: Session = Depends(get_db),
                 principal: Principal = Depends(access(*EDITORS))):
    """Match one published policy now (the other policies' answers carry over) and write its pushes."""
    from shengxin.policies.matching import run_match

    summary = service.get(db, policy_id)
    if not service.can_manage(principal, summary.department_code):
        raise Forbidden("只有区级管理员或责任部门的工作人员可以发起匹配")
    from shengxin.payouts.ledger import paid_table

    snap = run_match(db, _district(request), _analytic(request), policy_id=policy_id, paid=paid_table(db))
    pushes.enqueue_from_snapshot(db, _analytic(request), snap, policy_id)
    db.commit()
    return RedirectResponse(f"/policies/{policy_id}", status_code=303)


@router.get("/policies/{policy_id}/explain/{uscc}")
def explain_page(policy_id: str, uscc: str, request: Request, db: Session = Depends(get_db),
                 principal: Principal = Depends(access(ALL_ROLES))):
    from shengxin.policies.matching import explain
    from shengxin.web.api.enterprises import visible_enterprise

    code = normalise(uscc)
    enterprise = visible_enterprise(request, principal, code)
    data = explain(db, _district(request), _analytic(request), policy_id, enterprise.uscc)
    return render(request, "policies_explain.html", {"d": data, "e": enterprise, **_labels()})
