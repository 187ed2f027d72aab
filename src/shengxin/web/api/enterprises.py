"""Enterprise registry API: search (staff), one enterprise and its monthly series (scoped).

Scope rule: an enterprise user reads only its own code; town staff only enterprises registered in
their town (search is restricted to it); department staff, district admin and auditor read all.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from shengxin.accounts.roles import ALL_ROLES, STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.enterprises import registry
from shengxin.enterprises.uscc import normalise
from shengxin.errors import Forbidden
from shengxin.web.security import access

router = APIRouter(prefix="/api/enterprises", tags=["enterprises"])


def analytic_dir(request: Request):
    return request.app.state.settings.analytic_dir


def scoped_town(principal: Principal, town: str | None) -> str | None:
    """Town staff always search their own town, whatever they ask for."""
    if principal.role is Role.TOWN:
        if town and town != principal.town_code:
            raise Forbidden("镇街工作人员只能查询本镇街的企业")
        return principal.town_code
    return town


def visible_enterprise(request: Request, principal: Principal, code: str) -> registry.EnterprisePublic:
    """The enterprise if the caller may see it; Forbidden otherwise (enterprises never learn
    whether another code exists)."""
    if principal.role is Role.ENTERPRISE and normalise(code) != principal.uscc:
        raise Forbidden("企业用户只能查看本企业的信息")
    enterprise = registry.get_enterprise(code, analytic_dir=analytic_dir(request))
    if not principal.can_see_enterprise(enterprise.uscc, enterprise.town_code):
        raise Forbidden("该企业不在您的服务范围内")
    return enterprise


@router.get("", response_model=registry.SearchResult)
def search(request: Request, q: str | None = None, town: str | None = None,
           page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=registry.MAX_PAGE_SIZE),
           principal: Principal = Depends(access(STAFF_ROLES))):
    return registry.search_enterprises(q, scoped_town(principal, town), page, page_size,
                                       analytic_dir=analytic_dir(request))


@router.get("/{uscc}", response_model=registry.EnterprisePublic)
def one(uscc: str, request: Request, principal: Principal = Depends(access(ALL_ROLES))):
    return visible_enterprise(request, principal, uscc)


@router.get("/{uscc}/series", response_model=registry.MonthlySeries)
def series(uscc: str, request: Request, principal: Principal = Depends(access(ALL_ROLES))):
    visible_enterprise(request, principal, uscc)
    return registry.monthly_series(uscc, analytic_dir=analytic_dir(request))
