"""Canonical tables of the data hub, read from the packaged ``tables.yaml``.

Rule: every fact table has the fields its definition lists, in that order, followed by the four
lineage columns :data:`LINEAGE_FIELDS`; its ``key`` identifies a fact, and a later delivery with
the same key replaces the earlier one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pyarrow as pa
import yaml

from shengxin.errors import InvalidInput

#: Lineage columns appended to every fact table: mapping name, file as delivered, row number in
#: that file, ingest run id.
LINEAGE_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("_source", pa.string()),
    ("_file", pa.string()),
    ("_row", pa.int64()),
    ("_run", pa.string()),
)

_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_SIMPLE_TYPES = {
    "string": pa.string(),
    "date": pa.date32(),
    "month": pa.date32(),
    "int": pa.int64(),
    "fen": pa.int64(),
}


def arrow_type(type_name: str) -> pa.DataType:
    """The Arrow type of a canonical field type (``string``, ``date``, ``month``, ``int``, ``fen``,
    ``decimal(p,s)``)."""
    if type_name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[type_name]
    m = _DECIMAL.match(type_name)
    if m:
        precision, scale = int(m.group(1)), int(m.group(2))
        if not (1 <= precision <= 38 and 0 <= scale <= precision):
            raise InvalidInput(f"decimal({precision},{scale}) is out of range")
        return pa.decimal128(precision, scale)
    raise InvalidInput(
        f"unknown field type {type_name!r}; use string, date, month, int, fen or decimal(p,s)"
    )


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    description: str

    @property
    def arrow_type(self) -> pa.DataType:
        return arrow_type(self.type)


@dataclass(frozen=True)
class TableDef:
    name: str
    title: str
    key: tuple[str, ...]
    fields: tuple[FieldDef, ...]

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def arrow_schema(self, lineage: bool = True, dictionary_lineage: bool = False) -> pa.Schema:
        """Arrow schema of the table: its fields in order, then the lineage columns.

        ``dictionary_lineage``: the constant text lineage columns as dictionary arrays (how the
        hub writes them; Parquet stores them dictionary-encoded, readers see plain text).
        """
        cols = [pa.field(f.name, f.arrow_type) for f in self.fields]
        if lineage:
            for name, typ in LINEAGE_FIELDS:
                if dictionary_lineage and typ == pa.string():
                    typ = pa.dictionary(pa.int32(), pa.string())
                cols.append(pa.field(name, typ))
        return pa.schema(cols)


def parse_tables(data: dict, source: str) -> dict[str, TableDef]:
    """Validate parsed table definitions; errors name the file and the table."""
    if not isinstance(data, dict) or not data:
        raise InvalidInput("table definitions must be a non-empty mapping", where=source)
    tables: dict[str, TableDef] = {}
    for name, spec in data.items():
        where = f"{source}: {name}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            raise InvalidInput("table names are lower-case letters, digits and _", where=where)
        fields_spec = (spec or {}).get("fields") or {}
        if not fields_spec:
            raise InvalidInput("a table needs fields", where=where)
        fields = []
        for fname, fspec in fields_spec.items():
            if str(fname).startswith("_"):
                raise InvalidInput(f"field {fname!r}: names starting with _ are reserved for lineage", where=where)
            ftype = str((fspec or {}).get("type", ""))
            arrow_type(ftype)  # raises on an unknown type
            fields.append(FieldDef(str(fname), ftype, str((fspec or {}).get("description", ""))))
        key = tuple(str(k) for k in spec.get("key") or [])
        names = {f.name for f in fields}
        if not key or any(k not in names for k in key):
            raise InvalidInput(f"key {list(key)} must list fields of the table", where=where)
        tables[str(name)] = TableDef(str(name), str(spec.get("title", name)), key, tuple(fields))
    return tables


@cache
def load_tables() -> dict[str, TableDef]:
    """The canonical tables, by name (read once per process)."""
    text = resources.files("shengxin.enterprises.hub").joinpath("tables.yaml").read_text(encoding="utf-8")
    return parse_tables(yaml.safe_load(text), "tables.yaml")


def get_table(name: str) -> TableDef:
    tables = load_tables()
    if name not in tables:
        raise InvalidInput(f"unknown table {name!r}; known tables: {', '.join(sorted(tables))}")
    return tables[name]
