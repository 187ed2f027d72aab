"""Problem library pages (问题库): groups of similar appeals and the entries staff promoted.

Access: district admins, department staff and auditors read; admins and department staff write
(department staff for their own department — enforced by ``appeals.library.service``).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals.classify.taxonomy import load_taxonomy
from shengxin.appeals.library import service as lib
from shengxin.appeals.library.grouping import DEFAULT_THRESHOLD, DEFAULT_WINDOW_DAYS, CaseGroup
from shengxin.appeals.units import all_units, unit_name
from shengxin.errors import InvalidInput
from shengxin.web.deps import get_db
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)

READERS = (Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR)
WRITERS = (Role.ADMIN, Role.DEPARTMENT)

CHINA = dt.timezone(dt.timedelta(hours=8))
TREND_LABELS = {"rising": "上升", "falling": "下降", "steady": "持平", "quiet": "近期无新增"}
MAX_GROUPS_SHOWN = 40
APPEALS_LISTED = 8


def _local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(CHINA).strftime(fmt)


def _bars(months) -> list[dict]:
    """Bars of a month series for a small inline SVG chart (height in pixels out of 40)."""
    items = list(months.items()) if isinstance(months, dict) else list(months)
    top = max((n for _, n in items), default=0) or 1
    return [{"label": label, "n": n, "h": round(40 * n / top), "x": i * 10} for i, (label, n) in enumerate(items)]


def _appeal_codes(db: Session, ids) -> dict[str, str]:
    from shengxin.appeals.models import Appeal

    numeric = [int(i) for i in ids if str(i).isdigit()]
    if not numeric:
        return {}
    rows = db.execute(select(Appeal.id, Appeal.code).where(Appeal.id.in_(numeric)))
    return {str(i): code or f"#{i}" for i, code in rows}


def _query(window_days: int, threshold: float, months: int, min_size: int, category: str) -> lib.GroupQuery:
    return lib.GroupQuery(window_days=window_days, threshold=threshold, months=months, min_size=min_size,
                          category=category or None).checked()


def _common(request: Request, principal: Principal) -> dict:
    district = request.app.state.district
    taxonomy = load_taxonomy()
    units = all_units(district)
    if principal.role is Role.DEPARTMENT:
        owner_choices = [u for u in units if u.code == principal.department_code]
    else:
        owner_choices = units
    return {
        "taxonomy": taxonomy,
        "category_name": lambda code: (taxonomy.category(code).name if taxonomy.category(code) else code),
        "unit_name": lambda code: unit_name(district, code),
        "town_name": lambda code: (district.town(code).name if code and district.town(code) else (code or "未填写")),
        "owner_choices": owner_choices,
        "default_owner": lambda code: (taxonomy.category(code).unit if taxonomy.category(code) else ""),
        "can_write": principal.role in WRITERS,
        "status_labels": lib.STATUS_LABELS,
        "trend_labels": TREND_LABELS,
        "local": _local,
        "bars": _bars,
    }


def _page(request: Request, db: Session, principal: Principal, query: lib.GroupQuery, *, status: str = "",
          error: str | None = None, error_key: str | None = None, form: dict | None = None, code: int = 200):
    groups, latest = lib.current_groups(db, query)
    promoted = lib.promoted_keys(db)
    shown: list[CaseGroup] = groups[:MAX_GROUPS_SHOWN]
    codes = _appeal_codes(db, [i for g in shown for i in g.record_ids[:APPEALS_LISTED]])
    entries = lib.list_entries(db, status=status or None)
    ctx = _common(request, principal)
    ctx.update({
        "groups": shown, "groups_total": len(groups), "in_groups": sum(g.count for g in groups),
        "promoted": promoted, "codes": codes, "latest": latest, "entries": entries, "query": query,
        "status": status, "error": error, "error_key": error_key, "form": form or {},
        "appeals_listed": APPEALS_LISTED,
    })
    return render(request, "appeals_library.html", ctx, status_code=code)


@router.get("/appeals/library")
def library_page(request: Request,
                 window_days: int = Query(DEFAULT_WINDOW_DAYS), threshold: float = Query(DEFAULT_THRESHOLD),
                 months: int = Query(12), min_size: int = Query(3), category: str = Query(""),
                 status: str = Query(""), db: Session = Depends(get_db),
                 principal: Principal = Depends(access(*READERS))):
    query = _query(window_days, threshold, months, min_size, category)
    if status and status not in lib.STATUS_LABELS:
        raise InvalidInput(f"未知状态 {status!r}", where="status")
    return _page(request, db, principal, query, status=status)


@router.post("/appeals/library/promote")
def promote(request: Request,
            group_key: str = Form(...), title: str = Form(""), owner_unit: str = Form(""),
            owner_user: str = Form(""), root_cause: str = Form(""), resolution: str = Form(""),
            public_answer: str = Form(""),
            window_days: int = Form(DEFAULT_WINDOW_DAYS), threshold: float = Form(DEFAULT_THRESHOLD),
            months: int = Form(12), min_size: int = Form(3), category: str = Form(""),
            db: Session = Depends(get_db), principal: Principal = Depends(access(*WRITERS))):
    query = _query(window_days, threshold, months, min_size, category)
    group = lib.find_group(db, group_key, query)
    data = lib.EntryInput(title=title, owner_unit=owner_unit, root_cause=root_cause, resolution=resolution,
                          public_answer=public_answer, owner_user=owner_user or None)
    try:
        entry = lib.promote_group(db, group, data, principal, request.app.state.district)
    except InvalidInput as exc:
        db.rollback()
        form = {"title": title, "owner_unit": owner_unit, "owner_user": owner_user, "root_cause": root_cause,
                "resolution": resolution, "public_answer": public_answer}
        return _page(request, db, principal, query, error=str(exc), error_key=group_key, form=form, code=422)
    db.commit()
    return RedirectResponse(f"/appeals/library/entries/{entry.id}?created=1", status_code=303)


def _entry_page(request: Request, db: Session, principal: Principal, entry_id: int, *, error: str | None = None,
                form: dict | None = None, notice: str | None = None, code: int = 200):
    entry = lib.get_entry(db, entry_id)
    ctx = _common(request, principal)
    may_edit = principal.role is Role.ADMIN or (principal.role is Role.DEPARTMENT
                                                and principal.department_code == entry.owner_unit)
    ctx.update({"entry": entry, "codes": _appeal_codes(db, entry.appeal_ids), "error": error,
                "form": form or {}, "may_edit": may_edit, "notice": notice})
    return render(request, "appeals_library_entry.html", ctx, status_code=code)


@router.get("/appeals/library/entries/{entry_id}")
def entry_page(entry_id: int, request: Request, created: int = 0, saved: int = 0, db: Session = Depends(get_db),
               principal: Principal = Depends(access(*READERS))):
    notice = "已入库。" if created else ("已保存。" if saved else None)
    return _entry_page(request, db, principal, entry_id, notice=notice)


@router.post("/appeals/library/entries/{entry_id}")
def entry_update(entry_id: int, request: Request, title: str = Form(""), owner_unit: str = Form(""),
                 owner_user: str = Form(""), root_cause: str = Form(""), resolution: str = Form(""),
                 public_answer: str = Form(""), status: str = Form(""),
                 db: Session = Depends(get_db), principal: Principal = Depends(access(*WRITERS))):
    data = lib.EntryInput(title=title, owner_unit=owner_unit, root_cause=root_cause, resolution=resolution,
                          public_answer=public_answer, owner_user=owner_user or None, status=status or None)
    try:
        lib.update_entry(db, entry_id, data, principal, request.app.state.district)
    except InvalidInput as exc:
        db.rollback()
        form = {"title": title, "owner_unit": owner_unit, "owner_user": owner_user, "root_cause": root_cause,
                "resolution": resolution, "public_answer": public_answer, "status": status}
        return _entry_page(request, db, principal, entry_id, error=str(exc), form=form, code=422)
    db.commit()
    return RedirectResponse(f"/appeals/library/entries/{entry_id}?saved=1", status_code=303)
