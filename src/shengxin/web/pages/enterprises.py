"""Enterprise search and portrait pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from shengxin.accounts.roles import ALL_ROLES, STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.enterprises import registry
from shengxin.enterprises.portrait import derive
from shengxin.enterprises.store import current_snapshot
from shengxin.errors import DomainError
from shengxin.web.pages.tags import portrait_context
from shengxin.web.api.enterprises import analytic_dir, scoped_town, visible_enterprise
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/enterprises")
def search_page(request: Request, q: str = "", town: str = "", page: int = 1,
                principal: Principal = Depends(access(STAFF_ROLES))):
    town_code = scoped_town(principal, town or None)
    result, error = None, None
    if current_snapshot(analytic_dir(request)) is None:
        error = "尚未导入企业数据：请数据管理员先运行 shengxin ingest 导入各部门数据。"
    else:
        try:
            result = registry.search_enterprises(q or None, town_code, max(page, 1), 20,
                                                 analytic_dir=analytic_dir(request))
        except DomainError as exc:
            error = str(exc)
    return render(request, "enterprises_search.html", {
        "q": q, "town": town_code or "", "result": result, "error": error,
        "town_locked": principal.role is Role.TOWN,
    })


@router.get("/enterprises/me")
def my_portrait(principal: Principal = Depends(access(Role.ENTERPRISE))):
    return RedirectResponse(f"/enterprises/{principal.uscc}", status_code=303)


@router.get("/enterprises/{uscc}")
def portrait_page(uscc: str, request: Request, principal: Principal = Depends(access(ALL_ROLES))):
    enterprise = visible_enterprise(request, principal, uscc)
    return render(request, "enterprise_portrait.html", {"e": enterprise, "derived": derive(enterprise),
                                                        "ip_labels": registry.IP_LABELS,
                                                        **portrait_context(request, enterprise.uscc)})
