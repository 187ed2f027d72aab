"""Set operations on staged and published Parquet files, in DuckDB (SQL built with SQLGlot).

Rules:

* inside one delivered file a key must appear once: exact repeats are kept once (a warning for
  the repeats), repeats that disagree are all rejected — the hub does not guess which is right;
* a delivery **upserts**: every fact whose key it carries replaces the published fact with that
  key (latest delivery wins); facts it does not mention stay. A mapping with ``mode: replace``
  instead replaces the whole table (for lists that are always delivered complete);
* published segments are never modified: a segment holding superseded facts is rewritten into a
  new segment without them, and the new snapshot lists the new segment instead;
* every segment is written sorted by ``uscc`` (then the table's key, so the order is total and the
  bytes reproducible) in row groups of :data:`SEGMENT_ROW_GROUP_ROWS` rows: a reader of one
  enterprise opens only the row groups whose ``uscc`` min/max statistics contain its code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from shengxin.enterprises.hub.snapshot import SnapshotBuilder
from shengxin.enterprises.hub.tables import TableDef

#: DuckDB memory cap during ingest; larger work spills to the run's temporary directory. Merging
#: runs after a file's batches are gone, so this adds to the base footprint, not to the batches.
DUCKDB_MEMORY_LIMIT = "1GB"
#: Rows per Parquet row group in published segments: small enough that one enterprise's rows are
#: read from a few kilobytes, large enough that bulk scans stay columnar. The registry's rows are
#: wide (names, addresses), so its row groups are smaller.
SEGMENT_ROW_GROUP_ROWS = 8192
ROW_GROUP_ROWS_BY_TABLE = {"enterprises": 2048}


def connect(temp_dir: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for ingest work, with bounded memory that spills to ``temp_dir``."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:", config={
        "threads": threads or max(1, os.cpu_count() or 1),
        "memory_limit": DUCKDB_MEMORY_LIMIT,
        "temp_directory": str(temp_dir),
        "preserve_insertion_order": False,
    })
    con.execute("SET enable_progress_bar = false")  # the CLI draws its own progress bars
    return con


def parquet_scan(paths: list[Path], filename: bool = False) -> exp.Expression:
    """``read_parquet([...])`` over the given files (optionally with their ``filename``)."""
    args: list[exp.Expression] = [exp.Array(expressions=[exp.Literal.string(str(p)) for p in paths])]
    if filename:
        args.append(exp.EQ(this=exp.column("filename"), expression=exp.true()))
    return exp.func("read_parquet", *args)


def scan_as(paths: list[Path], alias: str, filename: bool = False) -> exp.Table:
    """``read_parquet([...]) AS alias``."""
    return exp.Table(this=parquet_scan(paths, filename=filename),
                     alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _key_match(key: list[str], left: str, right: str) -> exp.Expression:
    return exp.and_(*[exp.EQ(this=_col(k, left), expression=_col(k, right)) for k in key])


def query_arrow(con: duckdb.DuckDBPyConnection, query: exp.Expression) -> pa.Table:
    """Run a query and return its result as an Arrow table (DuckDB 1.x and 2.x spellings)."""
    relation = con.sql(query.sql("duckdb"))
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


def write_query(con: duckdb.DuckDBPyConnection, query: exp.Expression, out: Path) -> int:
    """Write a query's result to Parquet (zstd); returns the number of rows written."""
    con.sql(query.sql("duckdb")).write_parquet(str(out), compression="zstd")
    return pq.read_metadata(out).num_rows


def segment_order(table: TableDef) -> list[exp.Expression]:
    """The published order of a table's rows: by enterprise code, then by the table's key."""
    return [_col(c) for c in dict.fromkeys(["uscc", *table.key])]


def write_segment(con: duckdb.DuckDBPyConnection, query: exp.Select, table: TableDef, out: Path) -> int:
    """Write ``query``'s rows as a published segment: sorted (:func:`segment_order`), zstd, row
    groups of :data:`SEGMENT_ROW_GROUP_ROWS` (or the table's own size). Returns the rows written."""
    ordered = query.order_by(*segment_order(table), copy=True)
    rows = ROW_GROUP_ROWS_BY_TABLE.get(table.name, SEGMENT_ROW_GROUP_ROWS)
    con.sql(ordered.sql("duckdb")).write_parquet(str(out), compression="zstd", row_group_size=rows)
    return pq.read_metadata(out).num_rows


@dataclass
class Duplicates:
    """Rows of one file whose key repeats. Each table has columns ``row``, ``first_row`` (the
    first row with that key) and ``key`` (the key as text)."""

    repeats: pa.Table  # exact copies of an earlier row: dropped, the first copy stays
    conflicts: pa.Table  # every row of a key that appears with different values: all dropped

    @property
    def drop_rows(self) -> pa.Array:
        return pa.concat_arrays([self.repeats.column("row").combine_chunks(),
                                 self.conflicts.column("row").combine_chunks()])

    @property
    def empty(self) -> bool:
        return self.repeats.num_rows == 0 and self.conflicts.num_rows == 0


def find_duplicates(con: duckdb.DuckDBPyConnection, staged: Path, table: TableDef) -> Duplicates:
    """Keys that occur more than once in one staged file."""
    key = list(table.key)
    values = [_col(f.name) for f in table.fields]
    key_text = exp.func("concat_ws", exp.Literal.string(" / "), *[exp.cast(_col(k), "VARCHAR") for k in key])
    groups = (
        sqlglot.select(
            exp.alias_(key_text, "key"),
            exp.alias_(exp.func("count", exp.Distinct(expressions=[exp.func("hash", *values)])), "variants"),
            exp.alias_(exp.func("list", _col("_row")), "rows"),
            exp.alias_(exp.func("min", _col("_row")), "first_row"),
        )
        .from_(parquet_scan([staged]))
        .group_by(*[_col(k) for k in key])
        .having(exp.GT(this=exp.func("count", exp.Star()), expression=exp.Literal.number(1)))
    )
    flat = sqlglot.select(
        _col("row"), _col("first_row"), _col("key"), _col("variants")
    ).from_(
        sqlglot.select(_col("key"), _col("variants"), _col("first_row"),
                       exp.alias_(exp.Unnest(expressions=[_col("rows")]), "row")).from_(groups.subquery("g")).subquery("f")
    )
    rows = query_arrow(con, flat)
    exact = pc.equal(rows.column("variants"), 1)
    repeats = rows.filter(pc.and_(exact, pc.not_equal(rows.column("row"), rows.column("first_row"))))
    conflicts = rows.filter(pc.invert(exact))
    columns = ["row", "first_row", "key"]
    return Duplicates(repeats.select(columns), conflicts.select(columns))


def remove_rows(con: duckdb.DuckDBPyConnection, staged: Path, rows: pa.Array, out: Path) -> int:
    """Copy ``staged`` to ``out`` without the given ``_row`` values."""
    con.register("hub_drop_rows", pa.table({"row": rows}))
    query = sqlglot.select(exp.Star()).from_(parquet_scan([staged])).where(
        exp.not_(_col("_row").isin(query=sqlglot.select(_col("row")).from_("hub_drop_rows")))
    )
    try:
        return write_query(con, query, out)
    finally:
        con.unregister("hub_drop_rows")


def upsert(con: duckdb.DuckDBPyConnection, builder: SnapshotBuilder, table: TableDef, staged_files: list[Path],
           mode: str = "upsert") -> int:
    """Fold the staged files of one delivered file (their keys never overlap each other) into the
    builder's table. Returns how many published facts they replaced."""
    key = list(table.key)
    segments = builder.tables.get(table.name, [])
    replaced = 0
    if mode == "replace":
        replaced = sum(pq.read_metadata(p).num_rows for _, p in segments)
        builder.set_segments(table.name, [], key)
    elif segments:
        paths = [p for _, p in segments]
        overlap = (
            sqlglot.select(_col("filename", "o"), exp.alias_(exp.func("count", exp.Star()), "n"))
            .from_(scan_as(paths, "o", filename=True))
            .where(exp.Exists(this=sqlglot.select(exp.Literal.number(1))
                              .from_(scan_as(staged_files, "s"))
                              .where(_key_match(key, "s", "o"))))
            .group_by(_col("filename", "o"))
        )
        hits = dict(con.sql(overlap.sql("duckdb")).fetchall())
        kept: list[tuple[str, Path]] = []
        for rel, path in segments:
            n = hits.get(str(path), 0)
            if not n:
                kept.append((rel, path))
                continue
            replaced += n
            if n == pq.read_metadata(path).num_rows:
                continue  # every fact of the segment is superseded: drop it, nothing to rewrite
            new_rel, new_path = builder.new_segment_path(table.name)
            rest = (
                sqlglot.select(exp.Star())
                .from_(scan_as([path], "o"))
                .where(exp.not_(exp.Exists(this=sqlglot.select(exp.Literal.number(1))
                                           .from_(scan_as(staged_files, "s"))
                                           .where(_key_match(key, "s", "o")))))
            )
            if write_segment(con, rest, table, new_path):
                kept.append((new_rel, new_path))
            else:
                new_path.unlink()
        builder.set_segments(table.name, kept, key)
    if staged_files:
        # the file's staged parts (accepted rows, resolved repeats) become one sorted segment
        rel, path = builder.new_segment_path(table.name)
        if write_segment(con, sqlglot.select(exp.Star()).from_(parquet_scan(staged_files)), table, path):
            builder.tables.setdefault(table.name, []).append((rel, path))
            builder.keys[table.name] = key
        else:
            path.unlink()
        for staged in staged_files:
            staged.unlink(missing_ok=True)
    return replaced
