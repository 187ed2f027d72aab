"""GB/T 4754-2017 national economic industry classification (国民经济行业分类).

Four levels: section (门类, a letter ``A``-``T``) → division (大类, 2 digits) → group (中类,
3 digits) → class (小类, 4 digits). The table is the packaged ``data/industry_gbt4754_2017.csv``
(20 sections, 97 divisions, 473 groups, 1381 classes); see ``SOURCES.md``.

Every lookup accepts a code at any level, normalised first (surrounding white space removed,
section letters upper-cased). A code that is not shaped like a GB/T 4754 code raises
:class:`~shengxin.errors.InvalidInput`; a well-shaped code that is not in the standard raises
:class:`~shengxin.errors.NotFound`. Both messages name the code.

Codes must be strings: an integer would lose the leading zero of divisions ``01``-``09``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from importlib import resources

from shengxin.errors import InvalidInput, NotFound

DATA_FILE = "industry_gbt4754_2017.csv"

_CODE_SHAPE = re.compile(r"[A-Z]|[0-9]{2,4}")

#: The converted table marks groups that the standard does not subdivide (the group's only class
#: carries the group's code plus ``0``) with this remark. It is a note of the conversion, not text of
#: the standard, so the loader drops it.
_CONVERSION_NOTE = "(implied: 中类=小类)"


class Level(IntEnum):
    """Level of a code in the classification; the value is the level number used in the CSV."""

    SECTION = 1
    DIVISION = 2
    GROUP = 3
    CLASS = 4

    @property
    def label(self) -> str:
        """Chinese name of the level (门类, 大类, 中类, 小类)."""
        return {1: "门类", 2: "大类", 3: "中类", 4: "小类"}[self.value]


@dataclass(frozen=True)
class Industry:
    """One entry of GB/T 4754-2017 at any level.

    ``section`` is always set; ``division``, ``group`` and ``class_code`` are the codes of the
    entry's ancestors (or itself) at those levels, ``None`` above the entry's own level.
    """

    code: str
    name: str
    level: Level
    section: str
    division: str | None
    group: str | None
    class_code: str | None
    remark: str | None

    @property
    def label(self) -> str:
        """``code name``, e.g. ``3911 计算机整机制造``, for display."""
        return f"{self.code} {self.name}"


class IndustryTable:
    """The whole classification, indexed by code. Build it with :func:`load_industries`."""

    def __init__(self, entries: list[Industry]):
        self._entries = tuple(entries)
        self._by_code: dict[str, Industry] = {}
        self._children: dict[str, list[Industry]] = {}
        for entry in entries:
            if entry.code in self._by_code:
                raise InvalidInput(f"duplicate industry code {entry.code!r}", where=DATA_FILE)
            self._by_code[entry.code] = entry
            self._children[entry.code] = []
        for entry in entries:
            parent = _parent_code(entry)
            if parent is None:
                continue
            if parent not in self._by_code:
                raise InvalidInput(
                    f"industry {entry.code!r} names parent {parent!r}, which is not in the table",
                    where=DATA_FILE,
                )
            self._children[parent].append(entry)

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    def all(self) -> tuple[Industry, ...]:
        """Every entry, in the order of the standard (each entry before its children)."""
        return self._entries

    def at_level(self, level: Level | int) -> tuple[Industry, ...]:
        """Every entry at ``level``, in the order of the standard."""
        lvl = Level(level)
        return tuple(e for e in self._entries if e.level is lvl)

    def get(self, code: str) -> Industry:
        c = normalise_code(code)
        try:
            return self._by_code[c]
        except KeyError:
            raise NotFound(
                f"industry code {c!r} is not in GB/T 4754-2017; check the code "
                "(section letter A-T, or a 2-, 3- or 4-digit code)"
            ) from None

    def children(self, code: str) -> tuple[Industry, ...]:
        return tuple(self._children[self.get(code).code])


def normalise_code(code: str) -> str:
    """Trim and upper-case ``code`` and check its shape (letter, or 2-4 digits).

    Full-width characters (``３９１１``, ``Ｃ``), as typed with a Chinese input method, are folded to
    their ASCII forms.

    Raises :class:`InvalidInput` naming the code when it cannot be a GB/T 4754 code.
    """
    if not isinstance(code, str):
        raise InvalidInput(
            f"industry code {code!r} must be a string such as '0111' or 'C' "
            "(a number would lose its leading zero)"
        )
    c = unicodedata.normalize("NFKC", code).strip().upper()
    if not _CODE_SHAPE.fullmatch(c):
        raise InvalidInput(
            f"industry code {code!r} is malformed: use a section letter (A-T) or a 2-digit "
            "division, 3-digit group or 4-digit class code"
        )
    return c


def _parent_code(entry: Industry) -> str | None:
    if entry.level is Level.SECTION:
        return None
    if entry.level is Level.DIVISION:
        return entry.section
    if entry.level is Level.GROUP:
        return entry.division
    return entry.group


def _entry_from_row(row: dict[str, str], line: int) -> Industry:
    where = f"{DATA_FILE}: line {line}"
    try:
        level = Level(int(row["level"]))
    except (ValueError, KeyError):
        raise InvalidInput(f"level {row.get('level')!r} must be 1, 2, 3 or 4", where=where) from None
    code = row["code"].strip()
    ancestry = [row["section"].strip(), row["division"].strip(), row["group"].strip(), row["class"].strip()]
    # The ancestor columns must be filled exactly up to the entry's level, and the column at its
    # own level must be its code; each code must extend its parent's.
    for i, value in enumerate(ancestry):
        if (i < level) != bool(value):
            raise InvalidInput(f"industry {code!r}: ancestor columns do not match level {level}", where=where)
    if ancestry[level - 1] != code:
        raise InvalidInput(f"industry {code!r}: code column and level column disagree", where=where)
    for parent, child in zip(ancestry[1:level - 1], ancestry[2:level]):
        if not child.startswith(parent):
            raise InvalidInput(f"industry {code!r}: {child!r} does not extend {parent!r}", where=where)
    remark = row["remark"].strip()
    if remark == _CONVERSION_NOTE:
        remark = ""
    return Industry(
        code=code,
        name=row["name"].strip(),
        level=level,
        section=ancestry[0],
        division=ancestry[1] or None,
        group=ancestry[2] or None,
        class_code=ancestry[3] or None,
        remark=remark or None,
    )


@cache
def load_industries() -> IndustryTable:
    """Load and index the packaged GB/T 4754-2017 table (read once per process)."""
    text = resources.files("shengxin.reference").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    entries = [_entry_from_row(row, line) for line, row in enumerate(reader, start=2)]
    return IndustryTable(entries)


def get(code: str) -> Industry:
    """The industry with this code, at any level (``"C"``, ``"39"``, ``"391"``, ``"3911"``)."""
    return load_industries().get(code)


def path(code: str) -> list[Industry]:
    """The chain from the section down to ``code`` itself, e.g. C → 39 → 391 → 3911."""
    entry = get(code)
    table = load_industries()
    codes = [entry.section, entry.division, entry.group, entry.class_code][: entry.level]
    return [table.get(c) for c in codes]


def section_of(code: str) -> Industry:
    """The section (门类) that ``code`` belongs to; a section is its own section."""
    entry = get(code)
    return get(entry.section)


def division_of(code: str) -> Industry:
    """The division (大类) that ``code`` belongs to; a division is its own division.

    A section has no division: asking for one raises :class:`InvalidInput`.
    """
    entry = get(code)
    if entry.division is None:
        raise InvalidInput(
            f"industry code {entry.code!r} is a section (门类); it spans several divisions "
            "— give a division, group or class code"
        )
    return get(entry.division)


def group_of(code: str) -> Industry:
    """The group (中类) that ``code`` belongs to; sections and divisions raise :class:`InvalidInput`."""
    entry = get(code)
    if entry.group is None:
        raise InvalidInput(
            f"industry code {entry.code!r} is a {entry.level.label} above the group level "
            "— give a group or class code"
        )
    return get(entry.group)


def children(code: str) -> list[Industry]:
    """The entries one level below ``code``, in the order of the standard; a class has none."""
    return list(load_industries().children(code))


def classes_under(code: str) -> list[Industry]:
    """Every class (小类) under ``code``; for a class, the class itself."""
    entry = get(code)
    if entry.level is Level.CLASS:
        return [entry]
    out: list[Industry] = []
    for child in children(entry.code):
        out.extend(classes_under(child.code))
    return out


def is_under(class_code: str, ancestor_code: str) -> bool:
    """Whether ``class_code`` lies in the subtree of ``ancestor_code`` (a code is under itself).

    Both codes may be at any level; both must exist (unknown codes raise :class:`NotFound`).
    ``is_under("3911", "C")`` and ``is_under("3911", "3911")`` are true; ``is_under("39", "391")``
    is false.
    """
    entry = get(class_code)
    ancestor = get(ancestor_code)
    if ancestor.level > entry.level:
        return False
    own = (entry.section, entry.division, entry.group, entry.class_code)
    return own[ancestor.level - 1] == ancestor.code


def industries(level: Level | int | None = None) -> list[Industry]:
    """All entries (or those at one ``level``) in the order of the standard."""
    table = load_industries()
    return list(table.all() if level is None else table.at_level(level))


_SPEC_TOKEN = re.compile(r"\s*(?:(?P<code>[A-Z](?![A-Za-z])|[0-9]{2,4}(?![0-9]))|\((?P<lo>[0-9]{2})(?:-(?P<hi>[0-9]{2}))?\))")


def codes_in_spec(spec: str) -> tuple[str, ...]:
    """Parse a list of codes as reference tables write it: ``"B C D (06-46)"``, ``"54 55 56"``, ``"7010"``.

    Codes are separated by spaces. A parenthesised division range after section letters restates
    those sections and must cover exactly their divisions (``"G (53-60)"``); this guards the tables
    against a mistyped letter. Every code must exist. Raises :class:`InvalidInput` naming the spec.
    """
    out: list[str] = []
    pos = 0
    text = spec.strip()
    while pos < len(text):
        m = _SPEC_TOKEN.match(text, pos)
        if not m:
            raise InvalidInput(f"cannot read industry codes {spec!r} at {text[pos:]!r}")
        pos = m.end()
        if m["code"]:
            out.append(get(m["code"]).code)
            continue
        sections = [c for c in out if len(c) == 1]
        if not sections:
            raise InvalidInput(f"in {spec!r} a division range must follow section letters")
        lo, hi = int(m["lo"]), int(m["hi"] or m["lo"])
        stated = {f"{d:02d}" for d in range(lo, hi + 1)}
        actual = {d.code for s in sections for d in children(s)}
        if stated != actual:
            raise InvalidInput(
                f"in {spec!r} the divisions {m.group(0).strip()} do not match sections {' '.join(sections)}"
            )
    if not out:
        raise InvalidInput(f"no industry codes in {spec!r}")
    return tuple(out)


def class_codes_under(codes: Iterable[str]) -> frozenset[str]:
    """The codes of every class under any of ``codes``."""
    return frozenset(c.code for code in codes for c in classes_under(code))
