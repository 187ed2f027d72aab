"""Navigation: the platform's sections, each shown only to the roles that may open it.

Rule: a section appears here only once its page exists; ``tests/integration/test_route_permissions.py``
checks that every entry points at a real route whose access declaration equals the entry's roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from shengxin.accounts.roles import ALL_ROLES, Role, STAFF_ROLES
from shengxin.accounts.service import Principal


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    href: str
    roles: frozenset[Role]


SECTIONS: list[Section] = [
    Section("home", "首页", "/", ALL_ROLES),
    Section("my-portrait", "企业画像", "/enterprises/me", frozenset({Role.ENTERPRISE})),
    Section("enterprises", "企业查询", "/enterprises", STAFF_ROLES),
    Section("data", "数据中心", "/data", frozenset({Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR})),
    Section("tags", "企业标签", "/tags", STAFF_ROLES),
    Section("tags_catalogue", "标签目录", "/tags/catalogue", STAFF_ROLES),
    Section("appeals", "诉求", "/appeals", ALL_ROLES),
    Section("appeals_dashboard", "诉求预警", "/appeals/dashboard", STAFF_ROLES),
    Section("appeals_stats", "诉求统计", "/appeals/stats", frozenset({Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR})),
    Section("appeals_library", "问题库", "/appeals/library", frozenset({Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR})),
    Section("appeals_qr", "诉求码", "/appeals/qr", frozenset({Role.ADMIN, Role.TOWN})),
    Section("workdays", "工作日历", "/appeals/workdays", frozenset({Role.ADMIN, Role.AUDITOR})),
    Section("open311_keys", "接口密钥", "/appeals/keys", frozenset({Role.ADMIN, Role.AUDITOR})),
    Section("users", "用户管理", "/admin/users", frozenset({Role.ADMIN, Role.AUDITOR})),
    Section("audit", "审计日志", "/audit", frozenset({Role.ADMIN, Role.AUDITOR})),
    Section("api", "接口文档", "/docs", STAFF_ROLES),
]


def register(section: Section, *, before: str | None = None) -> None:
    """Add a domain's section (domains' page modules call this when they are mounted)."""
    if any(s.key == section.key for s in SECTIONS):
        return
    index = next((i for i, s in enumerate(SECTIONS) if s.key == before), len(SECTIONS))
    SECTIONS.insert(index, section)


def sections_for(principal: Principal | None) -> list[Section]:
    if principal is None:
        return []
    return [s for s in SECTIONS if principal.role in s.roles]
