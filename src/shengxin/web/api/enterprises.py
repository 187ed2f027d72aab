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
    _refuse_other_enterprise(principal, code)
    enterprise = registry.get_enterprise(code, analytic_dir=analytic_dir(request))
    _require_visible(principal, enterprise.uscc, enterprise.town_code)
    return enterprise


def visible_scope(request: Request, principal: Principal, code: str) -> registry.EnterpriseScope:
    """What :func:`visible_enterprise` checks, for endpoints that need only the code and town:
    the same refusals, without reading the enterprise's portrait."""
    _refuse_other_enterprise(principal, code)
    scope = registry.enterprise_scope(code, analytic_dir=analytic_dir(request))
    _require_visible(principal, scope.uscc, scope.town_code)
    return scope


def _refuse_other_enterprise(principal: Principal, code: str) -> None:
    """An enterprise user asking for another code is refused before anything is read."""
    if principal.role is Role.ENTERPRISE and normalise(code) != principal.uscc:
        raise Forbidden("企业用户只能查看本企业的信息")


def _require_visible(principal: Principal, uscc: str, town_code: str | None) -> None:
    if not principal.can_see_enterprise(uscc, town_code):
        raise Forbidden("该企业不在您的服务范围内")


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
    visible_scope(request, principal, uscc)
    return registry.monthly_series(uscc, analytic_dir=analytic_dir(request))
