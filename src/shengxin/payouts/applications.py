"""Instant applications (即申即享): the enterprise applies, the rules answer at once.

Rules:

* only an enterprise user applies, for itself, to a live policy whose delivery is ``instant_application``;
  the form is pre-filled from its data (the policy's explain answer), and it may state the policy's
  declared inputs (``input.<name>``); materials the policy lists must be attached (at least one file;
  type and size checked as for appeals; stored under a generated name);
* the answer is immediate: every condition true and an amount computed → ``queued``: an item in the
  policy's standing instant round of the month (``period`` ``YYYY-MM``, UNIQUE per policy), approved by
  the published rule and its budget committed at once; any condition false → ``refused`` with the
  reasons; a condition or the amount unknown → ``review`` by a manager within
  ``SHENGXIN_PAYOUT_REVIEW_DAYS`` working days;
* four eyes: the item's creator is the applicant and its approver is the rule (``rule:<policy>@v<n>``)
  or the reviewer — never the same person (DB CHECK on items and on applications). The rule itself was
  published through the policy workflow; a second approval of rule-approved items would add no check
  a person can make, so none is required;
* one open application per enterprise and policy, and one payment per enterprise, policy and month
  (the item's UNIQUE (policy_id, uscc, round_id)).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.db import utcnow
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound
from shengxin.payouts import budget as B
from shengxin.payouts import ledger as L
from shengxin.payouts import states
from shengxin.payouts.models import PayoutApplication, PayoutApplicationFile, PayoutItem, PayoutRound
from shengxin.payouts.permissions import can_manage, require_manage
from shengxin.payouts.views import ApplicationPublic
from shengxin.policies.models import Policy

SYSTEM_CREATOR = "system:instant"
#: yes/no answers as web forms and the CLI send them
BOOL_TEXT = {"true": True, "false": False, "是": True, "否": False, "1": True, "0": False, "yes": True, "no": False}


@dataclass
class ApplicationForm:
    policy_id: str
    title: str
    version: int
    uscc: str
    name: str
    answer: dict
    inputs: list[dict]
    materials: list[str]
    amount_fen: int | None
    status: str
    open_application: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def instant_policies(session: Session):
    """Live policies paid by instant application."""
    from shengxin.policies.service import list_policies

    return list_policies(session, delivery="instant_application", live_only=True)


def _policy(session: Session, policy_id: str) -> Policy:
    from shengxin.payouts.rounds import _live_policy

    return _live_policy(session, policy_id, "instant_application")


def _enterprise(principal: Principal) -> str:
    if principal.role is not Role.ENTERPRISE or not principal.uscc:
        raise Forbidden("即申即享由企业用户在企业端申请")
    return principal.uscc


def _evaluate(session: Session, district, analytic_dir: Path, policy: Policy, uscc: str, inputs: dict):
    from shengxin.engine.evaluate import FactsEnv
    from shengxin.policies.errors import Collector
    from shengxin.policies.evaluate import CachedEnv, answer
    from shengxin.policies.facts import _canonical
    from shengxin.policies.matching import current, default_as_of, enterprise_facts
    from shengxin.policies.service import LivePolicy, compiled_version

    compiled, version = compiled_version(session, district, policy.id, policy.published_version)
    facts, data = enterprise_facts(analytic_dir, uscc, [LivePolicy(compiled, version, policy.department_code)])
    specs = {s.name: s for s in compiled.context.vocabulary.inputs}
    given = {}
    for name, value in (inputs or {}).items():
        if value is None or str(value).strip() == "":
            continue
        spec = specs.get(name)
        if spec is None:
            raise InvalidInput(f"政策没有申报项 {name!r}；可填：{', '.join(specs) or '无'}", where=f"inputs.{name}")
        c = Collector(policy.id)
        raw = value
        if spec.type.kind == "bool" and not isinstance(value, bool):
            raw = BOOL_TEXT.get(str(value).strip().lower())
            if raw is None:
                raise InvalidInput(f"{spec.label}：应为 是/否（true/false）", where=f"inputs.{name}")
        elif not isinstance(value, (bool, int)):
            raw = str(value).strip()
        v = _canonical(raw, spec.type, f"inputs.{name}", c)
        if c.problems:
            p = c.problems[0]
            raise InvalidInput(f"{spec.label}：{p.message}（{p.fix}）", where=f"inputs.{name}")
        facts.enterprise[spec.column] = v
        given[name] = str(value).strip()
    snap = current(analytic_dir)
    as_of = snap.as_of if snap else default_as_of(data)
    committed = L.committed_by_payee(session, policy.id).get(uscc, (0, 0))
    ans = answer(compiled, CachedEnv(FactsEnv(facts, as_of)), committed[0], committed[1])
    return compiled, version, facts, ans, given, as_of


def application_form(session: Session, district, analytic_dir: Path, policy_id: str,
                     principal: Principal) -> ApplicationForm:
    """The form pre-filled from the enterprise's data, with the rules' current answer."""
    uscc = _enterprise(principal)
    policy = _policy(session, policy_id)
    compiled, version, facts, ans, _, _ = _evaluate(session, district, analytic_dir, policy, uscc, {})
    open_app = session.scalar(select(PayoutApplication.id).where(
        PayoutApplication.policy_id == policy_id, PayoutApplication.uscc == uscc,
        PayoutApplication.status == "review"))
    return ApplicationForm(policy.id, policy.title, version, uscc, facts.enterprise.get("name") or "",
                           ans.to_dict(), [{"name": s.name, "label": s.label, "type": s.type.label(),
                                            "kind": s.type.kind,
                                            "unit": s.type.unit.label() if s.type.unit is not None else None}
                                           for s in compiled.context.vocabulary.inputs],
                           list(compiled.definition.materials), ans.amount_fen, ans.status, open_app)


def materials_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "payouts" / "materials"


def _store_file(data_dir: Path, checked, now: dt.datetime) -> str:
    relative = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}.{checked.extension}"
    path = materials_dir(data_dir) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(checked.content)
    tmp.replace(path)
    return relative


def instant_round(session: Session, policy: Policy, version: int, period: str) -> PayoutRound:
    """The policy's standing instant round of ``period`` (created on first use, UNIQUE per policy+period)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    session.execute(insert(PayoutRound).values(
        policy_id=policy.id, policy_version=version, policy_title=policy.title, department_code=policy.department_code,
        mode="instant_application", period=period, status="approved", as_of=now.date(), created_by=SYSTEM_CREATOR,
        approved_by=f"rule:{policy.id}", created_at=now, approved_at=now).on_conflict_do_nothing())
    return session.scalar(select(PayoutRound).where(PayoutRound.policy_id == policy.id, PayoutRound.period == period))


def _queue(session: Session, app: PayoutApplication, policy: Policy, version: int, approver: str,
           w: L.ChainWriter, now: dt.datetime) -> str | None:
    """Put an application's amount into the payment queue; returns a refusal reason when the budget is short."""
    from shengxin.payouts.accounts import _latest

    period = now.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    r = instant_round(session, policy, version, period)
    locked = B.lock(session, policy.id)
    if not locked.fits(app.amount_fen):
        return f"政策预算已用完（剩余 {locked.left_fen / 100:,.2f} 元，本次 {app.amount_fen / 100:,.2f} 元）"
    account = _latest(session, app.uscc)
    item = PayoutItem(round_id=r.id, policy_id=policy.id, uscc=app.uscc, name=app.name, town=app.town,
                      policy_version=version, computed_fen=app.amount_fen, amount_fen=app.amount_fen, status="approved",
                      reason="", eligible_on=now.date(), account_id=account.id if account else None,
                      account_confirmed_by=f"on_file:{app.created_by}" if account else None,
                      account_confirmed_at=now if account else None, application_id=app.id,
                      created_by=app.created_by, approved_by=approver)
    taken = f"本企业 {period} 已获得过政策 {policy.id} 的兑现（每月一次）"
    if session.scalar(select(PayoutItem.id).where(PayoutItem.round_id == r.id, PayoutItem.uscc == app.uscc)):
        raise Conflict(taken, where="policy_id")
    session.flush()
    try:
        with session.begin_nested():  # the UNIQUE (policy_id, uscc, round_id) decides a race
            session.add(item)
            session.flush()
    except IntegrityError:
        raise Conflict(taken, where="policy_id") from None
    after = locked.commit(app.amount_fen)
    w.entry("commit", policy_id=policy.id, round_id=r.id, item_id=item.id, uscc=app.uscc, amount_fen=app.amount_fen,
            committed_after_fen=after, budget_fen=locked.budget_fen, key=f"commit:{item.id}", actor=approver)
    w.event("item", item.id, "create", approver, to_status="approved", detail=f"application={app.id}")
    B.save(session, locked)
    app.item_id = item.id
    return None


def apply(session: Session, district, analytic_dir: Path, data_dir: Path, policy_id: str, principal: Principal, *,
          inputs: dict | None = None, uploads: list | None = None, now: dt.datetime | None = None) -> ApplicationPublic:
    """Apply and get the rules' answer at once (queued / refused / review)."""
    from shengxin.config import get_settings

    uscc = _enterprise(principal)
    policy = _policy(session, policy_id)
    if session.scalar(select(PayoutApplication.id).where(PayoutApplication.policy_id == policy_id,
                                                         PayoutApplication.uscc == uscc,
                                                         PayoutApplication.status == "review")):
        raise Conflict("本企业已有一份该政策的申请在审核中，请等待审核结果", where="policy_id")
    compiled, version, facts, ans, given, as_of = _evaluate(session, district, analytic_dir, policy, uscc,
                                                            inputs or {})
    given["__uploads__"] = list(uploads or [])
    settings = get_settings()
    session.flush()
    nested = session.begin_nested()  # a refusal below leaves nothing behind, even if the caller commits
    try:
        out = _apply(session, data_dir, policy, principal, compiled, version, facts, ans, given, as_of, now, settings)
    except BaseException:
        nested.rollback()
        raise
    nested.commit()
    return out


def _apply(session, data_dir, policy, principal, compiled, version, facts, ans, given, as_of, now, settings):
    from shengxin.appeals.attachments import check_uploads
    from shengxin.workdays import load_calendar

    policy_id, uscc = policy.id, principal.uscc
    uploads = given.pop("__uploads__", [])
    checked = check_uploads(uploads, settings.appeal_attachment_max_bytes,
                            settings.appeal_attachment_max_count)
    materials = list(compiled.definition.materials)
    if materials and not checked:
        raise InvalidInput(f"本政策需要上传申报材料：{'、'.join(materials)}", where="attachments")
    now = now or utcnow()
    app = PayoutApplication(policy_id=policy_id, policy_version=version, uscc=uscc,
                            name=facts.enterprise.get("name") or "", town=facts.enterprise.get("town_code"),
                            status="review", amount_fen=ans.amount_fen, answer=ans.to_dict(), form=given,
                            created_by=principal.username, created_at=now)
    session.add(app)
    session.flush()
    for c in checked:
        session.add(PayoutApplicationFile(application_id=app.id, stored_name=_store_file(data_dir, c, now),
                                          display_name=c.display_name, content_type=c.content_type,
                                          size=len(c.content), sha256=c.sha256))
    w = L.ChainWriter()
    rule = f"rule:{policy_id}@v{version}"
    if ans.status == "eligible" and ans.amount_fen:
        refusal = _queue(session, app, policy, version, rule, w, now)
        action, app.reason = ("refuse", refusal) if refusal else ("queue", f"满足全部条件，金额 {ans.amount_fen / 100:,.2f} 元")
    elif ans.status in ("eligible", "missing_data"):
        action = "to_review"
        app.reason = ans.reason if ans.status == "missing_data" else "金额需人工核定"
        due = load_calendar(session).add_working_days(now, settings.payout_review_days)
        if due is not None:
            app.due_at, app.due_provisional = due.due, due.provisional
    else:
        action, app.reason = "refuse", ans.reason
    t = states.check_application("new", action)
    app.status = t.target
    if t.target != "review":
        app.decided_at = now
    w.event("application", app.id, action, rule if t.who == "rule" else principal.username, from_status=None,
            to_status=t.target, detail=f"policy={policy_id} v{version} as_of={as_of} amount={ans.amount_fen} "
                                       f"by={principal.username}")
    L.write(session, w)
    session.flush()
    return _view(session, app)


def review_application(session: Session, application_id: int, principal: Principal, decision: str, *,
                       reason: str = "", amount_fen: int | None = None, now: dt.datetime | None = None) -> ApplicationPublic:
    """A manager (never the applicant) approves — the amount goes to the payment queue — or rejects."""
    app = _app(session, application_id)
    policy = session.get(Policy, app.policy_id)
    require_manage(principal, policy.department_code)
    if principal.username == app.created_by:
        raise Forbidden("申请人不能审核自己的申请")
    action = {"approve": "approve", "reject": "reject"}.get(decision)
    if action is None:
        raise InvalidInput("审核结论应为 approve（通过）或 reject（不通过）", where="decision")
    t = states.check_application(app.status, action)
    reason = (reason or "").strip()
    now = now or utcnow()
    w = L.ChainWriter()
    if action == "reject":
        if not reason:
            raise InvalidInput("不通过需要写明原因", where="reason")
        app.reason = reason[:2000]
    else:
        amount = amount_fen if amount_fen is not None else app.amount_fen
        if not amount or amount <= 0:
            raise InvalidInput("规则未能计算金额，请填写核定金额（分，大于 0）", where="amount_fen")
        app.amount_fen = int(amount)
        _policy(session, app.policy_id)
        refusal = _queue(session, app, policy, policy.published_version, principal.username, w, now)
        if refusal:
            raise Conflict(refusal, where="budget")
        app.reason = reason[:2000] or "人工审核通过"
    app.status, app.reviewed_by, app.decided_at = t.target, principal.username, now
    w.event("application", app.id, action, principal.username, from_status="review", to_status=t.target,
            detail=app.reason[:500])
    L.write(session, w)
    session.flush()
    return _view(session, app)


def _app(session: Session, application_id: int) -> PayoutApplication:
    app = session.get(PayoutApplication, application_id)
    if app is None:
        raise NotFound(f"没有编号为 {application_id} 的申请", where="application_id")
    return app


def _can_see(principal: Principal, app: PayoutApplication, department_code: str) -> bool:
    if principal.role is Role.ENTERPRISE:
        return principal.uscc == app.uscc
    if principal.role in (Role.AUDITOR, Role.ADMIN):
        return True
    if principal.role is Role.TOWN:
        return principal.town_code == app.town
    return can_manage(principal, department_code)


def _view(session: Session, app: PayoutApplication) -> ApplicationPublic:
    policy = session.get(Policy, app.policy_id)
    item_status = session.scalar(select(PayoutItem.status).where(PayoutItem.id == app.item_id)) if app.item_id else None
    files = [{"id": f.id, "name": f.display_name, "size": f.size, "content_type": f.content_type}
             for f in session.scalars(select(PayoutApplicationFile).where(
                 PayoutApplicationFile.application_id == app.id).order_by(PayoutApplicationFile.id))]
    return ApplicationPublic.of(app, policy.title if policy else app.policy_id, item_status, files)


def get_application(session: Session, application_id: int, principal: Principal) -> ApplicationPublic:
    app = _app(session, application_id)
    policy = session.get(Policy, app.policy_id)
    if not _can_see(principal, app, policy.department_code):
        raise NotFound(f"没有编号为 {application_id} 的申请", where="application_id")
    return _view(session, app)


def list_applications(session: Session, principal: Principal, *, status: str | None = None) -> list[ApplicationPublic]:
    """Enterprise: its own; department staff: their department's; admin/auditor: all; town: its town's."""
    q = select(PayoutApplication, Policy.department_code).join(Policy, Policy.id == PayoutApplication.policy_id)
    if status:
        q = q.where(PayoutApplication.status == status)
    if principal.role is Role.ENTERPRISE:
        q = q.where(PayoutApplication.uscc == principal.uscc)
    elif principal.role is Role.DEPARTMENT:
        q = q.where(Policy.department_code == principal.department_code)
    elif principal.role is Role.TOWN:
        q = q.where(PayoutApplication.town == principal.town_code)
    return [_view(session, a) for a, _ in session.execute(q.order_by(PayoutApplication.id.desc())).all()]


def application_file(session: Session, data_dir: Path, application_id: int, file_id: int,
                     principal: Principal) -> tuple[Path, str, str]:
    """A stored material: (path, display name, content type) for someone who may see the application."""
    get_application(session, application_id, principal)
    f = session.get(PayoutApplicationFile, file_id)
    if f is None or f.application_id != application_id:
        raise NotFound("附件不存在", where="file_id")
    path = materials_dir(data_dir) / f.stored_name
    if not path.is_file():
        raise NotFound("附件文件不存在（可能已被归档）", where="file_id")
    return path, f.display_name, f.content_type
