"""Bulk matching: combine the SQL condition matrix into per-policy answers, vectorised.

The SQL of :mod:`shengxin.policies.sql` computes every distinct condition once for every
enterprise (the engine's matrix). Combining those columns per policy could also be done in SQL —
``policy_query`` does exactly that and is the reference the tests compare with — but a 744-part
``UNION ALL`` costs DuckDB about 30 ms of planning per part, far more than the work itself. So bulk
matching reads the matrix once, in batches, as small integer codes (0 false, 1 unknown, 2 true)
and combines them with NumPy using the same three-valued rules:

* ``all`` is the minimum of its items' codes, ``any`` the maximum, ``not`` is ``2 − code``;
* status, masks and near misses are decided exactly as in :mod:`shengxin.policies.evaluate`;
* amounts are computed for eligible rows only, with exact integers (:class:`VectorAmount`).

Property tests check that this, the per-policy SQL and the single-enterprise evaluator agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp

from shengxin.engine import ir
from shengxin.engine.sqlgen import Compiler
from shengxin.policies import amounts as A
from shengxin.policies.conditions import Atomic, Group
from shengxin.policies.evaluate import ACTIVE
from shengxin.policies.sql import RESULT_SCHEMA, MatchPlan

STATUS_CODES = ("eligible", "near_miss", "missing_data")
FALSE, UNKNOWN, TRUE = 0, 1, 2


@dataclass(frozen=True)
class _Node:
    kind: str  # col all any not
    col: int = -1
    items: tuple = ()


@dataclass
class _Program:
    index: int
    policy_id: str
    version: int
    items: tuple[_Node, ...]
    near: tuple[int | bool | None, ...]  # per item: near column, True (declared), None (never)
    amount: A.Amount | None
    caps: A.Caps


class Combiner:
    """Compiled once per plan; :meth:`combine` turns one batch of the matrix into sparse rows."""

    def __init__(self, mp: MatchPlan):
        self.mp = mp
        self.conditions: list[ir.Node] = list(mp.keys)
        self.cond_index = {node: i for i, node in enumerate(self.conditions)}
        values: dict[ir.Node, int] = {}
        self.programs: list[_Program] = []
        for i, (policy, version) in enumerate(mp.policies):
            items = tuple(self._node(item) for item in policy.items)
            near = []
            for item in policy.items:
                if isinstance(item, Atomic) and item.near is not None:
                    near.append(True if isinstance(item.near, ir.Const) and item.near.value else
                                None if isinstance(item.near, ir.Const) else self.cond_index[item.near])
                else:
                    near.append(None)
            for node in A.values_of(policy.amount):
                values.setdefault(node, len(values))
            self.programs.append(_Program(i, policy.id, version, items, tuple(near), policy.amount, policy.caps))
        self.values = list(values)
        self.value_index = values
        # Policies with the same top-level items (and near-miss tests) have the same statuses and
        # masks — generated and real libraries share most of them (1,000 demo policies: 95) — so
        # statuses are combined once per structure and only amounts once per policy.
        structures: dict[tuple, list[_Program]] = {}
        for prog in self.programs:
            structures.setdefault((prog.items, prog.near), []).append(prog)
        self.structures = list(structures.items())

    def _node(self, item: Group | Atomic) -> _Node:
        if isinstance(item, Atomic):
            return _Node("col", self.cond_index[item.node])
        return _Node(item.kind, items=tuple(self._node(i) for i in item.items))

    # ------------------------------------------------------------------ the query
    def fetch_query(self, matrix: str) -> exp.Select:
        """Codes of every condition and the exact scaled integers of every amount value."""
        cols: list[exp.Expression] = [exp.column("uscc"), exp.column("town")]
        for i, node in enumerate(self.conditions):
            c = exp.column(self.mp.column(node))
            code = exp.Coalesce(this=exp.Mul(this=exp.Cast(this=c, to=exp.DataType.build("TINYINT")),
                                             expression=exp.Literal.number(2)),
                                expressions=[exp.Literal.number(1)])
            cols.append(exp.alias_(exp.Cast(this=code, to=exp.DataType.build("TINYINT")), f"c{i}", copy=False))
        compiler = Compiler(self.mp.plan)
        for i, node in enumerate(self.values):
            scale = A._value_scale(node)
            value = compiler.sql(node)
            scaled = value.copy() if scale == 0 else exp.Mul(this=exp.Paren(this=value.copy()),
                                                              expression=exp.Literal.number(10**scale))
            cols.append(exp.alias_(exp.Cast(this=exp.Coalesce(this=scaled, expressions=[exp.Literal.number(0)]),
                                            to=exp.DataType.build("BIGINT")), f"v{i}", copy=False))
            cols.append(exp.alias_(exp.Is(this=exp.Paren(this=value), expression=exp.null()), f"u{i}", copy=False))
        return sqlglot.select(*cols, copy=False).from_(matrix, copy=False)

    # ------------------------------------------------------------------ combining
    def combine(self, batch: pa.RecordBatch, paid: dict | None = None) -> pa.Table:
        """The sparse result rows of one batch (``RESULT_SCHEMA``)."""
        n_cond = len(self.conditions)
        active = batch.column(1 + 1 + self.cond_index[ACTIVE]).to_numpy() == TRUE
        rows = np.nonzero(active)[0]
        codes = [batch.column(2 + i).to_numpy()[rows] for i in range(n_cond)]
        base = 2 + n_cond
        value_cols = {}
        cache: dict[_Node, np.ndarray] = {}

        def code(node: _Node) -> np.ndarray:
            got = cache.get(node)
            if got is not None:
                return got
            if node.kind == "col":
                got = codes[node.col]
            elif node.kind == "not":
                got = TRUE - code(node.items[0])
            else:
                parts = [code(i) for i in node.items]
                got = np.minimum.reduce(parts) if node.kind == "all" else np.maximum.reduce(parts)
            cache[node] = got
            return got

        def values(i: int, where: np.ndarray):
            if i not in value_cols:
                ints = batch.column(base + 2 * i).to_numpy()[rows]
                unknown = batch.column(base + 2 * i + 1).to_numpy(zero_copy_only=False)[rows]
                value_cols[i] = (ints, unknown)
            ints, unknown = value_cols[i]
            return ints[where], unknown[where], A._value_scale(self.values[i])

        out_rows, out_policy, out_status, out_amount, out_no_amount, out_fm, out_um = [], [], [], [], [], [], []
        for (item_nodes, near_spec), progs in self.structures:
            items = [code(i) for i in item_nodes]
            if not items:
                continue
            n_false = np.zeros(rows.size, dtype=np.int8)
            n_unknown = np.zeros(rows.size, dtype=np.int8)
            for c in items:
                n_false += c == FALSE
                n_unknown += c == UNKNOWN
            keep = n_false == 0
            candidates = (n_false == 1) & (n_unknown == 0)
            if candidates.any() and any(x is not None for x in near_spec):
                nearly = np.zeros(rows.size, dtype=bool)
                for c, near in zip(items, near_spec):
                    if near is True:
                        nearly |= c == FALSE
                    elif near is not None:
                        nearly |= (c == FALSE) & (codes[near] == TRUE)
                keep |= candidates & nearly
            idx = np.nonzero(keep)[0]
            if idx.size == 0:
                continue
            fm = np.zeros(idx.size, dtype=np.int64)
            um = np.zeros(idx.size, dtype=np.int64)
            for bit, c in enumerate(items):
                sel = c[idx]
                fm |= (sel == FALSE).astype(np.int64) << bit
                um |= (sel == UNKNOWN).astype(np.int64) << bit
            status = np.where(fm != 0, 1, np.where(um != 0, 2, 0)).astype(np.int8)
            eligible = status == 0
            where = idx[eligible]
            for prog in progs:
                amount = np.zeros(idx.size, dtype=np.int64)
                no_amount = np.ones(idx.size, dtype=bool)
                if prog.amount is not None and where.size:
                    vec = A.VectorAmount(prog.amount, lambda node, w=where: values(self.value_index[node], w),
                                         lambda node, w=where: codes[self.cond_index[node]][w])
                    scaled, unknown = vec.run(where.size)
                    paid_total = paid_year = None
                    if prog.caps.any and paid:
                        got = [paid.get((prog.policy_id, u), (0, 0)) for u in
                               batch.column(0).take(pa.array(rows[where])).to_pylist()]
                        paid_total = np.array([g[0] for g in got], dtype=object)
                        paid_year = np.array([g[1] for g in got], dtype=object)
                    fen = A.final_fen(scaled, vec.scale, prog.caps, paid_total, paid_year)
                    amount[eligible] = np.where(unknown, 0, fen).astype(np.int64)
                    no_amount[eligible] = unknown
                out_rows.append(rows[idx])
                out_policy.append(np.full(idx.size, prog.index, dtype=np.int32))
                out_status.append(status)
                out_amount.append(amount)
                out_no_amount.append(no_amount)
                out_fm.append(fm)
                out_um.append(um)
        if not out_rows:
            return RESULT_SCHEMA.empty_table()
        # ordered by enterprise (the matrix is ordered by uscc), then by policy
        all_rows = np.concatenate(out_rows)
        all_policies = np.concatenate(out_policy)
        # (runs of ascending rows, one per policy: a stable sort merges them)
        order = np.argsort(all_rows.astype(np.int64) * len(self.programs) + all_policies, kind="stable")
        row_idx = all_rows[order]
        pol_idx = all_policies[order]
        ids = pa.array([p.policy_id for p in self.programs])
        versions = pa.array([p.version for p in self.programs], type=pa.int32())
        take = pa.array(row_idx)
        return pa.table({
            "uscc": batch.column(0).take(take),
            "town": batch.column(1).take(take),
            "policy_id": ids.take(pa.array(pol_idx)),
            "version": versions.take(pa.array(pol_idx)),
            "status": pa.array(STATUS_CODES, type=pa.string()).take(pa.array(np.concatenate(out_status)[order])),
            "amount_fen": pa.array(np.concatenate(out_amount)[order], type=pa.int64(),
                                   mask=np.concatenate(out_no_amount)[order]),
            "false_mask": pa.array(np.concatenate(out_fm)[order], type=pa.int64()),
            "unknown_mask": pa.array(np.concatenate(out_um)[order], type=pa.int64()),
        }, schema=RESULT_SCHEMA)


def stream(con, mp: MatchPlan, sink, *, paid: dict | None = None, matrix: str = "policy_matrix",
           batch_rows: int = 65_536, progress=None) -> int:
    """Materialise the matrix on ``con``, combine it batch by batch and hand each batch's sparse
    rows to ``sink`` (in ``(uscc, policy order)`` order overall). Returns the number of rows.

    Rule: nothing holds the whole result — a full match writes it to Parquet as it goes, so memory
    is the matrix plus one batch (holding 50 M result rows also made combining ~2× slower)."""
    from shengxin.engine.backend import register_reference
    from shengxin.policies.sql import drop, matrix_sql

    register_reference(con)
    combiner = Combiner(mp)
    drop(con, matrix)
    con.sql(matrix_sql(mp)).create(matrix)
    rows = 0
    try:
        query = combiner.fetch_query(matrix).order_by(exp.column("uscc"), copy=False)
        reader = con.sql(query.sql("duckdb")).to_arrow_reader(batch_rows)
        for batch in reader:
            part = combiner.combine(batch, paid)
            rows += part.num_rows
            sink(part)
            if progress is not None:
                progress(batch.num_rows)
    finally:
        drop(con, matrix)
    return rows


def run(con, mp: MatchPlan, *, paid: dict | None = None, matrix: str = "policy_matrix",
        batch_rows: int = 65_536, progress=None) -> pa.Table:
    """The sparse results as one table, ordered by ``(uscc, policy order)`` — readers of one
    enterprise prune to one row group (see :func:`stream` for results too large to hold)."""
    parts: list[pa.Table] = []
    stream(con, mp, parts.append, paid=paid, matrix=matrix, batch_rows=batch_rows, progress=progress)
    return pa.concat_tables(parts) if parts else RESULT_SCHEMA.empty_table()
