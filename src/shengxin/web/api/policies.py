"""Policies API: read policies, save versions and move them through the workflow, validate, test
and preview a text, read matches, explain one enterprise, re-match one enterprise, the enterprise's
pushes and push settings.

Scope: enterprises read only their own answers; town staff read matches of their own town; the
district admin and the responsible department's staff write; the auditor reads.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shengxin.accounts.roles import ALL_ROLES, STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.enterprises.uscc import normalise
from shengxin.policies import pushes, service, views
from shengxin.policies import text as X
from shengxin.policies.compile import compile_text
from shengxin.policies.errors import PolicyInvalid
from shengxin.web.deps import get_db
from shengxin.web.security import access

router = APIRouter(prefix="/api/policies", tags=["policies"])
EDITORS = (Role.ADMIN, Role.DEPARTMENT)


class PolicyText(BaseModel):
    text: str = Field(min_length=1, max_length=200_000, description="The policy file (YAML).")
    note: str = Field(default="", max_length=500, description="What changed (kept with the version).")


class TransitionIn(BaseModel):
    action: str = Field(description="submit, withdraw, reject, publish, suspend, resume, expire")
    reason: str = Field(default="", max_length=500)


class SubscriptionIn(BaseModel):
    email: str = ""
    webhook_url: str = ""


def _analytic(request: Request):
    return request.app.state.settings.analytic_dir


def _district(request: Request):
    return request.app.state.district


def _invalid(exc: PolicyInvalid) -> dict:
    return {"valid": False, "problems": exc.to_list()}


@router.get("")
def list_policies(status: str | None = None, department: str | None = None, delivery: str | None = None,
                  q: str | None = None, db: Session = Depends(get_db), _: Principal = Depends(access(STAFF_ROLES))):
    return [p.to_dict() for p in service.list_policies(db, status=status, department=department, delivery=delivery, q=q)]


@router.post("", status_code=201)
def save_version(body: PolicyText, request: Request, db: Session = Depends(get_db),
                 principal: Principal = Depends(access(*EDITORS))):
    """Save a policy text as its next version (422 with every problem when it is invalid)."""
    v = service.save(db, body.text, principal, _district(request), body.note)
    db.commit()
    return {"policy_id": v.policy_id, "version": v.version, "tests_passed": v.tests_passed, "test_report": v.test_report}


@router.post("/validate")
def validate(body: PolicyText, request: Request, _: Principal = Depends(access(STAFF_ROLES))):
    try:
        policy = compile_text(body.text, _district(request))
    except PolicyInvalid as exc:
        return _invalid(exc)
    return {"valid": True, "policy_id": policy.id,
            "conditions": [{"depth": d, "key": k, "text": t} for d, k, t in X.tree_lines(policy.root, policy.context)],
            "amount": X.amount_text(policy.amount, policy.context)}


@router.post("/test")
def test(body: PolicyText, request: Request, _: Principal = Depends(access(STAFF_ROLES))):
    from shengxin.policies.testing import run_tests

    try:
        return run_tests(compile_text(body.text, _district(request))).to_dict()
    except PolicyInvalid as exc:
        return _invalid(exc)


@router.post("/impact")
def impact(body: PolicyText, request: Request, db: Session = Depends(get_db),
           _: Principal = Depends(access(*EDITORS, Role.AUDITOR))):
    from shengxin.policies.impact import impact as run

    return run(db, _district(request), _analytic(request), body.text)


@router.get("/mine")
def mine(request: Request, db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ENTERPRISE))):
    o = views.enterprise_overview(db, _district(request), _analytic(request), principal.uscc)
    if not o["ready"]:
        return {"ready": False, "reason": o["reason"]}
    return {"ready": True, "as_of": o["as_of"].isoformat(), "snapshot": o["snapshot"], "counts": o["counts"],
            "policies": [dict(x["answer"].to_dict(), version=x["version"]) for _, _, items in o["groups"] for x in items]}


@router.get("/mine/inbox")
def inbox(db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ENTERPRISE))):
    items, unread = pushes.inbox(db, principal.uscc)
    return {"unread": unread, "items": [{"id": i.id, "policy_id": i.policy_id, "version": i.version, "title": i.title,
                                         "body": i.body, "amount_fen": i.amount_fen, "read": i.read,
                                         "created_at": i.created_at.isoformat()} for i in items]}


@router.get("/mine/subscription")
def get_subscription(db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ENTERPRISE))):
    s = pushes.subscription(db, principal.uscc)
    return {"email": s.email, "webhook_url": s.webhook_url, "webhook_secret": s.webhook_secret, "subscribed": s.subscribed}


@router.put("/mine/subscription")
def put_subscription(body: SubscriptionIn, db: Session = Depends(get_db),
                     principal: Principal = Depends(access(Role.ENTERPRISE))):
    s = pushes.subscribe(db, principal.uscc, body.email, body.webhook_url, principal.actor)
    db.commit()
    return {"email": s.email, "webhook_url": s.webhook_url, "webhook_secret": s.webhook_secret, "subscribed": s.subscribed}


@router.delete("/mine/subscription")
def delete_subscription(db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ENTERPRISE))):
    s = pushes.unsubscribe(db, principal.uscc, principal.actor)
    db.commit()
    return {"subscribed": s.subscribed}


@router.get("/{policy_id}")
def one(policy_id: str, request: Request, version: int | None = None, db: Session = Depends(get_db),
        _: Principal = Depends(access(STAFF_ROLES))):
    summary = service.get(db, policy_id)
    v = service.get_version(db, policy_id, version)
    policy, _ = service.compiled_version(db, _district(request), policy_id, v.version)
    return {**summary.to_dict(), "version": v.version, "text": v.text, "tests_passed": v.tests_passed,
            "conditions": [{"depth": d, "key": k, "text": t} for d, k, t in X.tree_lines(policy.root, policy.context)],
            "amount": X.amount_text(policy.amount, policy.context), "caps": X.caps_text(policy.caps),
            "events": [{"version": e.version, "action": e.action, "from": e.from_status, "to": e.to_status,
                        "actor": e.actor, "reason": e.reason, "at": e.at.isoformat()}
                       for e in service.events(db, policy_id)]}


@router.post("/{policy_id}/transition")
def transition(policy_id: str, body: TransitionIn, request: Request, db: Session = Depends(get_db),
               principal: Principal = Depends(access(*EDITORS))):
    p = service.transition(db, policy_id, body.action, principal, _district(request), body.reason)
    db.commit()
    return p.to_dict()


@router.get("/{policy_id}/matches")
def matches(policy_id: str, request: Request, status: str = "eligible", page: int = Query(1, ge=1),
            db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    service.get(db, policy_id)
    town = principal.town_code if principal.role is Role.TOWN else None
    data = views.policy_matches(_analytic(request), _district(request), policy_id, town=town, status=status, page=page)
    if data.get("ready"):
        data["as_of"] = data["as_of"].isoformat()
    return data


@router.get("/{policy_id}/explain/{uscc}")
def explain(policy_id: str, uscc: str, request: Request, db: Session = Depends(get_db),
            principal: Principal = Depends(access(ALL_ROLES))):
    from shengxin.policies.matching import explain as run
    from shengxin.web.api.enterprises import visible_scope

    enterprise = visible_scope(request, principal, normalise(uscc))
    return run(db, _district(request), _analytic(request), policy_id, enterprise.uscc)


@router.post("/rematch/{uscc}")
def rematch(uscc: str, request: Request, db: Session = Depends(get_db),
            principal: Principal = Depends(access(Role.ADMIN, Role.DEPARTMENT, Role.TOWN))):
    """Re-match one enterprise whose data changed (town staff: enterprises of their town)."""
    from shengxin.policies.matching import rematch as run
    from shengxin.policies.matching import require_current
    from shengxin.web.api.enterprises import visible_scope

    enterprise = visible_scope(request, principal, normalise(uscc))  # town staff: their town only
    snap = require_current(_analytic(request))
    from shengxin.payouts.ledger import paid_table

    m = run(db, _district(request), _analytic(request), enterprise.uscc, paid=paid_table(db, uscc=enterprise.uscc))
    new = pushes.enqueue(db, f"{snap.id}+{m.uscc}", [r for r in m.rows if r["status"] == "eligible"])
    db.commit()
    return {"uscc": m.uscc, "as_of": m.as_of.isoformat(), "rows": m.rows, "new_pushes": new,
            "newly_eligible": [{"policy_id": p, "version": v} for p, v in m.newly_eligible]}
