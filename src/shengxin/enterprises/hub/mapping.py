"""Mapping files: how one department's delivery maps onto a canonical table.

A mapping (``mappings/*.yaml``) names the files it applies to, their format and encoding, and for
each delivered column the canonical field, its type, unit and constraints. Adding a department is
adding a mapping file; ``docs/data-hub.md`` documents the format.

Rules:

* a mapping must map every key field of its table and mark it required;
* money columns name their unit (元, 万元, …) and land as integer fen; other numeric columns may
  name a unit that converts to the canonical unit (e.g. 万千瓦时 → 千瓦时);
* headers are compared after Unicode NFKC folding and white-space removal, so ``营业收入（元）``
  and ``营业收入(元)`` are the same column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath

import yaml

from shengxin.enterprises.hub.tables import TableDef, load_tables
from shengxin.errors import InvalidInput

FORMATS = ("csv", "excel", "parquet")
ENCODINGS = ("auto", "utf-8", "gbk", "gb18030", "utf-16")
COLUMN_TYPES = ("uscc", "string", "date", "month", "int", "decimal", "money", "enum", "code")
#: Reference code lists a ``code`` column may be checked against.
CODE_LISTS = ("industry_class", "town")

#: Money units: how many fen one unit is.
MONEY_UNITS = {"分": 1, "元": 100, "千元": 100_000, "万元": 1_000_000, "亿元": 10_000_000_000}
#: Other units: factor to the canonical unit of the field (persons, kWh, items).
QUANTITY_UNITS = {"人": 1, "个": 1, "件": 1, "千瓦时": 1, "kWh": 1, "度": 1, "万千瓦时": 10_000}

#: Which canonical field types a delivered column type may fill.
_COMPATIBLE = {
    "uscc": {"string"},
    "string": {"string"},
    "enum": {"string"},
    "code": {"string"},
    "date": {"date"},
    "month": {"month"},
    "int": {"int"},
    "money": {"fen"},
    "decimal": {"decimal", "int"},
}


def normalise_header(text: str) -> str:
    """Fold a header for comparison: NFKC (full-width → ASCII), no white space, no BOM."""
    folded = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"\s+", "", folded)


@dataclass(frozen=True)
class ColumnSpec:
    """One delivered column and the canonical field it fills."""

    header: str
    field: str
    type: str
    required: bool = False
    unit: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    codes: str | None = None
    references: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    on_invalid: str = "reject"
    aliases: tuple[str, ...] = ()

    @property
    def headers(self) -> tuple[str, ...]:
        """The header and its aliases, folded with :func:`normalise_header`."""
        return tuple(normalise_header(h) for h in (self.header, *self.aliases))

    @property
    def factor(self) -> int:
        """Multiplier from the delivered unit to the canonical unit (fen for money)."""
        if self.type == "money":
            return MONEY_UNITS[self.unit or ""]
        return QUANTITY_UNITS.get(self.unit or "", 1)


@dataclass(frozen=True)
class Rule:
    """A comparison between two fields of the same row, e.g. ``valid_until >= certified_on``."""

    left: str
    op: str
    right: str
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class Mapping:
    """How one delivery (one department file) maps onto one canonical table."""

    name: str
    title: str
    department: str
    table: str
    files: tuple[str, ...]
    format: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    encoding: str = "auto"
    delimiter: str = ","
    sheet: str | int | None = None
    header_row: int = 1
    mode: str = "upsert"
    unknown_columns: str = "warn"
    rules: tuple[Rule, ...] = ()
    origin: str = ""

    def column(self, field_name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.field == field_name)

    @property
    def references(self) -> set[str]:
        """Tables this mapping's rows must refer to (e.g. ``enterprises``)."""
        return {c.references for c in self.columns if c.references}

    def matches(self, relative_path: str) -> bool:
        """Whether a file (path relative to the delivery folder, or a bare name) is this delivery.

        Patterns are matched from the right, so ``sw/税收月报*.parquet`` matches
        ``2024-06/sw/税收月报.parquet`` and ``税收月报*.parquet`` matches the file in any folder.
        """
        path = PurePosixPath(relative_path.replace("\\", "/"))
        return any(path.match(pattern) for pattern in self.files)


def _number(value, where: str, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{what} must be a number, got {value!r}", where=where)
    return value


def _column(spec: dict, table: TableDef, where: str) -> ColumnSpec:
    if not isinstance(spec, dict):
        raise InvalidInput("each column must be a mapping with header, field and type", where=where)
    header = str(spec.get("header") or "").strip()
    fname = str(spec.get("field") or "").strip()
    ctype = str(spec.get("type") or "").strip()
    where = f"{where} ({header or '?'})"
    if not header or not fname or not ctype:
        raise InvalidInput("a column needs header, field and type", where=where)
    if ctype not in COLUMN_TYPES:
        raise InvalidInput(f"type {ctype!r} is not one of {', '.join(COLUMN_TYPES)}", where=where)
    fdef = table.field(fname)
    if fdef is None:
        raise InvalidInput(
            f"field {fname!r} is not in table {table.name} (fields: {', '.join(table.field_names)})",
            where=where,
        )
    canonical = "decimal" if fdef.type.startswith("decimal") else fdef.type
    if canonical not in _COMPATIBLE[ctype]:
        raise InvalidInput(
            f"a {ctype} column cannot fill field {fname!r} of type {fdef.type}", where=where
        )
    unit = spec.get("unit")
    unit = str(unit) if unit is not None else None
    if ctype == "money":
        if unit not in MONEY_UNITS:
            raise InvalidInput(
                f"money columns need a unit among {', '.join(MONEY_UNITS)}; got {unit!r}", where=where
            )
    elif unit is not None:
        if ctype not in ("int", "decimal") or unit not in QUANTITY_UNITS:
            raise InvalidInput(
                f"unit {unit!r} is not allowed here; numeric columns accept {', '.join(QUANTITY_UNITS)}",
                where=where,
            )
    values = spec.get("values") or {}
    if ctype == "enum":
        if isinstance(values, list):
            values = {str(v): str(v) for v in values}
        if not isinstance(values, dict) or not values:
            raise InvalidInput("an enum column needs values (delivered value: canonical code)", where=where)
        values = {normalise_header(str(k)): str(v) for k, v in values.items()}
    elif values:
        raise InvalidInput("only enum columns take values", where=where)
    codes = spec.get("codes")
    if ctype == "code" and codes not in CODE_LISTS:
        raise InvalidInput(f"a code column needs codes: one of {', '.join(CODE_LISTS)}", where=where)
    references = spec.get("references")
    if references is not None and (ctype != "uscc" or references != "enterprises"):
        raise InvalidInput("only uscc columns may reference, and only the enterprises table", where=where)
    on_invalid = str(spec.get("on_invalid", "reject"))
    if on_invalid not in ("reject", "null"):
        raise InvalidInput("on_invalid is reject (quarantine the row) or null (keep the row, drop the value)", where=where)
    aliases = spec.get("aliases") or []
    return ColumnSpec(
        header=header,
        field=fname,
        type=ctype,
        required=bool(spec.get("required", False)),
        unit=unit,
        values=dict(values),
        codes=codes,
        references=references,
        minimum=_number(spec.get("min"), where, "min"),
        maximum=_number(spec.get("max"), where, "max"),
        on_invalid=on_invalid,
        aliases=tuple(str(a) for a in aliases),
    )


def _rule(spec: dict, fields: set[str], where: str) -> Rule:
    text = str((spec or {}).get("check", ""))
    m = re.fullmatch(r"\s*(\w+)\s*(<=|>=|==|!=|<|>)\s*(\w+)\s*", text)
    if not m or m.group(1) not in fields or m.group(3) not in fields:
        raise InvalidInput(
            f"rule {text!r} must compare two mapped fields, e.g. 'valid_until >= certified_on'", where=where
        )
    severity = str(spec.get("severity", "error"))
    if severity not in ("error", "warning"):
        raise InvalidInput("rule severity is error or warning", where=where)
    message = str(spec.get("message") or f"{m.group(1)} {m.group(2)} {m.group(3)} does not hold")
    return Rule(m.group(1), m.group(2), m.group(3), message, severity)


def parse_mapping(data: dict, origin: str, tables: dict[str, TableDef] | None = None) -> Mapping:
    """Validate one parsed mapping file; every error names the file and the entry."""
    tables = tables or load_tables()
    if not isinstance(data, dict):
        raise InvalidInput("a mapping file must be a YAML mapping", where=origin)
    for key in ("name", "table", "files", "format", "columns"):
        if not data.get(key):
            raise InvalidInput(f"missing key {key!r}", where=origin)
    name = str(data["name"])
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise InvalidInput(f"name {name!r}: use lower-case letters, digits and _", where=origin)
    table = tables.get(str(data["table"]))
    if table is None:
        raise InvalidInput(f"unknown table {data['table']!r}; known: {', '.join(sorted(tables))}", where=origin)
    fmt = str(data["format"])
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r} is not one of {', '.join(FORMATS)}", where=origin)
    encoding = str(data.get("encoding", "auto")).lower()
    if encoding not in ENCODINGS:
        raise InvalidInput(f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}", where=origin)
    files = data["files"] if isinstance(data["files"], list) else [data["files"]]
    columns = tuple(_column(c, table, f"{origin}: columns[{i}]") for i, c in enumerate(data["columns"]))
    seen_fields: set[str] = set()
    seen_headers: set[str] = set()
    for c in columns:
        if c.field in seen_fields:
            raise InvalidInput(f"field {c.field!r} is mapped twice", where=origin)
        seen_fields.add(c.field)
        for h in c.headers:
            if h in seen_headers:
                raise InvalidInput(f"header {h!r} appears twice", where=origin)
            seen_headers.add(h)
    key = tuple(str(k) for k in data.get("key") or table.key)
    if set(key) != set(table.key):
        raise InvalidInput(f"key {list(key)} must be the table's key {list(table.key)}", where=origin)
    for k in key:
        if k not in seen_fields:
            raise InvalidInput(f"key field {k!r} is not mapped", where=origin)
        if not next(c for c in columns if c.field == k).required:
            raise InvalidInput(f"key field {k!r} must be required", where=origin)
    mode = str(data.get("mode", "upsert"))
    if mode not in ("upsert", "replace"):
        raise InvalidInput("mode is upsert (replace facts by key) or replace (the delivery is the whole table)", where=origin)
    unknown = str(data.get("unknown_columns", "warn"))
    if unknown not in ("warn", "error"):
        raise InvalidInput("unknown_columns is warn or error", where=origin)
    rules = tuple(_rule(r, seen_fields, f"{origin}: rules[{i}]") for i, r in enumerate(data.get("rules") or []))
    sheet = data.get("sheet")
    delimiter = str(data.get("delimiter", ","))
    if len(delimiter) != 1:
        raise InvalidInput("delimiter must be one character", where=origin)
    return Mapping(
        name=name,
        title=str(data.get("title", name)),
        department=str(data.get("department", "")),
        table=table.name,
        files=tuple(str(f) for f in files),
        format=fmt,
        columns=columns,
        key=key,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        header_row=int(data.get("header_row", 1)),
        mode=mode,
        unknown_columns=unknown,
        rules=rules,
        origin=origin,
    )


def load_mapping_file(path: Path) -> Mapping:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}", where=str(path)) from exc
    return parse_mapping(data, str(path))


@cache
def _packaged_mappings() -> tuple[Mapping, ...]:
    folder = resources.files("shengxin.enterprises.hub").joinpath("mappings")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
            out.append(parse_mapping(data, f"mappings/{entry.name}"))
    return tuple(out)


def load_mappings(extra_dir: Path | None = None) -> dict[str, Mapping]:
    """All mappings by name: the packaged ones, then ``extra_dir/*.yaml`` (which override by name).

    ``extra_dir`` defaults to ``<data_dir>/mappings`` — where a district adds a department without
    touching the code.
    """
    mappings = {m.name: m for m in _packaged_mappings()}
    if extra_dir is None:
        from shengxin.config import get_settings

        extra_dir = get_settings().data_dir / "mappings"
    if extra_dir.is_dir():
        for path in sorted(extra_dir.glob("*.yaml")):
            m = load_mapping_file(path)
            mappings[m.name] = m
    return mappings


def ingest_order(mappings: list[Mapping]) -> list[Mapping]:
    """Mappings in an order where tables come before the mappings that reference them."""
    def rank(m: Mapping) -> int:
        return 1 if m.references else 0

    return sorted(mappings, key=rank)
