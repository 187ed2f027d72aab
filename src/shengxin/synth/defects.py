"""Realistic defects injected into the delivered files, each one recorded in ``truth/defects.csv``.

A :class:`FileSpec` says which columns of a file can carry which defect; :func:`inject` picks a
small share of rows, alters them (or adds rows after them) and returns the altered table with one
:class:`Defect` per change, its row given as the 0-based position in the returned table. Writers
turn that into the documented row number (1 = first data row after the header).

Kinds and what a correct hub does with them:

=============================  =========================================================  ========
kind                           example                                                    outcome
=============================  =========================================================  ========
uscc_check_character           last character wrong                                       warn
uscc_lowercase                 ``91330110ma2…``                                           accept
uscc_whitespace                leading/trailing (also full-width) space                   accept
uscc_letter_o                  letter ``O`` typed for the digit ``0``                     reject
uscc_length                    one character missing                                      reject
date_impossible                ``2023-02-30``, ``2024-13``, ``202413``                    reject
date_malformed                 ``2023/13/01``                                             reject
date_text                      ``不详``                                                   reject
amount_negative                ``-1234.00``                                               reject
amount_non_numeric             ``约120万``                                                reject
amount_thousands_separator     ``1,234,567.00``                                           accept
unknown_town_code              ``330110999``                                              reject
unknown_industry_code          ``6598``                                                   reject
unknown_enum                   ``专利`` for 权利类型                                      reject
unknown_enterprise             a row for a valid USCC that is not in the registry         reject
duplicate_row                  exact copy of the row before it                            drop
blank_required                 empty required field                                       reject
=============================  =========================================================  ========
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.enterprises.uscc import ALPHABET

#: Kinds a hub should accept after normalising: they may touch any row, even of planted events.
BENIGN = frozenset({"uscc_lowercase", "uscc_whitespace", "amount_thousands_separator", "duplicate_row"})

UNKNOWN_INDUSTRY_CODES = ("6598", "5298", "3998", "0000", "7297A")
DATE_TEXT = ("不详", "待补充", "见附件", "暂无")
NON_NUMERIC = ("约{v}万", "—", "N/A", "暂无", "{v}元左右")


@dataclass(frozen=True)
class FileSpec:
    """Which columns of a delivered file can carry which defect."""

    path: str
    uscc: str | None = None
    dates: dict[str, str] = field(default_factory=dict)  # column -> date | month | period
    amounts: tuple[str, ...] = ()
    text: bool = True  # columns hold text (CSV, Excel); False for typed Parquet columns
    required: tuple[str, ...] = ()
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> unknown values
    town: str | None = None
    industry: str | None = None
    references_registry: bool = True

    def kinds(self) -> list[tuple[str, str]]:
        """(kind, column) pairs this file can carry; column ``''`` for row-level kinds."""
        out: list[tuple[str, str]] = []
        if self.uscc:
            for k in ("uscc_check_character", "uscc_lowercase", "uscc_whitespace",
                      "uscc_letter_o", "uscc_length"):
                out.append((k, self.uscc))
        for col in self.dates:
            out += [("date_impossible", col), ("date_malformed", col), ("date_text", col)]
        for col in self.amounts:
            out.append(("amount_negative", col))
            if self.text:
                out += [("amount_non_numeric", col), ("amount_thousands_separator", col)]
        for col in self.enums:
            out.append(("unknown_enum", col))
        if self.town:
            out.append(("unknown_town_code", self.town))
        if self.industry:
            out.append(("unknown_industry_code", self.industry))
        for col in self.required:
            out.append(("blank_required", col))
        if self.references_registry and self.uscc:
            out.append(("unknown_enterprise", self.uscc))
        out.append(("duplicate_row", ""))
        return out


@dataclass(frozen=True)
class Defect:
    row: int  # 0-based position in the table returned by inject()
    field: str  # column header, '' for a row-level defect
    kind: str


def defect_count(rows: int, rate: float) -> int:
    """How many defects a file of ``rows`` data rows gets: ``rate`` of its rows, at least one
    when the file has 50 rows or more."""
    if rows < 50:
        return 0
    return max(1, int(round(rows * rate)))


# ------------------------------------------------------------------------------ value changes


def _wrong_check(code: str, rng: np.random.Generator) -> str:
    others = [c for c in ALPHABET if c != code[17]]
    return code[:17] + others[int(rng.integers(len(others)))]


def _bad_date(kind: str, value: str, style: str, rng: np.random.Generator) -> str:
    year = value[:4] if value[:4].isdigit() else "2024"
    if kind == "date_text":
        return DATE_TEXT[int(rng.integers(len(DATE_TEXT)))]
    if style == "date":
        if kind == "date_impossible":
            return f"{year}-02-{30 + int(rng.integers(2))}" if rng.random() < 0.5 else f"{year}-04-31"
        return f"{year}/13/{1 + int(rng.integers(28)):02d}"
    if style == "month":
        return f"{year}-13" if kind == "date_impossible" else f"{year}/13"
    # period YYYYMM
    return f"{year}13" if kind == "date_impossible" else f"{year}-13"


def _thousands(value: str) -> str:
    negative = value.startswith("-")
    body = value.lstrip("-")
    whole, _, frac = body.partition(".")
    grouped = f"{int(whole):,}"
    return ("-" if negative else "") + grouped + (f".{frac}" if frac else "")


def _new_value(kind: str, value, spec: FileSpec, column: str, rng, ghosts, district_code: str):
    if kind == "uscc_check_character":
        return _wrong_check(value, rng)
    if kind == "uscc_lowercase":
        return value.lower()
    if kind == "uscc_whitespace":
        pads = (" ", "  ", "\u3000", "\t")
        pad = pads[int(rng.integers(len(pads)))]
        return pad + value if rng.random() < 0.5 else value + pad
    if kind == "uscc_letter_o":
        return value.replace("0", "O", 1)
    if kind == "uscc_length":
        return value[:-1]
    if kind.startswith("date_"):
        return _bad_date(kind, value, spec.dates[column], rng)
    if kind == "amount_negative":
        if isinstance(value, Decimal):
            return -value if value != 0 else Decimal("-1.00")
        if isinstance(value, (int, np.integer)):
            return -int(value) if value else -1
        return "-" + value if value not in ("", "0", "0.00") else "-1"
    if kind == "amount_non_numeric":
        template = NON_NUMERIC[int(rng.integers(len(NON_NUMERIC)))]
        return template.format(v=value.split(".")[0])
    if kind == "amount_thousands_separator":
        return _thousands(value)
    if kind == "unknown_enum":
        options = spec.enums[column]
        return options[int(rng.integers(len(options)))]
    if kind == "unknown_town_code":
        return f"{district_code}{990 + int(rng.integers(10))}"
    if kind == "unknown_industry_code":
        return UNKNOWN_INDUSTRY_CODES[int(rng.integers(len(UNKNOWN_INDUSTRY_CODES)))]
    if kind == "blank_required":
        return "" if spec.text else None
    if kind == "unknown_enterprise":
        return ghosts[int(rng.integers(len(ghosts)))]
    raise ValueError(f"unknown defect kind {kind!r}")


def _eligible(kind: str, column: str, table: pa.Table) -> np.ndarray:
    """Rows where ``kind`` makes a visible change (e.g. a code with letters to lower-case)."""
    n = table.num_rows
    if not column:
        return np.ones(n, dtype=bool)
    col = table.column(column)
    if kind == "uscc_lowercase":
        return pc.match_substring_regex(col, "[A-Z]").to_numpy(zero_copy_only=False).astype(bool)
    if kind in ("uscc_check_character", "uscc_letter_o", "uscc_length", "uscc_whitespace"):
        return (pc.utf8_length(col).to_numpy(zero_copy_only=False) == 18) & pc.match_substring(
            col, "0"
        ).to_numpy(zero_copy_only=False).astype(bool)
    if kind == "amount_thousands_separator":
        return pc.match_substring_regex(col, r"^-?\d{4,}(\.\d+)?$").to_numpy(zero_copy_only=False).astype(bool)
    if kind == "amount_negative" and pa.types.is_string(col.type):
        return pc.match_substring_regex(col, r"^\d").to_numpy(zero_copy_only=False).astype(bool)
    if kind.startswith("date_") and pa.types.is_string(col.type):
        return pc.match_substring_regex(col, r"^\d{4}").to_numpy(zero_copy_only=False).astype(bool)
    if kind == "blank_required":
        valid = pc.is_valid(col).to_numpy(zero_copy_only=False)
        if pa.types.is_string(col.type):
            valid &= pc.utf8_length(pc.fill_null(col, "")).to_numpy(zero_copy_only=False) > 0
        return valid
    return pc.is_valid(col).to_numpy(zero_copy_only=False).astype(bool)


def inject(
    table: pa.Table,
    spec: FileSpec,
    rng: np.random.Generator,
    count: int,
    *,
    ghosts: np.ndarray,
    district_code: str,
    protected: np.ndarray | None = None,
    fatal_ok: np.ndarray | None = None,
) -> tuple[pa.Table, list[Defect]]:
    """Alter ``count`` rows of ``table`` (spread over the kinds the spec allows).

    ``protected`` rows are never touched; only rows in ``fatal_ok`` (default: all) receive kinds
    outside :data:`BENIGN`. Each chosen row gets exactly one defect.
    """
    n = table.num_rows
    if count <= 0 or n == 0:
        return table, []
    kinds = spec.kinds()
    order = rng.permutation(len(kinds))
    per_kind = np.zeros(len(kinds), dtype=np.int64)
    for i in range(count):
        per_kind[order[i % len(kinds)]] += 1
    used = np.zeros(n, dtype=bool) if protected is None else protected.copy()
    fatal = np.ones(n, dtype=bool) if fatal_ok is None else fatal_ok
    changes: dict[str, list[tuple[int, object]]] = {}
    extra: list[tuple[int, str, str]] = []  # (source row, kind, column)
    defects: list[tuple[int, str, str]] = []  # (row, column, kind) for value changes
    for j in order:
        k = int(per_kind[j])
        if k == 0:
            continue
        kind, column = kinds[j]
        allowed = ~used & _eligible(kind, column, table)
        if kind not in BENIGN:
            allowed &= fatal
        candidates = np.flatnonzero(allowed)
        if not len(candidates):
            continue
        rows = np.sort(rng.choice(candidates, size=min(k, len(candidates)), replace=False))
        used[rows] = True
        if kind in ("duplicate_row", "unknown_enterprise"):
            extra += [(int(r), kind, column) for r in rows]
            continue
        values = table.column(column).take(pa.array(rows)).to_pylist()
        for r, v in zip(rows, values):
            changes.setdefault(column, []).append(
                (int(r), _new_value(kind, v, spec, column, rng, ghosts, district_code))
            )
            defects.append((int(r), column, kind))

    for column, items in changes.items():
        items.sort()
        mask = np.zeros(n, dtype=bool)
        mask[[r for r, _ in items]] = True
        col = table.column(column).combine_chunks()
        replacement = pa.array([v for _, v in items], type=col.type)
        idx = table.schema.get_field_index(column)
        table = table.set_column(idx, table.schema.field(idx), pc.replace_with_mask(col, pa.array(mask), replacement))

    if not extra:
        return table, [Defect(r, c, k) for r, c, k in sorted(defects)]
    # rows added after their source row: duplicates as they are, unknown enterprises re-keyed
    extra.sort()
    sources = np.asarray([r for r, _, _ in extra], dtype=np.int64)
    added = table.take(pa.array(sources))
    ghost_rows = [i for i, (_, kind, _) in enumerate(extra) if kind == "unknown_enterprise"]
    if ghost_rows:
        column = spec.uscc
        mask = np.zeros(len(extra), dtype=bool)
        mask[ghost_rows] = True
        col = added.column(column).combine_chunks()
        values = pa.array([str(ghosts[int(rng.integers(len(ghosts)))]) for _ in ghost_rows], type=col.type)
        idx = added.schema.get_field_index(column)
        added = added.set_column(idx, added.schema.field(idx), pc.replace_with_mask(col, pa.array(mask), values))
    key = np.concatenate([np.arange(n, dtype=np.int64) * 2, sources * 2 + 1])
    order_rows = np.argsort(key, kind="stable")
    combined = pa.concat_tables([table, added]).take(pa.array(order_rows))
    position = np.empty(len(key), dtype=np.int64)
    position[order_rows] = np.arange(len(key))
    out = [Defect(int(position[r]), c, k) for r, c, k in defects]
    out += [Defect(int(position[n + i]), column, kind) for i, (_, kind, column) in enumerate(extra)]
    out.sort(key=lambda d: d.row)
    return combined, out
