"""Problem library services: current groups of similar appeals, promoting a group to an entry,
editing entries, and reusing an entry's enterprise-facing answer.

Rules:
* district admins and department staff write; everyone else reads at most (the web layer lets
  auditors read). Department staff act for their own department: they may promote a group only
  with their department as owner, and edit only entries their department owns; a district admin
  may do both for any unit and is the only one who hands an entry over to another owner;
* a group is promoted once: its key (``<category>:<earliest appeal id>``) is unique in the library;
* an entry needs a title, an owner unit (the district desk, a department or a town of the
  district) and a root cause; resolution and enterprise-facing answer may follow later, and an
  entry can only be marked resolved once both are written;
* every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals.classify import segment
from shengxin.appeals.library.grouping import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW_DAYS,
    CaseGroup,
    LibraryRecord,
    group_similar,
)
from shengxin.appeals.library.models import ENTRY_STATUSES, ProblemLibraryEntry
from shengxin.appeals.units import find_unit
from shengxin.audit.service import Actor, record
from shengxin.db import utcnow
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound
from shengxin.reference.district import District

STATUS_LABELS = {"open": "分析处理中", "resolved": "已形成解决方案", "archived": "已归档"}
MAX_TEXT = 5000
WRITERS = frozenset({Role.ADMIN, Role.DEPARTMENT})


@dataclass(frozen=True)
class EntryInput:
    """Fields staff write when promoting a group or editing an entry."""

    title: str
    owner_unit: str
    root_cause: str
    resolution: str = ""
    public_answer: str = ""
    owner_user: str | None = None
    status: str | None = None  # editing only


@dataclass(frozen=True)
class EntryPublic:
    id: int
    group_key: str
    title: str
    category_code: str
    status: str
    owner_unit: str
    owner_user: str | None
    root_cause: str
    resolution: str
    public_answer: str
    keywords: list[str]
    appeal_ids: list[str]
    case_count: int
    towns: list[list]
    months: dict[str, int]
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    reuse_count: int
    created_by: str
    created_at: dt.datetime
    updated_by: str
    updated_at: dt.datetime

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def _public(e: ProblemLibraryEntry) -> EntryPublic:
    return EntryPublic(
        e.id, e.group_key, e.title, e.category_code, e.status, e.owner_unit, e.owner_user, e.root_cause,
        e.resolution, e.public_answer, list(e.keywords or []), [str(x) for x in e.appeal_ids or []], e.case_count,
        [list(t) for t in e.towns or []], dict(e.months or {}), e.first_seen_at, e.last_seen_at, e.reuse_count,
        e.created_by, e.created_at, e.updated_by, e.updated_at,
    )


def _text(value: str | None, label: str, where: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"请填写{label}", where=where)
    if len(value) > limit:
        raise InvalidInput(f"{label}不能超过 {limit} 个字符（现有 {len(value)} 个）", where=where)
    return value


def _require_writer(principal: Principal) -> None:
    if principal.role not in WRITERS:
        raise Forbidden("只有区级管理员和部门工作人员可以维护问题库")


def _check_owner(principal: Principal, owner_unit: str, district: District) -> str:
    unit = find_unit(district, owner_unit.strip() if owner_unit else None)
    if unit is None:
        known = ", ".join(d.code for d in district.departments)
        raise InvalidInput(f"未知的责任单位 {owner_unit!r}：请填写 district、部门代码（{known}）或镇街代码",
                           where="owner_unit")
    if principal.role is Role.DEPARTMENT and unit.code != principal.department_code:
        raise Forbidden("部门工作人员只能以本部门作为问题库条目的责任单位")
    return unit.code


def _get(session: Session, entry_id: int) -> ProblemLibraryEntry:
    entry = session.get(ProblemLibraryEntry, entry_id)
    if entry is None:
        raise NotFound(f"问题库条目 {entry_id} 不存在")
    return entry


def promote_group(session: Session, group: CaseGroup, data: EntryInput, principal: Principal,
                  district: District) -> EntryPublic:
    """Turn a group of similar appeals into a library entry (once per group)."""
    _require_writer(principal)
    title = _text(data.title, "标题", "title", required=True, limit=200)
    root_cause = _text(data.root_cause, "问题根源", "root_cause", required=True)
    resolution = _text(data.resolution, "解决措施", "resolution", required=False)
    answer = _text(data.public_answer, "面向企业的答复", "public_answer", required=False)
    owner = _check_owner(principal, data.owner_unit, district)
    existing = session.scalar(select(ProblemLibraryEntry.id).where(ProblemLibraryEntry.group_key == group.key))
    if existing is not None:
        raise Conflict(f"这一类诉求已经入库（条目 {existing}）", where="group_key")
    now = utcnow()
    entry = ProblemLibraryEntry(
        group_key=group.key, title=title, category_code=group.category, status="open", owner_unit=owner,
        owner_user=(data.owner_user or "").strip()[:64] or None, root_cause=root_cause, resolution=resolution,
        public_answer=answer, keywords=list(group.keywords), appeal_ids=list(group.record_ids),
        case_count=group.count, towns=[[t, n] for t, n in group.by_town], months=dict(group.by_month),
        first_seen_at=group.first_at, last_seen_at=group.last_at, reuse_count=0,
        created_by=principal.username, created_at=now, updated_by=principal.username, updated_at=now,
    )
    session.add(entry)
    session.flush()
    record(session, principal.actor, "library.promote", "problem_library_entry", str(entry.id),
           {"group_key": group.key, "category": group.category, "cases": group.count, "owner_unit": owner})
    return _public(entry)


def update_entry(session: Session, entry_id: int, data: EntryInput, principal: Principal,
                 district: District) -> EntryPublic:
    """Edit an entry's title, owner, root cause, resolution, answer and status."""
    _require_writer(principal)
    entry = _get(session, entry_id)
    if principal.role is Role.DEPARTMENT and entry.owner_unit != principal.department_code:
        raise Forbidden("只能修改本部门负责的问题库条目")
    title = _text(data.title, "标题", "title", required=True, limit=200)
    root_cause = _text(data.root_cause, "问题根源", "root_cause", required=True)
    resolution = _text(data.resolution, "解决措施", "resolution", required=False)
    answer = _text(data.public_answer, "面向企业的答复", "public_answer", required=False)
    owner = entry.owner_unit
    if data.owner_unit and data.owner_unit.strip() != entry.owner_unit:
        if principal.role is not Role.ADMIN:
            raise Forbidden("只有区级管理员可以变更问题库条目的责任单位")
        owner = _check_owner(principal, data.owner_unit, district)
    status = (data.status or entry.status).strip()
    if status not in ENTRY_STATUSES:
        raise InvalidInput(f"未知状态 {status!r}：可选 {', '.join(ENTRY_STATUSES)}", where="status")
    if status == "resolved" and not (resolution and answer):
        raise InvalidInput("标记为“已形成解决方案”前，请填写解决措施和面向企业的答复", where="status")
    changes = {}
    for name, value in (("title", title), ("owner_unit", owner), ("root_cause", root_cause),
                        ("resolution", resolution), ("public_answer", answer), ("status", status),
                        ("owner_user", (data.owner_user or "").strip()[:64] or None)):
        if getattr(entry, name) != value:
            changes[name] = {"from": getattr(entry, name), "to": value}
            setattr(entry, name, value)
    if changes:
        entry.updated_by = principal.username
        entry.updated_at = utcnow()
        session.flush()
        record(session, principal.actor, "library.update", "problem_library_entry", str(entry.id),
               {k: v["to"] if k in ("status", "owner_unit") else "changed" for k, v in changes.items()})
    return _public(entry)


def get_entry(session: Session, entry_id: int) -> EntryPublic:
    return _public(_get(session, entry_id))


def list_entries(session: Session, *, status: str | None = None, category: str | None = None,
                 owner_unit: str | None = None) -> list[EntryPublic]:
    """Entries, most recently updated first."""
    q = select(ProblemLibraryEntry)
    if status:
        if status not in ENTRY_STATUSES:
            raise InvalidInput(f"未知状态 {status!r}", where="status")
        q = q.where(ProblemLibraryEntry.status == status)
    if category:
        q = q.where(ProblemLibraryEntry.category_code == category)
    if owner_unit:
        q = q.where(ProblemLibraryEntry.owner_unit == owner_unit)
    rows = session.scalars(q.order_by(ProblemLibraryEntry.updated_at.desc(), ProblemLibraryEntry.id.desc()))
    return [_public(e) for e in rows]


def promoted_keys(session: Session) -> dict[str, int]:
    """Group key → entry id of every promoted group."""
    return dict(session.execute(select(ProblemLibraryEntry.group_key, ProblemLibraryEntry.id)).all())


# -- the appeals the groups are made of ---------------------------------------------------------

def library_records(session: Session, *, since: dt.datetime | None = None,
                    until: dt.datetime | None = None) -> list[LibraryRecord]:
    """Categorised appeals (confirmed category, else the classifier's), rejected ones left out."""
    from shengxin.appeals.models import Appeal

    q = select(Appeal.id, Appeal.title, Appeal.description, Appeal.category_code, Appeal.suggested_subcategory,
               Appeal.town_code, Appeal.submitted_at).where(Appeal.status != "rejected")
    if since is not None:
        q = q.where(Appeal.submitted_at >= since)
    if until is not None:
        q = q.where(Appeal.submitted_at <= until)
    out = []
    for rid, title, description, category, suggested, town, at in session.execute(q.order_by(Appeal.id)):
        category = category or (suggested.split(".", 1)[0] if suggested else None)
        if not category:
            continue
        text = f"{title}\n{description}" if title else description
        out.append(LibraryRecord(str(rid), text, category, town, at))
    return out


def latest_submission(session: Session) -> dt.datetime | None:
    from shengxin.appeals.models import Appeal

    return session.scalar(select(func.max(Appeal.submitted_at)))


@dataclass(frozen=True)
class GroupQuery:
    """The parameters a page or a promotion recomputes groups with."""

    window_days: int = DEFAULT_WINDOW_DAYS
    threshold: float = DEFAULT_THRESHOLD
    months: int = 12
    min_size: int = 3
    category: str | None = None

    def checked(self) -> "GroupQuery":
        if not 7 <= self.window_days <= 365:
            raise InvalidInput("时间窗口应在 7 到 365 天之间", where="window_days")
        if not 0.2 <= self.threshold <= 0.95:
            raise InvalidInput("相似度阈值应在 0.2 到 0.95 之间", where="threshold")
        if not 1 <= self.months <= 36:
            raise InvalidInput("统计范围应在 1 到 36 个月之间", where="months")
        if not 2 <= self.min_size <= 100:
            raise InvalidInput("最少诉求数应在 2 到 100 之间", where="min_size")
        return self


def current_groups(session: Session, query: GroupQuery = GroupQuery()) -> tuple[list[CaseGroup], dt.datetime | None]:
    """Groups over the ``months`` months up to the latest appeal, and that latest time."""
    query = query.checked()
    latest = latest_submission(session)
    if latest is None:
        return [], None
    since = latest - dt.timedelta(days=round(query.months * 30.44))
    records = library_records(session, since=since)
    if query.category:
        records = [r for r in records if r.category == query.category]
    groups = group_similar(records, query.window_days, query.threshold, min_size=query.min_size, as_of=latest)
    return groups, latest


def find_group(session: Session, key: str, query: GroupQuery) -> CaseGroup:
    groups, _ = current_groups(session, query)
    for g in groups:
        if g.key == key:
            return g
    raise NotFound("这一组相似诉求已发生变化（可能有新诉求加入或参数不同），请刷新页面后重试")


# -- reusing answers ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerMatch:
    entry_id: int
    title: str
    category_code: str
    public_answer: str
    similarity: float


def reusable_answers(session: Session, text: str, *, category: str | None = None,
                     limit: int = 3) -> list[AnswerMatch]:
    """Library entries with an enterprise-facing answer, most similar to ``text`` first.

    Similarity is the cosine of word-count vectors (jieba content words) between the appeal text
    and the entry's title, keywords and root cause; entries of ``category`` only when given.
    """
    if not text or not text.strip():
        raise InvalidInput("请提供诉求内容", where="text")
    q = select(ProblemLibraryEntry).where(ProblemLibraryEntry.public_answer != "",
                                          ProblemLibraryEntry.status != "archived")
    if category:
        q = q.where(ProblemLibraryEntry.category_code == category)
    entries = list(session.scalars(q))
    if not entries:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [" ".join(segment.content_tokens(f"{e.title} {' '.join(e.keywords or [])} {e.root_cause}"))
            for e in entries]
    vec = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True)
    try:
        E = vec.fit_transform(docs)
    except ValueError:
        return []
    q_vec = vec.transform([" ".join(segment.content_tokens(text))])
    sims = np.asarray((E @ q_vec.T).todense()).ravel()
    order = np.argsort(-sims, kind="stable")[:limit]
    return [AnswerMatch(entries[i].id, entries[i].title, entries[i].category_code, entries[i].public_answer,
                        float(sims[i])) for i in order if sims[i] > 0]


def record_answer_reuse(session: Session, entry_id: int, appeal_id: int | str, actor: Actor) -> EntryPublic:
    """Count that a handler replied to an appeal with this entry's answer (audited)."""
    entry = _get(session, entry_id)
    if not entry.public_answer:
        raise Conflict("该条目还没有面向企业的答复", where="entry_id")
    entry.reuse_count = (entry.reuse_count or 0) + 1
    session.flush()
    record(session, actor, "library.reuse_answer", "problem_library_entry", str(entry.id),
           {"appeal_id": str(appeal_id)})
    return _public(entry)

