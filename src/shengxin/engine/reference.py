"""Reference data as the engine sees it: one row per GB/T 4754-2017 class.

The SQL side joins the enterprise's class code to this table (registered with the backend as
``ref_class``); the single-enterprise evaluator reads the same rows from :func:`class_refs`, so
both sides decide industry levels, size and statistical scope from identical numbers.

Columns: ``class_code``, ``section``, ``division``, ``grp`` (group), the size sector and, for each
measure of the 2017 size standard, the lower bounds of large/medium/small in canonical units
(persons; fen for money) or null when the sector does not list the measure; the statistical scope
rule's name and its annual revenue threshold in fen (null for qualification rules and classes
outside every scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pyarrow as pa

from shengxin.reference import industries, scope, size

WAN_YUAN_IN_FEN = 1_000_000
#: Size measures in the order the table lists them, with the canonical unit factor.
SIZE_MEASURES = (("employees", "emp", 1), ("revenue", "rev", WAN_YUAN_IN_FEN), ("assets", "ast", WAN_YUAN_IN_FEN))
TIERS = ("large", "medium", "small")
TABLE_NAME = "ref_class"


@dataclass(frozen=True)
class ClassRef:
    class_code: str
    section: str
    division: str
    grp: str
    sector: str
    bounds: dict  # e.g. {"emp": (1000, 300, 20), "rev": (...), "ast": None}
    scope_name: str | None
    scope_threshold_fen: int | None


def _int(value) -> int:
    i = int(value)
    if i != value:
        raise ValueError(f"bound {value} is not whole in canonical units")
    return i


@cache
def class_refs() -> dict[str, ClassRef]:
    standard = size.load_size_standard()
    table = scope.load_scope_table()
    out: dict[str, ClassRef] = {}
    for entry in industries.industries(industries.Level.CLASS):
        sector = standard.sector_of_class[entry.code]
        bounds: dict[str, tuple[int, int, int] | None] = {}
        for key, short, factor in SIZE_MEASURES:
            b = next((x for x in sector.bounds if x.measure.key == key), None)
            bounds[short] = None if b is None else (_int(b.large * factor), _int(b.medium * factor), _int(b.small * factor))
        rule = table.rule_of_class[entry.code]
        threshold = None if rule is None or rule.threshold is None else _int(rule.threshold * WAN_YUAN_IN_FEN)
        out[entry.code] = ClassRef(entry.code, entry.section, entry.division, entry.group, sector.name, bounds,
                                   rule.name if rule is not None and rule.threshold is not None else None, threshold)
    return out


def class_ref(code) -> ClassRef | None:
    """The reference row of a class code, or ``None`` for a null or non-class code."""
    if not isinstance(code, str):
        return None
    return class_refs().get(code)


def arrow_table() -> pa.Table:
    """``ref_class`` as an Arrow table (sorted by class code)."""
    refs = sorted(class_refs().values(), key=lambda r: r.class_code)
    cols: dict[str, list] = {
        "class_code": [r.class_code for r in refs],
        "section": [r.section for r in refs],
        "division": [r.division for r in refs],
        "grp": [r.grp for r in refs],
        "size_sector": [r.sector for r in refs],
    }
    for _, short, _ in SIZE_MEASURES:
        for i, tier in enumerate(TIERS):
            cols[f"{short}_{tier}"] = [None if r.bounds[short] is None else r.bounds[short][i] for r in refs]
    cols["scope_name"] = [r.scope_name for r in refs]
    cols["scope_threshold_fen"] = [r.scope_threshold_fen for r in refs]
    schema = pa.schema(
        [pa.field(n, pa.string()) for n in ("class_code", "section", "division", "grp", "size_sector")]
        + [pa.field(f"{short}_{tier}", pa.int64()) for _, short, _ in SIZE_MEASURES for tier in TIERS]
        + [pa.field("scope_name", pa.string()), pa.field("scope_threshold_fen", pa.int64())]
    )
    return pa.table(cols, schema=schema)


def size_of(ref: ClassRef | None, employees, revenue_fen, assets_fen) -> str | None:
    """The 2017-standard size from canonical values — the same rule the SQL generator emits:
    micro if any listed measure is below small; unknown if a listed measure is missing; otherwise
    the highest tier every listed measure reaches."""
    if ref is None:
        return None
    values = {"emp": employees, "rev": revenue_fen, "ast": assets_fen}
    listed = [(short, ref.bounds[short]) for _, short, _ in SIZE_MEASURES if ref.bounds[short] is not None]
    if any(values[s] is not None and values[s] < b[2] for s, b in listed):
        return "micro"
    if any(values[s] is None for s, _ in listed):
        return None
    for i, tier in enumerate(TIERS[:2]):
        if all(values[s] >= b[i] for s, b in listed):
            return tier
    return "small"


def scope_of(ref: ClassRef | None, revenue_fen) -> str | None:
    """The scope name when the annual revenue reaches the class's revenue threshold."""
    if ref is None or ref.scope_threshold_fen is None or revenue_fen is None:
        return None
    return ref.scope_name if revenue_fen >= ref.scope_threshold_fen else None
