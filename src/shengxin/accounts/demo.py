"""Demo accounts: one per role, created only in demo mode (documented in the README).

Rule: demo accounts never exist outside demo mode; ``ensure_demo_accounts`` refuses otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.models import User
from shengxin.accounts.roles import Role
from shengxin.accounts.service import UserCreate, create_user
from shengxin.audit.service import Actor
from shengxin.enterprises.uscc import make_code
from shengxin.errors import Forbidden
from shengxin.reference.district import District

DEMO_PASSWORD = "shengxin-demo"
#: A valid code used for the demo enterprise account when no enterprise data is loaded yet.
FALLBACK_DEMO_USCC = make_code("9", "1", "330110", "MA2H8K9X1")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role


def demo_accounts(district: District, enterprise_uscc: str, enterprise_name: str) -> list[tuple[DemoAccount, UserCreate]]:
    town = district.towns[0]
    dept = district.departments[0]
    specs = [
        (DemoAccount("admin", "区级管理员（演示）", Role.ADMIN), {}),
        (DemoAccount("auditor", "审计员（演示）", Role.AUDITOR), {}),
        (DemoAccount("town", f"{town.name}工作人员（演示）", Role.TOWN), {"town_code": town.code}),
        (DemoAccount("dept", f"{dept.name}工作人员（演示）", Role.DEPARTMENT), {"department_code": dept.code}),
        (DemoAccount("enterprise", f"{enterprise_name}（演示）", Role.ENTERPRISE), {"uscc": enterprise_uscc}),
    ]
    return [(a, UserCreate(a.username, DEMO_PASSWORD, a.display_name, a.role, **extra)) for a, extra in specs]


def ensure_demo_accounts(
    session: Session, district: District, *, demo_mode: bool,
    enterprise_uscc: str = FALLBACK_DEMO_USCC, enterprise_name: str = "演示企业",
) -> list[str]:
    """Create the missing demo accounts; returns the usernames created."""
    if not demo_mode:
        raise Forbidden("demo accounts exist only in demo mode (SHENGXIN_DEMO=true)")
    created = []
    for account, data in demo_accounts(district, enterprise_uscc, enterprise_name):
        if session.scalar(select(User.id).where(User.username == account.username)) is None:
            create_user(session, data, district, Actor("system:demo"))
            created.append(account.username)
    return created
