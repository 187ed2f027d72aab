"""The cockpit page (驾驶舱): one screen of the district's figures and signals.

Leaders (district admin), department staff and auditors see the district; town staff see the same
page for their own town. The tiles are rendered on the server; the charts are drawn by
``static/js/cockpit.js`` from ``/api/cockpit`` (no inline scripts: the CSP forbids them).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from shengxin.accounts.roles import STAFF_ROLES
from shengxin.accounts.service import Principal
from shengxin.cockpit.service import cockpit
from shengxin.web.deps import get_db
from shengxin.web.nav import Section, register
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)

register(Section("cockpit", "驾驶舱", "/cockpit", frozenset(STAFF_ROLES)), before="enterprises")


@router.get("/cockpit")
def cockpit_page(request: Request, db: Session = Depends(get_db),
                 principal: Principal = Depends(access(STAFF_ROLES))):
    data = cockpit(request.app.state.settings, request.app.state.district, db, principal)
    return render(request, "cockpit.html", {"c": data})
