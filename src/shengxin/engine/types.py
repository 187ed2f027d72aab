"""Types and units of the definition language.

Every value has a type: ``bool``, ``string``, ``date`` or ``number``; a number has a *unit* made of
base dimensions with integer exponents. Values are held in canonical units:

=============  =====================  ==============================================
dimension      canonical unit         literal units accepted
=============  =====================  ==============================================
``money``      fen (分)               ``分``/``fen``, ``元``/``yuan``, ``万元``, ``亿元``
``people``     person (人)            ``人``
``energy``     kWh (千瓦时)           ``kWh``, ``千瓦时``, ``度``, ``万千瓦时``
``year``       year (年)              ``年``
``month``      month (月)             ``个月``, ``月``
(none)         1 (ratio or count)     ``%`` (0.01), ``个``, ``件``, ``项``, ``次``, ``家``
=============  =====================  ==============================================

Rules (checked by the validator, never at run time):

* ``+``, ``-``, comparisons, ``between``, ``in`` and ``coalesce`` need operands of one unit;
* ``*`` and ``/`` combine units (money / money is a plain ratio, money / people is money per person);
* a number literal without a unit takes the unit of the other operand only when that unit has a
  single natural spelling (people, kWh, years, months, plain numbers) — money literals always need
  a unit (``2000万元``), because ``2000`` could be fen, 元 or 万元.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

#: Base dimensions and their Chinese names (canonical unit).
DIMENSIONS = {"money": "分", "people": "人", "energy": "千瓦时", "year": "年", "month": "个月"}


@dataclass(frozen=True)
class Unit:
    """A product of base dimensions with integer exponents; ``Unit(())`` is dimensionless."""

    dims: tuple[tuple[str, int], ...] = ()

    @staticmethod
    def of(**exponents: int) -> "Unit":
        return Unit(tuple(sorted((k, v) for k, v in exponents.items() if v)))

    def __mul__(self, other: "Unit") -> "Unit":
        merged = dict(self.dims)
        for k, v in other.dims:
            merged[k] = merged.get(k, 0) + v
        return Unit.of(**merged)

    def __truediv__(self, other: "Unit") -> "Unit":
        return self * Unit(tuple((k, -v) for k, v in other.dims))

    @property
    def dimensionless(self) -> bool:
        return not self.dims

    @property
    def needs_literal_unit(self) -> bool:
        """Whether a bare number is ambiguous against this unit (money has several spellings)."""
        return any(k == "money" for k, _ in self.dims)

    def label(self) -> str:
        """Human-readable name, e.g. ``money``, ``money/people``, ``number``."""
        if not self.dims:
            return "number"
        num = "·".join(k if v == 1 else f"{k}^{v}" for k, v in self.dims if v > 0)
        den = "·".join(k if v == -1 else f"{k}^{-v}" for k, v in self.dims if v < 0)
        return (num or "1") + (f"/{den}" if den else "")


NONE = Unit()
MONEY = Unit.of(money=1)
PEOPLE = Unit.of(people=1)
ENERGY = Unit.of(energy=1)
YEARS = Unit.of(year=1)
MONTHS = Unit.of(month=1)


@dataclass(frozen=True)
class LiteralUnit:
    """A unit as written after a number literal: its dimension and factor to the canonical unit."""

    spelling: str
    unit: Unit
    factor: Fraction


_LITERAL_UNITS = [
    LiteralUnit("分", MONEY, Fraction(1)),
    LiteralUnit("fen", MONEY, Fraction(1)),
    LiteralUnit("元", MONEY, Fraction(100)),
    LiteralUnit("yuan", MONEY, Fraction(100)),
    LiteralUnit("万元", MONEY, Fraction(1_000_000)),
    LiteralUnit("亿元", MONEY, Fraction(10_000_000_000)),
    LiteralUnit("%", NONE, Fraction(1, 100)),
    LiteralUnit("人", PEOPLE, Fraction(1)),
    LiteralUnit("kWh", ENERGY, Fraction(1)),
    LiteralUnit("千瓦时", ENERGY, Fraction(1)),
    LiteralUnit("度", ENERGY, Fraction(1)),
    LiteralUnit("万千瓦时", ENERGY, Fraction(10_000)),
    LiteralUnit("年", YEARS, Fraction(1)),
    LiteralUnit("个月", MONTHS, Fraction(1)),
    LiteralUnit("月", MONTHS, Fraction(1)),
    LiteralUnit("个", NONE, Fraction(1)),
    LiteralUnit("件", NONE, Fraction(1)),
    LiteralUnit("项", NONE, Fraction(1)),
    LiteralUnit("次", NONE, Fraction(1)),
    LiteralUnit("家", NONE, Fraction(1)),
]
LITERAL_UNITS: dict[str, LiteralUnit] = {u.spelling: u for u in _LITERAL_UNITS}
#: Spellings longest first, so that ``万元`` is matched before ``元``.
UNIT_SPELLINGS: tuple[str, ...] = tuple(sorted(LITERAL_UNITS, key=len, reverse=True))


@dataclass(frozen=True)
class Type:
    """A value type. ``enum`` (known string values) and ``integral`` are hints, not part of equality."""

    kind: str  # "bool" | "string" | "date" | "number" | "null"
    unit: Unit | None = None
    enum: frozenset[str] | None = field(default=None, compare=False)
    integral: bool = field(default=False, compare=False)

    def label(self) -> str:
        if self.kind == "number":
            return f"number ({self.unit.label()})" if self.unit and self.unit.dims else "number"
        return self.kind

    @property
    def is_number(self) -> bool:
        return self.kind == "number"


BOOL = Type("bool")
STRING = Type("string")
DATE = Type("date")
NULL = Type("null")


def number(unit: Unit = NONE, *, integral: bool = False) -> Type:
    return Type("number", unit, integral=integral)


def string_enum(values) -> Type:
    return Type("string", enum=frozenset(values))


def same_kind(a: Type, b: Type) -> bool:
    """Whether two types can be compared (``null`` goes with anything)."""
    if a.kind == "null" or b.kind == "null":
        return True
    if a.kind != b.kind:
        return False
    return a.kind != "number" or a.unit == b.unit


def format_fraction(value: Fraction) -> str:
    """A terminating decimal without exponent or trailing zeros (``Fraction(1, 5)`` → ``0.2``).

    Non-terminating fractions are printed with 10 decimals (only for display).
    """
    if value.denominator == 1:
        return str(value.numerator)
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return f"{float(value):.10f}".rstrip("0").rstrip(".")
    sign = "-" if value < 0 else ""
    v = abs(value)
    digits = 0
    while (v * 10**digits).denominator != 1:
        digits += 1
    scaled = (v * 10**digits).numerator
    text = str(scaled).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}"


def is_terminating(value: Fraction) -> bool:
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1
