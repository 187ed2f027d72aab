"""The validator: resolves names, checks types and units, and turns syntax into typed IR.

``check(syntax, context)`` either returns an IR tree or raises :class:`DefinitionError` pointing at
the node that is wrong, saying what was found and what is allowed. It checks:

* names — fields, series, event lists, lookups, functions (unknown names get suggestions);
* types — booleans where conditions are expected, numbers in arithmetic, dates with dates;
* units — see :mod:`shengxin.engine.types`;
* enumerations — ``status = 'activ'`` is refused, listing the allowed values;
* reference codes — ``industry under 'Z'`` is refused (not a GB/T 4754-2017 code);
* constructs — a list outside ``in``/``under``, a series without an aggregate, a window that is
  not a whole number of months, a keyword the function does not take.

Tag references (``tag('id')``) are resolved through the context, which the catalogue compiler
fills in dependency order after it has ruled out cycles.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from shengxin.engine import ir
from shengxin.engine import syntax as S
from shengxin.engine import types as T
from shengxin.engine import vocabulary as V
from shengxin.engine.errors import DefinitionError, Position
from shengxin.errors import DomainError
from shengxin.reference import industries

MAX_WINDOW_MONTHS = 120


@dataclass
class Context:
    """What a definition may refer to besides the vocabulary."""

    vocabulary: V.Vocabulary = field(default_factory=V.default_vocabulary)
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Resolves a tag id to its checked definition; ``None`` if there is no such tag.
    tag_body: Callable[[str], ir.Node | None] = lambda _id: None
    #: Ids that exist (for suggestions when one is misspelt).
    tag_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _RowScope:
    """Inside an aggregate's ``where``: the row fields of one table."""

    table: str
    label: str
    fields: dict[str, ir.RowField]


def _bare(node: ir.Node) -> bool:
    """A number literal written without a unit (its unit is decided by the other operand)."""
    return isinstance(node, ir.Const) and node.typ.kind == "number" and node.typ.unit is None


def _settle(node: ir.Node) -> ir.Node:
    """A bare literal that nothing gave a unit to is a plain number."""
    if _bare(node):
        return ir.Const(node.value, T.number(T.NONE, integral=node.typ.integral), at=node.at)
    return node


def _suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


class Checker:
    def __init__(self, text: str, context: Context):
        self.text = text
        self.ctx = context

    # ------------------------------------------------------------------ helpers
    def error(self, node_or_at, message: str, allowed: str | None = None) -> DefinitionError:
        at = node_or_at if isinstance(node_or_at, int) else node_or_at.at
        return DefinitionError(message, position=Position.of(self.text, at), text=self.text, allowed=allowed)

    def expect_bool(self, node: ir.Node, syn: S.Syntax, what: str) -> ir.Node:
        if node.type.kind not in ("bool", "null"):
            raise self.error(syn, f"{what} must be a condition (true/false), but this is a {node.type.label()}",
                             "a comparison such as x >= 10, in, between, under, is null, has(...), tag('...')")
        return node

    def expect_number(self, node: ir.Node, syn: S.Syntax, what: str) -> ir.Node:
        if node.type.kind != "number":
            raise self.error(syn, f"{what} must be a number, but this is a {node.type.label()}")
        return node

    def unify(self, a: ir.Node, b: ir.Node, syn_a: S.Syntax, syn_b: S.Syntax, what: str) -> tuple[ir.Node, ir.Node]:
        """Give a bare number literal the unit of the other side, or explain why that fails."""
        if _bare(a) and b.type.kind == "number" and not _bare(b):
            a = self.adopt(a, b.type, syn_a, what)
        elif _bare(b) and a.type.kind == "number" and not _bare(a):
            b = self.adopt(b, a.type, syn_b, what)
        else:
            a, b = _settle(a), _settle(b)
        if not T.same_kind(a.type, b.type):
            if a.type.kind == "number" and b.type.kind == "number":
                raise self.error(syn_b, f"unit mismatch in {what}: {a.type.label()} against {b.type.label()}",
                                 "operands of the same unit (convert with literal units such as 万元, 元, %, 人, kWh)")
            raise self.error(syn_b, f"type mismatch in {what}: {a.type.label()} against {b.type.label()}",
                             f"a {a.type.label()} on both sides")
        return a, b

    def adopt(self, literal: ir.Const, target: T.Type, syn: S.Syntax, what: str) -> ir.Const:
        if target.unit is not None and target.unit.needs_literal_unit:
            raise self.error(syn, f"unit mismatch in {what}: the number {T.format_fraction(literal.value)} has no unit "
                                  f"but the other side is {target.unit.label()}",
                             "write the unit: 分, 元, 万元 or 亿元 (e.g. 2000万元)")
        return ir.Const(literal.value, T.number(target.unit or T.NONE, integral=literal.typ.integral), at=literal.at)

    # ------------------------------------------------------------------ dispatch
    def check(self, syn: S.Syntax, scope: _RowScope | None = None) -> ir.Node:
        method = getattr(self, f"check_{type(syn).__name__}")
        return method(syn, scope)

    def check_top(self, syn: S.Syntax) -> ir.Node:
        return _settle(self.check(syn))

    def check_Number(self, syn: S.Number, scope) -> ir.Node:
        try:
            value = Fraction(Decimal(syn.text))
        except InvalidOperation:  # pragma: no cover - the tokenizer only yields digits
            raise self.error(syn, f"bad number {syn.text!r}") from None
        if syn.unit is None:
            return ir.Const(value, T.Type("number", None, integral=value.denominator == 1), at=syn.at)
        lu = T.LITERAL_UNITS[syn.unit]
        value *= lu.factor
        if lu.unit == T.MONEY and value.denominator != 1:
            raise self.error(syn, f"{syn.text}{syn.unit} is not a whole number of fen", "money with at most 2 decimals in 元")
        return ir.Const(value, T.number(lu.unit, integral=value.denominator == 1), at=syn.at)

    def check_String(self, syn: S.String, scope) -> ir.Node:
        return ir.Const(syn.value, T.STRING, at=syn.at)

    def check_Boolean(self, syn: S.Boolean, scope) -> ir.Node:
        return ir.Const(syn.value, T.BOOL, at=syn.at)

    def check_Null(self, syn: S.Null, scope) -> ir.Node:
        return ir.Const(None, T.NULL, at=syn.at)

    def check_ListOf(self, syn: S.ListOf, scope) -> ir.Node:
        raise self.error(syn, "a list is only allowed after in, not in or under, or as a filter value",
                         "x in ['a', 'b'], industry under ['C', '65'], count(ip_rights, kind=['a', 'b'])")

    def check_Name(self, syn: S.Name, scope: _RowScope | None) -> ir.Node:
        name = syn.name
        if scope is not None:
            short = name.split(".", 1)[1] if name.startswith(scope.table + ".") else name
            if short in scope.fields:
                return ir.replace_at(scope.fields[short], syn.at)
            raise self.error(syn, f"unknown field {name!r} inside {scope.label}{_suggest(short, scope.fields)}",
                             ", ".join(scope.fields))
        if name == "as_of":
            return ir.AsOf(at=syn.at)
        spec = self.ctx.vocabulary.field(name)
        if spec is not None:
            if name.startswith("annual."):
                return ir.AnnualField(name, spec.column, spec.type, at=syn.at)
            return ir.EntField(name, spec.column, spec.type, at=syn.at)
        if name in V.LOOKUPS:
            return {
                "size_class": lambda: ir.SizeClass(at=syn.at),
                "scope_name": lambda: ir.ScopeName(at=syn.at),
                "scope_threshold": lambda: ir.ScopeThreshold(at=syn.at),
                "scope_rule": lambda: ir.ScopeRule(at=syn.at),
                "industry_section": lambda: ir.IndustryLevel("section", at=syn.at),
                "industry_division": lambda: ir.IndustryLevel("division", at=syn.at),
                "industry_group": lambda: ir.IndustryLevel("group", at=syn.at),
            }[name]()
        if name in V.SERIES:
            raise self.error(syn, f"the monthly series {name!r} needs an aggregate over a window",
                             f"sum({name}, months=12), avg(...), min(...), max(...), count(...), latest(...), growth(...)")
        base = name.split(".", 1)[0]
        if base in V.COLLECTIONS:
            raise self.error(syn, f"the event list {base!r} needs an aggregate",
                             f"count({base}, ...), has({base}, ...), sum/min/max({base}.<field>, ...)")
        known = self.ctx.vocabulary.top_level_names()
        raise self.error(syn, f"unknown field {name!r}{_suggest(name, [*known, *V.SERIES, *V.COLLECTIONS])}",
                         ", ".join(known))

    def check_Unary(self, syn: S.Unary, scope) -> ir.Node:
        operand = self.check(syn.operand, scope)
        if syn.op == "not":
            return ir.Not(self.expect_bool(operand, syn.operand, "the operand of not"), at=syn.at)
        self.expect_number(operand, syn.operand, "the operand of -")
        if isinstance(operand, ir.Const):
            return ir.Const(-operand.value, operand.typ, at=syn.at)
        return ir.Neg(operand, at=syn.at)

    def check_Binary(self, syn: S.Binary, scope) -> ir.Node:
        if syn.op in ("and", "or"):
            left = self.expect_bool(self.check(syn.left, scope), syn.left, f"each side of {syn.op}")
            right = self.expect_bool(self.check(syn.right, scope), syn.right, f"each side of {syn.op}")
            cls = ir.And if syn.op == "and" else ir.Or
            items: list[ir.Node] = []
            for part in (left, right):
                items.extend(part.items if isinstance(part, cls) else (part,))
            return cls(tuple(items), at=syn.at)
        left = self.check(syn.left, scope)
        right = self.check(syn.right, scope)
        if syn.op in ("+", "-", "*", "/"):
            return self.arith(syn, left, right)
        return self.compare(syn.op, left, right, syn.left, syn.right, syn.at)

    def arith(self, syn: S.Binary, left: ir.Node, right: ir.Node) -> ir.Node:
        for node, s in ((left, syn.left), (right, syn.right)):
            self.expect_number(node, s, f"each side of {syn.op}")
        if syn.op in ("+", "-"):
            left, right = self.unify(left, right, syn.left, syn.right, f"'{syn.op}'")
            unit = left.type.unit
            integral = left.type.integral and right.type.integral
        else:
            left, right = _settle(left), _settle(right)
            unit = left.type.unit * right.type.unit if syn.op == "*" else left.type.unit / right.type.unit
            integral = syn.op == "*" and left.type.integral and right.type.integral
        typ = T.number(unit, integral=integral)
        if isinstance(left, ir.Const) and isinstance(right, ir.Const):
            a, b = left.value, right.value
            if syn.op == "/" and b == 0:
                raise self.error(syn.right, "division by zero")
            value = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[syn.op]()
            if not T.is_terminating(value):
                raise self.error(syn, f"the constant {T.format_fraction(value)} is not an exact decimal",
                                 "constants that are exact decimals")
            return ir.Const(value, T.number(unit, integral=value.denominator == 1), at=syn.at)
        return ir.Arith(syn.op, left, right, typ, at=syn.at)

    def compare(self, op: str, left: ir.Node, right: ir.Node, syn_l: S.Syntax, syn_r: S.Syntax, at: int) -> ir.Node:
        left, right = self.unify(left, right, syn_l, syn_r, f"the comparison '{op}'")
        kind = left.type.kind if left.type.kind != "null" else right.type.kind
        if kind == "null":
            raise self.error(syn_r, "comparing null with null", "x is null / x is not null")
        if (isinstance(left, ir.Const) and left.typ.kind == "null") or (isinstance(right, ir.Const) and right.typ.kind == "null"):
            raise self.error(syn_r, "a comparison with null is never true", "x is null, x is not null")
        if kind in ("bool", "string") and op not in ("=", "!="):
            raise self.error(syn_r, f"'{op}' does not apply to {kind} values", "= and != (or in / not in)")
        for value_node, other, s in ((right, left, syn_r), (left, right, syn_l)):
            self.check_enum(value_node, other, s)
        return ir.Compare(op, left, right, at=at)

    def check_enum(self, value_node: ir.Node, other: ir.Node, syn: S.Syntax) -> None:
        enum = other.type.enum
        if enum and isinstance(value_node, ir.Const) and isinstance(value_node.value, str) and value_node.value not in enum:
            raise self.error(syn, f"{value_node.value!r} is not a value of {self.describe_name(other)}",
                             ", ".join(repr(v) for v in sorted(enum)))
        if isinstance(other, ir.EntField) and other.name == "industry" and isinstance(value_node, ir.Const) \
                and isinstance(value_node.value, str):
            self.check_class_code(value_node.value, syn)

    def check_class_code(self, code: str, syn: S.Syntax) -> None:
        try:
            entry = industries.get(code)
        except DomainError as exc:
            raise self.error(syn, exc.message, "a 4-digit GB/T 4754-2017 class code; use under for sections, divisions, groups") from None
        if entry.level is not industries.Level.CLASS:
            raise self.error(syn, f"industry holds a 4-digit class; {code!r} is a {entry.level.label}",
                             f"industry under '{code}'")

    @staticmethod
    def describe_name(node: ir.Node) -> str:
        return getattr(node, "name", None) or type(node).__name__

    def literal_list(self, syn: S.Syntax, scope, operand: ir.Node) -> tuple[ir.Const, ...]:
        if isinstance(syn, S.Call) and syn.func == "codes":
            return tuple(ir.Const(c, T.STRING, at=syn.at) for c in self.named_list(syn))
        if isinstance(syn, S.Call) and syn.func == "district_towns":
            if syn.args or syn.kwargs:
                raise self.error(syn, "district_towns() takes no arguments", "town in district_towns()")
            if not self.ctx.vocabulary.towns:
                raise self.error(syn, "no district file is configured, so its towns are unknown")
            return tuple(ir.Const(c, T.STRING, at=syn.at) for c in sorted(self.ctx.vocabulary.towns))
        if not isinstance(syn, S.ListOf):
            raise self.error(syn, "expected a list", "['a', 'b'], codes('list_name') or district_towns()")
        if not syn.items:
            raise self.error(syn, "the list is empty", "at least one value")
        out = []
        for item in syn.items:
            value = self.check(item, scope)
            if not isinstance(value, ir.Const) or value.typ.kind == "null":
                raise self.error(item, "list items must be constants", "'text', numbers with units, true, false, date('…')")
            _, value = self.unify(operand, value, syn, item, "in")
            self.check_enum(value, operand, item)
            out.append(value)
        return tuple(dict.fromkeys(out))

    def named_list(self, call: S.Call) -> tuple[str, ...]:
        if len(call.args) != 1 or not isinstance(call.args[0], S.String) or call.kwargs:
            raise self.error(call, "codes() takes the name of one list", "codes('digital_economy_core')")
        name = call.args[0].value
        if name not in self.ctx.lists:
            raise self.error(call.args[0], f"unknown code list {name!r}{_suggest(name, self.ctx.lists)}",
                             ", ".join(sorted(self.ctx.lists)) or "(no lists are defined)")
        return self.ctx.lists[name]

    def check_InList(self, syn: S.InList, scope) -> ir.Node:
        operand = _settle(self.check(syn.operand, scope)) if not isinstance(syn.operand, S.Number) else self.check(syn.operand, scope)
        if operand.type.kind not in ("string", "number", "date", "bool"):
            raise self.error(syn.operand, f"in does not apply to a {operand.type.label()}")
        values = self.literal_list(syn.items, scope, operand)
        if isinstance(operand, ir.EntField) and operand.name == "industry":
            for v in values:
                self.check_class_code(v.value, syn.items)
        return ir.InValues(operand, values, syn.negated, at=syn.at)

    def check_Between(self, syn: S.Between, scope) -> ir.Node:
        operand = self.check(syn.operand, scope)
        low = self.check(syn.low, scope)
        high = self.check(syn.high, scope)
        lo = self.compare(">=", operand, low, syn.operand, syn.low, syn.at)
        hi = self.compare("<=", operand, high, syn.operand, syn.high, syn.at)
        both = ir.And((lo, hi), at=syn.at)
        return ir.Not(both, at=syn.at) if syn.negated else both

    def check_Under(self, syn: S.Under, scope) -> ir.Node:
        operand = self.check(syn.operand, scope)
        if not (isinstance(operand, ir.EntField) and operand.name == "industry"):
            raise self.error(syn.operand, "under applies to the enterprise's industry only", "industry under 'C'")
        if isinstance(syn.codes, S.String):
            raw: list[tuple[str, S.Syntax]] = [(syn.codes.value, syn.codes)]
        elif isinstance(syn.codes, S.Call) and syn.codes.func == "codes":
            raw = [(c, syn.codes) for c in self.named_list(syn.codes)]
        elif isinstance(syn.codes, S.ListOf):
            raw = []
            for item in syn.codes.items:
                if not isinstance(item, S.String):
                    raise self.error(item, "industry codes are quoted text", "'C', '65', '391', '3911'")
                raw.append((item.value, item))
            if not raw:
                raise self.error(syn.codes, "the list is empty", "at least one industry code")
        else:
            raise self.error(syn.codes, "expected industry codes", "'C', ['C', '65'] or codes('list_name')")
        codes = []
        for code, where in raw:
            try:
                codes.append(industries.get(code).code)
            except DomainError as exc:
                raise self.error(where, exc.message, "GB/T 4754-2017 codes: section A-T, 2-digit division, "
                                                     "3-digit group, 4-digit class") from None
        return ir.Under(tuple(sorted(set(codes))), syn.negated, at=syn.at)

    def check_IsNull(self, syn: S.IsNull, scope) -> ir.Node:
        return ir.IsNull(_settle(self.check(syn.operand, scope)), syn.negated, at=syn.at)

    # ------------------------------------------------------------------ calls
    def check_Call(self, syn: S.Call, scope) -> ir.Node:
        f = syn.func
        if f in ("codes", "district_towns"):
            raise self.error(syn, f"{f}() is only allowed after in or under", "industry under codes('name'), town in district_towns()")
        if f in ("sum", "avg", "min", "max", "count", "latest", "growth", "has"):
            if scope is not None:
                raise self.error(syn, f"{f}() cannot be nested inside another aggregate's where")
            if not syn.args:
                raise self.error(syn, f"{f}() needs a series or an event list as its first argument",
                                 f"{f}(revenue, months=12) or {f}(penalties, months=12)")
            first = syn.args[0]
            if isinstance(first, S.Name) and first.name in V.SERIES and f != "has":
                return self.series_call(syn, first)
            if isinstance(first, S.Name) and first.name.split(".", 1)[0] in V.COLLECTIONS and f not in ("avg", "latest", "growth"):
                return self.collection_call(syn, first)
            if isinstance(first, S.Name):
                known = [*V.SERIES, *V.COLLECTIONS]
                base = first.name.split(".", 1)[0]
                if base not in V.SERIES and base not in V.COLLECTIONS:
                    raise self.error(first, f"unknown series or event list {first.name!r}{_suggest(base, known)}",
                                     f"monthly series: {', '.join(V.SERIES)}; event lists: {', '.join(V.COLLECTIONS)}")
            allowed = (f"a monthly series ({', '.join(V.SERIES)})" if f in ("avg", "latest", "growth") else
                       f"an event list ({', '.join(V.COLLECTIONS)})" if f == "has" else
                       f"a monthly series ({', '.join(V.SERIES)}) or an event list ({', '.join(V.COLLECTIONS)})")
            raise self.error(first, f"unsupported first argument of {f}()", allowed)
        if f == "coalesce":
            self.no_kwargs(syn)
            if len(syn.args) < 2:
                raise self.error(syn, "coalesce() needs at least two arguments", "coalesce(x, 0元)")
            items = [self.check(a, scope) for a in syn.args]
            first = next((i for i in items if not _bare(i) and i.type.kind != "null"), items[0])
            out = []
            for item, s in zip(items, syn.args):
                _, item = self.unify(first, item, syn.args[0], s, "coalesce")
                out.append(item)
            return ir.Coalesce(tuple(out), at=syn.at)
        if f in ("years_since", "months_since", "months_until"):
            self.no_kwargs(syn)
            if len(syn.args) != 1:
                raise self.error(syn, f"{f}() takes one date", f"{f}(established_on)")
            operand = self.check(syn.args[0], scope)
            if operand.type.kind != "date":
                raise self.error(syn.args[0], f"{f}() needs a date, but this is a {operand.type.label()}",
                                 "established_on, max(financing.financed_on), date('2020-01-01')")
            return ir.YearsSince(operand, "year" if f == "years_since" else "month", f == "months_until", at=syn.at)
        if f in ("contains", "starts_with"):
            self.no_kwargs(syn)
            if len(syn.args) != 2 or not isinstance(syn.args[1], S.String):
                raise self.error(syn, f"{f}() takes a text and a quoted constant", f"{f}(legal_form, '股份有限公司')")
            operand = self.check(syn.args[0], scope)
            if operand.type.kind != "string":
                raise self.error(syn.args[0], f"{f}() needs text, but this is a {operand.type.label()}", "legal_form, name")
            if not syn.args[1].value:
                raise self.error(syn.args[1], "the text to look for is empty")
            return ir.TextMatch(operand, syn.args[1].value, f, at=syn.at)
        if f == "date":
            self.no_kwargs(syn)
            if len(syn.args) != 1 or not isinstance(syn.args[0], S.String):
                raise self.error(syn, "date() takes one 'YYYY-MM-DD' text", "date('2024-01-01')")
            try:
                value = dt.date.fromisoformat(syn.args[0].value)
            except ValueError:
                raise self.error(syn.args[0], f"{syn.args[0].value!r} is not a date", "date('2024-01-01')") from None
            return ir.Const(value, T.DATE, at=syn.at)
        if f == "tag":
            self.no_kwargs(syn)
            if len(syn.args) != 1 or not isinstance(syn.args[0], S.String):
                raise self.error(syn, "tag() takes one tag id in quotes", "tag('innovation.high_tech')")
            tag_id = syn.args[0].value
            body = self.ctx.tag_body(tag_id)
            if body is None:
                raise self.error(syn.args[0], f"unknown tag {tag_id!r}{_suggest(tag_id, self.ctx.tag_ids)}",
                                 "the id of a tag of the catalogue")
            return ir.TagRef(tag_id, body, at=syn.at)
        if f == "rank":
            return self.rank_call(syn, scope)
        raise self.error(syn, f"unknown function {f}(){_suggest(f, V.ALL_FUNCS)}", ", ".join(f + "()" for f in V.ALL_FUNCS if f != "codes"))

    def no_kwargs(self, syn: S.Call) -> None:
        if syn.kwargs:
            name, _, at = syn.kwargs[0]
            raise self.error(at, f"{syn.func}() takes no argument {name!r}")

    def int_kwarg(self, syn: S.Call, name: str, value: S.Syntax, low: int, high: int) -> int:
        if not isinstance(value, S.Number) or value.unit not in (None, "个月", "月") or "." in value.text:
            raise self.error(value, f"{name}= must be a whole number of months", f"{name}=12")
        n = int(value.text)
        if not low <= n <= high:
            raise self.error(value, f"{name}={n} is out of range", f"{low} to {high}")
        return n

    def series_call(self, syn: S.Call, first: S.Name) -> ir.Node:
        f = syn.func
        spec = V.SERIES[first.name]
        if len(syn.args) > 1:
            raise self.error(syn.args[1], f"{f}() takes one series; use months=, offset=, where= for the rest")
        allowed_kw = {"months", "offset", "where"} | ({"shift"} if f == "growth" else set())
        kw = {}
        for name, value, at in syn.kwargs:
            if name not in allowed_kw:
                raise self.error(at, f"{f}() of a monthly series takes no argument {name!r}", ", ".join(sorted(allowed_kw)))
            kw[name] = (value, at)
        if "months" not in kw:
            raise self.error(syn, f"{f}({first.name}) needs a window", f"{f}({first.name}, months=12)")
        months = self.int_kwarg(syn, "months", kw["months"][0], 1, MAX_WINDOW_MONTHS)
        offset = self.int_kwarg(syn, "offset", kw["offset"][0], 0, MAX_WINDOW_MONTHS) if "offset" in kw else 0
        where = None
        if "where" in kw:
            row_fields = {s.name: ir.RowField(s.table, s.name, s.column, s.type) for s in V.SERIES.values() if s.table == spec.table}
            row_fields["month"] = ir.RowField(spec.table, "month", "month", T.DATE)
            scope = _RowScope(spec.table, f"{f}({first.name}) where", row_fields)
            where = self.expect_bool(_settle(self.check(kw["where"][0], scope)), kw["where"][0], "where=")

        def agg(func: str, off: int = offset) -> ir.SeriesAgg:
            typ = V.COUNT if func == "count" else spec.type
            return ir.SeriesAgg(func, spec.table, spec.name, spec.column, months, off, where, typ, at=syn.at)

        if f == "avg":
            return ir.Avg(agg("sum"), agg("count"), at=syn.at)
        if f == "growth":
            shift = self.int_kwarg(syn, "shift", kw["shift"][0], 1, MAX_WINDOW_MONTHS) if "shift" in kw else 12
            return ir.Growth(agg("sum"), agg("sum", offset + shift), at=syn.at)
        return agg(f)

    def collection_call(self, syn: S.Call, first: S.Name) -> ir.Node:
        f = syn.func
        base, _, fname = first.name.partition(".")
        spec = V.COLLECTIONS[base]
        row_fields = {n: ir.RowField(base, n, fs.column, fs.type) for n, fs in spec.fields.items()}
        scope = _RowScope(base, f"{base}", row_fields)
        if f in ("count", "has"):
            if fname:
                raise self.error(first, f"{f}() counts rows of an event list", f"{f}({base}, ...)")
            column = None
            typ = V.COUNT
        else:
            if not fname:
                raise self.error(first, f"{f}() needs a field of {base}", ", ".join(f"{base}.{n}" for n in spec.fields))
            if fname not in spec.fields:
                raise self.error(first, f"unknown field {fname!r} of {base}{_suggest(fname, spec.fields)}",
                                 ", ".join(spec.fields))
            fs = spec.fields[fname]
            if f == "sum" and fs.type.kind != "number":
                raise self.error(first, f"sum() needs a number, {first.name} is a {fs.type.label()}")
            if f in ("min", "max") and fs.type.kind not in ("number", "date"):
                raise self.error(first, f"{f}() needs a number or a date, {first.name} is a {fs.type.label()}")
            column = fs.column
            typ = fs.type
        if len(syn.args) > 1:
            raise self.error(syn.args[1], f"{f}() takes one event list; filter with name=value or where=")
        months = None
        active = False
        conditions: list[tuple[str, ir.Node]] = []
        for name, value, at in syn.kwargs:
            if name == "months":
                months = self.int_kwarg(syn, "months", value, 1, MAX_WINDOW_MONTHS)
            elif name == "active":
                if not isinstance(value, S.Boolean):
                    raise self.error(value, "active= takes true or false", "active=true")
                if spec.end is None:
                    raise self.error(at, f"{base} has no end date, so active= does not apply",
                                     ", ".join(n for n, c in V.COLLECTIONS.items() if c.end))
                active = value.value
            elif name == "where":
                cond = self.expect_bool(_settle(self.check(value, scope)), value, "where=")
                conditions.append(("~where", cond))
            elif name in row_fields:
                rf = row_fields[name]
                if isinstance(value, S.ListOf):
                    values = self.literal_list(value, scope, rf)
                    conditions.append((name, ir.InValues(rf, values, False, at=value.at)))
                else:
                    v = self.check(value, scope)
                    if not isinstance(v, ir.Const):
                        raise self.error(value, f"{name}= takes a constant or a list", f"{name}='…' or {name}=['…', '…']")
                    conditions.append((name, self.compare("=", rf, v, value, value, value.at)))
            else:
                allowed = ["months", "where"] + (["active"] if spec.end else []) + list(row_fields)
                raise self.error(at, f"{f}({base}) takes no argument {name!r}{_suggest(name, allowed)}", ", ".join(allowed))
        conditions.sort(key=lambda c: c[0])
        where = None
        if conditions:
            parts = tuple(c for _, c in conditions)
            where = parts[0] if len(parts) == 1 else ir.And(parts)
        agg = ir.EventAgg("count" if f == "has" else f, base, column, fname or None, months, active, where, typ, at=syn.at)
        if f == "has":
            return ir.Compare(">", agg, ir.Const(Fraction(0), V.COUNT), at=syn.at)
        return agg

    def rank_call(self, syn: S.Call, scope) -> ir.Node:
        if scope is not None:
            raise self.error(syn, "rank() cannot be used inside where")
        if len(syn.args) != 1:
            raise self.error(syn, "rank() ranks one number", "rank(sum(tax, months=12))")
        operand = self.expect_number(_settle(self.check(syn.args[0])), syn.args[0], "the argument of rank()")
        by: list[ir.Node] = []
        ascending = False
        for name, value, at in syn.kwargs:
            if name == "by":
                items = value.items if isinstance(value, S.ListOf) else (value,)
                for item in items:
                    node = self.check(item)
                    if not isinstance(node, (ir.EntField, ir.IndustryLevel)) or node.type.kind != "string":
                        raise self.error(item, "rank(by=...) groups by a text field of the enterprise",
                                         "town, industry, industry_section, industry_division")
                    by.append(node)
            elif name == "order":
                if not isinstance(value, S.String) or value.value not in ("desc", "asc"):
                    raise self.error(value, "order= is 'desc' (largest first) or 'asc'", "order='desc'")
                ascending = value.value == "asc"
            else:
                raise self.error(at, f"rank() takes no argument {name!r}", "by, order")
        return ir.Rank(operand, tuple(by), ascending, at=syn.at)


def check(text: str, context: Context | None = None) -> ir.Node:
    """Parse and check one definition; raises :class:`DefinitionError`."""
    syntax = S.parse(text)
    return check_syntax(text, syntax, context or Context())


def check_syntax(text: str, syntax: S.Syntax, context: Context, *, expect: str | None = "bool") -> ir.Node:
    checker = Checker(text, context)
    node = checker.check_top(syntax)
    if expect == "bool":
        checker.expect_bool(node, syntax, "a definition")
    elif expect == "number":
        checker.expect_number(node, syntax, "a value")
    return node


def tag_references(syntax: S.Syntax) -> list[tuple[str, int]]:
    """Every ``tag('id')`` in a syntax tree as (id, offset), in reading order."""
    out: list[tuple[str, int]] = []

    def visit(node) -> None:
        if isinstance(node, S.Call):
            if node.func == "tag" and len(node.args) == 1 and isinstance(node.args[0], S.String):
                out.append((node.args[0].value, node.args[0].at))
            for a in node.args:
                visit(a)
            for _, v, _ in node.kwargs:
                visit(v)
            return
        for name in ("operand", "left", "right", "low", "high", "items", "codes"):
            child = getattr(node, name, None)
            if isinstance(child, tuple):
                for c in child:
                    visit(c)
            elif isinstance(child, S.Syntax):
                visit(child)

    visit(syntax)
    return sorted(out, key=lambda x: x[1])
