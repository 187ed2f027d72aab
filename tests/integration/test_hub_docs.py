"""docs/data-hub.md stays true: it lists every canonical table with its key and fields, and every
packaged mapping with its table."""

from __future__ import annotations

import re
from pathlib import Path

from shengxin.enterprises.hub.mapping import _packaged_mappings
from shengxin.enterprises.hub.tables import load_tables

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-hub.md"


def rows(text: str) -> dict[str, list[str]]:
    """First cell (a `name`) -> the other cells, for every markdown table row of the doc."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([a-z_]+)` \|(.*)\|$", line)
        if m:
            out[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return out


def test_canonical_schema_section_matches_tables_yaml():
    documented = rows(DOC.read_text(encoding="utf-8"))
    for name, table in load_tables().items():
        assert name in documented, f"table {name} is missing from docs/data-hub.md"
        key, fields = documented[name][-2], documented[name][-1]
        assert key == ", ".join(table.key), (name, key)
        for field in table.field_names:
            assert re.search(rf"\b{field}\b", fields), f"{name}.{field} is missing from docs/data-hub.md"


def test_mapping_section_lists_every_packaged_mapping():
    documented = rows(DOC.read_text(encoding="utf-8"))
    for mapping in _packaged_mappings():
        assert mapping.name in documented, f"mapping {mapping.name} is missing from docs/data-hub.md"
        assert documented[mapping.name][-1] == f"`{mapping.table}`"
