"""Validation of one batch of delivered rows against a mapping — vectorised, per row and field.

Rules:

* a row with any **error** is rejected (quarantined with every reason found); a row with only
  **warnings** is kept and its warnings are recorded;
* a required field that is empty is an error; so is a value that does not convert (see
  :mod:`shengxin.enterprises.hub.convert`), unless the column says ``on_invalid: null``, which keeps
  the row, drops the value and records a warning;
* a row that refers to an enterprise (``references: enterprises``) must name one the registry
  knows — the current snapshot's enterprises plus those accepted earlier in the same run;
* text that held bytes invalid in the file's encoding is an error (the reason names the encoding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.enterprises.hub import convert as cv
from shengxin.enterprises.hub.mapping import ColumnSpec, Mapping, normalise_header
from shengxin.enterprises.hub.references import ReferenceData
from shengxin.enterprises.hub.tables import TableDef

#: One row per problem found (file-level problems have no row and no field).
ISSUE_SCHEMA = pa.schema([
    ("run_id", pa.string()),
    ("source", pa.string()),
    ("file", pa.string()),
    ("row", pa.int64()),
    ("field", pa.string()),
    ("header", pa.string()),
    ("value", pa.string()),
    ("severity", pa.string()),
    ("code", pa.string()),
    ("reason", pa.string()),
])

_OPS = {"<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
        "==": pc.equal, "!=": pc.not_equal}


@dataclass
class HeaderMatch:
    """How the delivered headers line up with a mapping."""

    header_of: dict[str, str]  # field -> header as delivered
    unknown: list[str]
    missing_required: list[str]
    missing_optional: list[str]
    duplicates: list[str]


def match_headers(mapping: Mapping, headers: list[str]) -> HeaderMatch:
    folded: dict[str, str] = {}
    duplicates = []
    for h in headers:
        key = normalise_header(h)
        if not key:
            continue
        if key in folded:
            duplicates.append(h)
        folded.setdefault(key, h)
    header_of: dict[str, str] = {}
    used: set[str] = set()
    missing_required, missing_optional = [], []
    for col in mapping.columns:
        hit = next((h for h in col.headers if h in folded), None)
        if hit is None:
            (missing_required if col.required else missing_optional).append(col.header)
            continue
        header_of[col.field] = folded[hit]
        used.add(hit)
    unknown = [orig for key, orig in folded.items() if key not in used]
    return HeaderMatch(header_of, unknown, missing_required, missing_optional, duplicates)


@dataclass
class BatchOutcome:
    accepted: pa.RecordBatch
    issues: pa.Table
    rejected: pa.RecordBatch | None
    rows: int
    accepted_rows: int  # valid rows, held ones included
    rejected_rows: int
    warned_rows: int
    held: pa.RecordBatch | None = None


def _clean_text(arr: pa.Array) -> pa.Array:
    """Trim white space; empty text becomes null."""
    if pa.types.is_dictionary(arr.type):
        dictionary = _clean_text(arr.dictionary)
        return pa.DictionaryArray.from_arrays(arr.indices, dictionary)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return arr
    trimmed = pc.utf8_trim_whitespace(arr)
    empty = pc.equal(trimmed, "")
    if not pc.any(empty).as_py():
        return trimmed
    return pc.if_else(empty, pa.nulls(len(arr), arr.type), trimmed)


#: Column types whose values repeat (codes of monthly files, dates, months, enumerations, code
#: lists): they are dictionary-encoded before cleaning, so each distinct value is handled once.
_REPEATING = ("date", "month", "enum", "code")


def _prepared(col: ColumnSpec, arr: pa.Array) -> pa.Array:
    """A delivered column ready for conversion: repeating text dictionary-encoded, then cleaned."""
    repeating = col.type in _REPEATING or (col.type == "uscc" and col.references)
    if repeating and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.dictionary_encode(arr)
    return _clean_text(arr)


_KEPT = "；该值已置空，记录保留"


def _kept_as_null(p: cv.Problem) -> cv.Problem:
    """An invalid value of an ``on_invalid: null`` column: a warning, the row stays."""
    reason = p.reason + _KEPT if isinstance(p.reason, str) else cv.join_now(p.reason, _KEPT)
    return cv.Problem(p.idx, "warning", p.code, reason)


def _plain(arr: pa.Array) -> pa.Array:
    """A dictionary-encoded array decoded to its value type."""
    return arr.cast(arr.type.value_type) if pa.types.is_dictionary(arr.type) else arr


def _as_text(arr: pa.Array) -> pa.Array:
    if pa.types.is_string(arr.type):
        return arr
    return pc.cast(arr, pa.string())


class BatchValidator:
    """Validates batches of one file: fixed mapping, header match, reference data and lineage."""

    def __init__(self, mapping: Mapping, table: TableDef, headers: HeaderMatch, refs: ReferenceData,
                 *, run_id: str, file_label: str, encoding_label: str = ""):
        self.mapping = mapping
        self.table = table
        self.headers = headers
        self.refs = refs
        self.run_id = run_id
        self.file_label = file_label
        self.encoding_label = encoding_label
        self.schema = table.arrow_schema(dictionary_lineage=True)

    # -- conversion -------------------------------------------------------------------------

    def _convert(self, col: ColumnSpec, arr: pa.Array) -> cv.Converted:
        target = self.table.field(col.field).arrow_type
        if col.type == "uscc":
            known = self.refs.known if col.references == "enterprises" else None
            return cv.convert_uscc(arr, col, known)
        if col.type == "string":
            return cv.convert_string(arr, col)
        if col.type == "enum":
            return cv.convert_enum(arr, col)
        if col.type == "code":
            return cv.convert_code(arr, col, self.refs)
        if col.type == "date":
            return cv.convert_date(arr, col)
        if col.type == "month":
            return cv.convert_month(arr, col)
        if col.type == "int":
            return cv.convert_int(arr, col)
        if col.type == "money":
            return cv.convert_money(arr, col)
        return cv.convert_decimal(arr, col, target)

    def canonical_keys(self, data: pa.RecordBatch) -> pa.Table:
        """The key fields of every row as :meth:`validate` stores them when it accepts the row
        (codes normalised and resolved against the registry). Rows that will be rejected may get
        any value or null: they are never stored."""
        columns = {}
        for name in self.table.key:
            col = self.mapping.column(name)
            raw = _prepared(col, data.column(self.headers.header_of[name]))
            if col.type == "uscc":
                known = self.refs.known if col.references == "enterprises" else None
                values = cv.canonical_uscc(raw, known)
            else:
                values = self._convert(col, raw).values
            columns[name] = values.cast(self.table.field(name).arrow_type)
        return pa.table(columns)

    def validate(self, data: pa.RecordBatch, rows: np.ndarray, *, text_replaced: bool = False,
                 last_line_cut: bool = False, hold: np.ndarray | None = None) -> BatchOutcome:
        """Validate one batch (columns as delivered, ``rows`` their row numbers): the accepted
        rows in canonical form with lineage, every problem found, and the rejected rows. Valid
        rows where ``hold`` is set (their key repeats in the file) come back apart, in ``held``."""
        n = data.num_rows
        values: dict[str, pa.Array] = {}
        found: list[tuple[str | None, str | None, pa.Array | None, cv.Problem]] = []
        raw_of: dict[str, pa.Array] = {}
        for col in self.mapping.columns:
            header = self.headers.header_of.get(col.field)
            if header is None:  # an optional column the file lacks (missing required ones reject the file)
                values[col.field] = pa.nulls(n, self.table.field(col.field).arrow_type)
                continue
            raw = _prepared(col, data.column(header))
            raw_of[col.field] = raw
            res = self._convert(col, raw)
            problems = list(res.problems)
            if text_replaced and (pa.types.is_string(raw.type) or pa.types.is_dictionary(raw.type)):
                garbled = cv._np_bool(pc.match_substring(_as_text(raw), "\ufffd"))
                problems += cv._problem(garbled, "error", "text.encoding",
                                        f"含有不能按 {self.encoding_label or '约定编码'} 解码的字节（文件编码有误或文件已损坏）")
            if col.on_invalid == "null":
                problems = [_kept_as_null(p) if p.severity == "error" else p for p in problems]
            if col.required:
                missing = ~raw.is_valid().to_numpy(zero_copy_only=False)
                problems += cv._problem(missing, "error", "required.missing", f"必填字段“{col.header}”为空")
            out = res.values
            values[col.field] = out
            for p in problems:
                found.append((col.field, header, raw, p))
        for rule in self.mapping.rules:
            left, right = _plain(values[rule.left]), _plain(values[rule.right])
            broken = ~cv._np_bool(_OPS[rule.op](left, right), null_as=True)
            if broken.any():
                right_col = self.mapping.column(rule.right)
                reason = cv._join(f"{rule.message}（{right_col.header}为 ", right, "）")
                header = self.headers.header_of.get(rule.left)
                found.append((rule.left, header, raw_of.get(rule.left),
                              cv._problem(broken, rule.severity, "rule." + rule.left, reason)[0]))
        if last_line_cut and n:
            found.append((None, None, None, cv.Problem(
                np.array([n - 1]), "warning", "row.no_final_newline",
                "文件末尾没有换行符：最后一行可能被截断，请核对该行是否完整")))
        return self._assemble(data, rows, values, found, hold)

    # -- output -----------------------------------------------------------------------------

    def _assemble(self, data, rows, values, found, hold) -> BatchOutcome:
        n = data.num_rows
        errors = np.zeros(n, dtype=bool)
        warned = np.zeros(n, dtype=bool)
        parts = []
        for fname, header, raw, p in found:
            if p.severity == "error":
                errors[p.idx] = True
            else:
                warned[p.idx] = True
            k = len(p.idx)
            take = pa.array(p.idx)
            value = _as_text(raw.take(take)) if raw is not None else pa.nulls(k, pa.string())
            reason = p.reason if isinstance(p.reason, pa.Array) else pa.repeat(pa.scalar(p.reason), k)
            parts.append(pa.table({
                "run_id": pa.repeat(pa.scalar(self.run_id), k),
                "source": pa.repeat(pa.scalar(self.mapping.name), k),
                "file": pa.repeat(pa.scalar(self.file_label), k),
                "row": pa.array(rows[p.idx], pa.int64()),
                "field": pa.repeat(pa.scalar(fname, pa.string()), k),
                "header": pa.repeat(pa.scalar(header, pa.string()), k),
                "value": value.cast(pa.string()),
                "severity": pa.repeat(pa.scalar(p.severity), k),
                "code": pa.repeat(pa.scalar(p.code), k),
                "reason": reason.cast(pa.string()),
            }, schema=ISSUE_SCHEMA))
        issues = pa.concat_tables(parts) if parts else ISSUE_SCHEMA.empty_table()
        valid = ~errors
        if hold is None or not (hold & valid).any():
            accepted, held = self._facts(values, rows, valid), None
        else:
            accepted = self._facts(values, rows, valid & ~hold)
            held = self._facts(values, rows, valid & hold)
        rejected = rejected_rows(data, rows, errors) if errors.any() else None
        n_valid = int(valid.sum())
        return BatchOutcome(accepted, issues, rejected, n, n_valid, n - n_valid, int((warned & valid).sum()), held)

    def _facts(self, values: dict[str, pa.Array], rows: np.ndarray, keep: np.ndarray) -> pa.RecordBatch:
        """The kept rows in canonical form (decoded once, after filtering) with lineage."""
        n, n_keep = len(rows), int(keep.sum())
        mask = pa.array(keep)
        columns = []
        for f in self.table.fields:
            arr = values.get(f.name)
            if arr is None:
                arr = pa.nulls(n, f.arrow_type)
            if n_keep != n:
                arr = arr.filter(mask)
            columns.append(arr.cast(f.arrow_type) if arr.type != f.arrow_type else arr)
        columns += [
            _constant(self.mapping.name, n_keep),
            _constant(self.file_label, n_keep),
            pa.array(rows[keep], pa.int64()),
            _constant(self.run_id, n_keep),
        ]
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)


def _constant(value: str, n: int) -> pa.DictionaryArray:
    """``n`` copies of one text, cheaply (a dictionary of one entry)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string()))


REJECTED_PREFIX = ("_row", "_text")


def rejected_rows(data: pa.RecordBatch, rows: np.ndarray, errors: np.ndarray) -> pa.RecordBatch:
    """The rejected rows as delivered (every column as text), with their row numbers."""
    mask = pa.array(errors)
    arrays = [pa.array(rows[errors], pa.int64()), pa.nulls(int(errors.sum()), pa.string())]
    arrays += [_as_text(data.column(i).filter(mask)) for i in range(data.num_columns)]
    return pa.RecordBatch.from_arrays(arrays, names=[*REJECTED_PREFIX, *data.schema.names])
