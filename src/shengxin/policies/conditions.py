"""Typed policy conditions compiled to engine IR, with what explanations and near misses need.

A condition ``{field, op, value | value_by | value_expr, each_year, ref, label, near_miss}`` becomes
an :class:`Atomic`: the boolean engine node that decides it, the value it tests (``subject``),
its thresholds for explanations, and a *relaxed* node for near misses. Groups (``all`` / ``any`` /
``not``) become :class:`Group` nodes over their items. Nothing here evaluates anything: the engine's
SQL generator and single-enterprise evaluator both consume the nodes built here.

Rules:

* comparisons follow the engine's type and unit rules (money needs a unit, text only ``=``/``!=``);
* ``between`` is inclusive at both ends;
* ``at_least_ago N年`` holds when whole years since the date ≥ N (``个月`` for months);
  ``within_last N年`` when the date is not after the as-of date and whole years since it < N;
* ``value_by`` picks the threshold from bands of another field (``below`` is exclusive: a value
  equal to a band's ``below`` belongs to the next band); the condition is unknown when that field is;
* ``each_year: N`` requires the condition in each of the last N years: every monthly-series window
  of the field is shifted back 12 months per year;
* near miss: a numeric threshold condition is *nearly* met when the value is within the policy's
  ``near_miss_margin`` of the threshold (≥ threshold − |threshold| × margin for ``>=``/``>``,
  ≤ threshold + |threshold| × margin for ``<=``/``<``); any other condition is nearly met only
  if it says ``near_miss: true`` (then failing it alone always counts as nearly eligible).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from shengxin.engine import ir
from shengxin.engine import syntax as S
from shengxin.engine import types as T
from shengxin.engine.check import Checker, check_syntax
from shengxin.engine.errors import DefinitionError
from shengxin.policies.context import PolicyContext
from shengxin.policies.definition import COMPARISONS, ConditionDef
from shengxin.policies.errors import Collector
from shengxin.policies.values import const_for, parse_number, type_name
from shengxin.reference import industries

INDUSTRY_FIELD = "industry"


@dataclass(frozen=True)
class Band:
    """One band of a ``value_by`` threshold: ``lower <= by < upper`` (``None``: open)."""

    lower: Fraction | None
    upper: Fraction | None
    threshold: ir.Const


@dataclass(frozen=True)
class Atomic:
    """A compiled typed condition."""

    key: str
    path: str
    kind: str  # compare in between under tag age bool expr
    op: str | None
    node: ir.Node  # boolean: the condition
    near: ir.Node | None  # boolean: nearly met (None: never)
    subject: ir.Node | None  # the value tested (None for tags and free expressions)
    subjects: tuple[ir.Node, ...] = ()  # each_year: the subject in each year, newest first
    threshold: Any = None  # ir.Const | tuple[ir.Const, ...] | ir.Node (value_expr) | str
    bands: tuple[Band, ...] = ()
    band_by: ir.Node | None = None
    years: int = 1
    ref: str | None = None
    label: str | None = None
    negated: bool = False
    inputs: frozenset[str] = frozenset()
    near_declared: bool | None = None

    @property
    def where(self) -> str:
        return f"{self.path}（{self.key}）"


@dataclass(frozen=True)
class Group:
    key: str
    path: str
    kind: str  # all any not
    items: tuple["Group | Atomic", ...] = field(default_factory=tuple)

    def atomics(self) -> list[Atomic]:
        out: list[Atomic] = []
        for item in self.items:
            out.extend(item.atomics() if isinstance(item, Group) else [item])
        return out


def node_of(item: "Group | Atomic") -> ir.Node:
    """The boolean engine node of a condition or group."""
    if isinstance(item, Atomic):
        return item.node
    nodes = tuple(node_of(i) for i in item.items)
    if item.kind == "not":
        return ir.Not(nodes[0])
    if len(nodes) == 1:
        return nodes[0]
    return ir.And(nodes) if item.kind == "all" else ir.Or(nodes)


# ----------------------------------------------------------------------------- IR helpers


def shift_windows(node: ir.Node, months: int) -> ir.Node:
    """The same node with every monthly-series window moved ``months`` further back."""
    if isinstance(node, ir.SeriesAgg):
        return dataclasses.replace(node, offset=node.offset + months)
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, ir.Node):
            changes[f.name] = shift_windows(value, months)
        elif isinstance(value, tuple) and value and all(isinstance(v, ir.Node) for v in value):
            changes[f.name] = tuple(shift_windows(v, months) for v in value)
    return dataclasses.replace(node, **changes) if changes else node


def has_series(node: ir.Node) -> bool:
    return any(isinstance(n, ir.SeriesAgg) for n in ir.walk(node))


def input_names(node: ir.Node, ctx: PolicyContext) -> frozenset[str]:
    names = set()
    for n in ir.walk(node):
        spec = ctx.vocabulary.input_of(n)
        if spec is not None:
            names.add(spec.name)
    return frozenset(names)


def relax(c: Fraction, op: str, margin: Fraction) -> Fraction:
    """The threshold ``c`` moved by ``margin`` (a share of |c|) in the direction that admits more."""
    delta = abs(c) * margin
    return c - delta if op in (">", ">=") else c + delta


# ----------------------------------------------------------------------------- compiling


class ConditionCompiler:
    """Compiles the conditions of one policy, collecting problems instead of stopping at the first."""

    def __init__(self, ctx: PolicyContext, c: Collector, margin: Fraction):
        self.ctx = ctx
        self.c = c
        self.margin = margin
        self.engine_ctx = ctx.engine_context()

    # expressions -------------------------------------------------------------
    def expression(self, text: str, where: str, what: str, expect: str | None = None) -> ir.Node | None:
        try:
            return check_syntax(text, S.parse(text), self.engine_ctx, expect=expect)
        except DefinitionError as exc:
            self.c.engine(where, exc, what)
            return None

    def compare(self, op: str, left: ir.Node, right: ir.Node, where: str) -> ir.Node | None:
        """An engine comparison (units unified, enums and class codes checked)."""
        checker = Checker("", self.engine_ctx)
        dummy = S.Name("x")
        try:
            return checker.compare(op, left, right, dummy, dummy, 0)
        except DefinitionError as exc:
            self.c.add(where, f"比较无法成立：{exc.detail}", f"可用的写法：{exc.allowed}" if exc.allowed else "检查字段与取值的类型和单位")
            return None

    # groups --------------------------------------------------------------------
    def group(self, d: ConditionDef) -> Group | Atomic | None:
        if d.kind == "cond":
            return self.condition(d)
        items = [self.group(i) for i in d.items]
        if any(i is None for i in items) or not items:
            return None
        return Group(d.key, d.path, d.kind, tuple(items))

    # one condition -------------------------------------------------------------
    def condition(self, d: ConditionDef) -> Atomic | None:
        where = d.where
        if d.expr is not None:
            node = self.expression(d.expr, where, "条件表达式 expr", expect="bool")
            if node is None:
                return None
            return self.finish(d, Atomic(d.key, d.path, "expr", None, node, None, None, threshold=d.expr))
        if d.op in ("has_tag", "not has_tag"):
            return self.tag(d)
        if d.field is None:
            return None
        subject = self.expression(d.field, where, "字段 field")
        if subject is None:
            return None
        op = d.op
        if op in COMPARISONS:
            atom = self.comparison(d, subject)
        elif op in ("in", "not in"):
            atom = self.membership(d, subject)
        elif op in ("between", "not between"):
            atom = self.between(d, subject)
        elif op in ("under", "not under"):
            atom = self.under(d, subject)
        elif op in ("at_least_ago", "within_last"):
            atom = self.age(d, subject)
        elif op in ("is_true", "is_false"):
            atom = self.boolean(d, subject)
        else:
            return None
        return None if atom is None else self.finish(d, atom)

    def finish(self, d: ConditionDef, atom: Atomic) -> Atomic | None:
        """Apply ``each_year``, the declared near-miss choice, references and inputs."""
        if d.each_year and d.each_year > 1:
            if not has_series(atom.node):
                self.c.add(d.where, "each_year 只适用于按月序列计算的字段",
                           "字段里要有 sum(…)、growth(…) 等按月窗口的汇总，例如 growth(revenue, months=12)")
                return None
            shifted = [shift_windows(atom.node, 12 * k) for k in range(d.each_year)]
            near = None
            if atom.near is not None:
                near = ir.And(tuple(shift_windows(atom.near, 12 * k) for k in range(d.each_year)))
            subjects = tuple(shift_windows(atom.subject, 12 * k) for k in range(d.each_year)) if atom.subject is not None else ()
            atom = dataclasses.replace(atom, node=ir.And(tuple(shifted)), near=near, subjects=subjects, years=d.each_year)
        if d.near_miss is True:
            atom = dataclasses.replace(atom, near=ir.Const(True, T.BOOL))
        elif d.near_miss is False:
            atom = dataclasses.replace(atom, near=None)
        return dataclasses.replace(atom, ref=d.ref, label=d.label, inputs=input_names(atom.node, self.ctx),
                                   near_declared=d.near_miss)

    def value_node(self, d: ConditionDef, subject: ir.Node) -> ir.Node | None:
        if d.value_expr is not None:
            return self.expression(d.value_expr, d.where, "门槛表达式 value_expr")
        if d.value is None:
            self.c.add(d.where, "缺少取值 value", f"写上与字段同类的取值，例如 {self.example(subject)}")
            return None
        return const_for(d.value, subject.type, d.where, self.c)

    def example(self, subject: ir.Node) -> str:
        typ = subject.type
        if typ.kind == "number":
            from shengxin.policies.values import unit_example

            return f"value: {unit_example(typ.unit).split('、')[0]}"
        if typ.kind == "date":
            return "value: 2024-01-01"
        if typ.kind == "bool":
            return "value: true"
        if typ.enum:
            return f"value: {sorted(typ.enum)[0]}"
        return "value: '…'"

    def comparison(self, d: ConditionDef, subject: ir.Node) -> Atomic | None:
        op = d.op
        if subject.type.kind in ("string", "bool") and op not in ("=", "!="):
            self.c.add(d.where, f"{type_name(subject.type)}字段只能用 = 或 !=，不能用 {op}",
                       "改用 =、!=、in 或 not in")
            return None
        if d.value_by is not None:
            return self.banded(d, subject)
        value = self.value_node(d, subject)
        if value is None:
            return None
        if isinstance(subject, ir.EntField) and subject.name == INDUSTRY_FIELD and isinstance(value, ir.Const):
            if not self.class_code(value.value, d):
                return None
        node = self.compare(op, subject, value, d.where)
        if node is None:
            return None
        near = None
        if op in (">", ">=", "<", "<=") and subject.type.kind == "number" and self.margin > 0:
            if isinstance(value, ir.Const):
                relaxed = ir.Const(relax(value.value, op, self.margin), T.number(value.typ.unit or T.NONE))
            else:
                factor = (1 - self.margin) if op in (">", ">=") else (1 + self.margin)
                relaxed = ir.Arith("*", value, ir.Const(factor, T.number(T.NONE)), value.type)
            near = ir.Compare(">=" if op in (">", ">=") else "<=", subject, relaxed)
        return Atomic(d.key, d.path, "compare", op, node, near, subject, threshold=value)

    def class_code(self, code, d: ConditionDef) -> bool:
        try:
            entry = industries.get(str(code))
        except Exception as exc:  # DomainError from the reference data
            self.c.add(d.where, f"行业代码 {code!r} 无效：{exc}", "用 GB/T 4754-2017 的 4 位小类代码，门类/大类/中类请用 op: under")
            return False
        if entry.level is not industries.Level.CLASS:
            self.c.add(d.where, f"industry 字段是 4 位小类代码，而 {code!r} 是{entry.level.label}",
                       f"改用 op: under, value: '{code}'")
            return False
        return True

    def banded(self, d: ConditionDef, subject: ir.Node) -> Atomic | None:
        spec = d.value_by
        where = f"{d.where} value_by"
        if not isinstance(spec, dict) or "field" not in spec or not isinstance(spec.get("bands"), list) or not spec["bands"]:
            self.c.add(where, "分档门槛需要 field（分档依据）和 bands（各档）",
                       "value_by:\n  field: annual.revenue\n  bands:\n    - {below: 5000万元, value: 5%}\n    - {value: 3%}")
            return None
        by = self.expression(str(spec["field"]), where, "分档依据 field")
        if by is None:
            return None
        if by.type.kind != "number":
            self.c.add(where, f"分档依据应是数值，而它是{type_name(by.type)}", "例如 field: annual.revenue")
            return None
        bands: list[Band] = []
        lower = None
        for i, band in enumerate(spec["bands"]):
            bwhere = f"{where}.bands[{i}]"
            if not isinstance(band, dict) or "value" not in band or set(band) - {"below", "value"}:
                self.c.add(bwhere, "每档写 below（不含的上限，最后一档不写）和 value（本档门槛）", "{below: 5000万元, value: 5%}")
                return None
            last = i == len(spec["bands"]) - 1
            upper = None
            if "below" in band:
                bconst = const_for(band["below"], by.type, bwhere, self.c, "分档上限")
                if bconst is None:
                    return None
                upper = bconst.value
                if lower is not None and upper <= lower:
                    self.c.add(bwhere, "各档上限应从小到大排列", "按 below 从小到大写各档")
                    return None
            elif not last:
                self.c.add(bwhere, "只有最后一档可以不写 below", "给这一档写上 below，或把它移到最后")
                return None
            threshold = const_for(band["value"], subject.type, bwhere, self.c, "本档门槛")
            if threshold is None:
                return None
            bands.append(Band(lower, upper, threshold))
            lower = upper
        parts = []
        near_parts = []
        for band in bands:
            cond = self.band_condition(by, band)
            cmp = self.compare(d.op, subject, band.threshold, where)
            if cmp is None:
                return None
            parts.append(ir.And(tuple(cond + [cmp])) if cond else cmp)
            if d.op in (">", ">=", "<", "<=") and self.margin > 0:
                relaxed = ir.Const(relax(band.threshold.value, d.op, self.margin), band.threshold.typ)
                ncmp = ir.Compare(">=" if d.op in (">", ">=") else "<=", subject, relaxed)
                near_parts.append(ir.And(tuple(cond + [ncmp])) if cond else ncmp)
        node = ir.Or(tuple(parts)) if len(parts) > 1 else parts[0]
        near = (ir.Or(tuple(near_parts)) if len(near_parts) > 1 else near_parts[0]) if near_parts else None
        return Atomic(d.key, d.path, "compare", d.op, node, near, subject, bands=tuple(bands), band_by=by)

    @staticmethod
    def band_condition(by: ir.Node, band: Band) -> list[ir.Node]:
        typ = T.number(by.type.unit or T.NONE)
        out: list[ir.Node] = []
        if band.lower is not None:
            out.append(ir.Compare(">=", by, ir.Const(band.lower, typ)))
        if band.upper is not None:
            out.append(ir.Compare("<", by, ir.Const(band.upper, typ)))
        if not out:  # a single open band: the threshold applies whenever the field is known
            out.append(ir.IsNull(by, True))
        return out

    def membership(self, d: ConditionDef, subject: ir.Node) -> Atomic | None:
        values = d.value
        if not isinstance(values, list) or not values:
            self.c.add(d.where, f"{d.op} 后的取值应是非空列表", f"value: [{self.example(subject).split(': ')[1]}, …]")
            return None
        if subject.type.kind not in ("string", "number", "date"):
            self.c.add(d.where, f"{d.op} 不适用于{type_name(subject.type)}", "改用 = 或 is_true")
            return None
        consts = []
        for i, v in enumerate(values):
            k = const_for(v, subject.type, f"{d.where} value[{i}]", self.c)
            if k is None:
                return None
            if isinstance(subject, ir.EntField) and subject.name == INDUSTRY_FIELD and not self.class_code(k.value, d):
                return None
            consts.append(k)
        consts = tuple(dict.fromkeys(consts))
        negated = d.op == "not in"
        return Atomic(d.key, d.path, "in", d.op, ir.InValues(subject, consts, negated), None, subject,
                      threshold=consts, negated=negated)

    def between(self, d: ConditionDef, subject: ir.Node) -> Atomic | None:
        if not isinstance(d.value, list) or len(d.value) != 2:
            self.c.add(d.where, "between 的取值应是 [下限, 上限]", "value: [100万元, 500万元]（含两端）")
            return None
        if subject.type.kind not in ("number", "date"):
            self.c.add(d.where, f"between 不适用于{type_name(subject.type)}", "改用 in 或 =")
            return None
        low = const_for(d.value[0], subject.type, f"{d.where} value[0]", self.c, "下限")
        high = const_for(d.value[1], subject.type, f"{d.where} value[1]", self.c, "上限")
        if low is None or high is None:
            return None
        if low.value > high.value:
            self.c.add(d.where, f"条件自相矛盾：下限 {d.value[0]} 大于上限 {d.value[1]}，没有企业能满足", "交换两个取值")
            return None
        both = ir.And((ir.Compare(">=", subject, low), ir.Compare("<=", subject, high)))
        negated = d.op == "not between"
        near = None
        if not negated and subject.type.kind == "number" and self.margin > 0:
            near = ir.And((ir.Compare(">=", subject, ir.Const(relax(low.value, ">=", self.margin), low.typ)),
                           ir.Compare("<=", subject, ir.Const(relax(high.value, "<=", self.margin), high.typ))))
        return Atomic(d.key, d.path, "between", d.op, ir.Not(both) if negated else both, near, subject,
                      threshold=(low, high), negated=negated)

    def under(self, d: ConditionDef, subject: ir.Node) -> Atomic | None:
        if not (isinstance(subject, ir.EntField) and subject.name == INDUSTRY_FIELD):
            self.c.add(d.where, "under 只适用于行业字段 industry", "field: industry")
            return None
        values = d.value if isinstance(d.value, list) else [d.value]
        codes = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (str, int)) or not str(v).strip():
                self.c.add(d.where, f"行业代码 {v!r} 应是文字", "例如 value: C 或 value: ['C', '65']")
                return None
            try:
                codes.append(industries.get(str(v).strip()).code)
            except Exception as exc:
                self.c.add(d.where, f"行业代码 {v!r} 无效：{exc}",
                           "GB/T 4754-2017 代码：门类字母 A–T、2 位大类、3 位中类、4 位小类")
                return None
        negated = d.op == "not under"
        node = ir.Under(tuple(sorted(set(codes))), negated)
        return Atomic(d.key, d.path, "under", d.op, node, None, subject, threshold=tuple(sorted(set(codes))),
                      negated=negated)

    def tag(self, d: ConditionDef) -> Atomic | None:
        tag_id = d.value
        if not isinstance(tag_id, str) or not tag_id.strip():
            self.c.add(d.where, "has_tag 的取值应是标签编号", "value: innovation.high_tech")
            return None
        body = self.ctx.tags.bodies.get(tag_id)
        if body is None:
            import difflib

            close = difflib.get_close_matches(tag_id, list(self.ctx.tags.bodies), n=3, cutoff=0.6)
            hint = f"（是否是 {', '.join(close)}？）" if close else ""
            problem = f"；{self.ctx.tags.problem}" if self.ctx.tags.problem else ""
            self.c.add(d.where, f"未知的标签 {tag_id!r}{hint}{problem}", "在“标签目录”中查找标签编号，例如 innovation.high_tech")
            return None
        negated = d.op == "not has_tag"
        node: ir.Node = ir.TagRef(tag_id, body)
        if negated:
            node = ir.Not(node)
        return self.finish_plain(d, Atomic(d.key, d.path, "tag", d.op, node, None, None, threshold=tag_id,
                                           negated=negated))

    def finish_plain(self, d: ConditionDef, atom: Atomic) -> Atomic | None:
        if d.each_year and d.each_year > 1:
            self.c.add(d.where, "each_year 不适用于标签条件", "删掉 each_year")
            return None
        return self.finish(d, atom)

    def age(self, d: ConditionDef, subject: ir.Node) -> Atomic | None:
        if subject.type.kind != "date":
            self.c.add(d.where, f"{d.op} 需要日期字段，而它是{type_name(subject.type)}",
                       "例如 field: established_on（成立日期）")
            return None
        parsed = parse_number(d.value, d.where, self.c, "时长")
        if parsed is None:
            return None
        n, unit = parsed
        if unit not in (T.YEARS, T.MONTHS) or n.denominator != 1 or n < 0:
            self.c.add(d.where, f"时长 {d.value!r} 应是整数年或整数月", "例如 value: 1年 或 value: 6个月")
            return None
        since = ir.YearsSince(subject, "year" if unit == T.YEARS else "month")
        const = ir.Const(n, T.number(unit, integral=True))
        if d.op == "at_least_ago":
            node: ir.Node = ir.Compare(">=", since, const)
        else:
            node = ir.And((ir.Compare("<", since, const), ir.Compare("<=", subject, ir.AsOf())))
        return Atomic(d.key, d.path, "age", d.op, node, None, subject, threshold=const)

    def boolean(self, d: ConditionDef, subject: ir.Node) -> Atomic | None:
        if subject.type.kind != "bool":
            self.c.add(d.where, f"{d.op} 需要“是/否”字段，而它是{type_name(subject.type)}",
                       "例如 field: has(certifications, kind='high_tech', active=true)")
            return None
        negated = d.op == "is_false"
        node = ir.Not(subject) if negated else subject
        return Atomic(d.key, d.path, "bool", d.op, node, None, subject, negated=negated)
