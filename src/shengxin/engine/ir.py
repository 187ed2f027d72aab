"""Typed intermediate representation: what the validator produces and the planner, SQL generator
and single-enterprise evaluator consume.

Nodes are frozen dataclasses compared by value (positions are not compared), so the planner can
find a sub-expression shared by many definitions with a dictionary lookup. Every node has a
``type`` (see :mod:`shengxin.engine.types`). Numbers are exact :class:`~fractions.Fraction` values
in canonical units (money in fen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from shengxin.engine import types as T


@dataclass(frozen=True)
class Node:
    at: int = field(default=0, compare=False, kw_only=True)

    @property
    def type(self) -> T.Type:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def children(self) -> tuple["Node", ...]:
        return ()


# ----------------------------------------------------------------- leaves


@dataclass(frozen=True)
class Const(Node):
    value: Any  # Fraction | str | bool | datetime.date | None
    typ: T.Type

    @property
    def type(self) -> T.Type:
        return self.typ


@dataclass(frozen=True)
class AsOf(Node):
    """The as-of date of the computation (a constant once the plan is made)."""

    @property
    def type(self) -> T.Type:
        return T.DATE


@dataclass(frozen=True)
class EntField(Node):
    """A field of the enterprise's registry row (``status`` is as of the as-of date)."""

    name: str
    column: str
    typ: T.Type

    @property
    def type(self) -> T.Type:
        return self.typ


@dataclass(frozen=True)
class AnnualField(Node):
    """A field of the enterprise's latest annual report for a year before the as-of year."""

    name: str
    column: str
    typ: T.Type

    @property
    def type(self) -> T.Type:
        return self.typ


@dataclass(frozen=True)
class RowField(Node):
    """A column of one row of a monthly table or event list (inside an aggregate's ``where``)."""

    table: str
    name: str
    column: str
    typ: T.Type

    @property
    def type(self) -> T.Type:
        return self.typ


#: Leaves the reference lookups read (also reachable by name through the vocabulary).
INDUSTRY = EntField("industry", "industry_code", T.STRING)
ANNUAL_EMPLOYEES = AnnualField("annual.employees", "employees", T.number(T.PEOPLE, integral=True))
ANNUAL_REVENUE = AnnualField("annual.revenue", "revenue_fen", T.number(T.MONEY, integral=True))
ANNUAL_ASSETS = AnnualField("annual.assets", "assets_fen", T.number(T.MONEY, integral=True))


# ----------------------------------------------------------------- aggregates (atoms)


@dataclass(frozen=True)
class SeriesAgg(Node):
    """An aggregate of a monthly series over a window of months ending ``offset`` months before
    the as-of month: ``func`` in sum, min, max, count (months with data), latest."""

    func: str
    table: str
    series: str  # language name, e.g. "revenue"
    column: str
    months: int
    offset: int
    where: Node | None
    typ: T.Type

    @property
    def type(self) -> T.Type:
        return self.typ

    def children(self) -> tuple[Node, ...]:
        return (self.where,) if self.where is not None else ()


@dataclass(frozen=True)
class EventAgg(Node):
    """An aggregate of an event list known at the as-of date: ``func`` in count, sum, min, max.

    ``months`` limits events to the last N months; ``active`` to rows in force at the as-of date.
    """

    func: str
    table: str
    column: str | None  # None for count
    field_name: str | None
    months: int | None
    active: bool
    where: Node | None
    typ: T.Type

    @property
    def type(self) -> T.Type:
        return self.typ

    def children(self) -> tuple[Node, ...]:
        return (self.where,) if self.where is not None else ()


# ----------------------------------------------------------------- reference lookups


@dataclass(frozen=True)
class IndustryLevel(Node):
    """The enterprise's industry code at ``level`` (section, division, group, class) via GB/T 4754."""

    level: str

    @property
    def type(self) -> T.Type:
        return T.STRING

    def children(self) -> tuple[Node, ...]:
        return (INDUSTRY,)


@dataclass(frozen=True)
class Under(Node):
    """Whether the enterprise's industry lies under any of ``codes`` (any level of GB/T 4754)."""

    codes: tuple[str, ...]
    negated: bool = False

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return (INDUSTRY,)


@dataclass(frozen=True)
class SizeClass(Node):
    """Enterprise size by the 2017 standard from the latest annual employees, revenue and assets."""

    @property
    def type(self) -> T.Type:
        return T.string_enum(["large", "medium", "small", "micro"])

    def children(self) -> tuple[Node, ...]:
        return (INDUSTRY, ANNUAL_EMPLOYEES, ANNUAL_REVENUE, ANNUAL_ASSETS)


@dataclass(frozen=True)
class ScopeThreshold(Node):
    """The annual revenue threshold (fen) of the statistical scope rule of the enterprise's industry."""

    @property
    def type(self) -> T.Type:
        return T.number(T.MONEY, integral=True)

    def children(self) -> tuple[Node, ...]:
        return (INDUSTRY,)


@dataclass(frozen=True)
class ScopeRule(Node):
    """The name of the revenue-based statistical scope rule of the enterprise's industry."""

    @property
    def type(self) -> T.Type:
        return T.STRING

    def children(self) -> tuple[Node, ...]:
        return (INDUSTRY,)


@dataclass(frozen=True)
class ScopeName(Node):
    """The statistical scope the enterprise's latest annual revenue reaches (revenue rules only)."""

    @property
    def type(self) -> T.Type:
        return T.STRING

    def children(self) -> tuple[Node, ...]:
        return (INDUSTRY, ANNUAL_REVENUE)


# ----------------------------------------------------------------- operators


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + - * /
    left: Node
    right: Node
    typ: T.Type

    @property
    def type(self) -> T.Type:
        return self.typ

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Neg(Node):
    operand: Node

    @property
    def type(self) -> T.Type:
        return self.operand.type

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Avg(Node):
    """Average of a series window: ``total / months`` (null without data)."""

    total: SeriesAgg
    count: SeriesAgg

    @property
    def type(self) -> T.Type:
        return T.number(self.total.type.unit)

    def children(self) -> tuple[Node, ...]:
        return (self.total, self.count)


@dataclass(frozen=True)
class Growth(Node):
    """Growth rate ``(now - before) / before``; null unless ``before`` is positive."""

    now: SeriesAgg
    before: SeriesAgg

    @property
    def type(self) -> T.Type:
        return T.number(T.NONE)

    def children(self) -> tuple[Node, ...]:
        return (self.now, self.before)


@dataclass(frozen=True)
class Compare(Node):
    op: str  # = != < <= > >=
    left: Node
    right: Node

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class InValues(Node):
    operand: Node
    values: tuple[Const, ...]
    negated: bool

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class IsNull(Node):
    operand: Node
    negated: bool

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...]

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Coalesce(Node):
    items: tuple[Node, ...]

    @property
    def type(self) -> T.Type:
        return next((i.type for i in self.items if i.type.kind != "null"), T.NULL)

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class TextMatch(Node):
    """Whether a text contains (or starts with) a constant."""

    operand: Node
    pattern: str
    mode: str  # "contains" | "starts_with"

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class YearsSince(Node):
    """Whole years (or months) from a date to the as-of date; ``until`` counts from the as-of
    date to the date instead (months left before a certificate expires)."""

    operand: Node
    unit_name: str = "year"  # "year" or "month"
    until: bool = False

    @property
    def type(self) -> T.Type:
        return T.number(T.YEARS if self.unit_name == "year" else T.MONTHS, integral=True)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Rank(Node):
    """Competition rank (1 = largest) of a value among all enterprises (or within ``by``)."""

    operand: Node
    by: tuple[Node, ...]
    ascending: bool = False

    @property
    def type(self) -> T.Type:
        return T.number(T.NONE, integral=True)

    def children(self) -> tuple[Node, ...]:
        return (self.operand, *self.by)


@dataclass(frozen=True)
class TagRef(Node):
    """Another tag's value (true when the enterprise has it); ``body`` is that tag's definition."""

    tag_id: str
    body: Node

    @property
    def type(self) -> T.Type:
        return T.BOOL

    def children(self) -> tuple[Node, ...]:
        return (self.body,)


def walk(node: Node):
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children()))


def fraction(value) -> Fraction | None:
    """A number from the data (int, Decimal, float, Fraction) as an exact Fraction."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        return Fraction(value)
    return Fraction(value)


def replace_at(node: Node, at: int) -> Node:
    """The same node located at ``at`` (positions are not part of equality)."""
    import dataclasses

    return dataclasses.replace(node, at=at)
