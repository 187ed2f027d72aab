"""GB/T 4754-2017 table and lookups (reads only the packaged CSV)."""

from __future__ import annotations

import re
import string

import pytest

from shengxin.errors import InvalidInput, NotFound
from shengxin.reference import industries as ind
from shengxin.reference.industries import Level


def codes(entries):
    return [e.code for e in entries]


# --- the table ------------------------------------------------------------------------------


def test_counts_per_level_match_the_standard():
    assert len(ind.industries(Level.SECTION)) == 20
    assert len(ind.industries(Level.DIVISION)) == 97
    assert len(ind.industries(Level.GROUP)) == 473
    assert len(ind.industries(Level.CLASS)) == 1381
    assert len(ind.industries()) == 20 + 97 + 473 + 1381


def test_table_membership_and_size():
    table = ind.load_industries()
    assert len(table) == 1971
    assert "3911" in table and "3918" not in table and 3911 not in table


def test_sections_are_the_letters_a_to_t():
    assert codes(ind.industries(Level.SECTION)) == list(string.ascii_uppercase[:20])


def test_all_entries_come_in_the_order_of_the_standard():
    assert codes(ind.industries()[:4]) == ["A", "01", "011", "0111"]
    assert ind.industries()[-1].code == "9700"


@pytest.mark.parametrize("section", list(string.ascii_uppercase[:20]))
def test_each_section_holds_the_divisions_its_remark_names(section):
    # Section remarks say e.g. 本门类包括13～43大类 / 包括51和52大类 / 包括70大类.
    remark = ind.get(section).remark
    m = re.search(r"包括(\d{2})(?:([～和])(\d{2}))?大类", remark)
    assert m, remark
    lo, sep, hi = int(m[1]), m[2], int(m[3] or m[1])
    expected = [f"{d:02d}" for d in (range(lo, hi + 1) if sep != "和" else (lo, hi))]
    assert codes(ind.children(section)) == expected


def test_every_entry_is_consistent_with_its_path():
    for entry in ind.industries():
        chain = ind.path(entry.code)
        assert len(chain) == entry.level
        assert chain[-1] == entry
        assert [e.level for e in chain] == list(Level)[: entry.level]
        for parent, child in zip(chain[1:], chain[2:]):
            assert child.code.startswith(parent.code)


def test_every_division_and_group_has_children():
    for entry in ind.industries():
        if entry.level is not Level.CLASS:
            assert ind.children(entry.code), entry.code


def test_classes_under_the_sections_partition_all_classes():
    per_section = [c.code for s in ind.industries(Level.SECTION) for c in ind.classes_under(s.code)]
    assert len(per_section) == len(set(per_section)) == 1381


def test_aircraft_manufacturing_is_a_class():
    # The one correction made when converting the table (see SOURCES.md).
    entry = ind.get("3741")
    assert (entry.name, entry.level, entry.group) == ("飞机制造", Level.CLASS, "374")


# --- lookups --------------------------------------------------------------------------------


def test_get_a_class_fills_every_level():
    entry = ind.get("3911")
    assert entry == ind.Industry(
        code="3911",
        name="计算机整机制造",
        level=Level.CLASS,
        section="C",
        division="39",
        group="391",
        class_code="3911",
        remark=entry.remark,
    )
    assert entry.remark.startswith("指将可进行算术或逻辑运算")
    assert entry.label == "3911 计算机整机制造"


@pytest.mark.parametrize(
    ("code", "name", "level", "division", "group"),
    [
        ("A", "农、林、牧、渔业", Level.SECTION, None, None),
        ("01", "农业", Level.DIVISION, "01", None),
        ("011", "谷物种植", Level.GROUP, "01", "011"),
        ("0111", "稻谷种植", Level.CLASS, "01", "011"),
    ],
)
def test_get_at_each_level(code, name, level, division, group):
    entry = ind.get(code)
    assert (entry.name, entry.level, entry.section, entry.division, entry.group) == (
        name, level, "A", division, group,
    )
    assert entry.class_code == (code if level is Level.CLASS else None)


def test_industry_is_frozen():
    with pytest.raises(AttributeError):
        ind.get("C").name = "x"  # type: ignore[misc]


def test_conversion_note_is_not_a_remark_but_real_remarks_stay():
    assert ind.get("701").remark is None  # the CSV carries "(implied: 中类=小类)" here
    assert ind.get("0133").remark == "指用于制糖的甘蔗和甜菜的种植"
    assert ind.get("0111").remark is None


def test_level_labels():
    assert [lvl.label for lvl in Level] == ["门类", "大类", "中类", "小类"]


def test_path_from_section_to_class():
    assert codes(ind.path("3911")) == ["C", "39", "391", "3911"]
    assert codes(ind.path("391")) == ["C", "39", "391"]
    assert codes(ind.path("C")) == ["C"]


def test_section_and_division_of():
    assert ind.section_of("0111").code == "A"
    assert ind.section_of("K").code == "K"
    assert ind.division_of("3911").code == "39"
    assert ind.division_of("39").name == "计算机、通信和其他电子设备制造业"
    assert ind.group_of("3911").code == "391"


def test_division_of_a_section_is_refused_naming_the_code():
    with pytest.raises(InvalidInput, match="'C'"):
        ind.division_of("C")
    with pytest.raises(InvalidInput, match="'39'"):
        ind.group_of("39")


def test_children():
    assert codes(ind.children("70")) == ["701", "702", "703", "704", "709"]
    assert codes(ind.children("701")) == ["7010"]
    assert ind.children("3911") == []
    assert codes(ind.children("C"))[0] == "13" and codes(ind.children("C"))[-1] == "43"


def test_classes_under():
    assert codes(ind.classes_under("70")) == ["7010", "7020", "7030", "7040", "7090"]
    assert codes(ind.classes_under("3911")) == ["3911"]
    assert codes(ind.classes_under("K")) == codes(ind.classes_under("70"))
    assert all(c.level is Level.CLASS for c in ind.classes_under("C"))


@pytest.mark.parametrize(
    ("code", "ancestor", "expected"),
    [
        ("3911", "C", True),
        ("3911", "39", True),
        ("3911", "391", True),
        ("3911", "3911", True),  # a code is under itself
        ("391", "C", True),
        ("3911", "392", False),
        ("3911", "B", False),
        ("39", "391", False),  # a division is not under one of its groups
        ("C", "3911", False),
    ],
)
def test_is_under(code, ancestor, expected):
    assert ind.is_under(code, ancestor) is expected


def test_is_under_with_an_unknown_ancestor_raises():
    with pytest.raises(NotFound, match="'098'"):
        ind.is_under("3911", "098")


# --- input handling -------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "code"), [(" c ", "C"), ("3911\n", "3911"), ("３９１１", "3911"), ("ｃ", "C")])
def test_codes_are_normalised(raw, code):
    assert ind.get(raw).code == code


@pytest.mark.parametrize("raw", ["", "  ", "1", "12345", "39a1", "CC", "C1", "3 911", "-39"])
def test_malformed_codes_raise_invalid_input_naming_the_code(raw):
    with pytest.raises(InvalidInput) as exc:
        ind.get(raw)
    assert repr(raw) in str(exc.value)


@pytest.mark.parametrize("raw", ["U", "Z", "99", "00", "098", "3918", "0000"])
def test_unknown_codes_raise_not_found_naming_the_code(raw):
    with pytest.raises(NotFound, match=f"'{raw}'"):
        ind.get(raw)


def test_a_number_is_refused_because_it_loses_leading_zeros():
    with pytest.raises(InvalidInput, match="leading zero"):
        ind.get(111)  # type: ignore[arg-type]


def test_lookups_share_the_errors():
    for fn in (ind.path, ind.section_of, ind.division_of, ind.children, ind.classes_under):
        with pytest.raises(NotFound):
            fn("9999")


# --- code lists in other reference tables ---------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("B C D (06-46)", ("B", "C", "D")),
        ("A (01-05)", ("A",)),
        ("P (83)", ("P",)),
        ("54 55 56 57 58", ("54", "55", "56", "57", "58")),
        ("7020 7030 7040 7090", ("7020", "7030", "7040", "7090")),
        ("701 85", ("701", "85")),
    ],
)
def test_codes_in_spec(spec, expected):
    assert ind.codes_in_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("G (53-59)", InvalidInput),  # range does not match the section
        ("B C (06-46)", InvalidInput),
        ("(06-12)", InvalidInput),  # a range needs letters before it
        ("all other codes", InvalidInput),
        ("", InvalidInput),
        ("12345", InvalidInput),
        ("99", NotFound),
    ],
)
def test_codes_in_spec_rejects_bad_lists(spec, error):
    with pytest.raises(error):
        ind.codes_in_spec(spec)


def test_class_codes_under_several_codes():
    assert ind.class_codes_under(["701", "7020"]) == {"7010", "7020"}
    assert len(ind.class_codes_under(["B", "C", "D"])) == sum(
        len(ind.classes_under(s)) for s in "BCD"
    )
