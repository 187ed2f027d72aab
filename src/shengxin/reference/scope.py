"""Statistical survey scopes (规上 / 限上 / 资质等级) by industry.

The rules are the packaged table ``data/statistical_scope_thresholds.csv``: per industry, either an
annual revenue threshold in 万元 (规模以上工业, 限额以上批发业, 规模以上服务业, …) or a
qualification (资质等级建筑业: any firm holding a construction qualification; 房地产开发经营业:
any firm holding a development qualification).

Rule: an enterprise is in a revenue scope when its annual revenue is *at or above* the threshold
(2000万元 exactly is in 规模以上工业; 1999.99万元 is not); it is in a qualification scope when it
holds the qualification, whatever its revenue. Industries with no row (agriculture, finance, public
administration, …) have no scope.

``revenue`` is the annual revenue measure the row names — 主营业务收入 (``main_business_revenue``)
for industry, wholesale, retail, accommodation and catering, 营业收入 (``revenue``) for services —
in 万元, compared exactly as :class:`~decimal.Decimal`.

Qualifications are given as a set of names; the names the table knows are
:data:`CONSTRUCTION_QUALIFICATION` and :data:`DEVELOPMENT_QUALIFICATION`. An unknown name raises
:class:`~shengxin.errors.InvalidInput` rather than being silently ignored.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

from shengxin.errors import InvalidInput
from shengxin.reference import industries
from shengxin.reference.size import decimal_amount, format_amount

DATA_FILE = "statistical_scope_thresholds.csv"

CONSTRUCTION_QUALIFICATION = "construction_qualification"
DEVELOPMENT_QUALIFICATION = "development_qualification"

#: Chinese names of the measures the table uses.
MEASURE_LABELS = {
    "main_business_revenue": "主营业务收入",
    "revenue": "营业收入",
    CONSTRUCTION_QUALIFICATION: "建筑业资质",
    DEVELOPMENT_QUALIFICATION: "房地产开发经营资质",
}
_REVENUE_MEASURES = ("main_business_revenue", "revenue")


@dataclass(frozen=True)
class ScopeRule:
    """One row of the table: scope name, industries covered and what brings a firm into scope.

    Exactly one of ``threshold`` (万元, revenue rules) and ``qualification`` is set.
    """

    name: str
    spec: str
    codes: tuple[str, ...]
    measure: str
    threshold: Decimal | None
    note: str | None

    @property
    def qualification(self) -> str | None:
        return None if self.threshold is not None else self.measure

    @property
    def measure_label(self) -> str:
        return MEASURE_LABELS[self.measure]

    def describe(self) -> str:
        """Chinese statement of the rule, e.g. ``规模以上工业：年主营业务收入2000万元及以上``."""
        if self.threshold is None:
            return f"{self.name}：具有{self.measure_label}"
        return f"{self.name}：年{self.measure_label}{format_amount(self.threshold)}万元及以上"


@dataclass(frozen=True)
class ScopeResult:
    """An enterprise's scope and what decided it: the threshold reached or the qualification held."""

    name: str
    rule: ScopeRule
    revenue: Decimal | None

    @property
    def threshold(self) -> Decimal | None:
        return self.rule.threshold

    @property
    def qualification(self) -> str | None:
        return self.rule.qualification

    @property
    def explanation(self) -> str:
        """Chinese sentence, e.g. ``年主营业务收入2000万元，达到规模以上工业标准（2000万元及以上）``."""
        if self.rule.threshold is None:
            return f"具有{self.rule.measure_label}，属于{self.name}"
        return (
            f"年{self.rule.measure_label}{format_amount(self.revenue)}万元，达到{self.name}标准"
            f"（{format_amount(self.rule.threshold)}万元及以上）"
        )


@dataclass(frozen=True)
class ScopeTable:
    """All rules and, for every GB/T 4754 class, the rule that applies to it (or ``None``)."""

    rules: tuple[ScopeRule, ...]
    rule_of_class: dict[str, ScopeRule | None]

    @property
    def qualifications(self) -> frozenset[str]:
        return frozenset(r.qualification for r in self.rules if r.qualification)

    def rule_for(self, industry_code: str) -> ScopeRule | None:
        entry = industries.get(industry_code)
        found = {self.rule_of_class[c.code] for c in industries.classes_under(entry.code)}
        if len(found) != 1:
            names = "、".join(sorted({r.name if r else "无" for r in found}))
            raise InvalidInput(
                f"industry code {entry.code!r} ({entry.name}) spans industries with different "
                f"statistical scope rules ({names}); give a more specific code"
            )
        return next(iter(found))


@cache
def load_scope_table() -> ScopeTable:
    """Load the packaged scope table; every class gets at most one rule."""
    text = resources.files("shengxin.reference").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    rules = []
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        where = f"{DATA_FILE}: line {line}"
        measure = row["measure"].strip()
        if measure not in MEASURE_LABELS:
            raise InvalidInput(f"unknown measure {measure!r}", where=where)
        raw = row["min_annual"].strip()
        if measure in _REVENUE_MEASURES:
            try:
                threshold = Decimal(raw)
            except InvalidOperation:
                raise InvalidInput(f"revenue rule needs a threshold, got {raw!r}", where=where) from None
            if row["unit"].strip() != "万元":
                raise InvalidInput("revenue thresholds must be in 万元", where=where)
        else:
            if raw:
                raise InvalidInput(f"qualification rule {measure!r} takes no threshold", where=where)
            threshold = None
        try:
            codes = industries.codes_in_spec(row["gbt4754_scope"])
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where=where) from None
        rules.append(
            ScopeRule(
                name=row["scope"].strip(),
                spec=row["gbt4754_scope"].strip(),
                codes=codes,
                measure=measure,
                threshold=threshold,
                note=row["note"].strip() or None,
            )
        )
    rule_of_class: dict[str, ScopeRule | None] = {
        e.code: None for e in industries.industries(industries.Level.CLASS)
    }
    for rule in rules:
        for class_code in industries.class_codes_under(rule.codes):
            if rule_of_class[class_code] is not None:
                raise InvalidInput(
                    f"class {class_code} is covered by two rows ({rule_of_class[class_code].spec} and {rule.spec})",
                    where=DATA_FILE,
                )
            rule_of_class[class_code] = rule
    return ScopeTable(tuple(rules), rule_of_class)


def scope_rule(industry_code: str) -> ScopeRule | None:
    """The scope rule that applies to ``industry_code``, or ``None`` if its industry has no scope.

    A code whose classes fall under different rules (``"70"``, ``"F"``) raises :class:`InvalidInput`.
    """
    return _rule_for_code(industries.normalise_code(industry_code))


@cache
def _rule_for_code(code: str) -> ScopeRule | None:
    # Keyed by the normalised code, so the cache holds at most one entry per code of the standard.
    return load_scope_table().rule_for(code)


def scope_threshold(industry_code: str) -> Decimal | None:
    """The annual revenue threshold (万元) that brings a firm of this industry into scope.

    ``None`` when the scope is decided by a qualification (section E, class 7010) or the industry
    has no scope at all; :func:`scope_rule` tells these apart.
    """
    rule = scope_rule(industry_code)
    return None if rule is None else rule.threshold


def _qualification_set(qualifications: Iterable[str]) -> frozenset[str]:
    if isinstance(qualifications, str):
        raise InvalidInput(f"qualifications must be a set of names, not the string {qualifications!r}")
    names = frozenset(qualifications)
    known = load_scope_table().qualifications
    unknown = sorted(names - known)
    if unknown:
        raise InvalidInput(
            f"unknown qualification(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
        )
    return names


def statistical_scope(
    industry_code: str,
    revenue: Decimal | int | float | str | None,
    qualifications: Iterable[str] = frozenset(),
) -> ScopeResult | None:
    """The statistical scope an enterprise is in, or ``None`` if it is in none.

    Revenue rules: in scope when annual revenue (万元) ≥ threshold. Qualification rules: in scope
    when the firm holds the qualification; revenue is not needed then and may be ``None``. For a
    revenue rule a ``None`` revenue raises :class:`InvalidInput` naming the measure.
    """
    held = _qualification_set(qualifications)
    rule = scope_rule(industry_code)
    if rule is None:
        return None
    if rule.threshold is None:
        amount = None if revenue is None else decimal_amount(revenue, "revenue (万元)")
        return ScopeResult(rule.name, rule, amount) if rule.qualification in held else None
    if revenue is None:
        raise InvalidInput(
            f"industry {industry_code!r} falls under {rule.name}, decided by annual "
            f"{rule.measure} ({rule.measure_label}, 万元); give the revenue"
        )
    amount = decimal_amount(revenue, f"revenue ({rule.measure_label}, 万元)")
    return ScopeResult(rule.name, rule, amount) if amount >= rule.threshold else None
