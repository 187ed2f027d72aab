"""Appeal services: intake from every channel, actions through the state machine, scoped queries.

Rules:
* one pool: every channel (portal, QR code, phone, walk-in, Open311) is validated by
  :func:`prepare_submission` and stored by :func:`shengxin.appeals.intake.store` — the appeal, its
  attachments, a ``submit`` event, an audit entry and the acceptance clock in one transaction
  (:func:`submit_appeal` does both in the caller's transaction; the Open311 API group-commits);
* the classifier's suggestion is filled in after the commit (:mod:`shengxin.appeals.suggestions`);
* every action goes through :func:`perform`: the state machine decides whether it is allowed from
  the current state (:mod:`shengxin.appeals.states`), :func:`may` decides whether this person may do
  it; each one writes an event (who, when, from, to, reason) and an audit entry;
* who sees what: enterprises their own appeals; town staff their town's enterprises' appeals and
  those assigned to their town; department staff those assigned to their department (lead or
  co-handler); the district admin and the auditor all of them;
* the first receiver (the desk that accepted the appeal) is responsible for the return visit and
  closing; time on each stage is charged to the unit that held the appeal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals import attachments as att
from shengxin.appeals import deadlines, intake
from shengxin.appeals.categories import LAYERS, TIERS, Taxonomy, load_taxonomy
from shengxin.appeals.models import (
    Appeal,
    AppealAttachment,
    AppealBounce,
    AppealClock,
    AppealEvent,
    AppealPause,
    AppealUnit,
)
from shengxin.appeals.states import (
    CLOSE_OUTCOMES,
    SATISFACTION_LABELS,
    STATUS_LABELS,
    TERMINAL,
    TRANSITIONS,
    allowed_actions,
    check_transition,
)
from shengxin.appeals.units import DISTRICT_UNIT, find_unit, require_unit, unit_name
from shengxin.audit.service import Actor, record
from shengxin.config import Settings
from shengxin.enterprises import uscc as uscc_rules
from shengxin.errors import Forbidden, InvalidInput, NotFound
from shengxin.notify.service import enqueue
from shengxin.reference.district import District
from shengxin.workdays.calendar import WorkCalendar
from shengxin.workdays.service import load_calendar

CHANNELS = {"portal": "企业门户", "qr": "诉求码", "phone": "电话", "walk_in": "窗口来访", "open311": "接口推送"}
MIN_TEXT_CHARS = 5
_PHONE = re.compile(r"^[0-9+\-() ]{5,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# -- inputs -------------------------------------------------------------------------------------
@dataclass
class AppealCreate:
    """What a channel hands in. ``uscc`` is required for the portal and QR channels."""

    description: str
    enterprise_name: str = ""
    uscc: str | None = None
    title: str = ""
    town_code: str | None = None
    subcategory_code: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    address: str = ""
    lat: float | None = None
    long: float | None = None
    attachments: list[att.Upload] = field(default_factory=list)


@dataclass(frozen=True)
class Env:
    """What the services need around the database: settings, district, taxonomy, calendar, now."""

    settings: Settings
    district: District
    taxonomy: Taxonomy
    calendar: WorkCalendar
    now: datetime

    def __post_init__(self) -> None:
        # Stored instants are UTC: SQLite keeps only the wall time of what it is given.
        if self.now.tzinfo is None:
            raise ValueError("Env.now must be timezone-aware")
        object.__setattr__(self, "now", self.now.astimezone(timezone.utc))


def make_env(session: Session, settings: Settings, district: District, now: datetime | None = None) -> Env:
    return Env(settings, district, load_taxonomy(), load_calendar(session),
               now or datetime.now(timezone.utc))


def clean_text(value: str | None) -> str:
    """Strip, normalise line ends, drop control characters other than newline and tab."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()


def _validate(data: AppealCreate, settings: Settings, district: District, taxonomy: Taxonomy,
              channel: str) -> AppealCreate:
    s = settings
    description = clean_text(data.description)
    if not description:
        raise InvalidInput("请填写诉求内容", where="description")
    if len(description) < MIN_TEXT_CHARS:
        raise InvalidInput(f"诉求内容太短（{len(description)} 字），请至少写 {MIN_TEXT_CHARS} 个字说明问题",
                           where="description")
    if len(description) > s.appeal_text_max_chars:
        raise InvalidInput(f"诉求内容 {len(description)} 字，超过上限 {s.appeal_text_max_chars} 字；"
                           "请精简，或把详细材料作为附件上传", where="description")
    title = clean_text(data.title).replace("\n", " ")
    if len(title) > 100:
        raise InvalidInput(f"标题 {len(title)} 字，超过上限 100 字", where="title")
    if not title:
        first = description.split("\n", 1)[0]
        title = first[:40] + ("…" if len(first) > 40 else "")
    uscc = None
    if data.uscc and data.uscc.strip():
        result = uscc_rules.check(data.uscc)
        if result.severity != "ok":
            raise InvalidInput(f"统一社会信用代码 {result.code} 无效：{result.reason}", where="uscc")
        uscc = result.code
    elif channel in ("portal", "qr"):
        raise InvalidInput("缺少企业的统一社会信用代码", where="uscc")
    name = clean_text(data.enterprise_name).replace("\n", " ")
    if not name:
        raise InvalidInput("请填写企业名称", where="enterprise_name")
    if len(name) > 200:
        raise InvalidInput("企业名称超过 200 字", where="enterprise_name")
    town = (data.town_code or "").strip() or None
    if town is not None and district.town(town) is None:
        raise InvalidInput(f"镇街代码 {town} 不属于{district.name}", where="town_code")
    sub = (data.subcategory_code or "").strip() or None
    if sub is not None:
        taxonomy.subcategory(sub)
    phone = clean_text(data.contact_phone)
    if phone and not _PHONE.match(phone):
        raise InvalidInput("联系电话格式不正确（只能包含数字、空格、+、-、括号）", where="contact_phone")
    email = clean_text(data.contact_email)
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        raise InvalidInput("电子邮箱格式不正确", where="contact_email")
    for coord, lo, hi, where in ((data.lat, -90, 90, "lat"), (data.long, -180, 180, "long")):
        if coord is not None and not lo <= coord <= hi:
            raise InvalidInput(f"{where} {coord} is out of range {lo}..{hi}", where=where)
    return AppealCreate(
        description=description, enterprise_name=name, uscc=uscc, title=title, town_code=town,
        subcategory_code=sub, contact_name=clean_text(data.contact_name)[:64], contact_phone=phone,
        contact_email=email, address=clean_text(data.address)[:300], lat=data.lat, long=data.long,
        attachments=data.attachments,
    )


def suggestion_dict(suggestion) -> dict | None:
    """A classifier suggestion (:class:`shengxin.appeals.classify.Suggestion` or a dict) as stored."""
    if suggestion is None or isinstance(suggestion, dict):
        return suggestion
    return suggestion.as_dict()


def _event(session: Session, appeal: Appeal, actor: Actor, action: str, from_status: str | None,
           reason: str | None = None, unit: str | None = None, detail: dict | None = None,
           now: datetime | None = None) -> None:
    session.add(AppealEvent(appeal_id=appeal.id, at=now or datetime.now(timezone.utc), actor=actor.name,
                            actor_role=actor.role, action=action, from_status=from_status,
                            to_status=appeal.status, reason=reason, unit_code=unit, detail=detail))
    record(session, actor, f"appeal.{action}", "appeal", appeal.code,
           {"from": from_status, "to": appeal.status, "reason": reason, "unit": unit, **(detail or {})})


def prepare_submission(settings: Settings, district: District, taxonomy: Taxonomy, data: AppealCreate,
                       actor: Actor, *, channel: str, now: datetime, api_key_id: int | None = None,
                       suggestion=None) -> intake.Submission:
    """Validate an appeal from any channel (text, enterprise, town, category, contact, place,
    attachments) into a submission ready to store; :class:`InvalidInput` names the wrong field."""
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; channels: {', '.join(CHANNELS)}", where="channel")
    data = _validate(data, settings, district, taxonomy, channel)
    uploads = att.check_uploads(data.attachments, settings.appeal_attachment_max_bytes,
                                settings.appeal_attachment_max_count)
    values = {
        "uscc": data.uscc, "enterprise_name": data.enterprise_name, "town_code": data.town_code,
        "contact_name": data.contact_name, "contact_phone": data.contact_phone, "contact_email": data.contact_email,
        "title": data.title, "description": data.description, "address": data.address, "lat": data.lat,
        "long": data.long, "subcategory_code": data.subcategory_code,
        "category_code": taxonomy.subcategory(data.subcategory_code).category_code if data.subcategory_code else None,
    }
    return intake.Submission(channel=channel, actor=actor, submitted_at=now.astimezone(timezone.utc), values=values,
                             uploads=uploads, api_key_id=api_key_id, suggestion=suggestion_dict(suggestion))


def submit_appeal(session: Session, env: Env, data: AppealCreate, actor: Actor, *, channel: str,
                  api_key_id: int | None = None, suggestion=None) -> Appeal:
    """Validate and store a new appeal from any channel (see the module rules); the caller commits.

    The classifier's suggestion is filled in after the commit (:mod:`shengxin.appeals.suggestions`),
    unless the caller passes one it computed in bulk."""
    item = prepare_submission(env.settings, env.district, env.taxonomy, data, actor, channel=channel, now=env.now,
                              api_key_id=api_key_id, suggestion=suggestion)
    receipt = intake.store(session, [item], env.calendar, env.taxonomy, env.settings.data_dir)[0]
    return session.get(Appeal, receipt.id)


# -- who may do what ----------------------------------------------------------------------------
def principal_units(p: Principal) -> set[str]:
    """The handling units a person acts for."""
    if p.role is Role.DEPARTMENT and p.department_code:
        return {p.department_code}
    if p.role is Role.TOWN and p.town_code:
        return {p.town_code}
    if p.role is Role.ADMIN:
        return {DISTRICT_UNIT}
    return set()


def active_units(session: Session, appeal_id: int) -> list[AppealUnit]:
    return list(session.scalars(select(AppealUnit).where(AppealUnit.appeal_id == appeal_id,
                                                         AppealUnit.active.is_(True))
                                .order_by(AppealUnit.role.desc(), AppealUnit.id)))


def can_view(p: Principal, appeal: Appeal, unit_codes: set[str]) -> bool:
    if p.role in (Role.ADMIN, Role.AUDITOR):
        return True
    if p.role is Role.ENTERPRISE:
        return appeal.uscc is not None and appeal.uscc == p.uscc
    if p.role is Role.TOWN:
        return appeal.town_code == p.town_code or p.town_code in unit_codes
    if p.role is Role.DEPARTMENT:
        return p.department_code in unit_codes
    return False


def is_desk(p: Principal, appeal: Appeal) -> bool:
    """The district desk, or the staff of the appeal's town (first receivers)."""
    return p.role is Role.ADMIN or (p.role is Role.TOWN and appeal.town_code is not None
                                    and appeal.town_code == p.town_code)


def is_handler(p: Principal, appeal: Appeal) -> bool:
    """Staff of the lead unit."""
    return appeal.lead_unit is not None and appeal.lead_unit in principal_units(p)


def may(p: Principal, appeal: Appeal, action: str, unit_codes: set[str]) -> bool:
    """Whether this person may take ``action`` on the appeal (the state is checked separately)."""
    if p.role is Role.AUDITOR:
        return False
    if action in ("accept", "reject", "merge", "assign", "close", "reopen"):
        return is_desk(p, appeal)
    if action == "arbitrate":
        return p.role is Role.ADMIN
    if action in ("sign", "start", "pause", "resume", "reply", "bounce"):
        return is_handler(p, appeal)
    if action == "visit":
        return is_desk(p, appeal) or (p.role is Role.ENTERPRISE and p.uscc == appeal.uscc)
    if action == "note":
        return p.role is not Role.ENTERPRISE and (is_desk(p, appeal) or bool(principal_units(p) & unit_codes))
    return False


def scoped(p: Principal):
    """A select of the appeals this person may see."""
    q = select(Appeal)
    if p.role in (Role.ADMIN, Role.AUDITOR):
        return q
    if p.role is Role.ENTERPRISE:
        return q.where(Appeal.uscc == p.uscc)
    assigned = select(AppealUnit.appeal_id).where(AppealUnit.unit_code.in_(principal_units(p)),
                                                  AppealUnit.active.is_(True))
    if p.role is Role.TOWN:
        return q.where(or_(Appeal.town_code == p.town_code, Appeal.id.in_(assigned)))
    if p.role is Role.DEPARTMENT:
        return q.where(Appeal.id.in_(assigned))
    return q.where(False)


def load_for(session: Session, p: Principal, appeal_id: int) -> Appeal:
    """The appeal if this person may see it; otherwise :class:`NotFound` (existence is not leaked)."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is None or not can_view(p, appeal, {u.unit_code for u in active_units(session, appeal_id)}):
        raise NotFound(f"诉求 {appeal_id} 不存在或您无权查看")
    return appeal


# -- actions ------------------------------------------------------------------------------------
@dataclass
class ActionInput:
    reason: str = ""
    subcategory_code: str | None = None
    layer: str | None = None
    tier: str | None = None
    lead_unit: str | None = None
    co_units: list[str] = field(default_factory=list)
    reply_text: str = ""
    satisfaction: str | None = None
    solved: bool | None = None
    outcome: str | None = None
    parent_code: str | None = None


def _require_reason(value: str, label: str, where: str = "reason") -> str:
    value = clean_text(value)
    if not value:
        raise InvalidInput(f"请填写{label}", where=where)
    if len(value) > 2000:
        raise InvalidInput(f"{label}超过 2000 字", where=where)
    return value


def _set_units(session: Session, appeal: Appeal, lead: str, co: list[str], now: datetime) -> None:
    for u in active_units(session, appeal.id):
        u.active = False
    session.add(AppealUnit(appeal_id=appeal.id, unit_code=lead, role="lead", active=True, assigned_at=now))
    for c in dict.fromkeys(co):
        if c != lead:
            session.add(AppealUnit(appeal_id=appeal.id, unit_code=c, role="co", active=True, assigned_at=now))
    appeal.lead_unit = lead
    session.flush()


def _notify(session: Session, env: Env, appeal: Appeal, kind: str, unit: str | None, subject: str,
            body: str, key: str) -> None:
    enqueue(session, env.settings, kind=kind, unit_code=unit, subject=subject, body=body,
            dedupe_key=f"appeal:{appeal.id}:{key}", object_type="appeal", object_id=appeal.code)


def perform(session: Session, env: Env, appeal_id: int, action: str, principal: Principal,
            data: ActionInput | None = None, client: str | None = None) -> Appeal:
    """Take one action on an appeal (state machine + permission + event + audit + clocks)."""
    data = data or ActionInput()
    appeal = load_for(session, principal, appeal_id)
    units = {u.unit_code for u in active_units(session, appeal.id)}
    actor = Actor(principal.username, principal.role.value, client)
    if action == "note":
        if not may(principal, appeal, "note", units):
            raise Forbidden("您无权为此诉求添加办理意见")
        reason = _require_reason(data.reason, "意见内容")
        _event(session, appeal, actor, "note", appeal.status, reason,
               unit=next(iter(principal_units(principal)), None), now=env.now)
        return appeal
    transition = check_transition(appeal.status, action)
    if not may(principal, appeal, action, units):
        raise Forbidden(f"您的账号不能对此诉求执行“{transition.label}”")
    reason = _require_reason(data.reason, "原因") if transition.needs_reason else clean_text(data.reason)[:2000]
    before = appeal.status
    now, cal, tax = env.now, env.calendar, env.taxonomy
    my_unit = next(iter(principal_units(principal)), None)
    detail: dict = {}
    event_unit = my_unit

    if action == "accept":
        if data.subcategory_code:
            sub = tax.subcategory(data.subcategory_code)
            detail["suggested"] = appeal.suggested_subcategory
            detail["confirmed"] = sub.code
            appeal.subcategory_code, appeal.category_code = sub.code, sub.category_code
        appeal.first_receiver = my_unit
        appeal.first_receiver_user = principal.username
        appeal.status = "accepted"
    elif action == "reject":
        deadlines.end_clock(session, appeal, now, "rejected", cal, charge_to=my_unit)
        appeal.first_receiver = appeal.first_receiver or my_unit
        appeal.reject_reason = reason
        appeal.outcome = "rejected"
        appeal.status = "rejected"
        appeal.closed_at = now
    elif action == "assign":
        sub_code = data.subcategory_code or appeal.subcategory_code
        if not sub_code:
            raise InvalidInput("交办前请确认诉求分类（二级分类）", where="subcategory_code")
        sub = tax.subcategory(sub_code)
        if sub_code != appeal.subcategory_code:
            detail["suggested"] = appeal.suggested_subcategory
            detail["confirmed"] = sub.code
        appeal.subcategory_code, appeal.category_code = sub.code, sub.category_code
        lead = require_unit(env.district, (data.lead_unit or sub.unit).strip(), "lead_unit")
        if principal.role is Role.TOWN and lead.code != principal.town_code:
            raise Forbidden("镇街只能交办给本镇街办理；需要部门办理的请提交区级统筹交办")
        co = [require_unit(env.district, c.strip(), "co_units").code for c in data.co_units if c.strip()]
        layer = data.layer or appeal.layer or "simple"
        if layer not in LAYERS:
            raise InvalidInput(f"layer must be one of {', '.join(LAYERS)}", where="layer")
        tier = data.tier or lead.tier
        if tier not in TIERS:
            raise InvalidInput(f"tier must be one of {', '.join(TIERS)}", where="tier")
        appeal.layer, appeal.tier = layer, tier
        deadlines.end_clock(session, appeal, now, "assigned", cal, charge_to=my_unit)
        _set_units(session, appeal, lead.code, co, now)
        appeal.status = "assigned"
        deadlines.start_clock(session, appeal, "sign", lead.code, now, cal, tax)
        event_unit = lead.code
        detail.update({"lead_unit": lead.code, "co_units": co, "layer": layer, "tier": tier})
        _notify(session, env, appeal, "appeal.assigned", lead.code,
                f"【新交办诉求】{appeal.code} {appeal.title}",
                f"{appeal.enterprise_name} 的诉求 {appeal.code} 已交办给{lead.name}，"
                f"请在 {tax.limit(sub.code, 'sign')} 个工作日内签收。\n\n{appeal.description}",
                f"assigned:{lead.code}:{now.isoformat()}")
        for c in co:
            _notify(session, env, appeal, "appeal.co_assigned", c, f"【协办诉求】{appeal.code} {appeal.title}",
                    f"{appeal.code} 由{unit_name(env.district, lead.code)}牵头，请贵单位协同办理。",
                    f"co:{c}:{now.isoformat()}")
    elif action == "sign":
        deadlines.end_clock(session, appeal, now, "signed", cal)
        appeal.status = "signed"
        deadlines.start_clock(session, appeal, "handle", appeal.lead_unit, now, cal, tax)
        event_unit = appeal.lead_unit
    elif action == "start":
        appeal.status = "in_progress"
        event_unit = appeal.lead_unit
    elif action == "pause":
        session.add(AppealPause(appeal_id=appeal.id, started_at=now, reason=reason))
        session.flush()
        appeal.status = "paused"
        appeal.paused_since = now
        deadlines.refresh(session, appeal, now, cal)
        event_unit = appeal.lead_unit
    elif action == "resume":
        pause = session.scalar(select(AppealPause).where(AppealPause.appeal_id == appeal.id,
                                                         AppealPause.ended_at.is_(None)))
        if pause is not None:
            pause.ended_at = now
        session.flush()
        appeal.status = "in_progress"
        appeal.paused_since = None
        deadlines.refresh(session, appeal, now, cal)
        event_unit = appeal.lead_unit
    elif action == "reply":
        text = _require_reason(data.reply_text or data.reason, "答复内容", "reply_text")
        appeal.reply_text = text
        deadlines.end_clock(session, appeal, now, "replied", cal)
        appeal.status = "replied"
        deadlines.start_clock(session, appeal, "return_visit", appeal.first_receiver or DISTRICT_UNIT,
                              now, cal, tax)
        event_unit = appeal.lead_unit
        detail["reply"] = text[:500]
    elif action == "bounce":
        bounced_unit = appeal.lead_unit
        deadlines.end_clock(session, appeal, now, "bounced", cal)
        session.add(AppealBounce(appeal_id=appeal.id, unit_code=bounced_unit, reason=reason,
                                 bounced_by=principal.username, bounced_at=now))
        appeal.bounce_count += 1
        appeal.status = "bounced"
        deadlines.start_clock(session, appeal, "arbitrate", DISTRICT_UNIT, now, cal, tax)
        event_unit = bounced_unit
        _notify(session, env, appeal, "appeal.bounced", DISTRICT_UNIT, f"【诉求退回待仲裁】{appeal.code}",
                f"{unit_name(env.district, bounced_unit)}退回了诉求 {appeal.code}：{reason}",
                f"bounce:{now.isoformat()}")
    elif action == "arbitrate":
        lead = require_unit(env.district, (data.lead_unit or "").strip() or None, "lead_unit")
        co = [require_unit(env.district, c.strip(), "co_units").code for c in data.co_units if c.strip()]
        bounce = session.scalar(select(AppealBounce).where(AppealBounce.appeal_id == appeal.id,
                                                           AppealBounce.decided_at.is_(None))
                                .order_by(AppealBounce.id.desc()))
        if bounce is not None:
            bounce.decided_by, bounce.decided_at = principal.username, now
            bounce.new_unit, bounce.decision_note = lead.code, reason or None
        deadlines.end_clock(session, appeal, now, "arbitrated", cal)
        _set_units(session, appeal, lead.code, co, now)
        if data.layer:
            if data.layer not in LAYERS:
                raise InvalidInput(f"layer must be one of {', '.join(LAYERS)}", where="layer")
            appeal.layer = data.layer
        appeal.tier = lead.tier
        appeal.status = "assigned"
        deadlines.start_clock(session, appeal, "sign", lead.code, now, cal, tax)
        event_unit = lead.code
        detail.update({"lead_unit": lead.code, "co_units": co})
        _notify(session, env, appeal, "appeal.assigned", lead.code, f"【仲裁后交办】{appeal.code} {appeal.title}",
                f"诉求 {appeal.code} 经仲裁交由{lead.name}牵头办理，请及时签收。",
                f"arbitrated:{lead.code}:{now.isoformat()}")
    elif action == "visit":
        if data.satisfaction not in SATISFACTION_LABELS:
            raise InvalidInput("请选择满意度：satisfied / basically_satisfied / unsatisfied", where="satisfaction")
        if data.solved is None:
            raise InvalidInput("请选择问题是否解决", where="solved")
        appeal.satisfaction, appeal.solved = data.satisfaction, data.solved
        appeal.visit_note = reason or None
        deadlines.end_clock(session, appeal, now, "visited", cal)
        appeal.status = "return_visit"
        detail.update({"satisfaction": data.satisfaction, "solved": data.solved})
    elif action == "reopen":
        _reopen(session, env, appeal, now)
    elif action == "close":
        if data.outcome not in CLOSE_OUTCOMES:
            raise InvalidInput(f"请选择办结结果：{', '.join(CLOSE_OUTCOMES)}", where="outcome")
        deadlines.end_clock(session, appeal, now, "closed", cal, charge_to=my_unit)
        appeal.outcome = data.outcome
        appeal.status = "closed"
        appeal.closed_at = now
        appeal.working_days_to_close = env.calendar.working_days_between(
            deadlines.aware(appeal.submitted_at), now, deadlines.pauses_since(session, appeal.id, appeal.submitted_at))
        detail["outcome"] = data.outcome
    elif action == "merge":
        parent = _merge_parent(session, principal, appeal, data.parent_code)
        deadlines.end_clock(session, appeal, now, "merged", cal, charge_to=my_unit)
        appeal.parent_id = parent.id
        appeal.outcome = "merged"
        appeal.status = "closed"
        appeal.closed_at = now
        detail["parent"] = parent.code
        session.add(AppealEvent(appeal_id=parent.id, at=now, actor=actor.name, actor_role=actor.role,
                                action="absorb", from_status=parent.status, to_status=parent.status,
                                reason=f"合并重复诉求 {appeal.code}", unit_code=my_unit,
                                detail={"child": appeal.code}))
    appeal.updated_at = now
    _event(session, appeal, actor, action, before, reason or None, unit=event_unit, detail=detail or None, now=now)

    if action == "visit" and data.satisfaction == "unsatisfied":
        before_reopen = appeal.status
        _reopen(session, env, appeal, now)
        _event(session, appeal, actor, "reopen", before_reopen, "企业不满意，重新办理" + (f"：{reason}" if reason else ""),
               unit=appeal.first_receiver, now=now)
    session.flush()
    return appeal


def _reopen(session: Session, env: Env, appeal: Appeal, now: datetime) -> None:
    appeal.status = "reopened"
    appeal.reopen_count += 1
    deadlines.start_clock(session, appeal, "accept", appeal.first_receiver or DISTRICT_UNIT, now,
                          env.calendar, env.taxonomy)
    _notify(session, env, appeal, "appeal.reopened", appeal.first_receiver or DISTRICT_UNIT,
            f"【诉求重新办理】{appeal.code}", f"企业对诉求 {appeal.code} 的办理结果不满意，已重新办理，请重新交办。",
            f"reopen:{appeal.reopen_count}")


def _merge_parent(session: Session, principal: Principal, appeal: Appeal, parent_code: str | None) -> Appeal:
    code = (parent_code or "").strip().upper()
    if not code:
        raise InvalidInput("请填写要合并到的主诉求编号", where="parent_code")
    parent = session.scalar(select(Appeal).where(Appeal.code == code))
    if parent is None or not can_view(principal, parent, {u.unit_code for u in active_units(session, parent.id)}):
        raise InvalidInput(f"主诉求 {code} 不存在或您无权查看", where="parent_code")
    if parent.id == appeal.id:
        raise InvalidInput("不能把诉求合并到它自己", where="parent_code")
    if parent.outcome == "merged" or parent.status == "rejected":
        raise InvalidInput(f"主诉求 {code} 本身已合并或不予受理，请合并到仍有效的诉求", where="parent_code")
    ancestor = parent
    while ancestor.parent_id is not None:
        if ancestor.parent_id == appeal.id:
            raise InvalidInput("合并会形成循环", where="parent_code")
        ancestor = session.get(Appeal, ancestor.parent_id)
    return parent


# -- reading ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AppealSummary:
    id: int
    code: str
    title: str
    enterprise_name: str
    uscc: str | None
    town_code: str | None
    channel: str
    status: str
    status_label: str
    category_code: str | None
    subcategory_code: str | None
    lead_unit: str | None
    stage: str | None
    due_at: datetime | None
    due_provisional: bool
    deadline_state: str
    submitted_at: datetime
    updated_at: datetime


def summary(a: Appeal) -> AppealSummary:
    return AppealSummary(a.id, a.code or "", a.title, a.enterprise_name, a.uscc, a.town_code, a.channel, a.status,
                         STATUS_LABELS[a.status], a.category_code, a.subcategory_code, a.lead_unit, a.stage,
                         deadlines.aware(a.due_at), a.due_provisional, a.deadline_state,
                         deadlines.aware(a.submitted_at), deadlines.aware(a.updated_at))


def list_appeals(session: Session, p: Principal, *, status: str | None = None, deadline: str | None = None,
                 query: str | None = None, unit: str | None = None, page: int = 1,
                 page_size: int = 50) -> tuple[list[AppealSummary], int]:
    """The appeals this person may see, newest first, filtered and paged; returns (rows, total)."""
    q = scoped(p)
    if status:
        if status == "open":
            q = q.where(Appeal.status.notin_(TERMINAL))
        else:
            q = q.where(Appeal.status == status)
    if deadline:
        q = q.where(Appeal.deadline_state == deadline, Appeal.status.notin_(TERMINAL))
    if unit:
        q = q.where(Appeal.lead_unit == unit)
    if query:
        like = f"%{query.strip()}%"
        q = q.where(or_(Appeal.code.ilike(like), Appeal.title.ilike(like), Appeal.enterprise_name.ilike(like),
                        Appeal.uscc.ilike(like)))
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(Appeal.id.desc()).offset((max(page, 1) - 1) * page_size)
                           .limit(page_size)).all()
    return [summary(a) for a in rows], total


@dataclass(frozen=True)
class AppealDetail:
    appeal: Appeal
    summary: AppealSummary
    events: list[AppealEvent]
    units: list[AppealUnit]
    clocks: list[AppealClock]
    attachments: list[AppealAttachment]
    bounces: list[AppealBounce]
    children: list[Appeal]
    parent: Appeal | None
    actions: list[str]


def detail(session: Session, p: Principal, appeal_id: int) -> AppealDetail:
    """Everything about one appeal this person may see, with the actions they may take now."""
    a = load_for(session, p, appeal_id)
    units = active_units(session, a.id)
    unit_codes = {u.unit_code for u in units}
    actions = [x for x in allowed_actions(a.status) if may(p, a, x, unit_codes)]
    if a.status not in TERMINAL and may(p, a, "note", unit_codes):
        actions.append("note")
    return AppealDetail(
        appeal=a, summary=summary(a),
        events=list(session.scalars(select(AppealEvent).where(AppealEvent.appeal_id == a.id)
                                    .order_by(AppealEvent.id))),
        units=units,
        clocks=list(session.scalars(select(AppealClock).where(AppealClock.appeal_id == a.id)
                                    .order_by(AppealClock.id))),
        attachments=list(session.scalars(select(AppealAttachment).where(AppealAttachment.appeal_id == a.id)
                                         .order_by(AppealAttachment.id))),
        bounces=list(session.scalars(select(AppealBounce).where(AppealBounce.appeal_id == a.id)
                                     .order_by(AppealBounce.id))),
        children=list(session.scalars(select(Appeal).where(Appeal.parent_id == a.id).order_by(Appeal.id))),
        parent=session.get(Appeal, a.parent_id) if a.parent_id else None,
        actions=actions,
    )


def attachment_path(session: Session, p: Principal, attachment_id: int, data_dir: Path) -> tuple[AppealAttachment, Path]:
    row = session.get(AppealAttachment, attachment_id)
    if row is None:
        raise NotFound("附件不存在")
    load_for(session, p, row.appeal_id)
    return row, att.open_stored(data_dir, row.stored_name)


def dashboard(session: Session, p: Principal, limit: int = 50) -> dict:
    """Open appeals in scope by deadline state, with the warning and overdue ones listed."""
    base = scoped(p).where(Appeal.status.notin_(TERMINAL)).subquery()
    counts = dict(session.execute(select(base.c.deadline_state, func.count()).group_by(base.c.deadline_state)).all())
    lists = {}
    for state in ("overdue", "warning"):
        rows = session.scalars(scoped(p).where(Appeal.status.notin_(TERMINAL), Appeal.deadline_state == state)
                               .order_by(Appeal.due_at).limit(limit)).all()
        lists[state] = [summary(a) for a in rows]
    return {"counts": {k: int(v) for k, v in counts.items()}, "open": int(sum(counts.values())), **lists}


def find_by_code(session: Session, code: str) -> Appeal | None:
    return session.scalar(select(Appeal).where(Appeal.code == code))


def unit_label(district: District, code: str | None) -> str:
    unit = find_unit(district, code)
    return unit.name if unit else (code or "—")


ACTION_LABELS = {a: t.label for a, t in TRANSITIONS.items()} | {"note": "添加办理意见", "submit": "提交诉求",
                                                                 "absorb": "合并重复诉求"}
