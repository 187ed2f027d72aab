"""Derived facts shown on the portrait: size class (2017 standard) and statistical scope.

Rule: both are computed from the latest annual figures reported to the statistics bureau; when a
measure the sector needs is missing, the portrait says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shengxin.enterprises.registry import EnterprisePublic
from shengxin.errors import DomainError
from shengxin.reference.scope import statistical_scope
from shengxin.reference.size import assess_size

FEN_PER_WAN = Decimal(1_000_000)


@dataclass(frozen=True)
class Derived:
    size_label: str | None
    size_explanation: str
    scope_label: str | None
    scope_explanation: str


def wan_yuan(fen: int | None) -> Decimal | None:
    """Integer fen → exact 万元."""
    return None if fen is None else Decimal(fen) / FEN_PER_WAN


def derive(enterprise: EnterprisePublic) -> Derived:
    annual = enterprise.latest_annual
    if enterprise.industry_code is None or annual is None:
        reason = "缺少行业代码" if enterprise.industry_code is None else "统计部门尚未报送年报财务数据"
        return Derived(None, f"无法判定：{reason}", None, f"无法判定：{reason}")
    revenue = wan_yuan(annual.revenue_fen)
    try:
        size = assess_size(enterprise.industry_code, annual.employees, revenue, wan_yuan(annual.assets_fen))
        size_label, size_text = size.size.label, f"{annual.year}年：{size.explanation}"
    except DomainError as exc:
        size_label, size_text = None, f"无法判定：{exc.message}"
    if revenue is None:
        return Derived(size_label, size_text, None, "无法判定：缺少营业收入")
    try:
        scope = statistical_scope(enterprise.industry_code, revenue)
    except DomainError as exc:
        return Derived(size_label, size_text, None, f"无法判定：{exc.message}")
    if scope is None:
        return Derived(size_label, size_text, None, f"{annual.year}年营业收入 {revenue:,.2f} 万元，未达统计范围标准")
    return Derived(size_label, size_text, scope.name, f"{annual.year}年：{scope.explanation}")
