"""Staff administration pages: users and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from shengxin.accounts.roles import ROLE_LABELS, Role
from shengxin.accounts.service import Principal, UserCreate, create_user, list_users
from shengxin.audit.service import list_entries
from shengxin.errors import DomainError, InvalidInput
from shengxin.web.deps import get_db
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/users")
def users_page(request: Request, db: Session = Depends(get_db),
               principal: Principal = Depends(access(Role.ADMIN, Role.AUDITOR))):
    return render(request, "admin_users.html", {"users": list_users(db), "roles": ROLE_LABELS,
                                                "error": None, "form": {}})


@router.post("/admin/users")
def users_create(
    request: Request,
    username: str = Form(...),
    display_name: str = Form(""),
    password: str = Form(...),
    role: str = Form(...),
    uscc: str = Form(""),
    town_code: str = Form(""),
    department_code: str = Form(""),
    db: Session = Depends(get_db),
    principal: Principal = Depends(access(Role.ADMIN)),
):
    form = {"username": username, "display_name": display_name, "role": role, "uscc": uscc,
            "town_code": town_code, "department_code": department_code}
    try:
        role_value = Role(role)
    except ValueError:
        role_value = None
    try:
        if role_value is None:
            raise InvalidInput(f"未知角色 {role!r}", where="role")
        create_user(db, UserCreate(username, password, display_name, role_value, uscc or None,
                                   town_code or None, department_code or None),
                    request.app.state.district, principal.actor)
    except DomainError as exc:
        db.rollback()
        return render(request, "admin_users.html", {"users": list_users(db), "roles": ROLE_LABELS,
                                                     "error": str(exc), "form": form}, status_code=422)
    db.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/audit")
def audit_page(request: Request, page: int = 1, actor: str | None = None, action: str | None = None,
               db: Session = Depends(get_db),
               principal: Principal = Depends(access(Role.ADMIN, Role.AUDITOR))):
    entries, total = list_entries(db, actor=actor or None, action=action or None, page=page)
    return render(request, "audit.html", {"entries": entries, "total": total, "page": page,
                                          "actor": actor or "", "action": action or "",
                                          "pages": max(1, (total + 49) // 50)})
