"""Jinja2 templates (autoescaped) with the layout's shared context."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from shengxin.accounts.roles import ROLE_LABELS
from shengxin.web.nav import sections_for
from shengxin.web.security import csrf_token

TEMPLATE_DIR = Path(__file__).resolve().parent / "ui" / "templates"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.globals["role_label"] = lambda role: ROLE_LABELS.get(role, role)


def render(request: Request, template: str, context: dict | None = None, status_code: int = 200):
    """Render a page with the layout context: user, navigation, CSRF token, district."""
    principal = getattr(request.state, "principal", None)
    ctx = {
        "request": request,
        "principal": principal,
        "nav": sections_for(principal),
        "csrf_token": csrf_token(request),
        "district": request.app.state.district,
        "current_path": request.url.path,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)
