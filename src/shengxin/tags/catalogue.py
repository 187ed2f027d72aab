"""The tag catalogue: tag definitions as data (YAML), loaded, expanded, validated and compiled.

Files (``src/shengxin/tags/catalogue/``):

* ``categories.yaml`` — the categories, in display order, with Chinese names;
* ``lists.yaml`` — named lists of GB/T 4754-2017 codes (the district's key industry chains),
  referenced from definitions as ``codes('name')``;
* every other ``*.yaml`` — ``defaults`` (keys shared by the file's tags) and ``tags``, a list of
  entries. An entry with ``foreach: towns`` / ``foreach: sections`` / ``foreach: {divisions:
  [...]}`` expands into one tag per item, replacing ``{code}``, ``{key}`` (the code in lower case,
  for ids) and ``{name}`` in its texts.

A tag entry: ``id``, ``name`` (Chinese), ``category``, ``version`` (integer ≥ 1), ``valid_from``
(date from which this version applies), ``provenance`` (``official`` — copied from an official
list or certification; ``derived`` — computed by a rule of ours), ``source`` (which list or data),
``description``, ``definition`` (a condition in the definition language), optional ``value``
(a number shown with the tag, e.g. a rank) and optional ``retired: true`` (from ``valid_from`` on,
the tag no longer exists).

Several versions of one tag may coexist: the one in force at an as-of date is the highest version
whose ``valid_from`` is on or before that date. Uploaded changes (``shengxin tags validate``/
``preview``, the catalogue page) add versions; nothing is ever overwritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from shengxin.engine import ir
from shengxin.engine import syntax as S
from shengxin.engine.check import Context, check_syntax, tag_references
from shengxin.engine.errors import DefinitionError, DefinitionErrors
from shengxin.engine.vocabulary import Vocabulary
from shengxin.errors import InvalidInput
from shengxin.reference import industries
from shengxin.reference.district import District

TAG_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
PROVENANCES = {"official": "官方名单", "derived": "规则推导"}
ENTRY_KEYS = {"id", "name", "category", "version", "valid_from", "provenance", "source", "description",
              "definition", "value", "retired", "foreach"}
REQUIRED_KEYS = ("id", "name", "category", "version", "valid_from", "provenance", "description", "definition")
PACKAGE = "shengxin.tags"
FOLDER = "catalogue"


@dataclass(frozen=True)
class TagVersion:
    """One version of one tag, as written in a catalogue file (after expansion)."""

    id: str
    name: str
    category: str
    version: int
    valid_from: dt.date
    provenance: str
    source: str
    description: str
    definition: str
    value: str | None = None
    retired: bool = False
    origin: str = field(default="", compare=False)  # file and entry, for error messages
    line: int | None = field(default=None, compare=False)  # line of the entry in its file

    def path(self, key: str) -> str:
        """Where a key of this entry is, e.g. ``innovation.yaml: tags[3].definition (entry at line 42)``."""
        return f"{self.origin}.{key}" + (f" (entry at line {self.line})" if self.line else "")

    def public(self) -> dict:
        d = asdict(self)
        d["valid_from"] = self.valid_from.isoformat()
        d.pop("origin")
        d.pop("line")
        return d


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    description: str


@dataclass(frozen=True)
class CodeList:
    key: str
    name: str
    description: str
    codes: tuple[str, ...]


@dataclass
class Catalogue:
    """All tag versions, categories and code lists."""

    versions: list[TagVersion]
    categories: dict[str, Category]
    lists: dict[str, CodeList]
    label: str = "shipped"

    def ids(self) -> list[str]:
        return sorted({v.id for v in self.versions})

    def versions_of(self, tag_id: str) -> list[TagVersion]:
        return sorted((v for v in self.versions if v.id == tag_id), key=lambda v: v.version)

    def in_force(self, as_of: dt.date | None = None) -> dict[str, TagVersion]:
        """Per id, the version in force at ``as_of`` (``None``: the latest version); retired and
        not-yet-valid tags are left out."""
        out: dict[str, TagVersion] = {}
        for v in sorted(self.versions, key=lambda v: (v.id, v.version)):
            if as_of is not None and v.valid_from > as_of:
                continue
            out[v.id] = v
        return {k: v for k, v in sorted(out.items()) if not v.retired}

    def latest(self) -> dict[str, TagVersion]:
        return self.in_force(None)

    def order(self) -> dict[str, int]:
        """Display order of tag ids: as they first appear in the catalogue files."""
        out: dict[str, int] = {}
        for v in self.versions:
            out.setdefault(v.id, len(out))
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the canonical content (versions, categories, lists)."""
        return hashlib.sha256(canonical_json(self).encode("utf-8")).hexdigest()

    def merged(self, other: "Catalogue") -> "Catalogue":
        """This catalogue plus the versions and lists of ``other`` (an uploaded change)."""
        lists = dict(self.lists)
        lists.update(other.lists)
        categories = dict(self.categories)
        categories.update(other.categories)
        return Catalogue(self.versions + other.versions, categories, lists, self.label)


def canonical_json(catalogue: Catalogue) -> str:
    data = {
        "versions": sorted((v.public() for v in catalogue.versions), key=lambda d: (d["id"], d["version"])),
        "categories": [asdict(c) for c in catalogue.categories.values()],
        "lists": {k: {"name": v.name, "description": v.description, "codes": list(v.codes)}
                  for k, v in sorted(catalogue.lists.items())},
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def catalogue_from_json(text: str, label: str) -> Catalogue:
    data = json.loads(text)
    versions = [TagVersion(**{**v, "valid_from": dt.date.fromisoformat(v["valid_from"])}, origin=label)
                for v in data["versions"]]
    categories = {c["key"]: Category(**c) for c in data["categories"]}
    lists = {k: CodeList(k, v["name"], v["description"], tuple(v["codes"])) for k, v in data["lists"].items()}
    return Catalogue(versions, categories, lists, label)


# ----------------------------------------------------------------------------- reading files


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping (as ``__line__``)."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(text: str, source: str):
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}", where=source) from exc


def _strip_lines(value):
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _entry_error(message: str, where: str, tag_id: str | None = None, allowed: str | None = None) -> DefinitionError:
    return DefinitionError(message, subject=f"tag {tag_id}" if tag_id else None, path=where, allowed=allowed)


def _date(value, where: str, tag_id: str | None) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _entry_error(f"valid_from {value!r} is not a date", where, tag_id, "YYYY-MM-DD") from None


def _expansions(foreach, where: str, tag_id: str | None, district: District | None) -> list[dict[str, str]]:
    if foreach == "towns":
        if district is None:
            raise _entry_error("foreach: towns needs the district file", where, tag_id)
        return [{"code": t.code, "name": t.name} for t in district.towns]
    if foreach == "sections":
        return [{"code": e.code, "name": e.name} for e in industries.industries(industries.Level.SECTION)]
    if isinstance(foreach, dict) and set(foreach) - {"__line__"} == {"divisions"}:
        out = []
        for code in foreach["divisions"] or []:
            try:
                entry = industries.get(str(code))
            except Exception as exc:  # NotFound / InvalidInput, reported with the place
                raise _entry_error(f"foreach divisions: {exc}", where, tag_id) from None
            if entry.level is not industries.Level.DIVISION:
                raise _entry_error(f"foreach divisions: {code!r} is not a 2-digit division", where, tag_id)
            out.append({"code": entry.code, "name": entry.name})
        return out
    raise _entry_error(f"unknown foreach {foreach!r}", where, tag_id, "towns, sections, {divisions: ['39', ...]}")


def _fill(value, item: dict[str, str]):
    if isinstance(value, str):
        return value.replace("{code}", item["code"]).replace("{key}", item["code"].lower()).replace("{name}", item["name"])
    return value


def parse_tag_file(text: str, source: str, district: District | None, categories: dict[str, Category] | None,
                   errors: list[DefinitionError]) -> list[TagVersion]:
    """The tag versions of one file; structural problems are appended to ``errors``."""
    data = _load_yaml(text, source)
    if not isinstance(data, dict) or not isinstance(data.get("tags"), list):
        errors.append(_entry_error("a tag file is a mapping with a list under 'tags'", source,
                                   allowed="defaults: {...}, tags: [{id: ..., ...}]"))
        return []
    unknown_top = set(data) - {"defaults", "tags", "__line__", "lists"}
    if unknown_top:
        errors.append(_entry_error(f"unknown key(s) {', '.join(sorted(unknown_top))}", source, allowed="defaults, tags, lists"))
    defaults = data.get("defaults") or {}
    out: list[TagVersion] = []
    for i, raw in enumerate(data["tags"]):
        line = raw.get("__line__") if isinstance(raw, dict) else None
        where = f"{source}: tags[{i}]"
        if not isinstance(raw, dict):
            errors.append(_entry_error("a tag entry is a mapping", where))
            continue
        entry = {**_strip_lines(defaults), **_strip_lines(raw)}
        tag_id = entry.get("id") if isinstance(entry.get("id"), str) else None
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            errors.append(_entry_error(f"unknown key(s) {', '.join(sorted(unknown))}", where, tag_id,
                                       ", ".join(sorted(ENTRY_KEYS))))
            continue
        items = [{"code": "", "name": ""}]
        if "foreach" in entry:
            try:
                items = _expansions(raw.get("foreach"), where, tag_id, district)
            except DefinitionError as exc:
                errors.append(exc)
                continue
        for item in items:
            filled = {k: _fill(v, item) for k, v in entry.items() if k != "foreach"}
            version = _tag_version(filled, where, categories, errors, line)
            if version is not None:
                out.append(version)
    return out


def _tag_version(entry: dict, where: str, categories: dict[str, Category] | None,
                 errors: list[DefinitionError], line: int | None = None) -> TagVersion | None:
    if line:
        errors_before = len(errors)
        version = _tag_version(entry, f"{where} (line {line})", categories, errors)
        if version is None or len(errors) > errors_before:
            return version
        return replace(version, origin=where, line=line)
    tag_id = entry.get("id") if isinstance(entry.get("id"), str) else None
    missing = [k for k in REQUIRED_KEYS if entry.get(k) in (None, "")]
    if missing:
        errors.append(_entry_error(f"missing {', '.join(missing)}", where, tag_id, ", ".join(REQUIRED_KEYS)))
        return None
    if not TAG_ID.match(str(entry["id"])):
        errors.append(_entry_error(f"id {entry['id']!r} is malformed", where, tag_id,
                                   "lower-case words joined by dots, e.g. innovation.high_tech"))
        return None
    try:
        version = int(entry["version"])
        if version < 1 or str(entry["version"]).strip() != str(version):
            raise ValueError
    except (TypeError, ValueError):
        errors.append(_entry_error(f"version {entry['version']!r} must be a whole number ≥ 1", where, tag_id))
        return None
    if entry["provenance"] not in PROVENANCES:
        errors.append(_entry_error(f"provenance {entry['provenance']!r} is unknown", where, tag_id, "official, derived"))
        return None
    if categories is not None and entry["category"] not in categories:
        errors.append(_entry_error(f"category {entry['category']!r} is unknown", where, tag_id, ", ".join(categories)))
        return None
    try:
        valid_from = _date(entry["valid_from"], where, tag_id)
    except DefinitionError as exc:
        errors.append(exc)
        return None
    retired = entry.get("retired", False)
    if not isinstance(retired, bool):
        errors.append(_entry_error("retired is true or false", where, tag_id))
        return None
    for key in ("definition", "value"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            errors.append(_entry_error(f"{key} must be text (an expression)", where, tag_id))
            return None
    return TagVersion(
        id=entry["id"], name=str(entry["name"]), category=str(entry["category"]), version=version,
        valid_from=valid_from, provenance=entry["provenance"], source=str(entry.get("source") or ""),
        description=str(entry["description"]).strip(), definition=str(entry["definition"]).strip(),
        value=(str(entry["value"]).strip() if entry.get("value") else None), retired=retired, origin=where,
    )


def parse_categories(text: str, source: str) -> dict[str, Category]:
    data = _strip_lines(_load_yaml(text, source))
    if not isinstance(data, dict) or not isinstance(data.get("categories"), list):
        raise InvalidInput("expected 'categories:' with a list", where=source)
    out = {}
    for i, c in enumerate(data["categories"]):
        if not isinstance(c, dict) or not c.get("key") or not c.get("name"):
            raise InvalidInput("each category needs key and name", where=f"{source}: categories[{i}]")
        out[c["key"]] = Category(c["key"], c["name"], c.get("description", ""))
    return out


def parse_lists(data, source: str, errors: list[DefinitionError]) -> dict[str, CodeList]:
    out: dict[str, CodeList] = {}
    if not isinstance(data, dict):
        errors.append(_entry_error("lists is a mapping of name → {name, codes}", source))
        return out
    for key, spec in data.items():
        where = f"{source}: lists.{key}"
        if key == "__line__":
            continue
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(key)) or not isinstance(spec, dict):
            errors.append(_entry_error(f"list {key!r}: a lower-case name with name and codes", where))
            continue
        codes = []
        for code in spec.get("codes") or []:
            try:
                codes.append(industries.get(str(code)).code)
            except Exception as exc:
                errors.append(_entry_error(f"list {key}: {exc}", where))
        if not codes:
            errors.append(_entry_error(f"list {key} has no valid codes", where))
            continue
        out[str(key)] = CodeList(str(key), str(spec.get("name", key)), str(spec.get("description", "")), tuple(codes))
    return out


def _resource_text(name: str) -> str:
    return resources.files(PACKAGE).joinpath(FOLDER).joinpath(name).read_text(encoding="utf-8")


def shipped_files() -> list[str]:
    folder = resources.files(PACKAGE).joinpath(FOLDER)
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_shipped(district: District) -> Catalogue:
    """The catalogue shipped with the platform, for ``district`` (towns expand from it)."""
    return _load_shipped(district)


@cache
def _load_shipped(district: District) -> Catalogue:
    errors: list[DefinitionError] = []
    categories = parse_categories(_resource_text("categories.yaml"), "categories.yaml")
    lists_data = _load_yaml(_resource_text("lists.yaml"), "lists.yaml")
    lists = parse_lists((lists_data or {}).get("lists", {}), "lists.yaml", errors)
    versions: list[TagVersion] = []
    for name in shipped_files():
        if name in ("categories.yaml", "lists.yaml"):
            continue
        versions += parse_tag_file(_resource_text(name), name, district, categories, errors)
    catalogue = Catalogue(versions, categories, lists, "shipped")
    errors += structural_errors(catalogue)
    if errors:
        raise DefinitionErrors(errors)
    return catalogue


def parse_upload(text: str, source: str, base: Catalogue, district: District) -> Catalogue:
    """An uploaded change: tag versions (and optional code lists) in the tag file format.

    Raises :class:`DefinitionErrors` listing every structural problem.
    """
    errors: list[DefinitionError] = []
    data = _load_yaml(text, source)
    lists: dict[str, CodeList] = {}
    if isinstance(data, dict) and data.get("lists") is not None:
        lists = parse_lists(data.get("lists"), source, errors)
    versions = parse_tag_file(text, source, district, base.categories, errors)
    if not versions and not errors:
        errors.append(_entry_error("the file defines no tags", source))
    if errors:
        raise DefinitionErrors(errors)
    return Catalogue(versions, {}, lists, source)


def structural_errors(catalogue: Catalogue, new: list[TagVersion] | None = None) -> list[DefinitionError]:
    """Duplicate versions, and (for ``new`` versions) versions that do not increase."""
    errors: list[DefinitionError] = []
    seen: dict[tuple[str, int], TagVersion] = {}
    for v in catalogue.versions:
        key = (v.id, v.version)
        if key in seen and seen[key] != v:
            errors.append(_entry_error(
                f"version {v.version} of tag {v.id} is defined twice with different content ({seen[key].origin})",
                v.origin, v.id, "a new version number for a changed definition"))
        seen.setdefault(key, v)
    return errors


def change_errors(base: Catalogue, change: Catalogue) -> list[DefinitionError]:
    """An uploaded version must be new: higher than every existing version of its tag."""
    errors = []
    for v in change.versions:
        existing = base.versions_of(v.id)
        same = next((e for e in existing if e.version == v.version), None)
        if same is not None and replace(same, origin="") == replace(v, origin=""):
            errors.append(_entry_error(f"version {v.version} of {v.id} is already in the catalogue unchanged",
                                       v.origin, v.id, f"version {existing[-1].version + 1} for a change"))
        elif existing and v.version <= existing[-1].version:
            errors.append(_entry_error(
                f"version {v.version} of {v.id} is not newer than the catalogue's version {existing[-1].version}",
                v.origin, v.id, f"version {existing[-1].version + 1} or higher"))
    return errors


# ----------------------------------------------------------------------------- compiling


@dataclass(frozen=True)
class CompiledTag:
    version: TagVersion
    condition: ir.Node
    value: ir.Node | None
    depends_on: tuple[str, ...]


def _subject(v: TagVersion) -> str:
    return f"tag {v.id}"


def compile_versions(tags: dict[str, TagVersion], lists: dict[str, CodeList], vocabulary: Vocabulary,
                     *, skip_unresolved: bool = False) -> tuple[dict[str, CompiledTag], list[DefinitionError], dict[str, str]]:
    """Check every definition; resolve ``tag()`` references among ``tags``; refuse cycles.

    Returns ``(compiled, errors, skipped)``; ``skipped`` maps a tag id to why it was left out
    (only with ``skip_unresolved``: a reference to a tag not in force at the date).
    """
    errors: list[DefinitionError] = []
    skipped: dict[str, str] = {}
    parsed: dict[str, tuple[S.Syntax, S.Syntax | None]] = {}
    refs: dict[str, list[tuple[str, int]]] = {}
    for tag_id, v in tags.items():
        try:
            cond = S.parse(v.definition)
        except DefinitionError as exc:
            errors.append(exc.located(subject=_subject(v), path=v.path("definition"), text=v.definition))
            continue
        value = None
        if v.value:
            try:
                value = S.parse(v.value)
            except DefinitionError as exc:
                errors.append(exc.located(subject=_subject(v), path=v.path("value"), text=v.value))
                continue
        parsed[tag_id] = (cond, value)
        refs[tag_id] = tag_references(cond) + (tag_references(value) if value is not None else [])

    # cycles: depth-first search over tag() references
    state: dict[str, int] = {}
    cyclic: set[str] = set()

    def dfs(node: str, stack: list[str]) -> None:
        state[node] = 1
        for target, at in refs.get(node, []):
            if target not in parsed:
                continue
            if state.get(target) == 1:
                cycle = stack[stack.index(target):] + [target] if target in stack else [node, target]
                v = tags[node]
                where_text = v.definition
                errors.append(DefinitionError(
                    f"cycle between tags: {' → '.join(cycle)}", subject=_subject(v), path=v.path("definition"),
                    position=_position(where_text, at), text=where_text,
                    allowed="references that do not lead back to the tag itself"))
                cyclic.update(cycle)
            elif state.get(target) is None:
                dfs(target, stack + [target])
        state[node] = 2

    for tag_id in sorted(parsed):
        if state.get(tag_id) is None:
            dfs(tag_id, [tag_id])

    compiled: dict[str, CompiledTag] = {}
    failed: set[str] = set(cyclic)
    lists_codes = {k: v.codes for k, v in lists.items()}

    class _DependencyFailed(Exception):
        """A referenced tag has errors of its own (reported for that tag, not again here)."""

    def body(tag_id: str) -> ir.Node | None:
        if tag_id in compiled:
            return compiled[tag_id].condition
        if tag_id not in tags:
            return None  # unknown: the checker reports it with suggestions
        if tag_id not in failed and tag_id in parsed:
            build(tag_id)
        if tag_id in compiled:
            return compiled[tag_id].condition
        raise _DependencyFailed(tag_id)

    def build(tag_id: str) -> None:
        v = tags[tag_id]
        cond_syn, value_syn = parsed[tag_id]
        missing = [t for t, _ in refs[tag_id] if t not in tags]
        if missing and skip_unresolved:
            skipped[tag_id] = f"depends on {', '.join(missing)}, not in force at this date"
            failed.add(tag_id)
            return
        bad = [t for t, _ in refs[tag_id] if t in failed or (t in tags and t not in parsed)]
        if bad:
            failed.add(tag_id)
            if skip_unresolved and all(t in skipped for t in bad):
                skipped[tag_id] = f"depends on {', '.join(bad)}, which was left out"
            return
        ctx = Context(vocabulary, lists_codes, body, frozenset(tags))
        try:
            cond = check_syntax(v.definition, cond_syn, ctx, expect="bool")
            value = check_syntax(v.value, value_syn, ctx, expect="number") if value_syn is not None else None
        except _DependencyFailed:
            failed.add(tag_id)
            return
        except DefinitionError as exc:
            is_value = value_syn is not None and exc.text == v.value
            errors.append(exc.located(subject=_subject(v), path=v.path("value" if is_value else "definition")))
            failed.add(tag_id)
            return
        compiled[tag_id] = CompiledTag(v, cond, value, tuple(dict.fromkeys(t for t, _ in refs[tag_id])))

    for tag_id in sorted(parsed):
        if tag_id not in compiled and tag_id not in failed:
            build(tag_id)
    return compiled, errors, skipped


def _position(text: str, offset: int):
    from shengxin.engine.errors import Position

    return Position.of(text, offset)


def validate(catalogue: Catalogue, vocabulary: Vocabulary) -> list[DefinitionError]:
    """Every problem of the catalogue's latest versions (and of every older version on its own)."""
    errors = structural_errors(catalogue)
    latest = catalogue.latest()
    _, errs, _ = compile_versions(latest, catalogue.lists, vocabulary)
    errors += errs
    # Older versions are checked against the latest versions of the tags they reference.
    seen = {(v.id, v.version) for v in latest.values()}
    for v in catalogue.versions:
        if (v.id, v.version) in seen or v.retired:
            continue
        _, errs, _ = compile_versions({**latest, v.id: v}, catalogue.lists, vocabulary)
        errors += [e for e in errs if e.subject == _subject(v)]
    return errors


def vocabulary_for(district: District) -> Vocabulary:
    return Vocabulary(towns={t.code: t.name for t in district.towns})


def compile_at(catalogue: Catalogue, as_of: dt.date, district: District) -> tuple[dict[str, CompiledTag], dict[str, str]]:
    """The tags in force at ``as_of``, compiled; raises :class:`DefinitionErrors` on any error."""
    compiled, errors, skipped = compile_versions(catalogue.in_force(as_of), catalogue.lists, vocabulary_for(district),
                                                 skip_unresolved=True)
    if errors:
        raise DefinitionErrors(errors)
    return compiled, skipped


def read_file(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput("file not found", where=str(path)) from None
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text", where=str(path)) from None
