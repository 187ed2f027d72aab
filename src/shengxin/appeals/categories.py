"""The appeal category taxonomy (``data/categories.yaml``): two levels, units, tiers, deadlines.

Rules:
* codes are unique; a subcategory code is ``<category>.<word>``;
* every default unit is a department of the district file (checked by :func:`check_units`);
* a stage limit is looked up subcategory → category → ``default_deadlines``; the handling stage
  has one limit per layer (simple, complex, hard).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from shengxin.errors import InvalidInput, NotFound
from shengxin.reference.district import District

CATEGORIES_FILE = Path(str(resources.files("shengxin.appeals") / "data" / "categories.yaml"))
STAGES = ("accept", "sign", "handle", "return_visit", "arbitrate")
LAYERS = ("simple", "complex", "hard")
TIERS = ("district", "department", "town")
LAYER_LABELS = {"simple": "简单（窗口办理）", "complex": "复杂（区级统筹）", "hard": "疑难（领导督办）"}
TIER_LABELS = {"district": "区级", "department": "部门", "town": "镇街"}
STAGE_LABELS = {"accept": "受理", "sign": "签收", "handle": "办理", "return_visit": "回访", "arbitrate": "退回仲裁"}
_CAT_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_SUB_CODE = re.compile(r"^([a-z][a-z0-9_]{1,31})\.[a-z][a-z0-9_]{1,31}$")


@dataclass(frozen=True)
class Deadlines:
    accept: int
    sign: int
    handle: dict[str, int]
    return_visit: int
    arbitrate: int

    def limit(self, stage: str, layer: str | None = None) -> int:
        if stage == "handle":
            return self.handle[layer or "simple"]
        return getattr(self, stage)


@dataclass(frozen=True)
class Subcategory:
    code: str
    name: str
    category_code: str
    tags: tuple[str, ...]
    unit: str
    tier: str
    deadlines: Deadlines
    retired: bool = False


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    tags: tuple[str, ...]
    unit: str
    tier: str
    deadlines: Deadlines
    subcategories: tuple[Subcategory, ...]
    retired: bool = False


@dataclass(frozen=True)
class Taxonomy:
    version: int
    categories: tuple[Category, ...]
    defaults: Deadlines

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise NotFound(f"unknown category {code!r}; known: {', '.join(c.code for c in self.categories)}",
                       where="category_code")

    def subcategory(self, code: str) -> Subcategory:
        for c in self.categories:
            for s in c.subcategories:
                if s.code == code:
                    return s
        raise InvalidInput(f"unknown subcategory {code!r}; see /api/appeals/categories for the codes",
                           where="subcategory_code")

    def find_subcategory(self, code: str | None) -> Subcategory | None:
        if not code:
            return None
        try:
            return self.subcategory(code)
        except InvalidInput:
            return None

    def all_subcategories(self, include_retired: bool = False) -> list[Subcategory]:
        return [s for c in self.categories for s in c.subcategories if include_retired or not s.retired]

    def limit(self, subcategory_code: str | None, stage: str, layer: str | None = None) -> int:
        """The stage limit in working days for a subcategory (the defaults when unclassified)."""
        sub = self.find_subcategory(subcategory_code)
        return (sub.deadlines if sub else self.defaults).limit(stage, layer)


def _deadlines(data, base: Deadlines | None, where: str) -> Deadlines:
    data = data or {}
    if not isinstance(data, dict):
        raise InvalidInput("deadlines must be a mapping", where=where)
    unknown = set(data) - set(STAGES)
    if unknown:
        raise InvalidInput(f"unknown stages {sorted(unknown)}; stages: {', '.join(STAGES)}", where=where)

    def days(value, key) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 120:
            raise InvalidInput(f"{key}: {value!r} must be a whole number of working days 1-120", where=where)
        return value

    handle = dict(base.handle) if base else {}
    if "handle" in data:
        if not isinstance(data["handle"], dict) or set(data["handle"]) - set(LAYERS):
            raise InvalidInput(f"handle needs layers {', '.join(LAYERS)}", where=where)
        handle.update({k: days(v, f"handle.{k}") for k, v in data["handle"].items()})
    if set(handle) != set(LAYERS):
        raise InvalidInput(f"handle needs all layers {', '.join(LAYERS)}", where=where)
    values = {}
    for stage in ("accept", "sign", "return_visit", "arbitrate"):
        if stage in data:
            values[stage] = days(data[stage], stage)
        elif base is not None:
            values[stage] = getattr(base, stage)
        else:
            raise InvalidInput(f"missing stage {stage!r}", where=where)
    return Deadlines(handle=handle, **values)


def parse_taxonomy(data: dict, source: str) -> Taxonomy:
    """Validate a parsed categories file; errors name the file and the entry."""
    if not isinstance(data, dict) or "categories" not in data:
        raise InvalidInput("expected keys version, default_deadlines, categories", where=source)
    defaults = _deadlines(data.get("default_deadlines"), None, f"{source}: default_deadlines")
    seen: set[str] = set()
    categories = []
    for i, c in enumerate(data["categories"]):
        where = f"{source}: categories[{i}]"
        code = str(c.get("code", ""))
        if not _CAT_CODE.match(code):
            raise InvalidInput(f"category code {code!r} must be a lower-case word", where=where)
        if code in seen:
            raise InvalidInput(f"duplicate code {code!r}", where=where)
        seen.add(code)
        tier = c.get("tier", "department")
        if tier not in TIERS:
            raise InvalidInput(f"tier {tier!r} must be one of {', '.join(TIERS)}", where=where)
        if not c.get("name") or not c.get("unit"):
            raise InvalidInput("a category needs a name and a default unit", where=where)
        cat_deadlines = _deadlines(c.get("deadlines"), defaults, f"{where}: deadlines")
        subs = []
        for j, s in enumerate(c.get("subcategories") or []):
            swhere = f"{where}.subcategories[{j}]"
            scode = str(s.get("code", ""))
            m = _SUB_CODE.match(scode)
            if not m or m.group(1) != code:
                raise InvalidInput(f"subcategory code {scode!r} must be '{code}.<word>'", where=swhere)
            if scode in seen:
                raise InvalidInput(f"duplicate code {scode!r}", where=swhere)
            seen.add(scode)
            if not s.get("name"):
                raise InvalidInput("a subcategory needs a name", where=swhere)
            stier = s.get("tier", tier)
            if stier not in TIERS:
                raise InvalidInput(f"tier {stier!r} must be one of {', '.join(TIERS)}", where=swhere)
            subs.append(Subcategory(
                code=scode, name=str(s["name"]), category_code=code,
                tags=tuple(str(t) for t in (c.get("tags") or [])) + tuple(str(t) for t in (s.get("tags") or [])),
                unit=str(s.get("unit") or c["unit"]), tier=stier,
                deadlines=_deadlines(s.get("deadlines"), cat_deadlines, f"{swhere}: deadlines"),
                retired=bool(s.get("retired", False)),
            ))
        if not subs:
            raise InvalidInput("a category needs at least one subcategory", where=where)
        categories.append(Category(code=code, name=str(c["name"]), tags=tuple(str(t) for t in c.get("tags") or []),
                                   unit=str(c["unit"]), tier=tier, deadlines=cat_deadlines,
                                   subcategories=tuple(subs), retired=bool(c.get("retired", False))))
    return Taxonomy(version=int(data.get("version", 1)), categories=tuple(categories), defaults=defaults)


@lru_cache
def load_taxonomy(path: Path = CATEGORIES_FILE) -> Taxonomy:
    """The packaged taxonomy (cached)."""
    with open(path, encoding="utf-8") as fh:
        return parse_taxonomy(yaml.safe_load(fh), str(path.name))


def check_units(taxonomy: Taxonomy, district: District) -> list[str]:
    """Problems where a default unit is not a department of the district (empty when all is well)."""
    problems = []
    for c in taxonomy.categories:
        for unit, code in [(c.unit, c.code)] + [(s.unit, s.code) for s in c.subcategories]:
            if district.department(unit) is None:
                problems.append(f"{code}: unit {unit!r} is not a department of {district.name}")
    return problems
