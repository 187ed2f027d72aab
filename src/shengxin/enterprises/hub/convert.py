"""Vectorised conversion of delivered columns to canonical values, with per-row problems.

Each converter takes one Arrow array (strings from CSV and Excel, typed columns from Parquet) and
returns the canonical values plus a list of :class:`Problem` (which rows, how severe, why). No
converter loops over rows in Python: the work is Arrow compute kernels and numpy over buffers.
Columns with few distinct values (dates, months, enumerations, codes) are dictionary-encoded
first, so each distinct value is parsed once.

Rules that hold for every converter:

* a missing value (null or empty text) is not a problem here — the validator checks ``required``;
* a value that cannot be converted becomes null in the output and produces an ``error`` problem;
* numbers accept thousands separators (``1,234.50``) only when correctly grouped, never
  scientific notation (Excel writes ``1.23457E+11`` after dropping digits), and never more
  decimals than the canonical unit holds (a 元 amount has at most 2 decimals: fen);
* money is exact: parsed as a decimal and stored as integer fen, never through a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.enterprises.hub import uscc_vec
from shengxin.enterprises.hub.mapping import ColumnSpec

INT64_MAX = np.iinfo(np.int64).max


@dataclass
class Problem:
    """Rows ``idx`` (positions in the batch) of one column share a problem."""

    idx: np.ndarray
    severity: str  # "error" or "warning"
    code: str
    reason: str | pa.Array  # one reason for all rows, or one per row (aligned with idx)


@dataclass
class Converted:
    values: pa.Array
    problems: list[Problem] = field(default_factory=list)


def _np_bool(arr: pa.Array | pa.ChunkedArray, null_as: bool = False) -> np.ndarray:
    return pc.fill_null(arr, null_as).to_numpy(zero_copy_only=False)


class Fmt:
    """A per-row message built only for the rows that need it.

    ``parts`` are constant strings and full-length arrays; :meth:`render` takes the arrays at the
    given rows and joins the parts, so a batch of a million rows with three problems formats three
    messages, not a million.
    """

    def __init__(self, *parts):
        self.parts = parts

    def render(self, idx: np.ndarray) -> pa.Array:
        take = pa.array(idx)
        parts = []
        for part in self.parts:
            if isinstance(part, (pa.Array, pa.ChunkedArray)):
                part = _as_strings(part.take(take))
            parts.append(part)
        return join_now(*parts)


def join_now(*parts) -> pa.Array:
    """Element-wise string concatenation of arrays and constants (nulls print as empty)."""
    return pc.binary_join_element_wise(*parts, "", null_handling="replace", null_replacement="")


def _join(*parts) -> Fmt:
    return Fmt(*parts)


def _problem(mask: np.ndarray, severity: str, code: str, reason: str | pa.Array | Fmt) -> list[Problem]:
    """A problem for the rows where ``mask`` holds. ``reason``: one text, a :class:`Fmt`, or an
    array with one element per row of the whole batch."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    if isinstance(reason, Fmt):
        reason = reason.render(idx)
    elif isinstance(reason, pa.Array):
        reason = reason.take(pa.array(idx))
    return [Problem(idx, severity, code, reason)]


def _nulls_where(values: pa.Array, bad: np.ndarray) -> pa.Array:
    if not bad.any():
        return values
    return pc.if_else(pa.array(bad), pa.nulls(len(values), values.type), values)


def _as_strings(arr: pa.Array) -> pa.Array:
    if pa.types.is_string(arr.type):
        return arr
    if pa.types.is_large_string(arr.type) or pa.types.is_dictionary(arr.type):
        return arr.cast(pa.string())
    return pc.cast(arr, pa.string())


# --- dictionary helpers -------------------------------------------------------------------------


def via_dictionary(arr: pa.Array, convert) -> Converted:
    """Run ``convert`` once per distinct value of ``arr`` and spread the result over the rows.

    The values stay dictionary-encoded (converted dictionary, original indices): filtering the
    rows later moves only the indices, and decoding happens once, for the rows kept."""
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    indices = arr.indices
    res = convert(arr.dictionary)
    values = pa.DictionaryArray.from_arrays(indices, res.values)
    if not res.problems:
        return Converted(values)
    ndict = len(arr.dictionary)
    # Row -> dictionary position, nulls pointing at the extra slot ``ndict``.
    idx_np = (indices.to_numpy(zero_copy_only=False) if indices.null_count == 0
              else pc.fill_null(indices, ndict).to_numpy(zero_copy_only=False))
    flagged = np.zeros(ndict + 1, dtype=bool)
    for p in res.problems:
        flagged[p.idx] = True
    candidates = np.flatnonzero(flagged[idx_np])  # the (few) rows with any problem
    cand_pos = idx_np[candidates]
    problems = []
    for p in res.problems:
        pos = np.full(ndict + 1, -1, dtype=np.int64)
        pos[p.idx] = np.arange(len(p.idx))
        row_pos = pos[cand_pos]
        hit = row_pos >= 0
        if not hit.any():
            continue
        reason = p.reason.take(pa.array(row_pos[hit])) if isinstance(p.reason, pa.Array) else p.reason
        problems.append(Problem(candidates[hit], p.severity, p.code, reason))
    return Converted(values, problems)


# --- text ---------------------------------------------------------------------------------------


def convert_string(arr: pa.Array, col: ColumnSpec) -> Converted:
    return Converted(_as_strings(arr))


def _normalise_value(arr: pa.Array) -> pa.Array:
    """Fold a delivered enumeration value like a header: NFKC, no white space, lower case."""
    folded = pc.utf8_normalize(_as_strings(arr), "NFKC")
    return pc.utf8_lower(pc.replace_substring_regex(folded, r"\s+", ""))


def convert_enum(arr: pa.Array, col: ColumnSpec) -> Converted:
    keys = list(col.values)
    keys_norm = pa.array([k.lower() for k in keys], pa.string())
    targets = pa.array([col.values[k] for k in keys], pa.string())
    allowed = "、".join(dict.fromkeys(keys))

    def run(values: pa.Array) -> Converted:
        pos = pc.index_in(_normalise_value(values), value_set=keys_norm)
        bad = _np_bool(pc.and_(pc.is_null(pos), values.is_valid()))
        out = targets.take(pos)
        reason = _join("'", values, f"' 不是允许的取值（允许：{allowed}）")
        return Converted(out, _problem(bad, "error", "enum.unknown", reason))

    return via_dictionary(arr, run)


def convert_code(arr: pa.Array, col: ColumnSpec, ref) -> Converted:
    """A code checked against a reference list: GB/T 4754 classes, or the district's towns."""

    def run(values: pa.Array) -> Converted:
        values = _as_strings(values)
        present = values.is_valid()
        if col.codes == "industry_class":
            known = _np_bool(pc.is_in(values, value_set=ref.industry_classes))
            bad = _np_bool(present) & ~known
            short = bad & _np_bool(pc.match_substring_regex(values, r"^\d{1,3}$"))
            problems = _problem(short, "error", "code.industry_short",
                                _join("行业代码 '", values, "' 不足 4 位：应为 GB/T 4754-2017 小类的 4 位代码（可能丢失了开头的 0）"))
            problems += _problem(bad & ~short, "error", "code.industry_unknown",
                                 _join("行业代码 '", values, "' 不是 GB/T 4754-2017 的小类代码"))
            return Converted(_nulls_where(values, bad), problems)
        in_district = _np_bool(pc.is_in(values, value_set=ref.town_codes))
        neighbour = _np_bool(pc.is_in(values, value_set=ref.neighbour_town_codes))
        bad = _np_bool(present) & ~in_district & ~neighbour
        problems = _problem(neighbour, "warning", "code.town_outside",
                            _join("镇街代码 '", values, "' 属于相邻区县，不在本区范围内；记录已保留，请核实"))
        problems += _problem(bad, "error", "code.town_unknown",
                             _join("镇街代码 '", values, "' 不是本区的镇街（应为 9 位统计用区划代码）"))
        return Converted(_nulls_where(values, bad), problems)

    return via_dictionary(arr, run)


# --- unified social credit code -----------------------------------------------------------------


def convert_uscc(arr: pa.Array, col: ColumnSpec, known=None) -> Converted:
    """Check codes (see :mod:`uscc_vec`); with ``known`` (a
    :class:`~shengxin.enterprises.hub.references.KnownEnterprises`) also check that each code is
    registered. Codes that repeat (monthly files) are checked once per distinct value."""

    def run(values: pa.Array) -> Converted:
        res = uscc_vec.check_array(_as_strings(values))
        errors = res.severity == uscc_vec.ERROR
        warnings = res.severity == uscc_vec.WARNING
        problems = _problem(errors, "error", "uscc.invalid", res.reasons)
        problems += _problem(warnings, "warning", "uscc.check_character", res.reasons)
        usable = (res.severity == uscc_vec.OK) | warnings
        codes = _nulls_where(res.codes, errors)
        if known is not None:
            codes, more = known.check(codes, usable)
            problems += more
        return Converted(codes, problems)

    if pa.types.is_dictionary(arr.type) or known is not None:
        return via_dictionary(arr, run)
    return run(arr)


def canonical_uscc(arr: pa.Array, known=None) -> pa.Array:
    """The code each row will be stored under if it is accepted — cheaper than
    :func:`convert_uscc` for the key pass: registered codes need only normalising; the full check
    (and check-character resolution) runs on the few codes the registry does not know. Codes that
    will be rejected may come out as anything: their rows are never stored."""

    def run(values: pa.Array) -> Converted:
        codes = uscc_vec.normalise(_as_strings(values))
        if known is None:
            return Converted(codes)
        shaped = _np_bool(pc.and_(pc.equal(pc.binary_length(codes), 18), pc.string_is_ascii(codes)))
        member = np.zeros(len(codes), dtype=bool)
        idx = np.flatnonzero(shaped)
        member[idx] = known.contains(codes.take(pa.array(idx)))
        rest = np.flatnonzero(~member & _np_bool(codes.is_valid()))
        if len(rest):
            checked = convert_uscc(codes.take(pa.array(rest)), None, known).values
            checked = checked.cast(pa.string()) if pa.types.is_dictionary(checked.type) else checked
            mask = np.zeros(len(codes), dtype=bool)
            mask[rest] = True
            codes = pc.replace_with_mask(codes, pa.array(mask), checked)
        return Converted(codes)

    return via_dictionary(arr, run).values


# --- dates and months ---------------------------------------------------------------------------

_DATE_RE = (
    r"^(?P<y>\d{4})(?:[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?|(?P<m2>\d{2})(?P<d2>\d{2}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_MONTH_RE = r"^(?P<y>\d{4})(?:[-/.年](?P<m>\d{1,2})月?|(?P<m2>\d{2}))(?:[-/.](?P<d>0?1))?$"
MIN_YEAR, MAX_YEAR = 1900, 2100


def _ints(arr: pa.Array) -> np.ndarray:
    """Digits-only strings (empty → 0) as int64."""
    filled = pc.if_else(pc.equal(arr, ""), "0", arr)
    return pc.cast(pc.fill_null(filled, "0"), pa.int64()).to_numpy(zero_copy_only=False)


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid (y, m, d)."""
    months = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return (months.astype("datetime64[D]").astype(np.int64) + d - 1).astype(np.int32)


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    nxt = ((y - 1970) * 12 + m).astype("datetime64[M]").astype("datetime64[D]")
    cur = ((y - 1970) * 12 + m - 1).astype("datetime64[M]").astype("datetime64[D]")
    return (nxt - cur).astype(np.int64)


def _date32(days: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.int32(), mask=~valid).cast(pa.date32())


def convert_date(arr: pa.Array, col: ColumnSpec) -> Converted:
    if pa.types.is_date32(arr.type):
        return Converted(arr)
    if pa.types.is_timestamp(arr.type) or pa.types.is_date64(arr.type):
        return Converted(pc.cast(arr, pa.date32()))

    def run(values: pa.Array) -> Converted:
        values = _as_strings(values)
        parts = pc.extract_regex(values, _DATE_RE)
        matched = _np_bool(parts.is_valid())
        present = _np_bool(values.is_valid())
        y = _ints(pc.struct_field(parts, "y"))
        m = np.maximum(_ints(pc.struct_field(parts, "m")), _ints(pc.struct_field(parts, "m2")))
        d = np.maximum(_ints(pc.struct_field(parts, "d")), _ints(pc.struct_field(parts, "d2")))
        in_range = matched & (y >= MIN_YEAR) & (y <= MAX_YEAR)
        month_ok = in_range & (m >= 1) & (m <= 12)
        dim = np.where(month_ok, _days_in_month(np.where(month_ok, y, 2000), np.where(month_ok, m, 1)), 0)
        ok = month_ok & (d >= 1) & (d <= dim)
        days = np.where(ok, _days(np.where(ok, y, 1970), np.where(ok, m, 1), np.where(ok, d, 1)), 0)
        shown = _as_strings(values)
        problems = _problem(present & ~matched, "error", "date.format",
                            _join("'", shown, "' 不是日期（应为 YYYY-MM-DD）"))
        problems += _problem(matched & ~in_range, "error", "date.range",
                             _join("'", shown, f"' 的年份不在 {MIN_YEAR}–{MAX_YEAR} 之间"))
        problems += _problem(in_range & ~ok, "error", "date.invalid",
                             _join("'", shown, "' 不是存在的日期（月份或日期超出范围）"))
        return Converted(_date32(days, ok), problems)

    return via_dictionary(arr, run)


def convert_month(arr: pa.Array, col: ColumnSpec) -> Converted:
    if pa.types.is_date32(arr.type) or pa.types.is_timestamp(arr.type) or pa.types.is_date64(arr.type):
        days = pc.cast(arr, pa.date32())
        return Converted(pc.cast(pc.floor_temporal(pc.cast(days, pa.timestamp("s")), unit="month"), pa.date32()))
    if pa.types.is_integer(arr.type):
        arr = pc.cast(arr, pa.string())

    def run(values: pa.Array) -> Converted:
        values = _as_strings(values)
        parts = pc.extract_regex(values, _MONTH_RE)
        matched = _np_bool(parts.is_valid())
        present = _np_bool(values.is_valid())
        y = _ints(pc.struct_field(parts, "y"))
        m = np.maximum(_ints(pc.struct_field(parts, "m")), _ints(pc.struct_field(parts, "m2")))
        in_range = matched & (y >= MIN_YEAR) & (y <= MAX_YEAR)
        ok = in_range & (m >= 1) & (m <= 12)
        days = np.where(ok, _days(np.where(ok, y, 1970), np.where(ok, m, 1), np.ones_like(y)), 0)
        problems = _problem(present & ~matched, "error", "month.format",
                            _join("'", values, "' 不是月份（应为 YYYY-MM 或 YYYYMM）"))
        problems += _problem(matched & ~ok, "error", "month.invalid",
                             _join("'", values, f"' 不是有效月份（月份应为 01–12，年份 {MIN_YEAR}–{MAX_YEAR}）"))
        return Converted(_date32(days, ok), problems)

    return via_dictionary(arr, run)


# --- numbers ------------------------------------------------------------------------------------


def _decimal_unscaled(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Unscaled int64 values of a decimal128 array, and whether each fits in int64."""
    raw = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=2 * (arr.offset + len(arr)))
    pairs = raw[2 * arr.offset:].reshape(-1, 2)
    lo, hi = pairs[:, 0], pairs[:, 1]
    fits = hi == (lo >> 63)
    return lo.copy(), fits


def _too_precise(shown: pa.Array, digits: int, unit_label: str) -> Fmt:
    if digits == 0:
        return _join("'", shown, "' 应为整数")
    return _join("'", shown, f"' 小数位过多：以{unit_label}计最多 {digits} 位小数")


def _scaled_fast(values: pa.Array, digits: int, present: np.ndarray):
    """The common case in one kernel: no separators, no exponents and every value a decimal
    with at most ``digits`` decimals. Returns ``None`` when any value needs the careful path."""
    if pc.any(pc.match_substring(values, ",")).as_py() or pc.any(
            pc.match_substring(values, "e", ignore_case=True)).as_py():
        return None
    try:
        dec = pc.cast(values, pa.decimal128(38, digits))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    scaled, fits = _decimal_unscaled(dec)
    ok = present & fits
    problems = _problem(present & ~fits, "error", "number.overflow", _join("'", values, "' 数值过大"))
    return np.where(ok, scaled, 0), ok, problems


def _scaled_from_strings(values: pa.Array, digits: int, unit_label: str) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """Parse decimal text into integers scaled by ``10**digits`` (exact)."""
    present = _np_bool(values.is_valid())
    problems: list[Problem] = []
    text = values
    fast = _scaled_fast(values, digits, present)
    if fast is not None:
        return fast
    if pc.any(pc.fill_null(pc.match_substring(text, ","), False)).as_py():
        has_comma = _np_bool(pc.match_substring(text, ","))
        grouped = _np_bool(pc.match_substring_regex(text, r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"))
        bad_group = has_comma & ~grouped
        problems += _problem(bad_group, "error", "number.grouping",
                             _join("'", values, "' 的千分位逗号位置不对（应如 1,234,567.89）"))
        text = pc.replace_substring(text, ",", "")
        present_ok = present & ~bad_group
    else:
        present_ok = present
    max_int_digits = 18 - digits
    if digits:
        frac, leadless = rf"\.\d{{0,{digits}}}0*", rf"\.(?:\d{{1,{digits}}}0*|0+)"
    else:
        frac, leadless = r"\.0*", r"\.0+"
    number_re = rf"^[+-]?(?:0*\d{{1,{max_int_digits}}}(?:{frac})?|{leadless})$"
    ok = present_ok & _np_bool(pc.match_substring_regex(text, number_re))
    failed = present_ok & ~ok
    if failed.any():
        sci = failed & _np_bool(pc.match_substring_regex(text, r"^[+-]?[\d.]+[eE][+-]?\d+$"))
        shape = failed & ~sci & _np_bool(pc.match_substring_regex(text, r"^[+-]?(\d+(\.\d*)?|\.\d+)$"))
        precision = shape & ~_np_bool(pc.match_substring_regex(text, rf"^[+-]?\d*(?:{frac})?$"))
        overflow = shape & ~precision
        other = failed & ~sci & ~shape
        problems += _problem(sci, "error", "number.scientific",
                             _join("'", values, "' 是科学计数法，可能已丢失数字；请以完整数字导出"))
        problems += _problem(precision, "error", "number.precision",
                             _too_precise(values, digits, unit_label))
        problems += _problem(overflow, "error", "number.overflow", _join("'", values, "' 数值过大"))
        problems += _problem(other, "error", "number.format", _join("'", values, "' 不是数字"))
    clean = pc.if_else(pa.array(ok), text, pa.nulls(len(text), pa.string()))
    dec = pc.cast(clean, pa.decimal128(38, digits))
    scaled, _ = _decimal_unscaled(dec)
    return np.where(ok, scaled, 0), ok, problems


def _scaled(arr: pa.Array, digits: int, unit_label: str) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """Any delivered numeric column → int64 scaled by ``10**digits``, validity, problems."""
    typ = arr.type
    present = _np_bool(arr.is_valid())
    mult = 10**digits
    if pa.types.is_integer(typ):
        v = pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy(zero_copy_only=False)
        fits = present & (np.abs(v) <= INT64_MAX // mult)
        problems = _problem(present & ~fits, "error", "number.overflow", _join("'", arr, "' 数值过大"))
        return np.where(fits, v * mult, 0), fits, problems
    if pa.types.is_decimal(typ):
        if typ.bit_width != 128:
            arr = pc.cast(arr, pa.decimal128(38, typ.scale))
            typ = arr.type
        unscaled, fits = _decimal_unscaled(arr)
        fits &= present
        scale = typ.scale
        if scale <= digits:
            up = 10 ** (digits - scale)
            fits &= np.abs(unscaled) <= INT64_MAX // up
            scaled = unscaled * np.where(fits, up, 0)
            problems = _problem(present & ~fits, "error", "number.overflow", _join("'", arr, "' 数值过大"))
            return scaled, fits, problems
        down = 10 ** (scale - digits)
        exact = fits & (unscaled % down == 0)
        problems = _problem(present & fits & ~exact, "error", "number.precision",
                            _too_precise(arr, digits, unit_label))
        problems += _problem(present & ~fits, "error", "number.overflow", _join("'", arr, "' 数值过大"))
        return np.where(exact, unscaled // down, 0), exact, problems
    if pa.types.is_floating(typ):
        x = pc.fill_null(pc.cast(arr, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
        finite = present & np.isfinite(np.nan_to_num(x, nan=np.inf))
        y = np.where(finite, x, 0.0) * mult
        rounded = np.round(y)
        fits = finite & (np.abs(rounded) < 2**53)
        exact = fits & (np.abs(y - rounded) <= 1e-6 * np.maximum(1.0, np.abs(y)))
        problems = _problem(present & ~fits, "error", "number.overflow", _join("'", arr, "' 不是有限数值或数值过大"))
        problems += _problem(fits & ~exact, "error", "number.precision",
                             _too_precise(arr, digits, unit_label))
        return np.where(exact, rounded, 0).astype(np.int64), exact, problems
    return _scaled_from_strings(_as_strings(arr), digits, unit_label)


def _digits_of(factor: int) -> int:
    digits = len(str(factor)) - 1
    if 10**digits != factor:
        raise ValueError(f"unit factor {factor} is not a power of ten")
    return digits


def _bounds(scaled: np.ndarray, ok: np.ndarray, col: ColumnSpec, digits: int, shown: pa.Array) -> tuple[np.ndarray, list[Problem]]:
    problems: list[Problem] = []
    bad = np.zeros(len(scaled), dtype=bool)
    if col.minimum is not None:
        low = ok & (scaled < round(col.minimum * 10**digits))
        problems += _problem(low, "error", "number.below_min", _join("'", shown, f"' 小于允许的最小值 {col.minimum:g}"))
        bad |= low
    if col.maximum is not None:
        high = ok & (scaled > round(col.maximum * 10**digits))
        problems += _problem(high, "error", "number.above_max", _join("'", shown, f"' 大于允许的最大值 {col.maximum:g}"))
        bad |= high
    return ok & ~bad, problems


def convert_money(arr: pa.Array, col: ColumnSpec) -> Converted:
    """Money in the column's unit → exact int64 fen."""
    digits = _digits_of(col.factor)
    scaled, ok, problems = _scaled(arr, digits, col.unit or "")
    ok, more = _bounds(scaled, ok, col, digits, arr)
    return Converted(pa.array(scaled, pa.int64(), mask=~ok), problems + more)


def convert_int(arr: pa.Array, col: ColumnSpec) -> Converted:
    """A whole quantity; a unit such as 万千瓦时 converts exactly (1.5 万千瓦时 → 15000)."""
    digits = _digits_of(col.factor)
    scaled, ok, problems = _scaled(arr, digits, col.unit or "")
    ok, more = _bounds(scaled, ok, col, digits, arr)
    return Converted(pa.array(scaled, pa.int64(), mask=~ok), problems + more)


def int64_to_decimal(values: np.ndarray, ok: np.ndarray, precision: int, scale: int) -> pa.Array:
    """Build a decimal128(precision, scale) array from unscaled int64 values (exact)."""
    words = np.empty((len(values), 2), dtype=np.int64)
    words[:, 0] = values
    words[:, 1] = values >> 63
    validity = pa.array(ok).buffers()[1] if not ok.all() else None
    typ = pa.decimal128(precision, scale)
    return pa.Array.from_buffers(typ, len(values), [validity, pa.py_buffer(words.tobytes())],
                                 null_count=int((~ok).sum()))


def convert_decimal(arr: pa.Array, col: ColumnSpec, target: pa.DataType) -> Converted:
    """A decimal quantity in the column's unit → the canonical unit (decimal(p,s) or int)."""
    unit_digits = _digits_of(col.factor)
    scale = target.scale if pa.types.is_decimal(target) else 0
    digits = scale + unit_digits
    scaled, ok, problems = _scaled(arr, digits, col.unit or "")
    ok, more = _bounds(scaled, ok, col, digits, arr)
    problems += more
    if pa.types.is_decimal(target):
        limit = 10 ** target.precision
        too_big = ok & (np.abs(scaled) >= min(limit, INT64_MAX))
        problems += _problem(too_big, "error", "number.overflow", _join("'", arr, "' 数值过大"))
        ok &= ~too_big
        return Converted(int64_to_decimal(np.where(ok, scaled, 0), ok, target.precision, target.scale), problems)
    return Converted(pa.array(scaled, pa.int64(), mask=~ok), problems)
