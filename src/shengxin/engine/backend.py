"""Running a plan on DuckDB (the default backend).

The connection must already expose the canonical tables by name (``shengxin.enterprises.store``
creates them as views over the data hub's snapshot). This module registers the reference table,
runs the matrix query (from :mod:`shengxin.engine.sqlgen`; nothing is assembled as text here) and
streams it into Arrow, orders the rows by ``uscc`` once, keeps the evidence columns, and reshapes
the boolean output columns into the sparse long table with numpy: the (enterprise × tag) flags
are stacked row-major and ``np.nonzero`` yields the pairs already ordered by ``(uscc, tag_id)``.
``sqlgen.sparse_query`` states the same reshape in SQL for other engines; a test checks that both
give identical tables.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.engine import reference as R
from shengxin.engine import sqlgen
from shengxin.engine.plan import Plan

MATRIX = "tag_matrix"
#: Rows per Arrow batch when streaming the matrix out of DuckDB (no second full copy of the result).
STREAM_ROWS = 65_536
#: Schema of the sparse table as stored (the Arrow arrays are dictionary-encoded in memory).
SPARSE_SCHEMA = pa.schema([
    pa.field("uscc", pa.string()),
    pa.field("town", pa.string()),
    pa.field("tag_id", pa.string()),
    pa.field("value", pa.decimal128(38, 6)),
])


def register_reference(con: duckdb.DuckDBPyConnection) -> None:
    con.register(R.TABLE_NAME, R.arrow_table())


def materialise(con: duckdb.DuckDBPyConnection, plan: Plan, table: str = MATRIX) -> None:
    """Compute the matrix into the temporary table ``table`` (for ``sqlgen.sparse_query``)."""
    register_reference(con)
    query = sqlgen.matrix_query(plan).order_by(sqlgen.col("uscc"), copy=False)
    stmt = sqlgen.exp.Create(this=sqlgen.exp.to_table(table), kind="TABLE", expression=query,
                             properties=sqlgen.exp.Properties(expressions=[sqlgen.exp.TemporaryProperty()]))
    con.execute(stmt.sql("duckdb"))


def fetch(con: duckdb.DuckDBPyConnection, query) -> pa.Table:
    return con.sql(sqlgen.to_sql(query, pretty=False)).to_arrow_table()


def _true_flags(column: pa.ChunkedArray, out: np.ndarray) -> None:
    """``out[i]`` = whether row i of a boolean column is true (null counts as false), read
    straight from the Arrow bit buffers."""
    pos = 0
    for chunk in column.chunks:
        n = len(chunk)
        validity, data = chunk.buffers()
        lo, hi = chunk.offset, chunk.offset + n
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")[lo:hi]
        if validity is not None and chunk.null_count:
            bits &= np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[lo:hi]
        out[pos:pos + n] = bits
        pos += n


def sparse_from_matrix(plan: Plan, matrix: pa.Table, order: np.ndarray | None = None) -> pa.Table:
    """The long table from the matrix's ``uscc``, ``town``, output and value columns.

    ``order`` (row positions sorted by ``uscc``) is applied on the way; the result is ordered by
    ``(uscc, tag_id)``. Towns and tag ids come out dictionary-encoded (few distinct values);
    codes are plain text (a dictionary of every code would be repeated in each Parquet row group).
    """
    n = matrix.num_rows
    keys = [o.key for o in plan.outputs]
    if not keys or n == 0:
        return SPARSE_SCHEMA.empty_table()
    columns = np.empty((len(keys), n), dtype=bool)  # one contiguous row per output
    for j, o in enumerate(plan.outputs):
        _true_flags(matrix.column(plan.output_column(o.key)), columns[j])
    flags = np.ascontiguousarray(columns.T)  # (enterprise × output), row-major
    del columns
    if order is not None:
        flags = flags[order]
    flat = np.flatnonzero(flags).astype(np.int32)  # row-major: ordered by (row, output)
    del flags
    rows, cols = np.divmod(flat, np.int32(len(keys)))
    del flat
    rows32 = pa.array(rows)
    if order is None:
        order = np.arange(n)
        uscc = matrix.column("uscc").combine_chunks()
        towns = pc.dictionary_encode(matrix.column("town").combine_chunks())
    else:
        uscc = matrix.column("uscc").take(pa.array(order)).combine_chunks()
        towns = pc.dictionary_encode(matrix.column("town").take(pa.array(order)).combine_chunks())
    value = pa.nulls(len(rows), pa.decimal128(38, 6))
    valued = [(j, o) for j, o in enumerate(plan.outputs) if o.value is not None]
    if valued and len(rows):
        positions, parts = [], []
        for j, o in valued:
            where = np.flatnonzero(cols == j)
            if len(where):
                positions.append(where)
                parts.append(matrix.column(plan.value_column(o.key)).take(pa.array(order[rows[where]])))
        if positions:
            at = np.concatenate(positions)
            sort = np.argsort(at, kind="stable")
            mask = np.zeros(len(rows), dtype=bool)
            mask[at] = True
            values = pa.concat_arrays([c for p in parts for c in p.chunks]).take(pa.array(sort))
            value = pc.replace_with_mask(value, pa.array(mask), values)
    return pa.table({
        "uscc": uscc.take(rows32),
        "town": pa.DictionaryArray.from_arrays(towns.indices.take(rows32), towns.dictionary),
        "tag_id": pa.DictionaryArray.from_arrays(pa.array(cols), pa.array(keys)),
        "value": value,
    })


def fetch_matrix(con: duckdb.DuckDBPyConnection, plan: Plan) -> pa.Table:
    """Run the matrix query and stream its result into one Arrow table (rows in no order)."""
    register_reference(con)
    reader = con.sql(sqlgen.to_sql(sqlgen.matrix_query(plan), pretty=False)).to_arrow_reader(STREAM_ROWS)
    return pa.Table.from_batches(list(reader), schema=reader.schema)


def split_matrix(plan: Plan, matrix: pa.Table, on_evidence=None) -> tuple[pa.Table, pa.Table]:
    """``(sparse, evidence)`` from a fetched matrix, both ordered by ``uscc`` (an Arrow sort of the
    codes is cheaper than sorting the wide rows in DuckDB). ``on_evidence(table)`` is called with
    the evidence as soon as it is ready, before the reshape (the caller may write it meanwhile)."""
    order = pc.sort_indices(matrix.column("uscc")).to_numpy()
    indices = pa.array(order)
    evidence_columns = matrix.select(["uscc", "town", *plan.atoms.values()])
    with ThreadPoolExecutor(max_workers=1) as pool:  # reorder the evidence while reshaping
        future = pool.submit(evidence_columns.take, indices)
        sparse = sparse_from_matrix(plan, matrix, order)
        evidence = future.result()
    if on_evidence is not None:
        on_evidence(evidence)
    return sparse, evidence


def run(con: duckdb.DuckDBPyConnection, plan: Plan, on_evidence=None) -> tuple[pa.Table, pa.Table]:
    """``(sparse, evidence)`` Arrow tables of ``plan`` on ``con``, both ordered by ``uscc``.

    (For big runs, :func:`fetch_matrix`, closing the connection — DuckDB keeps its buffers until
    then — and :func:`split_matrix` use less memory.)"""
    return split_matrix(plan, fetch_matrix(con, plan), on_evidence)
