"""Enterprise size (大型 / 中型 / 小型 / 微型) by 统计上大中小微型企业划分办法(2017).

The bounds are the packaged table ``data/enterprise_size_2017.csv`` (one row per sector and
measure: the lower bounds of large, medium and small); the table is authoritative here.

Rule (the standard's own note): a large, medium or small enterprise must reach *every* lower bound
its sector lists for that tier, otherwise it drops a tier; micro is anything below small — falling
short of the small bound on one measure is enough.

Measures and units:

* ``employees`` — 从业人员 (期末从业人员数), persons, an integer;
* ``revenue`` — 营业收入 (主营业务收入 where the sector reports it), 万元;
* ``assets`` — 资产总额, 万元.

Money is compared exactly as :class:`~decimal.Decimal`; ints and numeric strings are accepted, and
a float is converted through its shortest repr (``Decimal(str(x))``) so that ``1999.99`` stays
``1999.99``.

Missing measures: a measure the sector does not list is ignored (it may be ``None``). If a listed
measure is ``None`` the size is only decided when no value of the missing measure could change it,
which is when a known measure is already below the small bound (the enterprise is micro whatever
the missing value is). Otherwise :class:`~shengxin.errors.InvalidInput` names the missing measure:
the standard never classifies on a subset of a sector's measures.

Sector: resolved from a GB/T 4754-2017 code at any level, provided every class under that code
falls in one sector (``"C"``, ``"39"``, ``"3911"`` → 工业; ``"70"`` is ambiguous — real-estate
development 7010 and property management 7020 have their own rows — so give ``"7010"``).
Classes in no listed sector fall under the table's ``all other codes`` row (其他未列明行业).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from functools import cache
from importlib import resources

from shengxin.errors import InvalidInput
from shengxin.reference import industries

DATA_FILE = "enterprise_size_2017.csv"

#: ``gbt4754_scope`` value of the catch-all row.
OTHER_CODES = "all other codes"


class SizeClass(StrEnum):
    """Enterprise size; the value is the stable English key, :attr:`label` the Chinese name."""

    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"

    @property
    def label(self) -> str:
        return _SIZE_LABELS[self]

    @property
    def rank(self) -> int:
        """0 for micro up to 3 for large, for comparisons."""
        return _SIZE_RANKS[self]


_SIZE_LABELS = {
    SizeClass.LARGE: "大型",
    SizeClass.MEDIUM: "中型",
    SizeClass.SMALL: "小型",
    SizeClass.MICRO: "微型",
}
_SIZE_RANKS = {SizeClass.MICRO: 0, SizeClass.SMALL: 1, SizeClass.MEDIUM: 2, SizeClass.LARGE: 3}
#: Tiers that have lower bounds, from the top.
_TIERS = (SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL)


class Measure(Enum):
    """A measure of the size standard: (key, Chinese name, unit)."""

    EMPLOYEES = ("employees", "从业人员", "人")
    REVENUE = ("revenue", "营业收入", "万元")
    ASSETS = ("assets", "资产总额", "万元")

    def __init__(self, key: str, label: str, unit: str):
        self.key = key
        self.label = label
        self.unit = unit

    @classmethod
    def from_key(cls, key: str) -> Measure:
        for m in cls:
            if m.key == key:
                return m
        raise InvalidInput(f"unknown measure {key!r}; expected employees, revenue or assets")


@dataclass(frozen=True)
class Bounds:
    """Lower bounds of one measure for the large, medium and small tiers."""

    measure: Measure
    large: Decimal
    medium: Decimal
    small: Decimal

    def lower_bound(self, tier: SizeClass) -> Decimal:
        return {SizeClass.LARGE: self.large, SizeClass.MEDIUM: self.medium, SizeClass.SMALL: self.small}[tier]

    def tier_of(self, value: Decimal) -> SizeClass:
        """The highest tier whose lower bound ``value`` reaches; micro below small."""
        for tier in _TIERS:
            if value >= self.lower_bound(tier):
                return tier
        return SizeClass.MICRO


@dataclass(frozen=True)
class SizeSector:
    """One sector of the standard: its name, the industry codes it covers and its bounds."""

    name: str
    spec: str
    codes: tuple[str, ...]
    bounds: tuple[Bounds, ...]

    @property
    def is_catch_all(self) -> bool:
        return self.spec == OTHER_CODES

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(b.measure for b in self.bounds)


@dataclass(frozen=True)
class MeasureFinding:
    """How one measure placed the enterprise; ``value`` and ``tier`` are ``None`` when not given."""

    measure: Measure
    value: Decimal | None
    tier: SizeClass | None
    bounds: Bounds

    def describe(self) -> str:
        """Chinese phrase, e.g. ``营业收入1999万元，达小型标准（中型下限2000万元）``."""
        m = self.measure
        if self.value is None or self.tier is None:
            return f"{m.label}缺失"
        head = f"{m.label}{format_amount(self.value)}{m.unit}"
        if self.tier is SizeClass.MICRO:
            return f"{head}，低于小型下限{format_amount(self.bounds.small)}{m.unit}"
        if self.tier is SizeClass.LARGE:
            return f"{head}，达大型标准"
        above = _TIERS[_TIERS.index(self.tier) - 1]
        return f"{head}，达{self.tier.label}标准（{above.label}下限{format_amount(self.bounds.lower_bound(above))}{m.unit}）"


@dataclass(frozen=True)
class SizeAssessment:
    """The size with the sector and the per-measure findings that decided it."""

    size: SizeClass
    sector: SizeSector
    findings: tuple[MeasureFinding, ...]

    @property
    def explanation(self) -> str:
        """One Chinese sentence for portraits and "why" pages, e.g.
        ``工业：从业人员300人，达中型标准（大型下限1000人）；营业收入1999万元，达小型标准（中型下限2000万元）→ 小型``.
        """
        parts = "；".join(f.describe() for f in self.findings)
        return f"{self.sector.name}：{parts} → {self.size.label}"


@dataclass(frozen=True)
class SizeStandard:
    """The whole table: the sectors and, for every GB/T 4754 class, its sector."""

    sectors: tuple[SizeSector, ...]
    sector_of_class: dict[str, SizeSector]

    def sector_for(self, industry_code: str) -> SizeSector:
        entry = industries.get(industry_code)
        found = {self.sector_of_class[c.code].name: self.sector_of_class[c.code] for c in industries.classes_under(entry.code)}
        if len(found) != 1:
            raise InvalidInput(
                f"industry code {entry.code!r} ({entry.name}) spans several size sectors "
                f"({'、'.join(found)}); give a more specific code"
            )
        return next(iter(found.values()))


def decimal_amount(value: object, what: str) -> Decimal:
    """``value`` as an exact, finite, non-negative :class:`Decimal` (floats via ``str``).

    Raises :class:`InvalidInput` naming ``what`` when the value is not a usable amount.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number, got {value!r}")
    try:
        if isinstance(value, Decimal):
            d = value
        elif isinstance(value, int):
            d = Decimal(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidInput(f"{what} must be a finite number, got {value!r}")
            d = Decimal(str(value))
        elif isinstance(value, str):
            d = Decimal(value.strip().replace(",", ""))
        else:
            raise InvalidInput(f"{what} must be a number, got {type(value).__name__} {value!r}")
    except InvalidOperation:
        raise InvalidInput(f"{what} must be a number, got {value!r}") from None
    if not d.is_finite():
        raise InvalidInput(f"{what} must be a finite number, got {value!r}")
    if d < 0:
        raise InvalidInput(f"{what} must not be negative, got {value!r}")
    return d


def _employee_count(value: object) -> Decimal:
    d = decimal_amount(value, "employees (从业人员)")
    if d != d.to_integral_value():
        raise InvalidInput(f"employees (从业人员) must be a whole number of persons, got {value!r}")
    return d


def format_amount(d: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: ``Decimal("2E+3")`` → ``2000``, ``1999.50`` → ``1999.5``."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@cache
def load_size_standard() -> SizeStandard:
    """Load the packaged size table and assign every class to exactly one sector."""
    text = resources.files("shengxin.reference").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    grouped: dict[tuple[str, str], list[Bounds]] = {}
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        where = f"{DATA_FILE}: line {line}"
        try:
            measure = Measure.from_key(row["measure"].strip())
            large, medium, small = (Decimal(row[k].strip()) for k in ("large_min", "medium_min", "small_min"))
        except (InvalidOperation, KeyError) as exc:
            raise InvalidInput(f"unreadable bounds: {exc}", where=where) from None
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where=where) from None
        if not large > medium > small >= 0:
            raise InvalidInput("bounds must fall from large to medium to small", where=where)
        unit = row["unit"].strip()
        if unit != measure.unit:
            raise InvalidInput(f"unit {unit!r} does not match {measure.key} ({measure.unit})", where=where)
        key = (row["sector"].strip(), row["gbt4754_scope"].strip())
        if any(b.measure is measure for b in grouped.get(key, [])):
            raise InvalidInput(f"sector {key[0]} lists {measure.key} twice", where=where)
        grouped.setdefault(key, []).append(Bounds(measure, large, medium, small))

    sectors = []
    for (name, spec), bounds in grouped.items():
        codes = () if spec == OTHER_CODES else industries.codes_in_spec(spec)
        sectors.append(SizeSector(name, spec, codes, tuple(bounds)))

    catch_all = [s for s in sectors if s.is_catch_all]
    if len(catch_all) != 1:
        raise InvalidInput(f"exactly one {OTHER_CODES!r} row is needed", where=DATA_FILE)
    sector_of_class: dict[str, SizeSector] = {}
    for sector in sectors:
        for class_code in industries.class_codes_under(sector.codes):
            if class_code in sector_of_class:
                raise InvalidInput(
                    f"class {class_code} falls in both {sector_of_class[class_code].name} and {sector.name}",
                    where=DATA_FILE,
                )
            sector_of_class[class_code] = sector
    for entry in industries.industries(industries.Level.CLASS):
        sector_of_class.setdefault(entry.code, catch_all[0])
    return SizeStandard(tuple(sectors), sector_of_class)


def size_sector(industry_code: str) -> SizeSector:
    """The sector of the size standard that ``industry_code`` belongs to."""
    return _sector_for_code(industries.normalise_code(industry_code))


@cache
def _sector_for_code(code: str) -> SizeSector:
    # Keyed by the normalised code, so the cache holds at most one entry per code of the standard.
    return load_size_standard().sector_for(code)


def assess_size(
    industry_code: str,
    employees: int | Decimal | None,
    revenue: Decimal | int | float | str | None,
    assets: Decimal | int | float | str | None,
) -> SizeAssessment:
    """Classify an enterprise and say why: every tier needs every listed bound (see module doc)."""
    sector = size_sector(industry_code)
    given = {
        Measure.EMPLOYEES: None if employees is None else _employee_count(employees),
        Measure.REVENUE: None if revenue is None else decimal_amount(revenue, "revenue (营业收入, 万元)"),
        Measure.ASSETS: None if assets is None else decimal_amount(assets, "assets (资产总额, 万元)"),
    }
    findings = tuple(
        MeasureFinding(b.measure, given[b.measure], None if given[b.measure] is None else b.tier_of(given[b.measure]), b)
        for b in sector.bounds
    )
    known = [f.tier for f in findings if f.tier is not None]
    missing = [f.measure for f in findings if f.tier is None]
    if SizeClass.MICRO in known:
        size = SizeClass.MICRO
    elif missing:
        names = ", ".join(f"{m.key} ({m.label})" for m in missing)
        raise InvalidInput(
            f"cannot classify the size of an enterprise in {sector.name} (industry {industry_code!r}) "
            f"without {names}; the sector needs {', '.join(m.key for m in sector.measures)}"
        )
    else:
        size = min(known, key=lambda t: t.rank)
    return SizeAssessment(size, sector, findings)


def classify_size(
    industry_code: str,
    employees: int | Decimal | None,
    revenue: Decimal | int | float | str | None,
    assets: Decimal | int | float | str | None,
) -> SizeClass:
    """Size class by the 2017 standard: the lowest tier over the sector's listed measures.

    Large, medium and small need every bound of the tier; micro is anything below small.
    ``revenue`` and ``assets`` are in 万元. A missing measure the sector needs raises
    :class:`InvalidInput` naming it, unless another measure already makes the enterprise micro.
    """
    return assess_size(industry_code, employees, revenue, assets).size
