"""Login, logout and the home page."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from shengxin.accounts.roles import ALL_ROLES
from shengxin.accounts.service import Principal, authenticate
from shengxin.config import Settings
from shengxin.errors import Forbidden, Unauthenticated
from shengxin.web.deps import get_db, get_settings_dep
from shengxin.web.security import PUBLIC, access, login_session, logout_session
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str | None = None, _=Depends(PUBLIC)):
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login_submit(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings_dep),
    _=Depends(PUBLIC),
):
    client = request.client.host if request.client else "unknown"
    try:
        principal = authenticate(
            db, username, password, client=client,
            max_failures=settings.login_max_failures, window_seconds=settings.login_window_seconds,
        )
    except (Unauthenticated, Forbidden) as exc:
        db.commit()  # keep the failed attempt: the rate limit counts it
        status = 429 if isinstance(exc, Forbidden) else 401
        return render(request, "login.html", {"next": safe_next(next), "error": exc.message,
                                              "username": username}, status_code=status)
    db.commit()
    login_session(request, principal)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, _: Principal = Depends(access(ALL_ROLES))):
    logout_session(request)
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request, principal: Principal = Depends(access(ALL_ROLES))):
    district = request.app.state.district
    scope = None
    if principal.town_code:
        town = district.town(principal.town_code)
        scope = town.name if town else principal.town_code
    elif principal.department_code:
        dept = district.department(principal.department_code)
        scope = dept.name if dept else principal.department_code
    elif principal.uscc:
        scope = principal.uscc
    return render(request, "home.html", {"scope": scope})
