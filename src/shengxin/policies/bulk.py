"""Bulk matching: combine the SQL condition matrix into per-policy answers, vectorised.

The SQL of :mod:`shengxin.policies.sql` computes every distinct condition once for every
enterprise (the engine's matrix). Combining those columns per policy could also be done in SQL —
``policy_query`` does exactly that and is the reference the tests compare with — but a 744-part
``UNION ALL`` costs DuckDB about 30 ms of planning per part, far more than the work itself. So bulk
matching reads the matrix once, in batches, as small integer codes (0 false, 1 unknown, 2 true)
and combines them with NumPy using the same three-valued rules:

* ``all`` is the minimum of its items' codes, ``any`` the maximum, ``not`` is ``2 − code``;
* status, masks and near misses are decided exactly as in :mod:`shengxin.policies.evaluate`;
* amounts are computed for eligible rows only, with exact integers (:class:`VectorAmount`), once per
  amount group (policies of one structure with the same formula and no caps);
* output rows are laid out by enterprise (in ``uscc`` order), then by structure, then by policy
  order — from a dense enterprise × structure table and ``np.repeat``, with no sort and no step per
  policy (decision 0019) — and string columns are dictionary arrays over the batch's own values
  (decision 0018).

Property tests check that this, the per-policy SQL and the single-enterprise evaluator agree.
"""

from __future__ import annotations

import time
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
_STATUSES = pa.array(STATUS_CODES, type=pa.string())
#: what :meth:`Combiner.combine` returns: ``RESULT_SCHEMA`` with the string columns as dictionary
#: arrays (same logical values; ``table.cast(RESULT_SCHEMA)`` decodes them)
RESULT_WRITE_SCHEMA = pa.schema([
    pa.field(f.name, pa.dictionary(pa.int32(), f.type) if f.type == pa.string() else f.type)
    for f in RESULT_SCHEMA])
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


@dataclass
class _AmountGroup:
    """Policies of one structure whose amounts are the same on every row."""

    programs: np.ndarray  # their indexes in ``Combiner.programs``
    amount: A.Amount | None
    caps: A.Caps
    policy_id: str  # the first policy's (the only one when caps apply)


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
        # statuses are combined once per structure; amounts once per amount group: the policies
        # of a structure with the same formula and caps (1,000 demo policies: 343; with caps and
        # payments on record the amounts differ per policy, so such a policy is a group of its own).
        structures: dict[tuple, dict[tuple, list[_Program]]] = {}
        for prog in self.programs:
            key = (prog.amount, prog.caps, prog.policy_id if prog.caps.any else None)
            structures.setdefault((prog.items, prog.near), {}).setdefault(key, []).append(prog)
        self.structures = [(shape, [_AmountGroup(np.array([p.index for p in progs], dtype=np.int64), progs[0].amount,
                                                 progs[0].caps, progs[0].policy_id) for progs in groups.values()])
                           for shape, groups in structures.items()]
        # the output order within an enterprise: structure by structure, each structure's
        # policies in policy order
        struct_policies = [np.sort(np.concatenate([g.programs for g in groups])) for _, groups in self.structures]
        self._order = np.concatenate(struct_policies).astype(np.int32)
        self._struct_width = np.array([x.size for x in struct_policies], dtype=np.int64)
        self._struct_start = np.cumsum(self._struct_width) - self._struct_width
        self._ids = pa.array([p.policy_id for p in self.programs], type=pa.string())
        self._versions = pa.array([p.version for p in self.programs], type=pa.int32())

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
        """The sparse result rows of one batch: ``RESULT_SCHEMA``'s values in
        :data:`RESULT_WRITE_SCHEMA` (string columns dictionary-encoded), ordered by enterprise, then
        structure, then policy order (:meth:`_layout`)."""
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

        # per structure with rows: its kept rows (indexes into ``rows``), their status and masks,
        # and its amount groups' amounts over those rows — laid out below without sorting
        n_items = rows.size
        shared: list[tuple] = []  # idx, status, fm, um, structure number
        amounts: list[tuple] = []  # per amount group with rows: (program indexes, amount, no_amount)
        for number, ((item_nodes, near_spec), groups) in enumerate(self.structures):
            items = [code(i) for i in item_nodes]
            if not items:
                continue
            # keep rows with no FALSE item (minimum ≥ UNKNOWN); a near-miss candidate has exactly
            # one FALSE and every other item TRUE: minimum FALSE and sum 2·(k − 1)
            low = np.minimum.reduce(items) if len(items) > 1 else items[0]
            keep = low != FALSE
            if any(x is not None for x in near_spec):
                total = np.add.reduce(items, dtype=np.int16) if len(items) > 1 else items[0].astype(np.int16)
                candidates = ~keep & (total == 2 * (len(items) - 1))
                if candidates.any():
                    nearly = np.zeros(n_items, dtype=bool)
                    for c, near in zip(items, near_spec):
                        if near is True:
                            nearly |= c == FALSE
                        elif near is not None:
                            nearly |= (c == FALSE) & (codes[near] == TRUE)
                    keep |= candidates & nearly
            idx = np.flatnonzero(keep)
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
            shared.append((idx, status, fm, um, number))
            # policies without an amount (or with nobody eligible) share one all-unknown array
            unknown = [g.programs for g in groups if g.amount is None or not where.size]
            if unknown:
                amounts.append((np.concatenate(unknown), np.zeros(idx.size, dtype=np.int64),
                                np.ones(idx.size, dtype=bool), len(shared) - 1))
            for group in groups:
                if group.amount is None or not where.size:
                    continue
                amount = np.zeros(idx.size, dtype=np.int64)
                no_amount = np.ones(idx.size, dtype=bool)
                vec = A.VectorAmount(group.amount, lambda node, w=where: values(self.value_index[node], w),
                                     lambda node, w=where: codes[self.cond_index[node]][w])
                scaled, unknown = vec.run(where.size)
                paid_total = paid_year = None
                if group.caps.any and paid:
                    got = [paid.get((group.policy_id, u), (0, 0)) for u in
                           batch.column(0).take(pa.array(rows[where])).to_pylist()]
                    paid_total = np.array([g[0] for g in got], dtype=object)
                    paid_year = np.array([g[1] for g in got], dtype=object)
                fen = A.final_fen(scaled, vec.scale, group.caps, paid_total, paid_year)
                amount[eligible] = np.where(unknown, 0, fen).astype(np.int64)
                no_amount[eligible] = unknown
                amounts.append((group.programs, amount, no_amount, len(shared) - 1))
        return self._layout(batch, rows, shared, amounts)

    def _layout(self, batch: pa.RecordBatch, rows: np.ndarray, shared: list, amounts: list) -> pa.Table:
        """Lay the rows out ordered by enterprise (the matrix is ordered by ``uscc``), then by
        structure, then by policy order within the structure — without sorting or
        a step per policy:

        1. the (enterprise, structure) pairs that have rows, in that order, are the non-empty cells
           of a dense enterprise × structure table read row by row;
        2. each pair becomes one row per policy of its structure (``np.repeat``), which takes its
           status and masks from the pair and its amount from its amount group.

        Rule: the columns are ``RESULT_SCHEMA``'s values, with ``uscc``, ``town``, ``policy_id`` and
        ``status`` as dictionary arrays (:data:`RESULT_WRITE_SCHEMA`; indexes into the batch's
        own columns, no string copies)."""
        if not shared:
            return RESULT_WRITE_SCHEMA.empty_table()
        n_items, n_struct = rows.size, len(shared)
        # 1. cell (enterprise i, structure column c) holds the enterprise's index in the
        # structure's kept rows, −1 when it has none
        cells = np.full((n_items, n_struct), -1, dtype=np.int32)
        for column, (idx, *_rest) in enumerate(shared):
            cells[idx, column] = np.arange(idx.size, dtype=np.int32)
        flat = np.flatnonzero(cells.ravel() >= 0)
        pair_row, pair_column = np.divmod(flat, n_struct)
        sizes = np.array([x[0].size for x in shared], dtype=np.int64)
        offsets = np.cumsum(sizes) - sizes  # of each structure's rows in the concatenations
        numbers = np.array([x[4] for x in shared], dtype=np.int64)
        pair_at = (offsets[pair_column] + cells.ravel()[flat]).astype(np.int32)  # into the concatenations
        reps = self._struct_width[numbers][pair_column]  # policies of the pair's structure
        total = int(reps.sum())
        # 2. one output row per (pair, policy of its structure): what the pair holds is repeated,
        # the policy is the pair structure's first policy + the row's rank within the pair
        rank = np.arange(total, dtype=np.int32) - np.repeat((np.cumsum(reps) - reps).astype(np.int32), reps)
        out_policy = self._order[np.repeat(self._struct_start[numbers][pair_column].astype(np.int32), reps) + rank]
        shared_at = np.repeat(pair_at, reps)
        out_status = np.repeat(np.concatenate([x[1] for x in shared])[pair_at], reps)
        out_fm = np.repeat(np.concatenate([x[2] for x in shared])[pair_at], reps)
        out_um = np.repeat(np.concatenate([x[3] for x in shared])[pair_at], reps)
        batch_row = np.repeat(rows.astype(np.int32)[pair_row], reps)
        # amounts: every policy points at its amount group's array (a policy without an amount
        # at its structure's all-unknown one); its row's amount is at ``shared_at`` − the
        # structure's offset in it
        amount_parts, unknown_parts = [], []
        amount_at = np.zeros(len(self.programs), dtype=np.int32)
        start = 0
        for programs, amount, no_amount, column in amounts:
            amount_at[programs] = start - offsets[column]
            amount_parts.append(amount)
            unknown_parts.append(no_amount)
            start += amount.size
        pick = amount_at[out_policy] + shared_at
        out_amount = np.concatenate(amount_parts)[pick]
        out_no_amount = np.concatenate(unknown_parts)[pick]
        return pa.Table.from_arrays([
            pa.DictionaryArray.from_arrays(pa.array(batch_row), batch.column(0)),
            _dictionary_of(batch.column(1), batch_row),
            pa.DictionaryArray.from_arrays(pa.array(out_policy), self._ids),
            self._versions.take(pa.array(out_policy)),
            pa.DictionaryArray.from_arrays(pa.array(out_status), _STATUSES),
            pa.array(out_amount, type=pa.int64(), mask=out_no_amount),
            pa.array(out_fm, type=pa.int64()),
            pa.array(out_um, type=pa.int64()),
        ], schema=RESULT_WRITE_SCHEMA)


def _dictionary_of(column: pa.Array, take: np.ndarray) -> pa.DictionaryArray:
    """``column.take(take)`` as a dictionary array (the column is encoded once, per batch)."""
    encoded = column.dictionary_encode()
    return pa.DictionaryArray.from_arrays(encoded.indices.take(pa.array(take)), encoded.dictionary)


def stream(con, mp: MatchPlan, sink, *, paid: dict | None = None, matrix: str = "policy_matrix",
           batch_rows: int = 65_536, progress=None, timings: dict | None = None) -> int:
    """Materialise the matrix on ``con``, combine it batch by batch and hand each batch's sparse
    rows (:data:`RESULT_WRITE_SCHEMA`) to ``sink`` (ordered by ``uscc`` overall; an enterprise's rows
    together, by structure and policy order).
    Returns the number of rows; ``timings`` (benchmarks) receives the seconds spent building the
    matrix, fetching batches, combining and in ``sink``.

    Rule: nothing holds the whole result — a full match writes it to Parquet as it goes, so memory
    is the matrix plus one batch (holding 50 M result rows also made combining ~2× slower)."""
    from shengxin.engine.backend import register_reference
    from shengxin.policies.sql import drop, matrix_sql

    register_reference(con)
    clock = {"matrix": 0.0, "fetch": 0.0, "combine": 0.0, "sink": 0.0}
    t = time.perf_counter()
    combiner = Combiner(mp)
    drop(con, matrix)
    con.sql(matrix_sql(mp)).create(matrix)
    clock["matrix"] += time.perf_counter() - t
    rows = 0
    try:
        query = combiner.fetch_query(matrix).order_by(exp.column("uscc"), copy=False)
        batches = iter(con.sql(query.sql("duckdb")).to_arrow_reader(batch_rows))
        while True:
            t0 = time.perf_counter()
            batch = next(batches, None)
            t1 = time.perf_counter()
            if batch is None:
                break
            part = combiner.combine(batch, paid)
            t2 = time.perf_counter()
            rows += part.num_rows
            sink(part)
            t3 = time.perf_counter()
            clock["fetch"] += t1 - t0
            clock["combine"] += t2 - t1
            clock["sink"] += t3 - t2
            if progress is not None:
                progress(batch.num_rows)
    finally:
        drop(con, matrix)
        if timings is not None:
            timings.update(clock)
    return rows


def run(con, mp: MatchPlan, *, paid: dict | None = None, matrix: str = "policy_matrix",
        batch_rows: int = 65_536, progress=None) -> pa.Table:
    """The sparse results as one table, ordered by ``uscc`` (then structure and policy) — readers of one
    enterprise prune to one row group (see :func:`stream` for results too large to hold)."""
    parts: list[pa.Table] = []
    stream(con, mp, lambda part: parts.append(part.cast(RESULT_SCHEMA)), paid=paid, matrix=matrix,
           batch_rows=batch_rows, progress=progress)
    return pa.concat_tables(parts) if parts else RESULT_SCHEMA.empty_table()
