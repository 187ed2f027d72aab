"""A whole policy compiled: its eligibility tree, amount formula and caps, validated together.

``compile_policy`` either returns a :class:`CompiledPolicy` or raises
:class:`~shengxin.policies.errors.PolicyInvalid` with every problem found, each naming the policy,
the condition (path and key) and a fix. Besides the engine's name, type and unit checks it refuses:

* contradictory conditions inside one ``all`` group — numeric or date ranges that cannot overlap
  (``>= 10`` with ``< 5``), text that must equal two different values, industries under disjoint
  codes — because no enterprise could ever qualify;
* a no-application (免申即享) policy whose conditions or amount need application inputs;
* an amount whose formula uses a name that is neither a field nor a declared input;
* a department code that the district does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache

from shengxin.engine import ir
from shengxin.engine import reference as R
from shengxin.engine import render
from shengxin.policies import amounts as A
from shengxin.policies.conditions import Atomic, ConditionCompiler, Group, input_names
from shengxin.policies.context import PolicyContext, Tags, make_context
from shengxin.policies.definition import PolicyDef, parse_text
from shengxin.policies.errors import Collector
from shengxin.reference.district import District

MAX_ROOT_ITEMS = 60


@dataclass(frozen=True)
class CompiledPolicy:
    definition: PolicyDef
    root: Group  # always an "all" group: its items are the conditions near misses count
    amount: A.Amount | None
    caps: A.Caps
    margin: Fraction
    context: PolicyContext

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def items(self) -> tuple[Group | Atomic, ...]:
        return self.root.items

    def atomics(self) -> list[Atomic]:
        return self.root.atomics()

    def atomic(self, key: str) -> Atomic | None:
        return next((a for a in self.atomics() if a.key == key), None)

    def nodes(self) -> list[ir.Node]:
        """Every engine node the policy evaluates: its conditions, their near-miss relaxations and
        the conditions and values of its amount."""
        found = []
        for a in self.atomics():
            found.append(a.node)
            if a.near is not None and not isinstance(a.near, ir.Const):
                found.append(a.near)
        return found + A.conditions_of(self.amount) + A.values_of(self.amount)

    @cached_property
    def tables_read(self) -> frozenset[str]:
        """The canonical tables evaluating the policy reads (the registry's ``enterprises`` always)."""
        from shengxin.engine.plan import tables_of

        return frozenset({t for node in self.nodes() for t in tables_of(node)} | {"enterprises"})

    def inputs_used(self) -> set[str]:
        names: set[str] = set()
        for a in self.atomics():
            names |= a.inputs
        for n in A.conditions_of(self.amount) + A.values_of(self.amount):
            names |= input_names(n, self.context)
        return names


def compile_policy(defn: PolicyDef, district: District | None = None, tags: Tags | None = None) -> CompiledPolicy:
    """Compile and validate one parsed policy (raises ``PolicyInvalid`` with every problem)."""
    c = Collector(defn.id)
    ctx = make_context(defn.inputs, district, tags)
    margin = Fraction(Decimal(defn.near_miss_margin.rstrip("%"))) / 100
    compiler = ConditionCompiler(ctx, c, margin)
    if district is not None and defn.department and district.department(defn.department) is None:
        c.add("department", f"本区没有编号为 {defn.department!r} 的部门",
              "可选：" + "、".join(f"{d.code}（{d.name}）" for d in district.departments))
    tree = compiler.group(defn.eligibility) if defn.eligibility is not None else None
    root = None
    if tree is not None:
        root = tree if isinstance(tree, Group) and tree.kind == "all" else Group("root", "eligibility", "all", (tree,))
        if len(root.items) > MAX_ROOT_ITEMS:
            c.add("eligibility", f"最外层条件多于 {MAX_ROOT_ITEMS} 项", "把相关条件合并成 all / any 子组")
        for group in _all_groups(root):
            _contradictions(group, c)
    amount = None
    if defn.amount is not None:
        amount = A.AmountParser(compiler, c).parse(defn.amount)
        if amount is not None and A.scale_of(amount) > A.MAX_SCALE:
            c.add("amount", f"金额公式的中间结果可能超过 {A.MAX_SCALE} 位小数，无法保证精确",
                  "比例最多写到 0.01%（四位小数），避免比例相乘")
    caps = A.parse_caps(defn.caps, c)
    c.raise_if_any()
    policy = CompiledPolicy(defn, root, amount, caps, margin, ctx)
    if defn.delivery == "no_application":
        used = policy.inputs_used()
        if used:
            c.add("delivery", f"免申即享政策不能依赖企业申报的信息（{', '.join(sorted(used))}）",
                  "改为 instant_application（即申即享）或 ordinary，或删去这些申报信息")
    c.raise_if_any()
    return policy


def compile_text(text: str, district: District | None = None, tags: Tags | None = None, source: str = "policy") -> CompiledPolicy:
    return compile_policy(parse_text(text, source), district, tags)


@lru_cache(maxsize=2048)
def compile_cached(text: str, district: District | None) -> CompiledPolicy:
    """Compile a stored policy text once per process (texts of versions never change)."""
    return compile_text(text, district)


# ----------------------------------------------------------------------------- contradictions


def _all_groups(group: Group):
    if group.kind == "all":
        yield group
    for item in group.items:
        if isinstance(item, Group):
            yield from _all_groups(item)


def _interval(a: Atomic):
    """``(low, low_open, high, high_open)`` of a numeric/date comparison with constant thresholds."""
    inf = None
    if a.kind == "compare" and not a.bands and isinstance(a.threshold, ir.Const) and a.years == 1:
        v = a.threshold.value
        return {">": (v, True, inf, False), ">=": (v, False, inf, False), "<": (inf, False, v, True),
                "<=": (inf, False, v, False), "=": (v, False, v, False)}.get(a.op)
    if a.kind == "between" and not a.negated and a.years == 1:
        low, high = a.threshold
        return (low.value, False, high.value, False)
    return None


def _values(a: Atomic):
    """``(allowed set | None, excluded set)`` of a text equality / membership condition."""
    if a.years != 1 or a.subject is None or a.subject.type.kind != "string":
        return None
    if a.kind == "compare" and not a.bands and isinstance(a.threshold, ir.Const):
        v = a.threshold.value
        return ({v}, set()) if a.op == "=" else (None, {v}) if a.op == "!=" else None
    if a.kind == "in":
        values = {k.value for k in a.threshold}
        return (None, values) if a.negated else (values, set())
    return None


@lru_cache(maxsize=1)
def _class_paths() -> dict[str, tuple[str, str, str, str]]:
    return {code: (r.section, r.division, r.grp, code) for code, r in R.class_refs().items()}


def _classes_under(codes: tuple[str, ...]) -> set[str]:
    wanted = set(codes)
    return {code for code, path in _class_paths().items() if wanted.intersection(path)}


def _contradictions(group: Group, c: Collector) -> None:
    atoms = [i for i in group.items if isinstance(i, Atomic)]
    by_subject: dict[str, list[Atomic]] = {}
    for a in atoms:
        if a.subject is not None:
            by_subject.setdefault(render.dsl(a.subject), []).append(a)
    for subject, items in by_subject.items():
        # numeric and date ranges
        low, low_open, high, high_open, low_by, high_by = None, False, None, False, None, None
        for a in items:
            iv = _interval(a)
            if iv is None:
                continue
            lo, lo_open, hi, hi_open = iv
            if lo is not None and (low is None or lo > low or (lo == low and lo_open)):
                low, low_open, low_by = lo, lo_open, a
            if hi is not None and (high is None or hi < high or (hi == high and hi_open)):
                high, high_open, high_by = hi, hi_open, a
        if low is not None and high is not None and (low > high or (low == high and (low_open or high_open))):
            c.add(f"{high_by.where} 与 {low_by.where}",
                  f"条件自相矛盾：{subject} 不可能同时满足这两个条件，没有企业能符合",
                  "检查门槛和比较符号（例如 >= 与 <= 是否写反），或把其中一个放进 any 组")
            continue
        # text equality and membership
        allowed, excluded, first = None, set(), None
        for a in items:
            vals = _values(a)
            if vals is None:
                continue
            first = first or a
            ok, no = vals
            if ok is not None:
                allowed = set(ok) if allowed is None else allowed & ok
            excluded |= no
        if allowed is not None and not (allowed - excluded):
            c.add(f"{first.where} 等 {len(items)} 个条件", f"条件自相矛盾：{subject} 没有一个取值能同时满足这些条件",
                  "检查取值是否写错，或把这些条件放进 any 组（满足其一）")
    unders = [a for a in atoms if a.kind == "under" and not a.negated]
    if len(unders) > 1:
        common = None
        for a in unders:
            classes = _classes_under(a.threshold)
            common = classes if common is None else common & classes
        if not common:
            c.add(f"{unders[0].where} 与 {unders[1].where}",
                  "条件自相矛盾：所列行业没有交集，企业不可能同时属于这些行业", "如果是“属于其中之一”，请写在一个 under 的列表里")
