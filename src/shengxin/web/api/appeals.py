"""Appeals JSON API for logged-in users (the Open311 API for other systems is in open311.py).

Access: everyone logged in reads what their role may see; enterprises submit their own appeals;
the district desk and town staff enter phone and walk-in appeals; actions are checked by the
appeals domain (state machine + who may act); statistics are for district-wide roles.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shengxin.accounts.roles import ALL_ROLES, DISTRICT_WIDE_ROLES, STAFF_ROLES, WRITER_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.appeals import service as svc
from shengxin.appeals.categories import load_taxonomy
from shengxin.appeals.runtime import AppealRuntime
from shengxin.appeals.stats import DIMENSIONS, appeal_stats
from shengxin.errors import Forbidden, InvalidInput
from shengxin.web.deps import get_db
from shengxin.web.security import access
from shengxin.workdays.service import load_calendar


@asynccontextmanager
async def appeals_lifespan(app):
    """Start the appeals domain's background parts with the server (``appeals.runtime``): they run
    when the app owns its database engine (``app.state.background_workers``), not on a caller's
    session factory (tests). The classifier is loaded before the first request is taken."""
    runtime = AppealRuntime(app.state.sessionmaker, app.state.settings,
                            background=getattr(app.state, "background_workers", False))
    await asyncio.to_thread(runtime.start)
    app.state.appeals = runtime
    try:
        yield
    finally:
        await asyncio.to_thread(runtime.stop)


def appeals_runtime(request: Request) -> AppealRuntime:
    """The app's appeals runtime (one without background parts when the lifespan did not run)."""
    runtime = getattr(request.app.state, "appeals", None)
    if runtime is None:
        runtime = request.app.state.appeals = AppealRuntime(request.app.state.sessionmaker,
                                                            request.app.state.settings, background=False)
    return runtime


router = APIRouter(prefix="/api/appeals", tags=["appeals"], lifespan=appeals_lifespan)
workdays_router = APIRouter(prefix="/api/workdays", tags=["workdays"])


class AppealIn(BaseModel):
    description: str = Field(description="The appeal text (5 to appeal_text_max_chars characters).")
    title: str = ""
    subcategory_code: str | None = Field(default=None, description="Optional; staff confirm it at acceptance.")
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    # Staff entry (phone / walk-in) names the enterprise; an enterprise user's own is used otherwise.
    channel: str | None = Field(default=None, description="Staff only: phone or walk_in.")
    uscc: str | None = None
    enterprise_name: str = ""
    town_code: str | None = None


class AppealOut(BaseModel):
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


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str | None
    unit_code: str | None


class AppealDetailOut(AppealOut):
    description: str
    reply_text: str | None
    outcome: str | None
    satisfaction: str | None
    solved: bool | None
    layer: str | None
    tier: str | None
    first_receiver: str | None
    co_units: list[str]
    parent_code: str | None
    children: list[str]
    suggestion: dict | None
    suggestion_pending: bool = Field(description="The classifier has not looked at the appeal yet (分类建议生成中).")
    actions: list[str]
    events: list[EventOut]


class ActionIn(BaseModel):
    reason: str = ""
    subcategory_code: str | None = None
    layer: str | None = None
    tier: str | None = None
    lead_unit: str | None = None
    co_units: list[str] = []
    reply_text: str = ""
    satisfaction: str | None = None
    solved: bool | None = None
    outcome: str | None = None
    parent_code: str | None = None


def _out(s: svc.AppealSummary) -> AppealOut:
    return AppealOut(**s.__dict__)


def detail_out(d: svc.AppealDetail) -> AppealDetailOut:
    a = d.appeal
    return AppealDetailOut(
        **d.summary.__dict__, description=a.description, reply_text=a.reply_text, outcome=a.outcome,
        satisfaction=a.satisfaction, solved=a.solved, layer=a.layer, tier=a.tier, first_receiver=a.first_receiver,
        co_units=[u.unit_code for u in d.units if u.role == "co"], parent_code=d.parent.code if d.parent else None,
        children=[c.code for c in d.children], suggestion=a.suggestion, suggestion_pending=a.suggestion is None, actions=d.actions,
        events=[EventOut(at=svc.deadlines.aware(e.at), actor=e.actor, action=e.action, from_status=e.from_status,
                         to_status=e.to_status, reason=e.reason, unit_code=e.unit_code) for e in d.events],
    )


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def submit_as(db: Session, request: Request, principal: Principal, data: svc.AppealCreate,
              channel: str | None) -> svc.Appeal:
    """Submit for an enterprise user (its own USCC, channel portal) or staff (phone / walk-in)."""
    if principal.role is Role.ENTERPRISE:
        data.uscc = principal.uscc
        data.enterprise_name = data.enterprise_name or principal.display_name
        channel = "portal"
    elif principal.role in (Role.ADMIN, Role.TOWN):
        if channel not in ("phone", "walk_in"):
            raise InvalidInput("staff entry needs channel phone or walk_in", where="channel")
        if principal.role is Role.TOWN and not data.town_code:
            data.town_code = principal.town_code
    else:
        raise Forbidden("只有企业用户、区级管理员和镇街工作人员可以登记诉求")
    env = svc.make_env(db, request.app.state.settings, request.app.state.district)
    db.commit()  # end the read transaction before writing (SQLite snapshot upgrade)
    from shengxin.audit.service import Actor

    return svc.submit_appeal(db, env, data, Actor(principal.username, principal.role.value, client_of(request)),
                             channel=channel)


@router.get("/categories")
def categories(_: Principal = Depends(access(ALL_ROLES))):
    """The two-level taxonomy with units, tiers and stage limits (working days)."""
    tax = load_taxonomy()
    return [{"code": c.code, "name": c.name, "tags": list(c.tags), "unit": c.unit, "tier": c.tier,
             "subcategories": [{"code": s.code, "name": s.name, "tags": list(s.tags), "unit": s.unit,
                                "tier": s.tier, "deadlines": {"accept": s.deadlines.accept, "sign": s.deadlines.sign,
                                                              "handle": s.deadlines.handle,
                                                              "return_visit": s.deadlines.return_visit,
                                                              "arbitrate": s.deadlines.arbitrate}}
                               for s in c.subcategories if not s.retired]}
            for c in tax.categories if not c.retired]


@router.get("", response_model=list[AppealOut])
def list_appeals(status: str | None = None, deadline: str | None = None, q: str | None = None, page: int = 1,
                 db: Session = Depends(get_db), principal: Principal = Depends(access(ALL_ROLES))):
    """Appeals in the caller's scope, newest first (50 a page)."""
    rows, _total = svc.list_appeals(db, principal, status=status, deadline=deadline, query=q, page=page)
    return [_out(r) for r in rows]


@router.post("", response_model=AppealDetailOut, status_code=201)
def create_appeal(body: AppealIn, request: Request, db: Session = Depends(get_db),
                  principal: Principal = Depends(access(Role.ENTERPRISE, Role.ADMIN, Role.TOWN))):
    """Submit an appeal (enterprise: its own; staff: a phone or walk-in appeal for an enterprise)."""
    data = svc.AppealCreate(description=body.description, title=body.title, subcategory_code=body.subcategory_code,
                            contact_name=body.contact_name, contact_phone=body.contact_phone,
                            contact_email=body.contact_email, uscc=body.uscc, enterprise_name=body.enterprise_name,
                            town_code=body.town_code)
    appeal = submit_as(db, request, principal, data, body.channel)
    db.commit()
    appeals_runtime(request).stored([appeal.id])
    return detail_out(svc.detail(db, principal, appeal.id))


@router.get("/dashboard")
def dashboard(db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    """Open appeals in scope by deadline state, with the warning and overdue ones."""
    d = svc.dashboard(db, principal)
    return {"open": d["open"], "counts": d["counts"], "overdue": [_out(x) for x in d["overdue"]],
            "warning": [_out(x) for x in d["warning"]]}


@router.get("/stats")
def stats(request: Request, by: str = "unit", db: Session = Depends(get_db),
          _: Principal = Depends(access(DISTRICT_WIDE_ROLES))):
    """Average working days to close, on-time, satisfaction, reopen and bounce rates by unit, town,
    category or month (definitions in shengxin.appeals.stats)."""
    if by not in DIMENSIONS:
        raise InvalidInput(f"by must be one of {', '.join(DIMENSIONS)}", where="by")
    return [r.as_dict() for r in appeal_stats(db, request.app.state.district, by)]


@router.get("/{appeal_id}", response_model=AppealDetailOut)
def get_appeal(appeal_id: int, db: Session = Depends(get_db), principal: Principal = Depends(access(ALL_ROLES))):
    """One appeal with its timeline and the actions the caller may take now."""
    return detail_out(svc.detail(db, principal, appeal_id))


@router.post("/{appeal_id}/actions/{action}", response_model=AppealDetailOut)
def act(appeal_id: int, action: str, body: ActionIn, request: Request, db: Session = Depends(get_db),
        principal: Principal = Depends(access(WRITER_ROLES))):
    """Take an action (accept, reject, assign, sign, start, pause, resume, reply, bounce, arbitrate,
    visit, reopen, close, merge, note); refused with 409 from a state that does not allow it."""
    env = svc.make_env(db, request.app.state.settings, request.app.state.district)
    svc.perform(db, env, appeal_id, action, principal, svc.ActionInput(**body.model_dump()), client_of(request))
    db.commit()
    return detail_out(svc.detail(db, principal, appeal_id))


@workdays_router.get("/coverage")
def coverage(years: str | None = None, db: Session = Depends(get_db),
             _: Principal = Depends(access(STAFF_ROLES))):
    """Which source decides each year: override, chinesecalendar, or provisional (weekends only)."""
    this_year = datetime.now().year
    try:
        wanted = [int(y) for y in years.split(",")] if years else list(range(this_year - 1, this_year + 3))
    except ValueError:
        raise InvalidInput("years must be comma-separated years, e.g. 2026,2027", where="years") from None
    cal = load_calendar(db)
    return [cal.coverage(y).as_dict() for y in wanted]
