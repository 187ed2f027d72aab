"""Every enterprise against many policies at once: SQLGlot over the engine's condition matrix.

1. :func:`build` collects every distinct boolean node of every policy — atomic conditions, their
   near-miss relaxations, the conditions inside amount formulas, and the "active at the as-of
   date" test — and gives each one output of one engine plan. The engine computes each atom
   (field, aggregate) once and each distinct condition once, however many policies share it.
2. The engine's ``matrix_query`` computes that plan: one row per enterprise, one boolean column
   per distinct condition, plus the atoms.
3. :func:`results_query` combines the columns per policy (three-valued, like the evaluator), keeps
   only the sparse rows — eligible, near miss, missing data — and computes amounts (exact
   decimals) for eligible rows only.

No value is ever spliced into SQL text: the trees are printed for a dialect at the end.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from shengxin.engine import ir
from shengxin.engine import render
from shengxin.engine.plan import Output, Plan, make_plan
from shengxin.engine.sqlgen import Compiler, lit, matrix_query, to_sql
from shengxin.policies import amounts as A
from shengxin.policies.compile import CompiledPolicy
from shengxin.policies.conditions import Atomic, Group
from shengxin.policies.evaluate import ACTIVE

ACTIVE_KEY = "active"
PAID_TABLE = "policy_paid"
RESULT_COLUMNS = ("uscc", "town", "policy_id", "version", "status", "amount_fen", "false_mask", "unknown_mask")


def node_key(node: ir.Node) -> str:
    return "k" + hashlib.sha1(render.dsl(node).encode("utf-8")).hexdigest()[:16]


@dataclass
class MatchPlan:
    """The engine plan of a set of policies and the column of each distinct condition."""

    plan: Plan
    policies: list[tuple[CompiledPolicy, int]]  # (policy, version)
    keys: dict[ir.Node, str] = field(default_factory=dict)

    def column(self, node: ir.Node) -> str:
        return self.plan.output_column(self.keys[node])

    @property
    def distinct_conditions(self) -> int:
        return len(self.keys) - 1


def build(policies: list[tuple[CompiledPolicy, int]], as_of) -> MatchPlan:
    """One engine plan for all ``(policy, version)`` pairs at ``as_of``."""
    keys: dict[ir.Node, str] = {ACTIVE: ACTIVE_KEY}
    used: set[str] = {ACTIVE_KEY}
    outputs = [Output(ACTIVE_KEY, ACTIVE)]

    def add(node: ir.Node) -> None:
        if node in keys:
            return
        key = node_key(node)
        while key in used:  # a digest shared by two different nodes: keep both apart
            key += "x"
        keys[node] = key
        used.add(key)
        outputs.append(Output(key, node))

    for policy, _ in policies:
        for a in policy.atomics():
            add(a.node)
            if a.near is not None and not isinstance(a.near, ir.Const):
                add(a.near)
        for node in A.conditions_of(policy.amount):
            add(node)
        for node in A.values_of(policy.amount):
            add(ir.IsNull(node, True))  # brings the value's atoms into the matrix
    return MatchPlan(make_plan(outputs, as_of), list(policies), keys)


# ----------------------------------------------------------------------------- combining columns


def parenthesize(tree: exp.Expression) -> exp.Expression:
    """Wrap AND/OR operands of another connective (and NOT operands) in parentheses.

    SQLGlot prints ``And(Or(a, b), c)`` without parentheses, which SQL reads as ``a OR (b AND c)``;
    this pass makes the printed text mean the tree whatever built it.
    """
    fixes = []
    for node in tree.walk():
        if isinstance(node, exp.Connector):
            for key in ("this", "expression"):
                child = node.args.get(key)
                if isinstance(child, exp.Connector) and type(child) is not type(node):
                    fixes.append((node, key, child))
        elif isinstance(node, exp.Not) and isinstance(node.this, exp.Connector):
            fixes.append((node, "this", node.this))
    for parent, key, child in fixes:
        parent.set(key, exp.Paren(this=child.copy()))
    return tree


def _col(name: str) -> exp.Column:
    return exp.column(name)


def item_sql(item: Group | Atomic, mp: MatchPlan) -> exp.Expression:
    if isinstance(item, Atomic):
        return _col(mp.column(item.node))
    parts = [item_sql(i, mp) for i in item.items]
    if item.kind == "not":
        return exp.Not(this=exp.Paren(this=parts[0]))
    out = exp.Paren(this=parts[0])
    cls = exp.And if item.kind == "all" else exp.Or
    for p in parts[1:]:
        out = cls(this=out, expression=exp.Paren(this=p))
    return exp.Paren(this=out)


def _is(e: exp.Expression, value: bool | None) -> exp.Expression:
    target = exp.null() if value is None else exp.true() if value else exp.false()
    return exp.Is(this=exp.Paren(this=e.copy()), expression=target)


def _bigint(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("BIGINT"))


def _mask(conds: list[exp.Expression]) -> exp.Expression:
    """``sum(2^i for each true condition i)`` as BIGINT."""
    total: exp.Expression | None = None
    for i, c in enumerate(conds):
        term = exp.Case(ifs=[exp.If(this=c, true=exp.Literal.number(1 << i))], default=exp.Literal.number(0))
        total = term if total is None else exp.Add(this=total, expression=term)
    return _bigint(total if total is not None else exp.Literal.number(0))


def policy_query(policy: CompiledPolicy, version: int, mp: MatchPlan, matrix: str) -> exp.Select:
    """The sparse rows of one policy: ``RESULT_COLUMNS``.

    The inner query reads only the columns this policy needs: the top-level items' masks (bit i:
    item i is false / unknown), whether the failing item is nearly met, and the columns its amount
    formula reads. The outer query keeps eligible, near-miss and missing-data rows and computes the
    amount for eligible rows only.
    """
    items = [item_sql(i, mp) for i in policy.items]
    false = [_is(i, False) for i in items]
    unknown = [_is(i, None) for i in items]
    near_parts = []
    for item, f in zip(policy.items, false):
        if isinstance(item, Atomic) and item.near is not None:
            if isinstance(item.near, ir.Const):
                if item.near.value:
                    near_parts.append(f.copy())
            else:
                near_parts.append(exp.And(this=exp.Paren(this=f.copy()),
                                          expression=_is(_col(mp.column(item.near)), True)))
    near = near_parts[0] if near_parts else exp.false()
    for p in near_parts[1:]:
        near = exp.Or(this=exp.Paren(this=near), expression=exp.Paren(this=p))
    amount = amount_sql(policy, mp) if policy.amount is not None else None
    needed = sorted({c.name for c in amount.find_all(exp.Column) if not c.table}) if amount is not None else []
    inner = sqlglot.select(
        _col("uscc"), _col("town"),
        exp.alias_(_mask(false), "false_mask", copy=False),
        exp.alias_(_mask(unknown), "unknown_mask", copy=False),
        exp.alias_(near, "nearly", copy=False),
        *[_col(n) for n in needed], copy=False,
    ).from_(matrix, copy=False).where(_col(mp.column(ACTIVE)), copy=False)
    fm, um = _col("false_mask"), _col("unknown_mask")
    zero = exp.Literal.number(0)
    none_false = exp.EQ(this=fm.copy(), expression=zero.copy())
    none_unknown = exp.EQ(this=um.copy(), expression=zero.copy())
    eligible = exp.And(this=none_false.copy(), expression=none_unknown.copy())
    single = exp.EQ(this=exp.Paren(this=exp.BitwiseAnd(this=fm.copy(), expression=exp.Paren(
        this=exp.Sub(this=fm.copy(), expression=exp.Literal.number(1))))), expression=zero.copy())
    nearly = exp.And(this=exp.And(this=none_unknown.copy(), expression=exp.Paren(this=single)), expression=_col("nearly"))
    status = (exp.Case().when(eligible.copy(), exp.Literal.string("eligible"), copy=False)
              .when(none_false.copy(), exp.Literal.string("missing_data"), copy=False)
              .else_(exp.Literal.string("near_miss"), copy=False))
    if amount is not None:
        amount_col = exp.Case().when(eligible.copy(), amount, copy=False)
    else:
        amount_col = _bigint(exp.null())
    keep = exp.Or(this=none_false.copy(), expression=exp.Paren(this=nearly))
    sub = exp.alias_(exp.Subquery(this=inner), "m", table=True, copy=False)
    q = sqlglot.select(
        exp.column("uscc", "m"), exp.column("town", "m"),
        exp.alias_(lit(policy.id), "policy_id", copy=False),
        exp.alias_(exp.Cast(this=exp.Literal.number(version), to=exp.DataType.build("INTEGER")), "version", copy=False),
        exp.alias_(status, "status", copy=False),
        exp.alias_(_bigint(amount_col), "amount_fen", copy=False),
        fm.copy(), um.copy(), copy=False,
    ).from_(sub, copy=False).where(keep, copy=False)
    if policy.caps.any:
        q = q.join(exp.alias_(exp.to_table(PAID_TABLE), "p", table=True, copy=False),
                   on=exp.And(this=exp.EQ(this=exp.column("uscc", "p"), expression=exp.column("uscc", "m")),
                              expression=exp.EQ(this=exp.column("policy_id", "p"), expression=lit(policy.id))),
                   join_type="left", copy=False)
    return q


def amount_sql(policy: CompiledPolicy, mp: MatchPlan) -> exp.Expression:
    compiler = Compiler(mp.plan)
    value_sql = compiler.sql
    condition_sql = lambda node: _col(mp.column(node))  # noqa: E731
    raw = A.AmountSql(value_sql, condition_sql).sql(policy.amount)
    if policy.caps.any:
        return A.final_sql(raw, policy.caps, exp.column("paid_total_fen", "p"), exp.column("paid_year_fen", "p"))
    return A.final_sql(raw, policy.caps)


def results_query(mp: MatchPlan, matrix: str = "policy_matrix") -> exp.Expression:
    """All policies' sparse rows, one UNION ALL."""
    parts = [policy_query(p, v, mp, matrix) for p, v in mp.policies]
    if not parts:
        return sqlglot.select(*[exp.alias_(exp.cast(exp.null(), t), n) for n, t in zip(
            RESULT_COLUMNS, ("VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "VARCHAR", "BIGINT", "BIGINT", "BIGINT"))]
        ).where(exp.false())
    # a balanced tree of UNION ALL (a left-deep chain of 744 parts is slow to build and print)
    while len(parts) > 1:
        parts = [exp.Union(this=parts[i], expression=parts[i + 1], distinct=False) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parenthesize(parts[0])


def matrix_sql(mp: MatchPlan, dialect: str = "duckdb") -> str:
    return to_sql(parenthesize(matrix_query(mp.plan)), dialect, pretty=False)


def results_sql(mp: MatchPlan, matrix: str = "policy_matrix", dialect: str = "duckdb", pretty: bool = False) -> str:
    return to_sql(results_query(mp, matrix), dialect, pretty=pretty)



# ----------------------------------------------------------------------------- running on DuckDB

PAID_SCHEMA = pa.schema([pa.field("uscc", pa.string()), pa.field("policy_id", pa.string()),
                         pa.field("paid_total_fen", pa.int64()), pa.field("paid_year_fen", pa.int64())])
RESULT_SCHEMA = pa.schema([pa.field("uscc", pa.string()), pa.field("town", pa.string()),
                           pa.field("policy_id", pa.string()), pa.field("version", pa.int32()),
                           pa.field("status", pa.string()), pa.field("amount_fen", pa.int64()),
                           pa.field("false_mask", pa.int64()), pa.field("unknown_mask", pa.int64())])


def register_paid(con: duckdb.DuckDBPyConnection, paid: pa.Table | None = None) -> None:
    """Payments already made per (enterprise, policy) — used by per-enterprise and per-year caps."""
    con.register(PAID_TABLE, paid if paid is not None else PAID_SCHEMA.empty_table())


def execute(con: duckdb.DuckDBPyConnection, mp: MatchPlan, *, paid: pa.Table | None = None,
            matrix: str = "policy_matrix") -> pa.Table:
    """Run the plan on a connection that exposes the canonical tables; the sparse result rows."""
    from shengxin.engine.backend import register_reference

    register_reference(con)
    register_paid(con, paid)
    drop(con, matrix)
    con.sql(matrix_sql(mp)).create(matrix)
    try:
        table = con.sql(results_sql(mp, matrix)).to_arrow_table()
    finally:
        drop(con, matrix)
    return table.cast(RESULT_SCHEMA)



def drop(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop a work table if it exists (the statement is built by SQLGlot)."""
    con.execute(exp.Drop(tables=[exp.to_table(table)], kind="TABLE", exists=True).sql("duckdb"))
