"""Tags API: the catalogue, an enterprise's tags and explanations, statistics, catalogue changes.

Scope rule (as for the registry): an enterprise reads only its own tags; town staff only
enterprises registered in their town, and statistics of their town only; department staff,
district admin and auditor read everything. Only the district admin changes the catalogue.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shengxin.accounts.roles import ALL_ROLES, STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.errors import Forbidden
from shengxin.tags import snapshots
from shengxin.tags.explain import check_uscc, evidence_row, explain
from shengxin.tags.service import list_tags, statistics, tags_of
from shengxin.tags.versions import (
    ChangePublic,
    activate,
    effective_catalogue,
    list_changes,
    preview_change,
    upload,
    withdraw,
)
from shengxin.web.deps import get_db
from shengxin.web.security import access

router = APIRouter(prefix="/api/tags", tags=["tags"])


def analytic_dir(request: Request):
    return request.app.state.settings.analytic_dir


def visible_tagged(request: Request, principal: Principal, uscc: str) -> str:
    """The normalised code if the caller may see this enterprise's tags (Forbidden otherwise;
    an enterprise never learns whether another code exists)."""
    code = check_uscc(uscc)
    if principal.role is Role.ENTERPRISE and code != principal.uscc:
        raise Forbidden("企业用户只能查看本企业的标签")
    snap = snapshots.require_current(analytic_dir(request))
    row = evidence_row(snap, code)
    if not principal.can_see_enterprise(code, row.get("town")):
        raise Forbidden("该企业不在您的服务范围内")
    return code


def town_scope(principal: Principal) -> list[str] | None:
    return [principal.town_code] if principal.role is Role.TOWN else None


class UploadIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content: str = Field(min_length=1)
    note: str = Field(default="", max_length=500)


def _change(c: ChangePublic) -> dict:
    return {"id": c.id, "filename": c.filename, "status": c.status, "status_label": c.status_label, "note": c.note,
            "tags": c.tag_ids, "errors": c.errors, "preview": c.preview, "catalogue_version": c.catalogue_version,
            "uploaded_by": c.uploaded_by, "uploaded_at": c.uploaded_at, "activated_by": c.activated_by,
            "activated_at": c.activated_at}


@router.get("")
def catalogue(request: Request, db: Session = Depends(get_db), _: Principal = Depends(access(STAFF_ROLES))) -> list[dict]:
    """Every tag in force (latest version) with its count in the current snapshot."""
    return list_tags(effective_catalogue(db, request.app.state.district), analytic_dir(request))


@router.get("/statistics")
def stats(request: Request, principal: Principal = Depends(access(STAFF_ROLES))) -> dict:
    """Counts per tag by town, and the change since the previous snapshot."""
    return statistics(analytic_dir(request), request.app.state.district, town_scope(principal))


@router.get("/enterprises/{uscc}")
def enterprise_tags(uscc: str, request: Request, principal: Principal = Depends(access(ALL_ROLES))) -> dict:
    code = visible_tagged(request, principal, uscc)
    return tags_of(code, analytic_dir(request), request.app.state.district)


@router.get("/enterprises/{uscc}/{tag_id}/explain")
def enterprise_tag_explain(uscc: str, tag_id: str, request: Request,
                           principal: Principal = Depends(access(ALL_ROLES))) -> dict:
    code = visible_tagged(request, principal, uscc)
    return explain(code, tag_id, analytic_dir(request), request.app.state.district)


@router.get("/changes")
def changes(db: Session = Depends(get_db), _: Principal = Depends(access(STAFF_ROLES))) -> list[dict]:
    return [_change(c) for c in list_changes(db)]


@router.post("/changes", status_code=201)
def changes_upload(body: UploadIn, request: Request, db: Session = Depends(get_db),
                   principal: Principal = Depends(access(Role.ADMIN))) -> dict:
    change = upload(db, request.app.state.district, body.filename, body.content, principal.actor, body.note)
    db.commit()
    return _change(change)


@router.post("/changes/{change_id}/preview")
def changes_preview(change_id: int, request: Request, db: Session = Depends(get_db),
                    principal: Principal = Depends(access(Role.ADMIN))) -> dict:
    change = preview_change(db, change_id, request.app.state.district, analytic_dir(request), principal.actor)
    db.commit()
    return _change(change)


@router.post("/changes/{change_id}/activate")
def changes_activate(change_id: int, request: Request, db: Session = Depends(get_db),
                     principal: Principal = Depends(access(Role.ADMIN))) -> dict:
    change = activate(db, change_id, request.app.state.district, principal.actor)
    db.commit()
    return _change(change)


@router.post("/changes/{change_id}/withdraw")
def changes_withdraw(change_id: int, db: Session = Depends(get_db),
                     principal: Principal = Depends(access(Role.ADMIN))) -> dict:
    change = withdraw(db, change_id, principal.actor)
    db.commit()
    return _change(change)
