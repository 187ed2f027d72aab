"""SQL generation: a :class:`~shengxin.engine.plan.Plan` becomes SQLGlot expressions.

Nothing here builds SQL text: every value enters the tree as a typed literal (``exp.Literal``,
``CAST('2026-10-31' AS DATE)``), every name as an identifier, and the tree is printed for a dialect
only at the end (DuckDB by default; the same tree prints for Spark). Queries:

``matrix_query(plan)``
    one row per enterprise registered on or before the as-of date: ``uscc``, ``town``, every atom
    (the evidence columns), and one boolean column ``t_<tag>`` (and ``v_<tag>`` for valued tags)
    per output. Built as CTEs: ``ent`` (registry, status as of the date) → one ``agg_<table>`` per
    table read (one scan, all its aggregates as conditional aggregates) → ``annual_latest`` →
    ``base`` (left joins + ``ref_class``) → ``ranked`` (window ranks) → ``layer_<k>`` (shared
    sub-expressions) → the outputs.
``sparse_query(plan, matrix)``
    the long table ``(uscc, town, tag_id, value)`` with one row per enterprise that has the tag.
``features_query(plan, matrix)``
    the evidence table ``(uscc, town, <atoms>)``.

Exactness: a comparison whose side is a ratio (``/``, ``avg``, ``growth``) is cross-multiplied in
exact decimals — ``growth(revenue, months=12) >= 20%`` becomes
``CASE WHEN before > 0 THEN now - before >= 0.2 * before END`` — so a firm that grew by exactly 20%
gets the tag, as the Python evaluator (exact fractions) says. Ratios used as values (a tag's value,
``rank`` of a ratio) are doubles.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import sqlglot
from sqlglot import exp

from shengxin.engine import asof as A
from shengxin.engine import ir
from shengxin.engine import reference as R
from shengxin.engine import types as T
from shengxin.engine import vocabulary as V
from shengxin.engine.evaluate import under_levels
from shengxin.engine.plan import ATOM_TYPES, Plan

EXACT = exp.DataType.build("DECIMAL(38, 0)")
VALUE_TYPE = exp.DataType.build("DECIMAL(38, 6)")
DOUBLE = exp.DataType.build("DOUBLE")
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
CMP = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def lit(value, typ: T.Type | None = None) -> exp.Expression:
    """A constant as a typed literal (never text spliced into SQL)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    f = Fraction(value)
    if not T.is_terminating(f):
        raise ValueError(f"{f} is not an exact decimal")
    if f < 0:
        return exp.Neg(this=exp.Literal.number(T.format_fraction(-f)))
    return exp.Literal.number(T.format_fraction(f))


_OPERATORS = (exp.Binary, exp.Unary, exp.Connector, exp.Predicate, exp.Not, exp.Neg)


def paren(e: exp.Expression) -> exp.Expression:
    """``e`` in parentheses unless it is an atom (column, literal, function call, CASE, …).

    (In SQLGlot binary operators are also ``Func`` subclasses, so operators are tested first.)"""
    if isinstance(e, _OPERATORS) and not isinstance(e, exp.Paren):
        return exp.Paren(this=e)
    return e


def and_(*parts: exp.Expression | None) -> exp.Expression | None:
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    out = paren(parts[0])
    for p in parts[1:]:
        out = exp.And(this=out, expression=paren(p))
    return out


def or_(*parts: exp.Expression) -> exp.Expression:
    out = paren(parts[0])
    for p in parts[1:]:
        out = exp.Or(this=out, expression=paren(p))
    return out


def case(*whens: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None) -> exp.Case:
    c = exp.Case()
    for cond, then in whens:
        c = c.when(cond, then, copy=False)
    if default is not None:
        c = c.else_(default, copy=False)
    return c


def _mul(a: exp.Expression | None, b: exp.Expression | None) -> exp.Expression | None:
    if a is None:
        return b
    if b is None:
        return a
    return exp.Mul(this=paren(a), expression=paren(b))


class Compiler:
    """Compiles IR nodes to SQLGlot expressions in one query layer."""

    def __init__(self, plan: Plan, available: dict[ir.Node, str] | None = None, row: bool = False):
        self.plan = plan
        self.as_of = plan.as_of
        self.available = available or {}
        self.row = row

    # ------------------------------------------------------------------ values
    def sql(self, node: ir.Node) -> exp.Expression:
        if node in self.available:
            return col(self.available[node])
        if isinstance(node, ir.Const):
            return lit(node.value, node.typ)
        if isinstance(node, ir.AsOf):
            return lit(self.as_of)
        if isinstance(node, ir.RowField):
            if not self.row:
                raise ValueError("row field outside an aggregate")
            return col(node.column)
        if isinstance(node, ATOM_TYPES):
            return col(self.plan.atoms[node])
        if isinstance(node, ir.IndustryLevel):
            return col("ref_" + ("grp" if node.level == "group" else node.level))
        if isinstance(node, ir.Under):
            parts = []
            for level, codes in under_levels(node.codes).items():
                target = col(self.plan.atoms[ir.INDUSTRY]) if level == "class" else col("ref_" + ("grp" if level == "group" else level))
                parts.append(exp.In(this=target, expressions=[lit(c) for c in codes]))
            e = or_(*parts) if len(parts) > 1 else parts[0]
            return exp.Not(this=paren(e)) if node.negated else e
        if isinstance(node, ir.SizeClass):
            return self.size_class()
        if isinstance(node, ir.ScopeThreshold):
            return col("ref_scope_threshold_fen")
        if isinstance(node, ir.ScopeRule):
            return col("ref_scope_name")
        if isinstance(node, ir.TextMatch):
            operand = self.sql(node.operand)
            if node.mode == "contains":
                return exp.GT(this=exp.StrPosition(this=operand, substr=lit(node.pattern)), expression=lit(0))
            return exp.StartsWith(this=operand, expression=lit(node.pattern))
        if isinstance(node, ir.ScopeName):
            threshold = col("ref_scope_threshold_fen")
            revenue = col(self.plan.atoms[ir.ANNUAL_REVENUE])
            return case((and_(exp.Not(this=exp.Is(this=threshold, expression=exp.null())),
                              exp.GTE(this=revenue, expression=threshold)), col("ref_scope_name")))
        if isinstance(node, ir.Arith):
            if node.op == "/":
                return self.ratio_value(node)
            left, right = self.sql(node.left), self.sql(node.right)
            if node.op == "*":
                return exp.Mul(this=paren(self.exact(node.left, left)), expression=paren(self.exact(node.right, right)))
            cls = exp.Add if node.op == "+" else exp.Sub
            return cls(this=paren(left), expression=paren(right))
        if isinstance(node, ir.Neg):
            return exp.Neg(this=paren(self.sql(node.operand)))
        if isinstance(node, (ir.Avg, ir.Growth)):
            return self.ratio_value(node)
        if isinstance(node, ir.Compare):
            return self.compare(node)
        if isinstance(node, ir.InValues):
            num, den, _, _ = self.frac(node.operand)
            if den is not None:  # a ratio: exact equality with each value
                parts = [self.compare(ir.Compare("=", node.operand, v)) for v in node.values]
                e = or_(*parts) if len(parts) > 1 else parts[0]
            else:
                e = exp.In(this=paren(num), expressions=[lit(v.value) for v in node.values])
            return exp.Not(this=paren(e)) if node.negated else e
        if isinstance(node, ir.IsNull):
            e = exp.Is(this=paren(self.sql(node.operand)), expression=exp.null())
            return exp.Not(this=paren(e)) if node.negated else e
        if isinstance(node, ir.And):
            return and_(*[self.sql(i) for i in node.items])
        if isinstance(node, ir.Or):
            return or_(*[self.sql(i) for i in node.items])
        if isinstance(node, ir.Not):
            return exp.Not(this=paren(self.sql(node.operand)))
        if isinstance(node, ir.Coalesce):
            items = [self.sql(i) for i in node.items]
            return exp.Coalesce(this=items[0], expressions=items[1:])
        if isinstance(node, ir.YearsSince):
            return self.since(node)
        if isinstance(node, ir.TagRef):
            return self.sql(node.body)
        raise TypeError(f"cannot compile {type(node).__name__}")

    def exact(self, node: ir.Node, e: exp.Expression) -> exp.Expression:
        """Integral values enter products as DECIMAL(38, 0) so that a product never overflows BIGINT."""
        if isinstance(node, ir.Const) or not node.type.is_number or not node.type.integral:
            return e
        return exp.cast(e, EXACT)

    def since(self, node: ir.YearsSince) -> exp.Expression:
        d = paren(self.sql(node.operand))
        a = self.as_of
        if node.until:
            if node.unit_name != "month":
                raise ValueError("only months_until is defined")
            # whole months from the as-of date to d
            index = exp.Add(this=exp.Mul(this=exp.Year(this=d), expression=lit(12)), expression=exp.Month(this=d))
            earlier = exp.LT(this=exp.Day(this=d), expression=lit(a.day))
            return exp.Sub(this=exp.Sub(this=paren(index), expression=lit(a.year * 12 + a.month)),
                           expression=case((earlier, lit(1)), default=lit(0)))
        if node.unit_name == "year":
            later = exp.GT(this=exp.Add(this=exp.Mul(this=exp.Month(this=d), expression=lit(100)), expression=exp.Day(this=d)),
                           expression=lit(a.month * 100 + a.day))
            return exp.Sub(this=exp.Sub(this=lit(a.year), expression=exp.Year(this=d)),
                           expression=case((later, lit(1)), default=lit(0)))
        index = exp.Add(this=exp.Mul(this=exp.Year(this=d), expression=lit(12)), expression=exp.Month(this=d))
        later = exp.GT(this=exp.Day(this=d), expression=lit(a.day))
        return exp.Sub(this=exp.Sub(this=lit(a.year * 12 + a.month), expression=paren(index)),
                       expression=case((later, lit(1)), default=lit(0)))

    def size_class(self) -> exp.Expression:
        values = {"emp": ir.ANNUAL_EMPLOYEES, "rev": ir.ANNUAL_REVENUE, "ast": ir.ANNUAL_ASSETS}
        v = {k: col(self.plan.atoms[n]) for k, n in values.items()}
        listed = lambda m: exp.Not(this=exp.Is(this=col(f"ref_{m}_small"), expression=exp.null()))  # noqa: E731
        micro = or_(*[and_(listed(m), exp.LT(this=v[m], expression=col(f"ref_{m}_small"))) for m in v])
        missing = or_(*[and_(listed(m), exp.Is(this=v[m], expression=exp.null())) for m in v])

        def reaches(tier: str) -> exp.Expression:
            return and_(*[or_(exp.Is(this=col(f"ref_{m}_small"), expression=exp.null()),
                              exp.GTE(this=v[m], expression=col(f"ref_{m}_{tier}"))) for m in v])

        return case(
            (exp.Is(this=col("ref_size_sector"), expression=exp.null()), exp.null()),
            (micro, lit("micro")),
            (missing, exp.null()),
            (reaches("large"), lit("large")),
            (reaches("medium"), lit("medium")),
            default=lit("small"),
        )

    # ------------------------------------------------------------------ exact ratios
    def frac(self, node: ir.Node):
        """``(numerator, denominator | None, guard | None, denominator known positive)``.

        The value is ``numerator / denominator`` wherever ``guard`` holds, unknown elsewhere.
        """
        if node in self.available:
            return col(self.available[node]), None, None, True
        if isinstance(node, ir.Growth):
            now, before = self.sql(node.now), self.sql(node.before)
            return (exp.Sub(this=self.exact(node.now, now), expression=self.exact(node.before, before)),
                    self.exact(node.before, before), exp.GT(this=before, expression=lit(0)), True)
        if isinstance(node, ir.Avg):
            total, count = self.sql(node.total), self.sql(node.count)
            return self.exact(node.total, total), self.exact(node.count, count), exp.GT(this=count, expression=lit(0)), True
        if isinstance(node, ir.Arith) and node.op in ("/", "*", "+", "-"):
            pa, qa, ga, sa = self.frac(node.left)
            pb, qb, gb, sb = self.frac(node.right)
            pa, pb = self.exact(node.left, pa) if qa is None else pa, self.exact(node.right, pb) if qb is None else pb
            if node.op == "/":
                guard = and_(ga, gb, exp.NEQ(this=paren(pb), expression=lit(0)))
                return _mul(pa, qb), _mul(qa, pb), guard, False
            if qa is None and qb is None:
                return self.sql(node), None, None, True
            if node.op == "*":
                return _mul(pa, pb), _mul(qa, qb), and_(ga, gb), sa and sb
            cls = exp.Add if node.op == "+" else exp.Sub
            return (cls(this=paren(_mul(pa, qb)), expression=paren(_mul(pb, qa))), _mul(qa, qb), and_(ga, gb), sa and sb)
        if isinstance(node, ir.Neg):
            p, q, g, s = self.frac(node.operand)
            return exp.Neg(this=paren(p)), q, g, s
        return self.sql(node), None, None, True

    def ratio_value(self, node: ir.Node) -> exp.Expression:
        """A ratio as a double (for values, not for comparisons)."""
        p, q, g, _ = self.frac(node)
        if q is None:
            return p
        value = exp.Div(this=exp.cast(p, DOUBLE), expression=paren(q))
        if isinstance(node, ir.Arith) and node.op == "/" and g is None:
            g = exp.NEQ(this=paren(q), expression=lit(0))
        return case((g, value)) if g is not None else value

    def compare(self, node: ir.Compare) -> exp.Expression:
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, ir.Coalesce) and operand not in self.available \
                    and any(self.frac(i)[1] is not None for i in operand.items):
                # coalesce of ratios: compare each candidate exactly, in order
                whens = []
                for item in operand.items:
                    present = self.sql(ir.IsNull(item, True))
                    other = node.right if side == "left" else node.left
                    pair = (item, other) if side == "left" else (other, item)
                    whens.append((present, self.compare(ir.Compare(node.op, *pair))))
                return case(*whens)
        pl, ql, gl, sl = self.frac(node.left)
        pr, qr, gr, sr = self.frac(node.right)
        if ql is None and qr is None:
            return CMP[node.op](this=paren(self.sql(node.left)), expression=paren(self.sql(node.right)))
        fast = self.integer_compare(node)
        exact = self.decimal_compare(node, (pl, ql, gl, sl), (pr, qr, gr, sr))
        if fast is None:
            return exact
        safe, quick = fast
        return case((safe, quick), default=exact)

    def integer_ratio(self, node: ir.Node):
        """``(numerator, denominator, guard, positive, parts)`` in BIGINT for a ratio of two
        integral values (growth or average of a money/people series, or ``x / y`` of two integral
        atoms), else ``None``. ``parts`` are the values whose size bounds the arithmetic."""
        def integral_atom(n: ir.Node) -> bool:
            return isinstance(n, ATOM_TYPES) and n.type.is_number and n.type.integral and n not in self.available

        if isinstance(node, ir.Growth) and integral_atom(node.now) and integral_atom(node.before):
            now, before = self.sql(node.now), self.sql(node.before)
            return exp.Sub(this=now, expression=before), before, exp.GT(this=before, expression=lit(0)), True, [now, before]
        if isinstance(node, ir.Avg) and integral_atom(node.total) and integral_atom(node.count):
            total, count = self.sql(node.total), self.sql(node.count)
            return total, count, exp.GT(this=count, expression=lit(0)), True, [total, count]
        if isinstance(node, ir.Arith) and node.op == "/" and integral_atom(node.left) and integral_atom(node.right):
            a, b = self.sql(node.left), self.sql(node.right)
            return a, b, exp.NEQ(this=b, expression=lit(0)), False, [a, b]
        return None

    def integer_compare(self, node: ir.Compare):
        """The fast path of an exact ratio comparison: a ratio of integral values against a
        constant ``p/q`` is ``numerator·q OP p·denominator`` in BIGINT — exact as long as the
        values are small enough not to overflow, which the returned ``safe`` condition checks
        (other rows take the DECIMAL path). Returns ``(safe, comparison)`` or ``None``."""
        for ratio_side, const_side, op in ((node.left, node.right, node.op), (node.right, node.left, FLIP[node.op])):
            if not (isinstance(const_side, ir.Const) and const_side.typ.is_number and const_side.value is not None):
                continue
            ratio = self.integer_ratio(ratio_side)
            if ratio is None:
                continue
            num, den, guard, positive, parts = ratio
            c = Fraction(const_side.value)
            p, q = c.numerator, c.denominator
            bound = (2**63 - 1) // (2 * max(q, abs(p), 1))
            safe = and_(*[exp.LT(this=exp.Abs(this=part), expression=lit(bound)) for part in parts])
            left = exp.Mul(this=paren(num), expression=lit(q)) if q != 1 else num
            right = exp.Mul(this=lit(p), expression=paren(den)) if p != 1 else den
            straight = CMP[op](this=paren(left), expression=paren(right))
            if positive:
                return safe, case((guard, straight))
            flipped = CMP[FLIP[op]](this=paren(left), expression=paren(right))
            return safe, case((exp.GT(this=den, expression=lit(0)), straight), (exp.LT(this=den, expression=lit(0)), flipped))
        return None

    def decimal_compare(self, node: ir.Compare, lhs, rhs) -> exp.Expression:
        """``a/b OP c/d`` cross-multiplied in DECIMAL(38, 0), with the sign of ``b·d`` deciding
        whether the comparison flips."""
        pl, ql, gl, sl = lhs
        pr, qr, gr, sr = rhs
        left, right = _mul(pl, qr), _mul(pr, ql)
        guard = and_(gl, gr)
        straight = CMP[node.op](this=paren(left), expression=paren(right))
        if sl and sr:
            return case((guard, straight)) if guard is not None else straight
        sign = _mul(ql, qr)
        flipped = CMP[FLIP[node.op]](this=paren(left), expression=paren(right))
        return case((and_(guard, exp.GT(this=paren(sign), expression=lit(0))), straight),
                    (and_(guard, exp.LT(this=paren(sign), expression=lit(0))), flipped))


# ---------------------------------------------------------------------------- query building


def _series_agg_sql(node: ir.SeriesAgg, as_of: dt.date, plan: Plan) -> exp.Expression:
    first, last = A.series_window(as_of, node.months, node.offset)
    month = col("month")
    cond = and_(exp.GTE(this=month, expression=lit(first)), exp.LTE(this=month, expression=lit(last)),
                Compiler(plan, row=True).sql(node.where) if node.where is not None else None)
    value = col(node.column)
    if node.func == "latest":
        key = case((and_(cond, exp.Not(this=exp.Is(this=value, expression=exp.null()))), month))
        return exp.ArgMax(this=case((cond, value)), expression=key)
    inner = case((cond, value))
    if node.func == "sum":
        e = exp.Sum(this=inner)
        return exp.cast(e, "BIGINT") if node.type.integral else e
    if node.func == "count":
        return exp.Count(this=inner)
    return (exp.Min if node.func == "min" else exp.Max)(this=inner)


def _event_agg_sql(node: ir.EventAgg, as_of: dt.date, plan: Plan) -> exp.Expression:
    spec = V.COLLECTIONS[node.table]
    conds = []
    if node.months is not None:
        conds.append(exp.GT(this=col(spec.date), expression=lit(A.event_window_start(as_of, node.months))))
    if node.active:
        end = col(spec.end)
        cmp = exp.GTE if spec.end_inclusive else exp.GT
        conds.append(or_(exp.Is(this=end, expression=exp.null()), cmp(this=end, expression=lit(as_of))))
    if node.where is not None:
        conds.append(Compiler(plan, row=True).sql(node.where))
    cond = and_(*conds)
    if node.func == "count":
        return exp.Count(this=case((cond, lit(1))) if cond is not None else exp.Star())
    value = col(node.column)
    inner = case((cond, value)) if cond is not None else value
    if node.func == "sum":
        e = exp.Sum(this=inner)
        return exp.cast(e, "BIGINT") if node.type.integral else e
    return (exp.Min if node.func == "min" else exp.Max)(this=inner)


def _needs_zero(node: ir.Node) -> bool:
    """Event counts and sums are 0, and series counts are 0, for an enterprise without rows."""
    if isinstance(node, ir.EventAgg):
        return node.func in ("count", "sum")
    return isinstance(node, ir.SeriesAgg) and node.func == "count"


def matrix_query(plan: Plan) -> exp.Select:
    """One row per enterprise: evidence columns and one column per output (see module doc)."""
    as_of = plan.as_of
    ctes: list[tuple[str, exp.Expression]] = []

    # ent: the population and its registry fields as of the date
    ent_fields = {n: c for n, c in plan.atoms.items() if isinstance(n, ir.EntField)}
    ent_cols: list[exp.Expression] = [col("uscc"), exp.alias_(col("town_code"), "town")]
    for node, name in ent_fields.items():
        if node.name == "status":
            status = col("status")
            value = case((and_(exp.NEQ(this=status, expression=lit("active")),
                               exp.GT(this=col("status_changed_on"), expression=lit(as_of))), lit("active")), default=status)
        else:
            value = col(node.column)
        ent_cols.append(exp.alias_(value, name))
    established = col("established_on")
    ent = sqlglot.select(*ent_cols).from_("enterprises", copy=False).where(
        or_(exp.Is(this=established, expression=exp.null()), exp.LTE(this=established, expression=lit(as_of))))
    ctes.append(("ent", ent))

    joins: list[tuple[str, list[tuple[ir.Node, str]]]] = []
    # one grouped scan per monthly table
    by_table: dict[str, list[tuple[ir.Node, str]]] = {}
    for node, name in plan.atoms.items():
        if isinstance(node, (ir.SeriesAgg, ir.EventAgg)):
            by_table.setdefault(node.table, []).append((node, name))
    for table in sorted(by_table):
        items = by_table[table]
        if isinstance(items[0][0], ir.SeriesAgg):
            exprs = [exp.alias_(_series_agg_sql(n, as_of, plan), c) for n, c in items]
            windows = [A.series_window(as_of, n.months, n.offset) for n, _ in items]
            month = col("month")
            where = and_(exp.GTE(this=month, expression=lit(min(w[0] for w in windows))),
                         exp.LTE(this=month, expression=lit(max(w[1] for w in windows))))
        else:
            exprs = [exp.alias_(_event_agg_sql(n, as_of, plan), c) for n, c in items]
            date = col(V.COLLECTIONS[table].date)
            where = and_(exp.Not(this=exp.Is(this=date, expression=exp.null())), exp.LTE(this=date, expression=lit(as_of)))
        q = sqlglot.select(col("uscc"), *exprs).from_(table, copy=False).where(where, copy=False).group_by(
            col("uscc"), copy=False)
        ctes.append((f"agg_{table}", q))
        joins.append((f"agg_{table}", items))

    annual = [(n, c) for n, c in plan.atoms.items() if isinstance(n, ir.AnnualField)]
    if annual:
        latest = sqlglot.select(col("uscc"), exp.alias_(exp.Max(this=col("year")), "year")).from_(
            V.ANNUAL_TABLE, copy=False).where(exp.LTE(this=col("year"), expression=lit(A.annual_year(as_of))),
                                              copy=False).group_by(col("uscc"), copy=False)
        q = sqlglot.select(col("uscc", "f"), *[exp.alias_(col(n.column, "f"), c) for n, c in annual]).from_(
            exp.alias_(exp.to_table(V.ANNUAL_TABLE), "f", table=True), copy=False).join(
            exp.alias_(exp.Subquery(this=latest), "l", table=True),
            on=and_(exp.EQ(this=col("uscc", "f"), expression=col("uscc", "l")),
                    exp.EQ(this=col("year", "f"), expression=col("year", "l"))))
        ctes.append(("annual_latest", q))
        joins.append(("annual_latest", annual))

    def joined(keep: set[str] | None, ref_columns: set[str]) -> exp.Select:
        """The population with the atoms in ``keep`` (all if ``None``) and reference columns."""
        cols: list[exp.Expression] = [col("uscc", "ent"), col("town", "ent")]
        cols += [col(c, "ent") for c in ent_fields.values() if keep is None or c in keep]
        used = []
        for alias, items in joins:
            items = [(n, c) for n, c in items if keep is None or c in keep]
            if not items:
                continue
            used.append(alias)
            for node, name in items:
                value = col(name, alias)
                if _needs_zero(node):
                    value = exp.Coalesce(this=value, expressions=[lit(0)])
                cols.append(exp.alias_(value, name))
        for rc in sorted(ref_columns):
            cols.append(exp.alias_(col(rc, "ref"), f"ref_{rc}"))
        q = sqlglot.select(*cols).from_("ent", copy=False)
        for alias in used:
            q = q.join(alias, on=exp.EQ(this=col("uscc", alias), expression=col("uscc", "ent")), join_type="left",
                       copy=False)
        if ref_columns:
            q = q.join(exp.alias_(exp.to_table(R.TABLE_NAME), "ref", table=True),
                       on=exp.EQ(this=col("class_code", "ref"), expression=col(plan.atoms[ir.INDUSTRY], "ent")),
                       join_type="left", copy=False)
        return q

    # base: the population with every atom and the reference columns
    ctes.append(("base", joined(None, plan.ref_columns)))
    previous = "base"

    ranks = [(n, c) for n, c in plan.atoms.items() if isinstance(n, ir.Rank)]
    if ranks:
        # Window functions sort their whole input rows, so the ranks are computed over a narrow
        # projection — code, grouping keys, ranked values, built from only the atoms they need —
        # and joined back to ``base`` (which stays referenced once, so it is never materialised).
        from shengxin.engine.plan import _ref_columns

        needed: set[str] = set()
        ref_needed: set[str] = set()
        for node, _ in ranks:
            for n in ir.walk(node):
                if n is not node and isinstance(n, ATOM_TYPES):
                    needed.add(plan.atoms[n])
                ref_needed |= _ref_columns(n)
        if ref_needed:
            needed.add(plan.atoms[ir.INDUSTRY])
        ctes.append(("rank_base", joined(needed, ref_needed)))
        compiler = Compiler(plan)
        inputs: list[exp.Expression] = [col("uscc")]
        windows: list[exp.Expression] = [col("uscc")]
        for i, (node, name) in enumerate(ranks):
            value = compiler.ratio_value(node.operand) if node.operand.type.is_number else compiler.sql(node.operand)
            inputs.append(exp.alias_(value, f"v{i}"))
            keys = []
            for j, b in enumerate(node.by):
                inputs.append(exp.alias_(compiler.sql(b), f"k{i}_{j}"))
                keys.append(col(f"k{i}_{j}"))
            window = exp.Window(
                this=exp.func("RANK"), partition_by=keys or None,
                order=exp.Order(expressions=[exp.Ordered(this=col(f"v{i}"), desc=not node.ascending, nulls_first=False)]),
            )
            windows.append(exp.alias_(case((exp.Is(this=col(f"v{i}"), expression=exp.null()), exp.null()), default=window), name))
        ctes.append(("rank_inputs", sqlglot.select(*inputs).from_("rank_base", copy=False)))
        ctes.append(("ranks", sqlglot.select(*windows).from_("rank_inputs", copy=False)))
        joined_ranks = sqlglot.select(exp.Column(this=exp.Star(), table=exp.to_identifier(previous)),
                                      *[col(name, "ranks") for _, name in ranks]).from_(previous, copy=False).join(
            "ranks", on=exp.EQ(this=col("uscc", "ranks"), expression=col("uscc", previous)), copy=False)
        ctes.append(("ranked", joined_ranks))
        previous = "ranked"

    available: dict[ir.Node, str] = {}
    for k, layer in enumerate(plan.layers):
        compiler = Compiler(plan, dict(available))
        cols = [exp.Star()] + [exp.alias_(compiler.sql(node), name) for node, name in layer.items()]
        ctes.append((f"layer_{k}", sqlglot.select(*cols).from_(previous, copy=False)))
        previous = f"layer_{k}"
        available.update(layer)

    compiler = Compiler(plan, available)
    out_cols: list[exp.Expression] = [col("uscc"), col("town")] + [col(c) for c in plan.atoms.values()]
    for o in plan.outputs:
        out_cols.append(exp.alias_(compiler.sql(o.condition), plan.output_column(o.key)))
        if o.value is not None:
            out_cols.append(exp.alias_(exp.cast(compiler.sql(o.value), VALUE_TYPE), plan.value_column(o.key)))
    query = sqlglot.select(*out_cols).from_(previous, copy=False)
    for name, q in ctes:
        query = query.with_(name, as_=q, copy=False)
    return query


def _balanced_union(parts: list[exp.Expression]) -> exp.Expression:
    """``UNION ALL`` of many queries as a balanced tree (shallow, so printing never recurses deeply)."""
    while len(parts) > 1:
        parts = [exp.Union(this=parts[i], expression=parts[i + 1], distinct=False) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


def sparse_query(plan: Plan, matrix: str = "tag_matrix") -> exp.Expression:
    """``(uscc, town, tag_id, value)`` for every enterprise and output that holds, ordered by
    ``uscc, tag_id``. (The DuckDB backend reshapes the matrix with numpy instead, which is faster;
    this query is the dialect-neutral statement of the same reshape, e.g. for Spark.)"""
    parts = []
    for o in plan.outputs:
        value = col(plan.value_column(o.key)) if o.value is not None else exp.cast(exp.null(), VALUE_TYPE)
        parts.append(sqlglot.select(col("uscc"), col("town"), exp.alias_(lit(o.key), "tag_id"),
                                    exp.alias_(value, "value")).from_(matrix, copy=False)
                     .where(col(plan.output_column(o.key)), copy=False))
    if not parts:
        return sqlglot.select(exp.alias_(exp.cast(exp.null(), "VARCHAR"), "uscc"),
                              exp.alias_(exp.cast(exp.null(), "VARCHAR"), "town"),
                              exp.alias_(exp.cast(exp.null(), "VARCHAR"), "tag_id"),
                              exp.alias_(exp.cast(exp.null(), VALUE_TYPE), "value")).where(exp.false())
    union = _balanced_union(parts)
    return sqlglot.select("*").from_(exp.alias_(exp.Subquery(this=union), "tagged", table=True), copy=False).order_by(
        col("uscc"), col("tag_id"), copy=False)


def features_query(plan: Plan, matrix: str = "tag_matrix") -> exp.Select:
    """The evidence: ``uscc``, ``town`` and every atom, ordered by ``uscc``."""
    return sqlglot.select(col("uscc"), col("town"), *[col(c) for c in plan.atoms.values()]).from_(
        matrix, copy=False).order_by(col("uscc"), copy=False)


def to_sql(expression: exp.Expression, dialect: str = "duckdb", pretty: bool = True) -> str:
    return expression.sql(dialect=dialect, pretty=pretty)
