"""The single-enterprise evaluator: computes a definition for one enterprise in Python and explains
every condition with the values that decided it.

It is the second implementation of the language (the first is the SQL generator); property tests
check that both agree on random enterprises. Semantics shared with SQL:

* three-valued logic: a missing value is unknown (``None``); ``and``/``or``/``not`` follow SQL's
  rules (false and unknown is false, true or unknown is true); a tag is present only when its
  definition is true;
* numbers are exact fractions; division by zero is unknown; ``growth`` is unknown unless the
  earlier window's total is positive; ``avg`` is unknown without data;
* series aggregates of a window without data are unknown; event counts and sums are 0 without
  events; ``min``/``max`` of no events are unknown.

Leaves ("atoms": registry and annual fields, aggregates, ranks) come from an :class:`Env`:
:class:`FactsEnv` computes them from the raw rows of one enterprise, :class:`FeatureEnv` reads
them from a computed snapshot's evidence row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from shengxin.engine import asof as A
from shengxin.engine import ir, render
from shengxin.engine import reference as R
from shengxin.engine import vocabulary as V


class Env(Protocol):
    as_of: dt.date

    def atom(self, node: ir.Node) -> Any: ...


# ----------------------------------------------------------------------------- logic helpers


def _and(values) -> bool | None:
    values = list(values)
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def _or(values) -> bool | None:
    values = list(values)
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def _not(v: bool | None) -> bool | None:
    return None if v is None else not v


def _num(v):
    if v is None or isinstance(v, (str, bool, dt.date)):
        return v
    return ir.fraction(v)


_CMP = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def compare(op: str, a, b) -> bool | None:
    if a is None or b is None:
        return None
    return _CMP[op](_num(a), _num(b))


# ----------------------------------------------------------------------------- evaluation


def evaluate(node: ir.Node, env: Env):
    """The value of ``node`` for the enterprise of ``env``."""
    if isinstance(node, ir.Const):
        return node.value
    if isinstance(node, ir.AsOf):
        return env.as_of
    if isinstance(node, (ir.EntField, ir.AnnualField, ir.SeriesAgg, ir.EventAgg, ir.Rank, ir.RowField)):
        value = env.atom(node)
        return _num(value)
    if isinstance(node, ir.IndustryLevel):
        ref = R.class_ref(evaluate(ir.INDUSTRY, env))
        return None if ref is None else {"section": ref.section, "division": ref.division, "group": ref.grp}[node.level]
    if isinstance(node, ir.Under):
        return under(node, evaluate(ir.INDUSTRY, env))
    if isinstance(node, ir.SizeClass):
        ref = R.class_ref(evaluate(ir.INDUSTRY, env))
        return R.size_of(ref, *(evaluate(c, env) for c in node.children()[1:]))
    if isinstance(node, ir.ScopeThreshold):
        ref = R.class_ref(evaluate(ir.INDUSTRY, env))
        return None if ref is None or ref.scope_threshold_fen is None else Fraction(ref.scope_threshold_fen)
    if isinstance(node, ir.ScopeRule):
        ref = R.class_ref(evaluate(ir.INDUSTRY, env))
        return None if ref is None else ref.scope_name
    if isinstance(node, ir.TextMatch):
        v = evaluate(node.operand, env)
        if v is None:
            return None
        return node.pattern in v if node.mode == "contains" else v.startswith(node.pattern)
    if isinstance(node, ir.ScopeName):
        return R.scope_of(R.class_ref(evaluate(ir.INDUSTRY, env)), evaluate(ir.ANNUAL_REVENUE, env))
    if isinstance(node, ir.Arith):
        a, b = evaluate(node.left, env), evaluate(node.right, env)
        if a is None or b is None:
            return None
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        return None if b == 0 else Fraction(a) / b
    if isinstance(node, ir.Neg):
        v = evaluate(node.operand, env)
        return None if v is None else -v
    if isinstance(node, ir.Avg):
        total, count = evaluate(node.total, env), evaluate(node.count, env)
        return None if total is None or not count else Fraction(total) / count
    if isinstance(node, ir.Growth):
        now, before = evaluate(node.now, env), evaluate(node.before, env)
        if now is None or before is None or before <= 0:
            return None
        return Fraction(now - before) / before
    if isinstance(node, ir.Compare):
        return compare(node.op, evaluate(node.left, env), evaluate(node.right, env))
    if isinstance(node, ir.InValues):
        v = evaluate(node.operand, env)
        if v is None:
            return None
        found = any(compare("=", v, c.value) for c in node.values)
        return (not found) if node.negated else found
    if isinstance(node, ir.IsNull):
        v = evaluate(node.operand, env)
        return (v is not None) if node.negated else (v is None)
    if isinstance(node, ir.And):
        return _and(evaluate(i, env) for i in node.items)
    if isinstance(node, ir.Or):
        return _or(evaluate(i, env) for i in node.items)
    if isinstance(node, ir.Not):
        return _not(evaluate(node.operand, env))
    if isinstance(node, ir.Coalesce):
        for item in node.items:
            v = evaluate(item, env)
            if v is not None:
                return v
        return None
    if isinstance(node, ir.YearsSince):
        d = evaluate(node.operand, env)
        if d is None:
            return None
        f = A.whole_years if node.unit_name == "year" else A.whole_months
        return Fraction(f(env.as_of, d) if node.until else f(d, env.as_of))
    if isinstance(node, ir.TagRef):
        return evaluate(node.body, env)
    raise TypeError(f"cannot evaluate {type(node).__name__}")


def under_levels(codes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Codes grouped by level: section (letters), division (2 digits), group (3), class (4)."""
    levels: dict[str, list[str]] = {}
    for c in codes:
        level = "section" if c.isalpha() else {2: "division", 3: "group", 4: "class"}[len(c)]
        levels.setdefault(level, []).append(c)
    order = ("section", "division", "group", "class")
    return {lvl: tuple(sorted(levels[lvl])) for lvl in order if lvl in levels}


def under(node: ir.Under, industry) -> bool | None:
    """``industry under codes``: for each level, the enterprise's code at that level is one of the
    codes (class level compares the registered code itself); any level matching suffices."""
    ref = R.class_ref(industry)
    parts = []
    for level, codes in under_levels(node.codes).items():
        if level == "class":
            value = industry
        else:
            value = None if ref is None else {"section": ref.section, "division": ref.division, "group": ref.grp}[level]
        parts.append(None if value is None else value in codes)
    result = _or(parts)
    return _not(result) if node.negated else result


# ----------------------------------------------------------------------------- environments


@dataclass
class Facts:
    """The raw rows of one enterprise: its registry row and its rows of every other table."""

    enterprise: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def uscc(self) -> str:
        return self.enterprise["uscc"]


def in_population(enterprise: dict, as_of: dt.date) -> bool:
    """Whether an enterprise is tagged at ``as_of``: registered on or before it (or date unknown)."""
    established = enterprise.get("established_on")
    return established is None or established <= as_of


def status_as_of(status, changed_on, as_of: dt.date):
    """A status other than active that changed after the as-of date was still active then."""
    if status is not None and status != "active" and changed_on is not None and changed_on > as_of:
        return "active"
    return status


class FactsEnv:
    """Atoms computed from one enterprise's raw rows (``population`` is needed only for rank;
    pass one ``rank_cache`` dict to the environments of one population to rank it once)."""

    def __init__(self, facts: Facts, as_of: dt.date, population: list[Facts] | None = None,
                 rank_cache: dict | None = None):
        self.facts = facts
        self.as_of = as_of
        self.population = population
        self._rank_cache = rank_cache if rank_cache is not None else {}
        self._atoms: dict = {}

    def atom(self, node: ir.Node):
        if node not in self._atoms:
            self._atoms[node] = self._compute(node)
        return self._atoms[node]

    def _compute(self, node: ir.Node):
        if isinstance(node, ir.EntField):
            e = self.facts.enterprise
            if node.name == "status":
                return status_as_of(e.get("status"), e.get("status_changed_on"), self.as_of)
            return e.get(node.column)
        if isinstance(node, ir.AnnualField):
            year = A.annual_year(self.as_of)
            rows = [r for r in self.facts.tables.get(V.ANNUAL_TABLE, []) if r.get("year") is not None and r["year"] <= year]
            if not rows:
                return None
            return max(rows, key=lambda r: r["year"]).get(node.column)
        if isinstance(node, ir.SeriesAgg):
            return series_agg(node, self.facts.tables.get(node.table, []), self.as_of)
        if isinstance(node, ir.EventAgg):
            return event_agg(node, self.facts.tables.get(node.table, []), self.as_of)
        if isinstance(node, ir.Rank):
            return self.rank(node)
        raise TypeError(f"not an atom: {type(node).__name__}")

    def rank(self, node: ir.Rank):
        if self.population is None:
            raise ValueError("rank() needs the population of enterprises")
        if node not in self._rank_cache:
            entries = []
            for facts in self.population:
                env = FactsEnv(facts, self.as_of)
                entries.append((facts.uscc, tuple(evaluate(b, env) for b in node.by), evaluate(node.operand, env)))
            self._rank_cache[node] = entries
        entries = self._rank_cache[node]
        mine = next(e for e in entries if e[0] == self.facts.uscc)
        if mine[2] is None:
            return None
        better = sum(1 for e in entries if e[1] == mine[1] and e[2] is not None
                     and (e[2] < mine[2] if node.ascending else e[2] > mine[2]))
        return better + 1


class RowEnv:
    """A single row of a monthly table or event list, for ``where`` conditions."""

    def __init__(self, row: dict, as_of: dt.date):
        self.row = row
        self.as_of = as_of

    def atom(self, node: ir.Node):
        if isinstance(node, ir.RowField):
            return self.row.get(node.column)
        raise TypeError(f"{type(node).__name__} is not available inside where")


def _where_ok(where: ir.Node | None, row: dict, as_of: dt.date) -> bool:
    return where is None or evaluate(where, RowEnv(row, as_of)) is True


def series_agg(node: ir.SeriesAgg, rows: list[dict], as_of: dt.date):
    first, last = A.series_window(as_of, node.months, node.offset)
    picked = [(r["month"], r.get(node.column)) for r in rows
              if r.get("month") is not None and first <= r["month"] <= last and _where_ok(node.where, r, as_of)]
    values = [(m, _num(v)) for m, v in picked if v is not None]
    if node.func == "count":
        return len(values)
    if not values:
        return None
    if node.func == "sum":
        return sum(v for _, v in values)
    if node.func == "min":
        return min(v for _, v in values)
    if node.func == "max":
        return max(v for _, v in values)
    if node.func == "latest":
        return max(values, key=lambda mv: mv[0])[1]
    raise ValueError(node.func)


def event_rows(node: ir.EventAgg, rows: list[dict], as_of: dt.date) -> list[dict]:
    """The rows an event aggregate counts: dated on or before the as-of date, inside the window,
    in force if ``active``, and passing the filters."""
    spec = V.COLLECTIONS[node.table]
    start = A.event_window_start(as_of, node.months) if node.months is not None else None
    out = []
    for r in rows:
        d = r.get(spec.date)
        if d is None or d > as_of:
            continue
        if start is not None and not d > start:
            continue
        if node.active:
            end = r.get(spec.end)
            if end is not None and (end < as_of if spec.end_inclusive else end <= as_of):
                continue
        if not _where_ok(node.where, r, as_of):
            continue
        out.append(r)
    return out


def event_agg(node: ir.EventAgg, rows: list[dict], as_of: dt.date):
    picked = event_rows(node, rows, as_of)
    if node.func == "count":
        return len(picked)
    values = [_num(r.get(node.column)) for r in picked if r.get(node.column) is not None]
    if node.func == "sum":
        return sum(values, Fraction(0))
    if not values:
        return None
    return min(values) if node.func == "min" else max(values)


class FeatureEnv:
    """Atoms read from a snapshot's evidence row (``columns`` maps each atom to its column)."""

    def __init__(self, row: dict, columns: dict[ir.Node, str], as_of: dt.date):
        self.row = row
        self.columns = columns
        self.as_of = as_of

    def atom(self, node: ir.Node):
        column = self.columns.get(node)
        if column is None:
            raise KeyError(f"the snapshot has no evidence for {render.dsl(node)}")
        return self.row.get(column)


# ----------------------------------------------------------------------------- explanations


def value_info(node: ir.Node, env: Env) -> dict:
    """A value with its Chinese label, raw value, display text and (for derived values) inputs."""
    value = evaluate(node, env)
    info: dict[str, Any] = {
        "constant": isinstance(node, ir.Const),
        "expr": render.dsl(node),
        "label": render.label(node, env.as_of),
        "value": render.json_value(value),
        "display": render.display(value, node.type, render._field_key(node)),
    }
    inputs: list[ir.Node] = []
    if isinstance(node, ir.Growth):
        inputs = [node.now, node.before]
    elif isinstance(node, ir.Avg):
        inputs = [node.total, node.count]
    elif isinstance(node, (ir.SizeClass, ir.ScopeName)):
        inputs = list(node.children())
    elif isinstance(node, (ir.Arith, ir.Coalesce, ir.YearsSince, ir.Rank, ir.Neg)):
        inputs = [c for c in node.children() if not isinstance(c, ir.Const)]
    if isinstance(node, ir.SizeClass):
        info["standard"] = size_sentence(env)
    if isinstance(node, (ir.EntField,)) and node.name == "industry" and isinstance(value, str):
        info["display"] = industry_path_text(value)
    if inputs:
        info["inputs"] = [value_info(i, env) for i in inputs]
    return info


def industry_path_text(code: str) -> str:
    from shengxin.errors import DomainError
    from shengxin.reference import industries

    try:
        return " → ".join(e.label for e in industries.path(code))
    except DomainError:
        return f"{code}（不是有效的国民经济行业分类代码）"


def size_sentence(env: Env) -> str | None:
    """The reference explanation of the size class, e.g. ``工业：从业人员…→ 小型``."""
    from shengxin.errors import DomainError
    from shengxin.reference.size import assess_size

    industry = evaluate(ir.INDUSTRY, env)
    emp, rev, ast = (evaluate(n, env) for n in (ir.ANNUAL_EMPLOYEES, ir.ANNUAL_REVENUE, ir.ANNUAL_ASSETS))
    to_wan = lambda v: None if v is None else (Fraction(v) / R.WAN_YUAN_IN_FEN)  # noqa: E731
    try:
        wan = [to_wan(rev), to_wan(ast)]
        return assess_size(industry, None if emp is None else int(emp),
                           *(None if w is None else _decimal(w) for w in wan)).explanation
    except (DomainError, TypeError, ValueError):
        return None


def _decimal(f: Fraction):
    from decimal import Decimal

    return Decimal(f.numerator) / Decimal(f.denominator)


def explain(node: ir.Node, env: Env) -> dict:
    """The condition tree of a boolean definition with every actual value and threshold."""
    result = evaluate(node, env)
    out: dict[str, Any] = {
        "result": result,
        "expr": render.dsl(node),
        "label": render.condition_label(node, env.as_of),
    }
    if isinstance(node, (ir.And, ir.Or)):
        out["kind"] = "all" if isinstance(node, ir.And) else "any"
        out["conditions"] = [explain(i, env) for i in node.items]
    elif isinstance(node, ir.Not):
        out["kind"] = "not"
        out["conditions"] = [explain(node.operand, env)]
    elif isinstance(node, ir.TagRef):
        out["kind"] = "tag"
        out["tag_id"] = node.tag_id
        out["conditions"] = [explain(node.body, env)]
    elif isinstance(node, ir.Compare):
        out["kind"] = "compare"
        out["op"] = node.op
        if isinstance(node.right, ir.Const) or not isinstance(node.left, ir.Const):
            actual, threshold = node.left, node.right
        else:
            actual, threshold = node.right, node.left
        out["actual"] = value_info(actual, env)
        out["threshold"] = value_info(threshold, env)
        # the threshold reads in the actual value's terms (a ratio's 0 is 0%, a status is its label)
        out["threshold"]["display"] = render.display(evaluate(threshold, env), actual.type, render._field_key(actual))
    elif isinstance(node, ir.InValues):
        out["kind"] = "in"
        out["negated"] = node.negated
        out["actual"] = value_info(node.operand, env)
        out["values"] = [render.json_value(v.value) for v in node.values]
    elif isinstance(node, ir.Under):
        out["kind"] = "under"
        out["negated"] = node.negated
        out["actual"] = value_info(ir.INDUSTRY, env)
        out["codes"] = list(node.codes)
    elif isinstance(node, ir.IsNull):
        out["kind"] = "is_null"
        out["negated"] = node.negated
        out["actual"] = value_info(node.operand, env)
    else:
        out["kind"] = "value"
        out["actual"] = value_info(node, env)
    return out


def atoms(node: ir.Node) -> list[ir.Node]:
    """The atoms (values read from data) a definition needs, each once, in reading order."""
    seen: dict[ir.Node, None] = {}

    def visit(n: ir.Node) -> None:
        if isinstance(n, (ir.EntField, ir.AnnualField, ir.SeriesAgg, ir.EventAgg, ir.Rank)):
            seen.setdefault(n)
            if not isinstance(n, ir.Rank):
                return  # an aggregate's where reads row fields, not atoms
        for c in n.children():
            visit(c)

    visit(node)
    return list(seen)
