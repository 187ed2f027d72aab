"""The vocabulary of the definition language matches the data hub's canonical tables."""

from __future__ import annotations

from shengxin.engine import types as T
from shengxin.engine import vocabulary as V
from shengxin.enterprises.hub.tables import load_tables

HUB_TYPES = {  # canonical field type -> what the language may call it
    "fen": {("number", T.MONEY)},
    "int": {("number", T.PEOPLE), ("number", T.NONE)},
    "date": {("date", None)},
    "month": {("date", None)},
    "string": {("string", None)},
    "decimal(18,2)": {("number", T.ENERGY)},
}


def _compatible(table: str, column: str, typ: T.Type) -> None:
    field = load_tables()[table].field(column)
    assert field is not None, f"{table}.{column} is not in tables.yaml"
    assert (typ.kind, typ.unit) in HUB_TYPES[field.type], f"{table}.{column}: {field.type} vs {typ.label()}"


def test_every_name_maps_to_a_canonical_column_of_a_matching_type():
    for spec in V.ENTERPRISE_FIELDS.values():
        _compatible("enterprises", spec.column, spec.type)
    for spec in V.ANNUAL_FIELDS.values():
        _compatible("annual_finance", spec.column, spec.type)
    for spec in V.SERIES.values():
        _compatible(spec.table, spec.column, spec.type)
        _compatible(spec.table, "month", T.DATE)
    for coll in V.COLLECTIONS.values():
        _compatible(coll.name, coll.date, T.DATE)
        if coll.end:
            _compatible(coll.name, coll.end, T.DATE)
        for spec in coll.fields.values():
            _compatible(coll.name, spec.column, spec.type)


def test_enumerations_match_the_hub_descriptions():
    tables = load_tables()
    for table, column, values in (("ip_rights", "kind", V.IP_KINDS), ("certifications", "kind", V.CERT_KINDS),
                                  ("financing", "round", V.ROUNDS), ("survey_list", "scope", V.SURVEY_SCOPES),
                                  ("enterprises", "status", V.STATUS_VALUES)):
        description = tables[table].field(column).description
        for value in values:
            assert value in description, f"{table}.{column}: {value!r} not in {description!r}"
