"""Read the enterprise facts: DuckDB views over the latest complete snapshot of the data hub.

Other domains (tags, policies, signals, portraits) read enterprise facts only through here::

    from shengxin.enterprises.store import open_current
    con = open_current()
    con.sql("SELECT town_code, count(*) FROM enterprises GROUP BY 1").fetchall()

Every canonical table of ``hub/tables.yaml`` is a view (empty, with the right columns, when no
delivery has filled it yet), plus the derived views:

* ``monthly`` — one row per (uscc, month) with ``revenue_fen``, ``tax_fen``, ``si_headcount`` and
  ``electricity_kwh`` (null where a department reported nothing);
* ``credit_events`` — dishonesty listings, abnormal-operation listings and penalties in one shape:
  ``uscc, kind, reference, start_on, end_on, detail, amount_fen`` plus lineage;
* ``quarantine`` — every problem recorded by every ingest run still on disk.

Rule: a connection reads one snapshot from start to end; a later ingest publishes a new snapshot
and never changes the files this connection reads.

One enterprise's rows (a portrait, a single-enterprise re-match) are better read without views::

    from shengxin.enterprises.store import current_snapshot, enterprise_rows
    rows = enterprise_rows(current_snapshot(), "91330110MA2H8K9X1F", ["enterprises", "monthly_tax"])

The hub writes every segment sorted by ``uscc`` in small row groups, so this decodes only the row
groups whose ``uscc`` statistics contain the code (a few kilobytes per table) instead of scanning
whole tables.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from shengxin.enterprises.hub.snapshot import hub_dir, load_manifest, read_current_id
from shengxin.enterprises.hub.tables import LINEAGE_FIELDS, TableDef, load_tables
from shengxin.errors import NotFound

_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.date32(): "DATE", pa.int64(): "BIGINT"}

MONTHLY_VIEW = """
SELECT
  COALESCE(t.uscc, s.uscc, e.uscc) AS uscc,
  COALESCE(t.month, s.month, e.month) AS month,
  t.revenue_fen AS revenue_fen,
  t.tax_fen AS tax_fen,
  s.headcount AS si_headcount,
  e.electricity_kwh AS electricity_kwh
FROM monthly_tax AS t
FULL OUTER JOIN monthly_social_insurance AS s ON t.uscc = s.uscc AND t.month = s.month
FULL OUTER JOIN monthly_electricity AS e
  ON COALESCE(t.uscc, s.uscc) = e.uscc AND COALESCE(t.month, s.month) = e.month
"""

CREDIT_EVENTS_VIEW = """
SELECT uscc, 'dishonesty' AS kind, case_no AS reference, COALESCE(published_on, filed_on) AS start_on,
       removed_on AS end_on, name AS detail, CAST(NULL AS BIGINT) AS amount_fen, _source, _file, _row, _run
FROM dishonesty_list
UNION ALL
SELECT uscc, 'abnormal_operation', CAST(NULL AS VARCHAR), listed_on, removed_on, reason, CAST(NULL AS BIGINT),
       _source, _file, _row, _run
FROM abnormal_operations
UNION ALL
SELECT uscc, 'penalty', decision_no, decided_on, CAST(NULL AS DATE), authority, fine_fen, _source, _file, _row, _run
FROM penalties
"""


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot: its id, directory and manifest."""

    id: str
    path: Path
    manifest: dict

    def table_files(self, table: str) -> list[Path]:
        spec = self.manifest.get("tables", {}).get(table)
        return [self.path / rel for rel in spec["files"]] if spec else []

    def rows(self, table: str) -> int:
        spec = self.manifest.get("tables", {}).get(table)
        return int(spec["rows"]) if spec else 0

    @property
    def as_of(self) -> str | None:
        return self.manifest.get("as_of")


def _root(analytic_dir: Path | None) -> Path:
    if analytic_dir is None:
        from shengxin.config import get_settings

        analytic_dir = get_settings().analytic_dir
    return hub_dir(analytic_dir)


def current_snapshot(analytic_dir: Path | None = None) -> Snapshot | None:
    """The latest complete snapshot, or ``None`` before the first ingest."""
    root = _root(analytic_dir)
    snapshot_id = read_current_id(root)
    if snapshot_id is None:
        return None
    return Snapshot(snapshot_id, root / "snapshots" / snapshot_id, load_manifest(root, snapshot_id))


def get_snapshot(snapshot_id: str, analytic_dir: Path | None = None) -> Snapshot:
    root = _root(analytic_dir)
    try:
        manifest = load_manifest(root, snapshot_id)
    except FileNotFoundError as exc:
        raise NotFound(f"没有编号为 {snapshot_id} 的数据快照（可能已被清理）", where=str(root)) from exc
    return Snapshot(snapshot_id, root / "snapshots" / snapshot_id, manifest)


def _duckdb_type(typ: pa.DataType) -> str:
    if pa.types.is_decimal(typ):
        return f"DECIMAL({typ.precision},{typ.scale})"
    return _DUCKDB_TYPES[typ]


def _read_parquet(paths: list[Path]) -> exp.Expression:
    files = exp.Array(expressions=[exp.Literal.string(str(p)) for p in paths])
    return exp.func("read_parquet", files, exp.EQ(this=exp.column("union_by_name"), expression=exp.true()))


def _empty_select(table: TableDef) -> exp.Select:
    columns = [
        exp.alias_(exp.cast(exp.null(), _duckdb_type(f.arrow_type)), f.name) for f in table.fields
    ] + [exp.alias_(exp.cast(exp.null(), _duckdb_type(t)), name) for name, t in LINEAGE_FIELDS]
    return sqlglot.select(*columns).where(exp.false())


def table_select(table: TableDef, files: list[Path]) -> exp.Select:
    """SELECT of a canonical table's columns from its segment files (or an empty SELECT)."""
    if not files:
        return _empty_select(table)
    names = [*table.field_names, *(n for n, _ in LINEAGE_FIELDS)]
    return sqlglot.select(*[exp.column(n) for n in names]).from_(_read_parquet(files))


def _create_view(con: duckdb.DuckDBPyConnection, name: str, query: exp.Expression) -> None:
    stmt = exp.Create(this=exp.to_table(name), kind="VIEW", expression=query, replace=True)
    con.execute(stmt.sql("duckdb"))


def open_snapshot(snapshot: Snapshot | None, *, analytic_dir: Path | None = None,
                  con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per canonical table over ``snapshot`` (``None``: empty)."""
    con = con or duckdb.connect(":memory:")
    for name, table in load_tables().items():
        files = snapshot.table_files(name) if snapshot else []
        _create_view(con, name, table_select(table, files))
    _create_view(con, "monthly", sqlglot.parse_one(MONTHLY_VIEW, read="duckdb"))
    _create_view(con, "credit_events", sqlglot.parse_one(CREDIT_EVENTS_VIEW, read="duckdb"))
    _create_quarantine_view(con, _root(analytic_dir))
    return con


def _create_quarantine_view(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    from shengxin.enterprises.hub.validate import ISSUE_SCHEMA

    files = sorted((root / "runs").glob("*/issues.parquet")) if (root / "runs").is_dir() else []
    if files:
        query = sqlglot.select(*[exp.column(n) for n in ISSUE_SCHEMA.names]).from_(_read_parquet(files))
    else:
        query = sqlglot.select(*[
            exp.alias_(exp.cast(exp.null(), _duckdb_type(f.type)), f.name) for f in ISSUE_SCHEMA
        ]).where(exp.false())
    _create_view(con, "quarantine", query)


def open_current(analytic_dir: Path | None = None, *, require: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection over the latest complete snapshot.

    Before the first ingest the views exist and are empty — unless ``require`` is true, which
    raises :class:`~shengxin.errors.NotFound` telling the user to run an ingest first.
    """
    snapshot = current_snapshot(analytic_dir)
    if snapshot is None and require:
        raise NotFound("分析库中还没有企业数据：请先运行 shengxin ingest 导入部门数据")
    return open_snapshot(snapshot, analytic_dir=analytic_dir)


# ----------------------------------------------------------------------------- one enterprise


@dataclass(frozen=True)
class _Segment:
    """A segment file's parsed footer and the ``uscc`` range of each of its row groups.

    Rule: only the footer is shared between threads; every read opens its own reader on it
    (:meth:`reader`, ~0.03 ms). A ``pq.ParquetFile`` is not safe for concurrent reads — two
    request threads reading through one shared handle crashed the process (SIGSEGV)."""

    path: str
    metadata: pq.FileMetaData
    schema: pa.Schema
    columns: frozenset[str]
    ranges: tuple[tuple[str | None, str | None], ...]  # (min, max); (None, None) when unknown

    def groups_for(self, uscc: str) -> list[int]:
        return [i for i, (lo, hi) in enumerate(self.ranges) if lo is None or hi is None or lo <= uscc <= hi]

    def reader(self) -> pq.ParquetFile:
        return pq.ParquetFile(self.path, memory_map=True, metadata=self.metadata)


@lru_cache(maxsize=512)
def _segment(path: str, mtime_ns: int, size: int) -> _Segment:
    """Parse a segment's footer once per process (segments never change; a rewrite is a new file)."""
    handle = pq.ParquetFile(path, memory_map=True)
    meta = handle.metadata
    schema = handle.schema_arrow
    names = schema.names
    ranges: list[tuple[str | None, str | None]] = []
    idx = names.index("uscc") if "uscc" in names else -1
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(idx).statistics if idx >= 0 else None
        if stats is not None and stats.has_min_max:
            ranges.append((stats.min, stats.max))
        else:
            ranges.append((None, None))
    return _Segment(path, meta, schema, frozenset(names), tuple(ranges))


def _open_segment(path: Path) -> _Segment:
    st = os.stat(path)
    return _segment(str(path), st.st_mtime_ns, st.st_size)


def segment_rows(path: Path, uscc: str, columns: list[str]) -> pa.Table:
    """The rows of one Parquet file whose ``uscc`` is the code, reading only the row groups whose
    statistics can hold it (every row group when the file has none). Missing columns are absent."""
    seg = _open_segment(path)
    present = [n for n in columns if n in seg.columns]
    groups = seg.groups_for(uscc)
    if not groups:
        return seg.schema.empty_table().select(present)
    got = seg.reader().read_row_groups(groups, columns=present, use_threads=False)
    return got.filter(pc.equal(got.column("uscc"), pa.scalar(uscc, got.schema.field("uscc").type)))


def enterprise_rows(snapshot: Snapshot | None, uscc: str, tables: Iterable[str] | None = None, *,
                    lineage: bool = False, skip: Iterable[str] = ()) -> dict[str, list[dict]]:
    """One enterprise's rows of the canonical ``tables`` (default: all) in ``snapshot``, without
    the fields named in ``skip``.

    Rule: the rows are those ``SELECT <fields> FROM <table> WHERE uscc = ?`` returns on
    :func:`open_snapshot` (same values and Python types; a column a segment lacks is ``None``),
    but only row groups whose ``uscc`` min/max statistics contain the code are decoded.
    """
    defs = load_tables()
    skip = frozenset(skip)
    out: dict[str, list[dict]] = {}
    for name in (tables if tables is not None else defs):
        schema = defs[name].arrow_schema(lineage=lineage)
        schema = pa.schema([f for f in schema if f.name not in skip])
        out[name] = enterprise_table(snapshot, name, uscc, schema).to_pylist()
    return out


def enterprise_table(snapshot: Snapshot | None, name: str, uscc: str, schema: pa.Schema) -> pa.Table:
    """One enterprise's rows of canonical table ``name`` across its segment files, as an Arrow table
    of ``schema`` (a column a segment lacks is null; only matching row groups are decoded)."""
    parts = []
    for path in (snapshot.table_files(name) if snapshot else []):
        got = segment_rows(path, uscc, schema.names)
        columns = [got.column(f.name).cast(f.type) if f.name in got.column_names
                   else pa.nulls(got.num_rows, f.type) for f in schema]
        parts.append(pa.Table.from_arrays(columns, schema=schema))
    return pa.concat_tables(parts) if parts else schema.empty_table()


#: The canonical tables each derived view reads.
_VIEW_SOURCES = {
    "monthly": ("monthly_tax", "monthly_social_insurance", "monthly_electricity"),
    "credit_events": ("dishonesty_list", "abnormal_operations", "penalties"),
}


@lru_cache(maxsize=None)
def _view_sql(name: str) -> str:
    """The derived view as a temporary view: private to the connection (or cursor) that makes it."""
    text = MONTHLY_VIEW if name == "monthly" else CREDIT_EVENTS_VIEW
    query = sqlglot.parse_one(text, read="duckdb")
    return exp.Create(this=exp.to_table(name), kind="VIEW", expression=query, replace=True,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()])).sql("duckdb")


_scratch_lock = threading.Lock()


@lru_cache(maxsize=1)
def _scratch_database() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:")


def scratch_connection() -> duckdb.DuckDBPyConnection:
    """A fresh connection to one in-memory DuckDB database shared by the process, for small
    per-request work (one enterprise's rows).

    Rule: opening a DuckDB database costs ~15 ms, a cursor on an open one microseconds; a cursor's
    registered tables and temporary views are its own (two requests never see each other's rows),
    so callers register and create only those, and close the cursor when done."""
    with _scratch_lock:
        return _scratch_database().cursor()


def open_enterprise(snapshot: Snapshot | None, uscc: str, tables: Iterable[str] | None = None, *,
                    con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection shaped like :func:`open_snapshot` (same table names, columns, types and
    derived views) but holding only one enterprise's rows — of ``tables`` (canonical tables or the
    derived views ``monthly`` / ``credit_events``; default: all).

    Rule: every query filtered on ``uscc = <this code>`` returns on it what it returns on
    :func:`open_snapshot`; the rows are read with :func:`segment_rows`, so only the row groups whose
    ``uscc`` statistics hold the code are decoded — a portrait or a scope check reads kilobytes, not
    whole tables.
    """
    defs = load_tables()
    wanted = list(tables) if tables is not None else [*defs, *_VIEW_SOURCES]
    canonical = dict.fromkeys(t for name in wanted for t in _VIEW_SOURCES.get(name, (name,)))
    con = con or scratch_connection()
    for name in canonical:
        con.register(name, enterprise_table(snapshot, name, uscc, defs[name].arrow_schema()))
    for name in wanted:
        if name in _VIEW_SOURCES:
            con.execute(_view_sql(name))
    return con


def run_report(run_id: str, analytic_dir: Path | None = None) -> dict:
    """The report an ingest run wrote (counts per file, file-level problems)."""
    path = _root(analytic_dir) / "runs" / run_id / "report.json"
    if not path.is_file():
        raise NotFound(f"没有编号为 {run_id} 的导入批次", where=str(path.parent.parent))
    return json.loads(path.read_text(encoding="utf-8"))


def list_runs(analytic_dir: Path | None = None) -> list[str]:
    """Ids of the ingest runs on disk, oldest first."""
    folder = _root(analytic_dir) / "runs"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "report.json").is_file())
