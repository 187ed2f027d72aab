"""The part of the appeal taxonomy the classifier needs: codes, Chinese names, default units.

The taxonomy itself is owned by the appeals domain (``appeals/data/categories.yaml``); this module
reads only the fields that labelled examples refer to. Rule: a subcategory's responsible unit is its
own ``unit`` when it names one, else its category's ``unit``; retired codes (``retired: true``) are
kept so that old examples and stored appeals still resolve, but are never suggested.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from shengxin.errors import InvalidInput

CATEGORIES_FILE = Path(__file__).resolve().parent.parent / "data" / "categories.yaml"


@dataclass(frozen=True)
class Subcategory:
    code: str
    name: str
    category_code: str
    unit: str
    retired: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    unit: str
    subcategories: tuple[Subcategory, ...]
    retired: bool = False


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    fingerprint: str

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def subcategory(self, code: str) -> Subcategory | None:
        return self.subcategories_by_code().get(code)

    def subcategories_by_code(self) -> dict[str, Subcategory]:
        return {s.code: s for c in self.categories for s in c.subcategories}

    def active_subcategories(self) -> list[Subcategory]:
        return [s for c in self.categories if not c.retired for s in c.subcategories if not s.retired]

    def check_labels(self, category: str, subcategory: str, *, where: str) -> Subcategory:
        """The subcategory named by a label pair; raises :class:`InvalidInput` when they disagree."""
        sub = self.subcategory(subcategory)
        if sub is None:
            known = ", ".join(s.code for s in self.active_subcategories())
            raise InvalidInput(f"unknown subcategory {subcategory!r}; known codes: {known}", where=where)
        if sub.category_code != category:
            raise InvalidInput(
                f"subcategory {subcategory!r} belongs to category {sub.category_code!r}, not {category!r}",
                where=where,
            )
        return sub


def parse_taxonomy(data: object, source: str) -> Taxonomy:
    """Read categories and subcategories from the parsed YAML; errors name the entry."""
    if not isinstance(data, dict) or not isinstance(data.get("categories"), list):
        raise InvalidInput("expected a mapping with a 'categories' list", where=source)
    categories = []
    seen: set[str] = set()
    for i, c in enumerate(data["categories"]):
        where = f"{source}: categories[{i}]"
        if not isinstance(c, dict) or not c.get("code") or not c.get("unit"):
            raise InvalidInput("a category needs a code and a unit", where=where)
        code = str(c["code"])
        subs = []
        for j, s in enumerate(c.get("subcategories") or []):
            scode = str(s.get("code", "")) if isinstance(s, dict) else ""
            if not scode.startswith(code + "."):
                raise InvalidInput(f"subcategory code {scode!r} must start with {code + '.'!r}",
                                   where=f"{where}.subcategories[{j}]")
            if scode in seen:
                raise InvalidInput(f"duplicate subcategory code {scode!r}", where=f"{where}.subcategories[{j}]")
            seen.add(scode)
            subs.append(Subcategory(scode, str(s.get("name", scode)), code, str(s.get("unit") or c["unit"]),
                                    bool(s.get("retired", False)), tuple(str(t) for t in s.get("tags") or ())))
        if not subs:
            raise InvalidInput(f"category {code!r} has no subcategories", where=where)
        categories.append(Category(code, str(c.get("name", code)), str(c["unit"]), tuple(subs),
                                   bool(c.get("retired", False))))
    canonical = "\n".join(
        f"{s.code}|{s.name}|{s.unit}|{int(s.retired or c.retired)}" for c in categories for s in c.subcategories
    )
    return Taxonomy(tuple(categories), hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16])


@lru_cache
def load_taxonomy(path: Path = CATEGORIES_FILE) -> Taxonomy:
    """The packaged taxonomy (cached)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInput("taxonomy file not found", where=str(path)) from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}", where=str(path)) from exc
    return parse_taxonomy(data, str(path))
