"""What a policy's expressions may refer to: the engine vocabulary, the policy's declared inputs,
the district's towns, the tag catalogue (for ``has_tag``) and its named code lists.

Rule: a declared input ``hires`` is the name ``input.hires`` in expressions; it is an enterprise
field whose column (``input_hires``) is empty in the data hub, so in bulk matching it is unknown
(the enterprise states it when it applies) and in test cases it is given under ``inputs:``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

from shengxin.engine import ir
from shengxin.engine import types as T
from shengxin.engine import vocabulary as V
from shengxin.engine.check import Context
from shengxin.reference.district import District

log = logging.getLogger(__name__)

INPUT_PREFIX = "input."
INPUT_COLUMN_PREFIX = "input_"


@dataclass(frozen=True)
class InputSpec:
    name: str  # without the prefix
    type: T.Type
    label: str

    @property
    def field_name(self) -> str:
        return INPUT_PREFIX + self.name

    @property
    def column(self) -> str:
        return INPUT_COLUMN_PREFIX + self.name


@dataclass(frozen=True)
class PolicyVocabulary(V.Vocabulary):
    """The engine vocabulary plus a policy's declared inputs (``input.<name>``)."""

    inputs: tuple[InputSpec, ...] = ()

    def top_level_names(self) -> list[str]:
        return [*super().top_level_names(), *(i.field_name for i in self.inputs)]

    def field(self, name: str) -> V.FieldSpec | None:
        if name.startswith(INPUT_PREFIX):
            spec = next((i for i in self.inputs if i.field_name == name), None)
            return None if spec is None else V.FieldSpec(spec.field_name, spec.column, spec.type, spec.label)
        return super().field(name)

    def input_of(self, node: ir.Node) -> InputSpec | None:
        if isinstance(node, ir.EntField) and node.name.startswith(INPUT_PREFIX):
            return next((i for i in self.inputs if i.field_name == node.name), None)
        return None


@dataclass(frozen=True)
class Tags:
    """Compiled tag bodies by id and the catalogue's named code lists (empty when unavailable)."""

    bodies: dict[str, ir.Node] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problem: str | None = None


@lru_cache(maxsize=4)
def shipped_tags(district: District) -> Tags:
    """The latest version of every shipped tag, compiled (cached per district)."""
    try:
        from shengxin.tags import catalogue as C

        cat = C.load_shipped(district)
        compiled, errors, _ = C.compile_versions(cat.latest(), cat.lists, C.vocabulary_for(district))
    except Exception as exc:  # the catalogue is optional for policies: has_tag reports it
        log.warning("tag catalogue unavailable for policies: %s", exc)
        return Tags(problem=f"标签目录无法加载：{exc}")
    return Tags({k: v.condition for k, v in compiled.items()}, {k: v.version.name for k, v in compiled.items()},
                {k: v.codes for k, v in cat.lists.items()},
                None if not errors else f"标签目录有 {len(errors)} 处错误")


def input_type(kind: str, unit: str | None) -> T.Type:
    if kind == "number":
        if unit is None:
            return T.number(T.NONE)
        lu = T.LITERAL_UNITS.get(unit)
        return T.number(lu.unit if lu else T.NONE, integral=lu is not None and lu.unit in (T.PEOPLE, T.MONEY))
    return {"bool": T.BOOL, "string": T.STRING, "date": T.DATE}[kind]


@dataclass(frozen=True)
class PolicyContext:
    """Everything needed to compile one policy."""

    vocabulary: PolicyVocabulary
    tags: Tags

    def engine_context(self) -> Context:
        return Context(self.vocabulary, dict(self.tags.lists), self.tags.bodies.get, frozenset(self.tags.bodies))


def make_context(inputs: dict, district: District | None, tags: Tags | None = None) -> PolicyContext:
    """The context of a policy with ``inputs`` (name → InputDef) in ``district``."""
    specs = tuple(InputSpec(name, input_type(d.type, d.unit), d.label) for name, d in sorted(inputs.items()))
    towns = {t.code: t.name for t in district.towns} if district is not None else {}
    if tags is None:
        tags = shipped_tags(district) if district is not None else Tags(problem="未配置区县，无法使用标签")
    return PolicyContext(PolicyVocabulary(towns=towns, inputs=specs), tags)
