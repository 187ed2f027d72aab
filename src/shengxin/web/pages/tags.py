"""Tag pages: statistics by town, the catalogue and its changes, an enterprise's tags, and the
explanation partial loaded on demand (HTMX) from the portrait.

The portrait page includes ``tags_portrait.html`` with the context from :func:`portrait_context`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from shengxin.accounts.roles import ALL_ROLES, STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.audit.service import record
from shengxin.errors import DomainError, InvalidInput
from shengxin.tags import snapshots
from shengxin.tags.catalogue import PROVENANCES
from shengxin.tags.compute import compute
from shengxin.tags.explain import explain
from shengxin.tags.service import statistics, tags_for_portrait
from shengxin.tags.versions import (
    activate,
    catalogue_version,
    effective_catalogue,
    get_change,
    list_changes,
    preview_change,
    upload,
    withdraw,
)
from shengxin.web.api.tags import analytic_dir, town_scope, visible_tagged
from shengxin.web.deps import get_db
from shengxin.web.errors import STATUS
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)

def portrait_context(request: Request, uscc: str) -> dict:
    """Context for ``tags_portrait.html``: the enterprise's tags grouped by category."""
    district = request.app.state.district
    snap = snapshots.current(analytic_dir(request))
    return {"uscc": uscc, "tag_categories": tags_for_portrait(uscc, analytic_dir(request), district),
            "tags_snapshot": snap}


@router.get("/tags")
def stats_page(request: Request, principal: Principal = Depends(access(STAFF_ROLES))):
    data = statistics(analytic_dir(request), request.app.state.district, town_scope(principal))
    return render(request, "tags_stats.html", {"stats": data, "message": request.query_params.get("computed")})


@router.post("/tags/compute")
def compute_action(request: Request, db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ADMIN))):
    """Recompute every tag now (district admin), e.g. after activating a catalogue change."""
    district = request.app.state.district
    result = compute(effective_catalogue(db, district), district, analytic_dir(request))
    record(db, principal.actor, "tags.compute", "tag_snapshot", result.snapshot_id,
           {"as_of": result.as_of.isoformat(), "tags": result.tags, "rows": result.rows})
    db.commit()
    return RedirectResponse(f"/tags?computed={result.snapshot_id}", status_code=303)


@router.get("/tags/catalogue")
def catalogue_page(request: Request, db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    catalogue = effective_catalogue(db, request.app.state.district)
    snap = snapshots.current(analytic_dir(request))
    counts = {k: v["count"] for k, v in snap.manifest["tags"].items()} if snap else {}
    order = catalogue.order()
    latest = dict(sorted(catalogue.latest().items(), key=lambda kv: order[kv[0]]))
    groups = []
    for key, category in catalogue.categories.items():
        tags = [v for v in latest.values() if v.category == key]
        if tags:
            groups.append({"key": key, "name": category.name, "description": category.description, "tags": tags})
    return render(request, "tags_catalogue.html", {
        "groups": groups, "counts": counts, "lists": catalogue.lists, "changes": list_changes(db),
        "version": catalogue_version(db), "total": len(latest), "provenances": PROVENANCES,
        "is_admin": principal.role is Role.ADMIN, "snapshot": snap, "error": None,
    })


@router.post("/tags/catalogue/upload")
async def upload_action(request: Request, file: UploadFile = File(...), note: str = Form(""),
                        db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ADMIN))):
    raw = await file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("上传的文件不是 UTF-8 文本，请另存为 UTF-8 编码的 YAML 文件", where=file.filename) from None
    change = upload(db, request.app.state.district, file.filename or "upload.yaml", text, principal.actor, note)
    db.commit()
    if change.status == "validated" and snapshots.current(analytic_dir(request)) is not None:
        try:
            preview_change(db, change.id, request.app.state.district, analytic_dir(request), principal.actor)
            db.commit()
        except DomainError:
            db.rollback()
    return RedirectResponse(f"/tags/catalogue/changes/{change.id}", status_code=303)


@router.get("/tags/catalogue/changes/{change_id}")
def change_page(change_id: int, request: Request, db: Session = Depends(get_db),
                principal: Principal = Depends(access(STAFF_ROLES))):
    row = get_change(db, change_id)
    change = next(c for c in list_changes(db) if c.id == row.id)
    return render(request, "tags_change.html", {"change": change, "is_admin": principal.role is Role.ADMIN,
                                                "error": request.query_params.get("error")})


def _change_action(request: Request, change_id: int, action, db: Session):
    try:
        action()
        db.commit()
    except DomainError as exc:
        db.rollback()
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        if status == 404:
            raise
        return render(request, "tags_change.html", {
            "change": next(c for c in list_changes(db) if c.id == get_change(db, change_id).id),
            "is_admin": True, "error": str(exc)}, status_code=status)
    return RedirectResponse(f"/tags/catalogue/changes/{change_id}", status_code=303)


@router.post("/tags/catalogue/changes/{change_id}/preview")
def preview_action(change_id: int, request: Request, db: Session = Depends(get_db),
                   principal: Principal = Depends(access(Role.ADMIN))):
    return _change_action(request, change_id, lambda: preview_change(
        db, change_id, request.app.state.district, analytic_dir(request), principal.actor), db)


@router.post("/tags/catalogue/changes/{change_id}/activate")
def activate_action(change_id: int, request: Request, db: Session = Depends(get_db),
                    principal: Principal = Depends(access(Role.ADMIN))):
    return _change_action(request, change_id, lambda: activate(db, change_id, request.app.state.district, principal.actor), db)


@router.post("/tags/catalogue/changes/{change_id}/withdraw")
def withdraw_action(change_id: int, request: Request, db: Session = Depends(get_db),
                    principal: Principal = Depends(access(Role.ADMIN))):
    return _change_action(request, change_id, lambda: withdraw(db, change_id, principal.actor), db)


@router.get("/tags/enterprise/{uscc}")
def enterprise_page(uscc: str, request: Request, principal: Principal = Depends(access(ALL_ROLES))):
    code = visible_tagged(request, principal, uscc)
    return render(request, "tags_enterprise.html", portrait_context(request, code))


@router.get("/tags/explain/{uscc}/{tag_id}")
def explain_partial(uscc: str, tag_id: str, request: Request, principal: Principal = Depends(access(ALL_ROLES))):
    """The explanation of one tag as an HTML fragment (HTMX swaps it into the portrait)."""
    code = visible_tagged(request, principal, uscc)
    data = explain(code, tag_id, analytic_dir(request), request.app.state.district)
    return render(request, "tags_explain.html", {"x": data})
