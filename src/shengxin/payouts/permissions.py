"""Who may do what with payouts.

Rules:

* a *manager* of a policy's payouts is a district admin or department staff of the policy's department;
  managers create rounds, review, publicise, answer objections, confirm accounts, build batches, import
  bank files, retry/cancel, close, claw back and review instant applications;
* the *approver* of a round is a manager who did not create it (four eyes; a DB CHECK holds it too);
* auditors and department staff read every round; town staff read rounds but only their town's items;
* an enterprise reads only its own items and applications, and confirms its own bank account.
"""

from __future__ import annotations

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.errors import Forbidden

READERS = frozenset({Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR, Role.TOWN})


def can_manage(principal: Principal, department_code: str) -> bool:
    """District admins manage every policy's payouts; department staff those of their department."""
    if principal.role is Role.ADMIN:
        return True
    return principal.role is Role.DEPARTMENT and principal.department_code == department_code


def require_manage(principal: Principal, department_code: str) -> None:
    if not can_manage(principal, department_code):
        raise Forbidden(f"只有区级管理员或责任部门（{department_code}）的工作人员可以办理此项兑现")


def can_approve(principal: Principal, department_code: str, created_by: str) -> bool:
    """A manager other than the round's creator (four eyes)."""
    return can_manage(principal, department_code) and principal.username != created_by


def require_approve(principal: Principal, department_code: str, created_by: str) -> None:
    require_manage(principal, department_code)
    if principal.username == created_by:
        raise Forbidden("创建本轮兑现的人不能审批本轮（须由另一名工作人员审批）", where="approver")


def can_read_rounds(principal: Principal) -> bool:
    """Staff read rounds (town staff: only their town's items)."""
    return principal.role in READERS


def require_read(principal: Principal) -> None:
    if not can_read_rounds(principal):
        raise Forbidden("只有工作人员可以查看兑现批次")


def town_filter(principal: Principal) -> str | None:
    """The town a reader is limited to (town staff), else None."""
    return principal.town_code if principal.role is Role.TOWN else None
