"""Invalid tag definitions: each error names the tag, the place (file, entry, line and column of
the expression) and what is allowed — for unknown fields, unit mismatches, cycles and unsupported
constructs."""

from __future__ import annotations

import datetime as dt

import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.engine.errors import DefinitionErrors
from shengxin.reference.district import load_district
from shengxin.tags.catalogue import (
    Catalogue,
    TagVersion,
    change_errors,
    compile_versions,
    load_shipped,
    parse_upload,
    validate,
    vocabulary_for,
)

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)


def tag(tag_id: str, definition: str, line: int = 3) -> TagVersion:
    return TagVersion(tag_id, "测试", "basic", 1, dt.date(2020, 1, 1), "derived", "", "x", definition,
                      origin=f"change.yaml: tags[{line}]", line=line * 10)


def errors_of(*tags: TagVersion):
    _, errors, _ = compile_versions({t.id: t for t in tags}, {}, vocabulary_for(DISTRICT))
    return errors


def test_unknown_field():
    (e,) = errors_of(tag("test.a", "annual.employes >= 20"))
    assert e.subject == "tag test.a" and e.path == "change.yaml: tags[3].definition (entry at line 30)"
    assert (e.position.line, e.position.column) == (1, 1)
    assert "unknown field 'annual.employes'" in e.detail and "annual.employees" in e.detail
    assert "annual.employees" in e.allowed
    assert str(e).startswith("tag test.a (change.yaml: tags[3].definition (entry at line 30), expression line 1, column 1)")


def test_unit_mismatch():
    (e,) = errors_of(tag("test.b", "sum(revenue, months=12) >= 20人"))
    assert e.subject == "tag test.b" and e.position.column == 28
    assert "unit mismatch" in e.detail and "money" in e.detail and "people" in e.detail


def test_cycle_names_the_path():
    errors = errors_of(tag("test.c", "tag('test.d')", 1), tag("test.d", "status = 'active' and tag('test.e')", 2),
                       tag("test.e", "tag('test.c')", 3))
    (e,) = errors
    assert "cycle between tags" in e.detail and "test.c" in e.detail and "test.d" in e.detail and "test.e" in e.detail
    assert e.subject in {"tag test.c", "tag test.d", "tag test.e"} and e.position is not None
    assert e.allowed


def test_unsupported_construct():
    (e,) = errors_of(tag("test.f", "percentile(revenue, months=12) > 0元"))
    assert e.subject == "tag test.f" and e.position.column == 1
    assert "unknown function percentile()" in e.detail and "growth()" in e.allowed
    (e,) = errors_of(tag("test.g", "sum(revenue, months=12) > 0元 > 1元"))
    assert "do not chain" in e.detail and e.position.column == 30


def test_a_tag_using_a_broken_tag_is_not_reported_twice():
    errors = errors_of(tag("test.h", "annual.revenu > 0元"), tag("test.i", "tag('test.h')"))
    assert [e.subject for e in errors] == ["tag test.h"]


def test_every_error_is_reported_not_just_the_first():
    errors = errors_of(tag("test.j", "annual.revenu > 0元"), tag("test.k", "annual.revenue > 3人"))
    assert sorted(e.subject for e in errors) == ["tag test.j", "tag test.k"]


def test_structural_errors_of_an_upload():
    base = load_shipped(DISTRICT)
    with pytest.raises(DefinitionErrors) as info:
        parse_upload("tags:\n  - id: Bad Id\n    name: x\n", "up.yaml", base, DISTRICT)
    messages = [e.detail for e in info.value.errors]
    assert any("missing" in m and "category" in m for m in messages)
    with pytest.raises(DefinitionErrors) as info:
        parse_upload("tags:\n  - id: test.x\n    name: x\n    category: nope\n    version: 1\n    valid_from: 2020-01-01\n"
                     "    provenance: derived\n    description: x\n    definition: status = 'active'\n    colour: red\n",
                     "up.yaml", base, DISTRICT)
    assert "unknown key(s) colour" in info.value.errors[0].detail


def test_a_change_must_not_reuse_a_version():
    base = load_shipped(DISTRICT)
    shipped = base.latest()["size.small"]
    same = Catalogue([TagVersion(**{**shipped.public(), "valid_from": shipped.valid_from}, origin="up.yaml: tags[0]")], {}, {})
    (e,) = change_errors(base, same)
    assert "already in the catalogue unchanged" in e.detail and e.subject == "tag size.small"


def test_the_shipped_catalogue_is_valid():
    catalogue = load_shipped(DISTRICT)
    assert validate(catalogue, vocabulary_for(DISTRICT)) == []
    assert len(catalogue.latest()) >= 200
    assert {v.category for v in catalogue.latest().values()} == set(catalogue.categories)
