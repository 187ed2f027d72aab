"""Policy services: saving versions, the workflow, permissions and reading policies.

Rules:

* a policy is written as a policy file (YAML); saving a changed text always adds a new version
  (numbered 1, 2, …), never overwrites one, and records the version's test report;
* only a district admin or department staff of the policy's responsible department may save or
  move a policy through its workflow (and only an admin may hand a policy to another department);
  everyone on the staff side may read policies;
* ``submit`` and ``publish`` run the version's own tests: a policy without passing tests (or
  without an eligible and a not-eligible case) cannot be published;
* every change is written to the audit log and every transition to ``policy_events``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.audit.service import Actor, record
from shengxin.db import utcnow
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound
from shengxin.policies import states
from shengxin.policies.compile import CompiledPolicy, compile_cached, compile_policy
from shengxin.policies.definition import parse_text
from shengxin.policies.models import Policy, PolicyEvent, PolicyVersion
from shengxin.policies.testing import TestReport, run_tests
from shengxin.reference.district import District

EDITOR_ROLES = frozenset({Role.ADMIN, Role.DEPARTMENT})


@dataclass(frozen=True)
class PolicySummary:
    id: str
    title: str
    level: str
    delivery: str
    department_code: str
    status: str
    current_version: int
    published_version: int | None
    budget_fen: int | None
    valid_from: dt.date
    valid_until: dt.date | None
    updated_at: dt.datetime

    @property
    def status_label(self) -> str:
        return states.STATUS_LABELS[self.status]

    @property
    def live(self) -> bool:
        return states.is_live(self.status, self.published_version)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "level": self.level, "delivery": self.delivery,
                "department_code": self.department_code, "status": self.status, "status_label": self.status_label,
                "current_version": self.current_version, "published_version": self.published_version,
                "live": self.live, "budget_fen": self.budget_fen, "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat() if self.valid_until else None}


@dataclass(frozen=True)
class VersionPublic:
    policy_id: str
    version: int
    text: str
    digest: str
    note: str
    tests_passed: bool | None
    test_report: dict | None
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True)
class EventPublic:
    version: int
    action: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    at: dt.datetime

    @property
    def label(self) -> str:
        t = states.TRANSITIONS.get(self.action)
        return t.label if t else ("创建" if self.action == "create" else self.action)


def _summary(p: Policy) -> PolicySummary:
    return PolicySummary(p.id, p.title, p.level, p.delivery, p.department_code, p.status, p.current_version,
                         p.published_version, p.budget_fen, p.valid_from, p.valid_until, p.updated_at)


def _version(v: PolicyVersion) -> VersionPublic:
    return VersionPublic(v.policy_id, v.version, v.text, v.digest, v.note, v.tests_passed, v.test_report,
                         v.created_by, v.created_at)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------- permissions


def can_manage(principal: Principal, department_code: str) -> bool:
    """A district admin manages every policy; department staff the policies of their department."""
    if principal.role is Role.ADMIN:
        return True
    return principal.role is Role.DEPARTMENT and principal.department_code == department_code


def _require_manage(principal: Principal, department_code: str) -> None:
    if not can_manage(principal, department_code):
        raise Forbidden(f"只有区级管理员或责任部门（{department_code}）的工作人员可以修改或发布此政策")


# ----------------------------------------------------------------------------- reading


def get(session: Session, policy_id: str) -> PolicySummary:
    p = session.get(Policy, policy_id)
    if p is None:
        raise NotFound(f"没有编号为 {policy_id} 的政策", where="policy_id")
    return _summary(p)


def get_version(session: Session, policy_id: str, version: int | None = None) -> VersionPublic:
    """A saved version (default: the latest)."""
    p = session.get(Policy, policy_id)
    if p is None:
        raise NotFound(f"没有编号为 {policy_id} 的政策", where="policy_id")
    v = session.scalar(select(PolicyVersion).where(PolicyVersion.policy_id == policy_id,
                                                   PolicyVersion.version == (version or p.current_version)))
    if v is None:
        raise NotFound(f"政策 {policy_id} 没有第 {version} 版", where="version")
    return _version(v)


def list_policies(session: Session, *, status: str | None = None, department: str | None = None,
                  delivery: str | None = None, q: str | None = None, live_only: bool = False) -> list[PolicySummary]:
    query = select(Policy)
    if status:
        query = query.where(Policy.status == status)
    if department:
        query = query.where(Policy.department_code == department)
    if delivery:
        query = query.where(Policy.delivery == delivery)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Policy.title.like(like), Policy.id.like(like)))
    rows = [_summary(p) for p in session.scalars(query.order_by(Policy.id))]
    return [r for r in rows if r.live] if live_only else rows


def versions(session: Session, policy_id: str) -> list[VersionPublic]:
    get(session, policy_id)
    return [_version(v) for v in session.scalars(
        select(PolicyVersion).where(PolicyVersion.policy_id == policy_id).order_by(PolicyVersion.version.desc()))]


def events(session: Session, policy_id: str) -> list[EventPublic]:
    return [EventPublic(e.version, e.action, e.from_status, e.to_status, e.actor, e.reason, e.at)
            for e in session.scalars(select(PolicyEvent).where(PolicyEvent.policy_id == policy_id)
                                     .order_by(PolicyEvent.id))]


def counts_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Policy.status, func.count()).group_by(Policy.status)).all())


@dataclass(frozen=True)
class LivePolicy:
    policy: CompiledPolicy
    version: int
    department_code: str


#: Compiled published versions per district by text digest. A version's text never changes, so its
#: digest names its compiled policy: listing the live policies reads only texts not compiled yet.
_LIVE_CACHE: dict[District | None, OrderedDict[str, CompiledPolicy]] = {}
_LIVE_CACHE_MAX = 4096
_LIVE_LOCK = threading.Lock()


def _compiled_by_digest(session: Session, district: District, digests: list[str]) -> dict[str, CompiledPolicy]:
    with _LIVE_LOCK:
        cache = _LIVE_CACHE.get(district)
        if cache is None:
            if len(_LIVE_CACHE) >= 8:  # districts are few; tests make many
                _LIVE_CACHE.clear()
            cache = _LIVE_CACHE[district] = OrderedDict()
        out = {d: cache[d] for d in digests if d in cache}
    missing = sorted({d for d in digests if d not in out})
    for i in range(0, len(missing), 500):
        chunk = missing[i:i + 500]
        for d, text in session.execute(select(PolicyVersion.digest, PolicyVersion.text)
                                       .where(PolicyVersion.digest.in_(chunk))).all():
            out[d] = compile_cached(text, district)
    if missing:
        with _LIVE_LOCK:
            for d in missing:
                if d in out:
                    cache[d] = out[d]
            while len(cache) > _LIVE_CACHE_MAX:
                cache.popitem(last=False)
    return out


def live_policies(session: Session, district: District, as_of: dt.date | None = None,
                  policy_id: str | None = None) -> list[LivePolicy]:
    """The published versions in force (valid at ``as_of`` when given), compiled.

    Only the workflow columns and each version's digest are read on every call; a text is read and
    compiled once per process (versions never change), so a single-enterprise re-match does not
    pay for loading 744 policies.
    """
    query = select(Policy.id, Policy.status, Policy.published_version, Policy.valid_from, Policy.valid_until,
                   Policy.department_code, PolicyVersion.version, PolicyVersion.digest).join(
        PolicyVersion, (PolicyVersion.policy_id == Policy.id) & (PolicyVersion.version == Policy.published_version))
    if policy_id:
        query = query.where(Policy.id == policy_id)
    rows = []
    for r in session.execute(query.order_by(Policy.id)).all():
        if not states.is_live(r.status, r.published_version):
            continue
        if as_of is not None and (r.valid_from > as_of or (r.valid_until is not None and r.valid_until < as_of)):
            continue
        rows.append(r)
    compiled = _compiled_by_digest(session, district, [r.digest for r in rows])
    return [LivePolicy(compiled[r.digest], r.version, r.department_code) for r in rows]


def compiled_version(session: Session, district: District, policy_id: str, version: int | None = None) -> tuple[CompiledPolicy, int]:
    v = get_version(session, policy_id, version)
    return compile_cached(v.text, district), v.version


# ----------------------------------------------------------------------------- writing


def _event(session: Session, policy: Policy, action: str, before: str | None, actor: Actor, reason: str = "") -> None:
    session.add(PolicyEvent(policy_id=policy.id, version=policy.current_version, action=action, from_status=before,
                            to_status=policy.status, actor=actor.name, reason=reason))


def _report(policy: CompiledPolicy, version: int) -> tuple[bool, dict]:
    from shengxin.policies.errors import PolicyInvalid

    try:
        report: TestReport = run_tests(policy, version)
    except PolicyInvalid as exc:
        return False, {"policy_id": policy.id, "passed": False, "cases": [], "problems": [str(p) for p in exc.problems]}
    data = report.to_dict()
    return data["passed"], data


def save(session: Session, text: str, principal: Principal, district: District, note: str = "") -> VersionPublic:
    """Validate ``text`` and save it as the next version (creating the policy if it is new)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("政策内容为空", where="text")
    defn = parse_text(text)
    compiled = compile_policy(defn, district)
    policy = session.get(Policy, defn.id)
    actor = principal.actor
    if policy is None:
        _require_manage(principal, defn.department)
        policy = Policy(id=defn.id, title=defn.title, level=defn.level, delivery=defn.delivery,
                        department_code=defn.department, budget_fen=defn.budget_fen, valid_from=defn.valid_from,
                        valid_until=defn.valid_until, status="draft", current_version=0, created_by=actor.name)
        session.add(policy)
        before = None
        action = "create"
    else:
        _require_manage(principal, policy.department_code)
        if defn.department != policy.department_code and principal.role is not Role.ADMIN:
            raise Forbidden("只有区级管理员可以变更政策的责任部门", where="department")
        latest = session.scalar(select(PolicyVersion).where(PolicyVersion.policy_id == policy.id,
                                                            PolicyVersion.version == policy.current_version))
        if latest is not None and latest.digest == digest(text):
            raise Conflict(f"内容与第 {latest.version} 版相同，没有保存新版本", where="text")
        before = policy.status
        states.check_transition(policy.status, "edit")
        action = "edit"
    version = policy.current_version + 1
    passed, report = _report(compiled, version)
    policy.current_version = version
    policy.title, policy.level, policy.delivery = defn.title, defn.level, defn.delivery
    policy.department_code, policy.budget_fen = defn.department, defn.budget_fen
    policy.valid_from, policy.valid_until = defn.valid_from, defn.valid_until
    policy.status = "draft"
    policy.updated_at = utcnow()
    row = PolicyVersion(policy_id=policy.id, version=version, text=text, digest=digest(text), note=note[:500],
                        tests_passed=passed, test_report=report, created_by=actor.name)
    session.add(row)
    session.flush()
    _event(session, policy, action, before, actor, note[:500])
    record(session, actor, f"policy.{action}", "policy", policy.id,
           {"version": version, "digest": row.digest, "tests_passed": passed, "note": note[:500]})
    session.flush()
    return _version(row)


def transition(session: Session, policy_id: str, action: str, principal: Principal, district: District,
               reason: str = "") -> PolicySummary:
    """Move a policy through its workflow (see :mod:`shengxin.policies.states`)."""
    policy = session.get(Policy, policy_id)
    if policy is None:
        raise NotFound(f"没有编号为 {policy_id} 的政策", where="policy_id")
    _require_manage(principal, policy.department_code)
    if action == "edit":
        raise InvalidInput("保存新版本请提交政策内容", where="action")
    t = states.check_transition(policy.status, action)
    reason = (reason or "").strip()
    if t.needs_reason and not reason:
        raise InvalidInput(f"“{t.label}”需要填写原因", where="reason")
    if t.needs_tests:
        v = session.scalar(select(PolicyVersion).where(PolicyVersion.policy_id == policy_id,
                                                       PolicyVersion.version == policy.current_version))
        compiled = compile_cached(v.text, district)
        passed, report = _report(compiled, v.version)
        v.tests_passed, v.test_report = passed, report
        if not passed:
            problems = "；".join(report.get("problems") or []) or "测试未通过"
            raise Conflict(f"第 {v.version} 版的测试未通过，不能{t.label}：{problems}", where="tests")
    before = policy.status
    policy.status = t.target
    if action == "publish":
        policy.published_version = policy.current_version
    policy.updated_at = utcnow()
    _event(session, policy, action, before, principal.actor, reason)
    record(session, principal.actor, f"policy.{action}", "policy", policy.id,
           {"version": policy.current_version, "from": before, "to": policy.status, "reason": reason,
            "published_version": policy.published_version})
    session.flush()
    return _summary(policy)


def expire_due(session: Session, today: dt.date, actor: Actor) -> list[str]:
    """Expire every published or suspended policy whose validity ended before ``today``."""
    due = session.scalars(select(Policy).where(Policy.status.in_(("published", "suspended")),
                                               Policy.valid_until.is_not(None), Policy.valid_until < today)).all()
    for policy in due:
        before = policy.status
        policy.status = "expired"
        policy.updated_at = utcnow()
        _event(session, policy, "expire", before, actor, f"有效期已于 {policy.valid_until} 结束")
        record(session, actor, "policy.expire", "policy", policy.id, {"valid_until": policy.valid_until.isoformat()})
    session.flush()
    return [p.id for p in due]


def import_published(session: Session, text: str, actor: Actor, district: District, *, report: dict | None = None,
                     compiled: CompiledPolicy | None = None) -> str:
    """Load a library policy straight into the published state (``shengxin policies seed``): saved as
    a new version, and published only when its tests pass — the same guard as the workflow."""
    compiled = compiled or compile_policy(parse_text(text), district)
    defn = compiled.definition
    if report is None:
        passed, report = _report(compiled, 1)
    else:
        passed = bool(report.get("passed"))
    if not passed:
        raise Conflict(f"政策 {defn.id} 的测试未通过，不能发布：{'；'.join(report.get('problems') or [])}", where=defn.id)
    policy = session.get(Policy, defn.id)
    if policy is not None:
        latest = session.scalar(select(PolicyVersion).where(PolicyVersion.policy_id == policy.id,
                                                            PolicyVersion.version == policy.current_version))
        if latest is not None and latest.digest == digest(text) and policy.published_version == latest.version:
            return "unchanged"
        if policy.status in ("suspended", "expired"):
            raise Conflict(f"政策 {defn.id} 当前{states.STATUS_LABELS[policy.status]}，不能导入覆盖", where=defn.id)
    else:
        policy = Policy(id=defn.id, title=defn.title, level=defn.level, delivery=defn.delivery,
                        department_code=defn.department, budget_fen=defn.budget_fen, valid_from=defn.valid_from,
                        valid_until=defn.valid_until, status="draft", current_version=0, created_by=actor.name)
        session.add(policy)
    before = policy.status if policy.current_version else None
    version = policy.current_version + 1
    policy.current_version = version
    policy.title, policy.level, policy.delivery = defn.title, defn.level, defn.delivery
    policy.department_code, policy.budget_fen = defn.department, defn.budget_fen
    policy.valid_from, policy.valid_until = defn.valid_from, defn.valid_until
    policy.status = "published"
    policy.published_version = version
    policy.updated_at = utcnow()
    session.add(PolicyVersion(policy_id=policy.id, version=version, text=text, digest=digest(text),
                              note="从政策库导入", tests_passed=True, test_report=report, created_by=actor.name))
    session.flush()
    _event(session, policy, "publish", before, actor, "从政策库导入并发布（测试通过）")
    record(session, actor, "policy.import", "policy", policy.id, {"version": version, "digest": digest(text)})
    return "published"
