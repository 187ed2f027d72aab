"""Health, the caller's identity and the district configuration."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from shengxin.accounts.roles import ALL_ROLES
from shengxin.accounts.service import Principal
from shengxin.web.security import PUBLIC, access

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str


class MePublic(BaseModel):
    username: str
    display_name: str
    role: str
    role_label: str
    uscc: str | None
    town_code: str | None
    department_code: str | None


class TownPublic(BaseModel):
    code: str
    name: str
    kind: str


class DepartmentPublic(BaseModel):
    code: str
    name: str


class DistrictPublic(BaseModel):
    code: str
    name: str
    full_name: str
    towns: list[TownPublic]
    departments: list[DepartmentPublic]


@router.get("/healthz", response_model=Health)
def healthz(_=Depends(PUBLIC)) -> Health:
    """Liveness probe: answers without touching the database."""
    return Health(status="ok")


@router.get("/api/me", response_model=MePublic)
def me(principal: Principal = Depends(access(ALL_ROLES))) -> MePublic:
    return MePublic(
        username=principal.username, display_name=principal.display_name, role=principal.role.value,
        role_label=principal.role_label, uscc=principal.uscc, town_code=principal.town_code,
        department_code=principal.department_code,
    )


@router.get("/api/district", response_model=DistrictPublic)
def district(request: Request, _: Principal = Depends(access(ALL_ROLES))) -> DistrictPublic:
    d = request.app.state.district
    return DistrictPublic(
        code=d.code, name=d.name, full_name=d.full_name,
        towns=[TownPublic(code=t.code, name=t.name, kind=t.kind) for t in d.towns],
        departments=[DepartmentPublic(code=x.code, name=x.name) for x in d.departments],
    )
