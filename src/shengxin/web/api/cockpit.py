"""Cockpit API: the KPI tiles, chart data and signal lists of the caller's scope (the district, or
their own town for town staff) — the data behind the /cockpit page's charts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from shengxin.accounts.roles import STAFF_ROLES
from shengxin.accounts.service import Principal
from shengxin.cockpit.service import cockpit
from shengxin.web.deps import get_db
from shengxin.web.security import access

router = APIRouter(prefix="/api/cockpit", tags=["cockpit"])


@router.get("")
def cockpit_data(request: Request, db: Session = Depends(get_db),
                 principal: Principal = Depends(access(STAFF_ROLES))):
    """Tiles, charts (towns, schematic town grid, signals by type, monthly trends) and signal lists."""
    return cockpit(request.app.state.settings, request.app.state.district, db, principal)
