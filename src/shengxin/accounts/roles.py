"""Roles and what each may see.

Rules:
* an enterprise user is bound to exactly one USCC and sees only that enterprise;
* town staff are bound to one town and see the enterprises registered in it;
* department staff are bound to one department and see the whole district's enterprises;
* a district admin sees and manages everything;
* an auditor sees everything and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ENTERPRISE = "enterprise"
    TOWN = "town_staff"
    DEPARTMENT = "department_staff"
    ADMIN = "district_admin"
    AUDITOR = "auditor"


ROLE_LABELS: dict[Role, str] = {
    Role.ENTERPRISE: "企业用户",
    Role.TOWN: "镇街工作人员",
    Role.DEPARTMENT: "部门工作人员",
    Role.ADMIN: "区级管理员",
    Role.AUDITOR: "审计员",
}

#: Every role that works for the government (not an enterprise).
STAFF_ROLES: frozenset[Role] = frozenset({Role.TOWN, Role.DEPARTMENT, Role.ADMIN, Role.AUDITOR})
#: Roles that read district-wide data.
DISTRICT_WIDE_ROLES: frozenset[Role] = frozenset({Role.DEPARTMENT, Role.ADMIN, Role.AUDITOR})
#: Roles that may change things (everyone but the read-only auditor).
WRITER_ROLES: frozenset[Role] = frozenset(set(Role) - {Role.AUDITOR})
ALL_ROLES: frozenset[Role] = frozenset(Role)
