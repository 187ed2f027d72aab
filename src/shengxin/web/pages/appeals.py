"""Appeal pages (Simplified Chinese): submit, my appeals, queue, detail and actions, dashboard,
statistics, appeal QR codes (诉求码) and their public form, the working-day calendar, API keys."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import ALL_ROLES, DISTRICT_WIDE_ROLES, STAFF_ROLES, WRITER_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.appeals import apikeys, qr
from shengxin.appeals import service as svc
from shengxin.appeals.attachments import ALLOWED_LABEL, Upload
from shengxin.appeals.categories import LAYER_LABELS, STAGE_LABELS, TIER_LABELS, load_taxonomy
from shengxin.appeals.deadlines import aware
from shengxin.appeals.models import Appeal, AppealQrCode
from shengxin.appeals.states import CLOSE_OUTCOMES, OUTCOME_LABELS, SATISFACTION_LABELS, STATUS_LABELS
from shengxin.appeals.stats import DIMENSIONS, appeal_stats
from shengxin.appeals.units import all_units, unit_name
from shengxin.audit.service import Actor
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound
from shengxin.notify.service import recent_for_units
from shengxin.web.api.appeals import appeals_runtime
from shengxin.web.deps import get_db
from shengxin.web.security import CredentialAccess, access
from shengxin.web.templating import render, templates
from shengxin.workdays.calendar import TZ
from shengxin.workdays.service import load_calendar, override_history, store_override

router = APIRouter(include_in_schema=False)
DESK = (Role.ADMIN, Role.TOWN)
DEADLINE_LABELS = {"ok": "正常", "warning": "即将超期", "overdue": "已超期", "paused": "已暂停", "none": "—"}
CHANNEL_LABELS = svc.CHANNELS


def _local(value) -> str:
    value = aware(value)
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if value else "—"


templates.env.filters["local_time"] = _local
templates.env.globals.update(
    appeal_status_labels=STATUS_LABELS, appeal_deadline_labels=DEADLINE_LABELS, appeal_channel_labels=CHANNEL_LABELS,
    appeal_outcome_labels=OUTCOME_LABELS, appeal_satisfaction_labels=SATISFACTION_LABELS,
    appeal_stage_labels=STAGE_LABELS, appeal_layer_labels=LAYER_LABELS, appeal_tier_labels=TIER_LABELS,
    appeal_action_labels=svc.ACTION_LABELS,
)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _uploads(files: list[UploadFile] | None, max_bytes: int) -> list[Upload]:
    out = []
    for f in files or []:
        if not f.filename:
            continue
        out.append(Upload(f.filename, f.file.read(max_bytes + 1)))
    return out


def _form_context(request: Request, db: Session, principal: Principal | None, form: dict, error: str | None,
                  binding: qr.QrBinding | None = None) -> dict:
    tax = load_taxonomy()
    return {"taxonomy": tax, "form": form, "error": error, "binding": binding, "allowed_label": ALLOWED_LABEL,
            "max_chars": request.app.state.settings.appeal_text_max_chars,
            "max_mb": request.app.state.settings.appeal_attachment_max_bytes // 1048576,
            "max_count": request.app.state.settings.appeal_attachment_max_count}


def _enterprise_defaults(db: Session, principal: Principal) -> dict:
    """An enterprise's name and town from its appeal code registration or its last appeal."""
    row = db.scalar(select(AppealQrCode).where(AppealQrCode.uscc == principal.uscc))
    if row is not None:
        return {"enterprise_name": row.enterprise_name, "town_code": row.town_code or ""}
    last = db.scalar(select(Appeal).where(Appeal.uscc == principal.uscc).order_by(Appeal.id.desc()))
    if last is not None:
        return {"enterprise_name": last.enterprise_name, "town_code": last.town_code or ""}
    return {"enterprise_name": principal.display_name.replace("（演示）", ""), "town_code": ""}


# -- lists ----------------------------------------------------------------------------------------
@router.get("/appeals")
def appeals_page(request: Request, status: str | None = None, deadline: str | None = None, q: str | None = None,
                 page: int = 1, db: Session = Depends(get_db), principal: Principal = Depends(access(ALL_ROLES))):
    rows, total = svc.list_appeals(db, principal, status=status or None, deadline=deadline or None,
                                   query=q or None, page=page)
    return render(request, "appeals_list.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, (total + 49) // 50),
        "status": status or "", "deadline": deadline or "", "q": q or "",
        "unit_name": lambda c: unit_name(request.app.state.district, c),
    })


@router.get("/appeals/new")
def new_page(request: Request, db: Session = Depends(get_db),
             principal: Principal = Depends(access(Role.ENTERPRISE, *DESK))):
    form = _enterprise_defaults(db, principal) if principal.role is Role.ENTERPRISE else {
        "channel": "phone", "town_code": principal.town_code or ""}
    return render(request, "appeals_new.html", _form_context(request, db, principal, form, None))


@router.post("/appeals/new")
def new_submit(request: Request, description: str = Form(""), title: str = Form(""),
               subcategory_code: str = Form(""), contact_name: str = Form(""), contact_phone: str = Form(""),
               contact_email: str = Form(""), channel: str = Form(""), uscc: str = Form(""),
               enterprise_name: str = Form(""), town_code: str = Form(""),
               attachments: list[UploadFile] = File(default=[]), db: Session = Depends(get_db),
               principal: Principal = Depends(access(Role.ENTERPRISE, *DESK))):
    from shengxin.web.api.appeals import submit_as

    form = {"description": description, "title": title, "subcategory_code": subcategory_code,
            "contact_name": contact_name, "contact_phone": contact_phone, "contact_email": contact_email,
            "channel": channel, "uscc": uscc, "enterprise_name": enterprise_name, "town_code": town_code}
    try:
        uploads = _uploads(attachments, request.app.state.settings.appeal_attachment_max_bytes)
        data = svc.AppealCreate(description=description, title=title, subcategory_code=subcategory_code or None,
                                contact_name=contact_name, contact_phone=contact_phone, contact_email=contact_email,
                                uscc=uscc or None, enterprise_name=enterprise_name, town_code=town_code or None,
                                attachments=uploads)
        appeal = submit_as(db, request, principal, data, channel or None)
    except (InvalidInput, NotFound, Forbidden) as exc:
        db.rollback()
        if isinstance(exc, Forbidden):
            raise
        return render(request, "appeals_new.html", _form_context(request, db, principal, form, str(exc)),
                      status_code=422)
    appeal_id = appeal.id
    db.commit()
    appeals_runtime(request).stored([appeal_id])
    return RedirectResponse(f"/appeals/{appeal_id}?submitted=1", status_code=303)


@router.get("/appeals/dashboard")
def dashboard_page(request: Request, db: Session = Depends(get_db),
                   principal: Principal = Depends(access(STAFF_ROLES))):
    units = None if principal.role in (Role.ADMIN, Role.AUDITOR) else svc.principal_units(principal)
    return render(request, "appeals_dashboard.html", {
        "dash": svc.dashboard(db, principal), "notifications": recent_for_units(db, units, 20),
        "unit_name": lambda c: unit_name(request.app.state.district, c),
    })


@router.get("/appeals/stats")
def stats_page(request: Request, by: str = "unit", db: Session = Depends(get_db),
               principal: Principal = Depends(access(DISTRICT_WIDE_ROLES))):
    if by not in DIMENSIONS:
        raise InvalidInput(f"统计维度必须是 {', '.join(DIMENSIONS)}", where="by")
    return render(request, "appeals_stats.html", {"rows": appeal_stats(db, request.app.state.district, by),
                                                  "by": by, "dimensions": DIMENSIONS})


# -- appeal codes (QR) ----------------------------------------------------------------------------
def _base_url(request: Request) -> str:
    configured = request.app.state.settings.public_base_url.rstrip("/")
    return configured or str(request.base_url).rstrip("/")


def _qr_scope(principal: Principal, row: AppealQrCode | None) -> None:
    if row is not None and principal.role is Role.TOWN and row.town_code != principal.town_code:
        raise NotFound("该企业的诉求码不在您的镇街范围内")


@router.get("/appeals/qr")
def qr_list(request: Request, db: Session = Depends(get_db), principal: Principal = Depends(access(*DESK))):
    rows = qr.list_codes(db, principal.town_code if principal.role is Role.TOWN else None)
    return render(request, "appeals_qr.html", {"rows": rows, "error": None, "form": {}})


@router.post("/appeals/qr")
def qr_issue(request: Request, uscc: str = Form(""), enterprise_name: str = Form(""), town_code: str = Form(""),
             db: Session = Depends(get_db), principal: Principal = Depends(access(*DESK))):
    if principal.role is Role.TOWN:
        town_code = principal.town_code or ""
        existing = db.scalar(select(AppealQrCode).where(AppealQrCode.uscc == uscc.strip().upper()))
        _qr_scope(principal, existing)
    try:
        row, _token = qr.issue(db, request.app.state.settings, request.app.state.district, uscc, enterprise_name,
                               town_code, Actor(principal.username, principal.role.value, _client(request)))
    except InvalidInput as exc:
        db.rollback()
        rows = qr.list_codes(db, principal.town_code if principal.role is Role.TOWN else None)
        return render(request, "appeals_qr.html", {"rows": rows, "error": str(exc),
                                                   "form": {"uscc": uscc, "enterprise_name": enterprise_name,
                                                            "town_code": town_code}}, status_code=422)
    code = row.uscc
    db.commit()
    return RedirectResponse(f"/appeals/qr/{code}", status_code=303)


def _qr_url(request: Request, db: Session, principal: Principal, uscc: str) -> tuple[AppealQrCode, str]:
    row = qr.current(db, uscc.strip().upper())
    _qr_scope(principal, row)
    return row, f"{_base_url(request)}/q/{qr.token_for(request.app.state.settings, row)}"


@router.get("/appeals/qr/{uscc}")
def qr_print(uscc: str, request: Request, db: Session = Depends(get_db), principal: Principal = Depends(access(*DESK))):
    row, url = _qr_url(request, db, principal, uscc)
    return render(request, "appeals_qr_print.html", {"row": row, "url": url, "svg": qr.svg(url)})


@router.get("/appeals/qr/{uscc}/code.png")
def qr_png(uscc: str, request: Request, db: Session = Depends(get_db), principal: Principal = Depends(access(*DESK))):
    row, url = _qr_url(request, db, principal, uscc)
    return Response(qr.png(url), media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="appeal-code-{row.uscc}.png"'})


def _verify_qr(request: Request) -> qr.QrBinding:
    with request.app.state.sessionmaker() as session:
        return qr.verify(session, request.app.state.settings, request.path_params.get("token", ""))


QR_TOKEN = CredentialAccess("appeal_qr_token", _verify_qr, csrf=True)


@router.get("/q/{token}")
def qr_form(token: str, request: Request, db: Session = Depends(get_db), binding: qr.QrBinding = Depends(QR_TOKEN)):
    return render(request, "appeals_qr_form.html", {**_form_context(request, db, None, {}, None, binding),
                                                    "token": token})


@router.post("/q/{token}")
def qr_submit(token: str, request: Request, description: str = Form(""), title: str = Form(""),
              contact_name: str = Form(""), contact_phone: str = Form(""), contact_email: str = Form(""),
              attachments: list[UploadFile] = File(default=[]), db: Session = Depends(get_db),
              binding: qr.QrBinding = Depends(QR_TOKEN)):
    form = {"description": description, "title": title, "contact_name": contact_name,
            "contact_phone": contact_phone, "contact_email": contact_email}
    try:
        uploads = _uploads(attachments, request.app.state.settings.appeal_attachment_max_bytes)
        env = svc.make_env(db, request.app.state.settings, request.app.state.district)
        db.commit()
        appeal = svc.submit_appeal(
            db, env, svc.AppealCreate(description=description, title=title, uscc=binding.uscc,
                                      enterprise_name=binding.enterprise_name, town_code=binding.town_code,
                                      contact_name=contact_name, contact_phone=contact_phone,
                                      contact_email=contact_email, attachments=uploads),
            Actor(f"qr:{binding.uscc}", "enterprise", _client(request)), channel="qr")
    except InvalidInput as exc:
        db.rollback()
        return render(request, "appeals_qr_form.html", {**_form_context(request, db, None, form, str(exc), binding),
                                                        "token": token}, status_code=422)
    code, due, appeal_id = appeal.code, appeal.due_at, appeal.id
    db.commit()
    appeals_runtime(request).stored([appeal_id])
    return render(request, "appeals_qr_done.html", {"code": code, "binding": binding, "due": due})


# -- working-day calendar and API keys ------------------------------------------------------------
@router.get("/appeals/workdays")
def workdays_page(request: Request, db: Session = Depends(get_db),
                  principal: Principal = Depends(access(Role.ADMIN, Role.AUDITOR))):
    return _workdays(request, db, None, None)


def _workdays(request: Request, db: Session, message: str | None, error: str | None, status: int = 200):
    cal = load_calendar(db)
    year = datetime.now(TZ).year
    return render(request, "appeals_workdays.html", {
        "coverage": [cal.coverage(y) for y in range(year - 1, year + 3)], "history": override_history(db),
        "message": message, "error": error}, status_code=status)


@router.post("/appeals/workdays")
def workdays_upload(request: Request, file: UploadFile | None = File(default=None), db: Session = Depends(get_db),
                    principal: Principal = Depends(access(Role.ADMIN))):
    from shengxin.appeals.deadlines import recompute_provisional

    if file is None or not file.filename:
        return _workdays(request, db, None, "请选择要上传的调休安排文件（YAML 或 CSV）", 422)
    actor = Actor(principal.username, principal.role.value, _client(request))
    try:
        override = store_override(db, file.file.read(256 * 1024 + 1), file.filename, actor)
        changed = recompute_provisional(db, load_calendar(db), actor)
    except InvalidInput as exc:
        db.rollback()
        return _workdays(request, db, None, str(exc), 422)
    db.commit()
    return _workdays(request, db, f"已载入 {override.year} 年第 {override.version} 版：节假日 {len(override.holidays)} 天，"
                                  f"调休上班 {len(override.workdays)} 天；重新计算暂定时限 {changed} 件。", None)


@router.get("/appeals/keys")
def keys_page(request: Request, db: Session = Depends(get_db),
              principal: Principal = Depends(access(Role.ADMIN, Role.AUDITOR))):
    return render(request, "appeals_keys.html", {"keys": apikeys.list_keys(db), "new_key": None, "error": None})


@router.post("/appeals/keys")
def keys_create(request: Request, name: str = Form(""), db: Session = Depends(get_db),
                principal: Principal = Depends(access(Role.ADMIN))):
    try:
        key, _row = apikeys.create_key(db, name, Actor(principal.username, principal.role.value, _client(request)))
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return render(request, "appeals_keys.html", {"keys": apikeys.list_keys(db), "new_key": None,
                                                     "error": str(exc)}, status_code=422)
    db.commit()
    return render(request, "appeals_keys.html", {"keys": apikeys.list_keys(db), "new_key": key, "new_name": name,
                                                 "error": None})


@router.post("/appeals/keys/{name}/revoke")
def keys_revoke(name: str, request: Request, db: Session = Depends(get_db),
                principal: Principal = Depends(access(Role.ADMIN))):
    apikeys.revoke_key(db, name, Actor(principal.username, principal.role.value, _client(request)))
    db.commit()
    return RedirectResponse("/appeals/keys", status_code=303)


# -- one appeal -----------------------------------------------------------------------------------
@router.get("/appeals/attachments/{attachment_id}")
def attachment(attachment_id: int, request: Request, db: Session = Depends(get_db),
               principal: Principal = Depends(access(ALL_ROLES))):
    row, path = svc.attachment_path(db, principal, attachment_id, request.app.state.settings.data_dir)
    return FileResponse(path, media_type=row.content_type, filename=row.display_name,
                        content_disposition_type="attachment")


def _detail(request: Request, db: Session, principal: Principal, appeal_id: int, error: str | None = None,
            status: int = 200, submitted: bool = False):
    d = svc.detail(db, principal, appeal_id)
    district = request.app.state.district
    return render(request, "appeals_detail.html", {
        "d": d, "a": d.appeal, "error": error, "submitted": submitted, "taxonomy": load_taxonomy(),
        "units": all_units(district), "unit_name": lambda c: unit_name(district, c),
        "close_outcomes": CLOSE_OUTCOMES, "now": datetime.now(timezone.utc),
    }, status_code=status)


@router.get("/appeals/{appeal_id}")
def detail_page(appeal_id: int, request: Request, submitted: int = 0, db: Session = Depends(get_db),
                principal: Principal = Depends(access(ALL_ROLES))):
    return _detail(request, db, principal, appeal_id, submitted=bool(submitted))


@router.post("/appeals/{appeal_id}/action")
def action_submit(appeal_id: int, request: Request, action: str = Form(...), reason: str = Form(""),
                  subcategory_code: str = Form(""), lead_unit: str = Form(""), co_units: list[str] = Form(default=[]),
                  layer: str = Form(""), reply_text: str = Form(""), satisfaction: str = Form(""),
                  solved: str = Form(""), outcome: str = Form(""), parent_code: str = Form(""),
                  db: Session = Depends(get_db), principal: Principal = Depends(access(WRITER_ROLES))):
    data = svc.ActionInput(reason=reason, subcategory_code=subcategory_code or None, lead_unit=lead_unit or None,
                           co_units=[c for c in co_units if c], layer=layer or None, reply_text=reply_text,
                           satisfaction=satisfaction or None,
                           solved={"yes": True, "no": False}.get(solved), outcome=outcome or None,
                           parent_code=parent_code or None)
    try:
        env = svc.make_env(db, request.app.state.settings, request.app.state.district)
        svc.perform(db, env, appeal_id, action, principal, data, _client(request))
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _detail(request, db, principal, appeal_id, str(exc), 422 if isinstance(exc, InvalidInput) else 409)
    db.commit()
    return RedirectResponse(f"/appeals/{appeal_id}", status_code=303)
