"""Where detection reads the canonical tables, and the (enterprises × months) panel built from them.

Two kinds of input source, both plain Parquet read through DuckDB:

* the data hub's current snapshot, through ``shengxin.enterprises.store`` (the normal case);
* a folder with one ``<table>.parquet`` file (or a ``<table>/`` folder of Parquet files) per
  canonical table — fixtures in the tests and the benchmark's generated inputs.

A canonical table missing from the source is an empty table with its declared schema
(``enterprises/hub/tables.yaml``), so a district that does not deliver electricity data simply
gets no electricity-based signal. Queries are built as SQLGlot expressions, never by splicing
strings, and read only months up to the as-of month and events dated up to its last day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from shengxin.enterprises.hub.tables import get_table, load_tables
from shengxin.enterprises.store import current_snapshot, open_snapshot
from shengxin.errors import InvalidInput, NotFound
from shengxin.signals.catalogue import DERIVED_METRICS, METRICS

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str, where: str = "as_of") -> np.datetime64:
    """``YYYY-MM`` → ``datetime64[M]``; a clear error otherwise."""
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2026-10", where=where)
    return np.datetime64(f"{m.group(1)}-{m.group(2)}", "M")


def month_text(month: np.datetime64) -> str:
    return str(np.datetime64(month, "M"))


def month_end(month: np.datetime64) -> dt.date:
    """Last day of a month."""
    return (np.datetime64(month, "M") + 1).astype("datetime64[D]").astype(dt.date) - dt.timedelta(days=1)


@dataclass(frozen=True)
class InputSource:
    """A folder of Parquet files per canonical table, and the id that names this exact input."""

    tables: dict[str, list[Path]]
    snapshot_id: str
    location: str


def open_hub(analytic_dir: Path | None = None) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A connection over the data hub's current snapshot and that snapshot's id.

    NotFound (saying what to do) when nothing was ingested yet.
    """
    snapshot = current_snapshot(analytic_dir)
    if snapshot is None:
        raise NotFound("the data hub has no snapshot yet: ingest department files first (shengxin ingest …)")
    return open_snapshot(snapshot, analytic_dir=analytic_dir), snapshot.id


def folder_source(directory: Path) -> InputSource:
    """A folder of ``<table>.parquet`` files or ``<table>/*.parquet`` folders (unknown names refused)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise NotFound("input folder does not exist", where=str(directory))
    known = load_tables()
    tables: dict[str, list[Path]] = {}
    digest = hashlib.sha256()
    for entry in sorted(directory.iterdir()):
        name = entry.name.removesuffix(".parquet") if entry.is_file() else entry.name
        if entry.is_file() and not entry.name.endswith(".parquet"):
            continue
        if name not in known:
            raise InvalidInput(f"{entry.name!r} is not a canonical table; known: {', '.join(sorted(known))}",
                               where=str(directory))
        files = [entry] if entry.is_file() else sorted(entry.glob("*.parquet"))
        tables[name] = files
        for f in files:
            stat = f.stat()
            digest.update(f"{name}/{f.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return InputSource(tables, "folder-" + digest.hexdigest()[:16], str(directory))


def connect(source: InputSource) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per canonical table."""
    con = duckdb.connect()
    for name, table in load_tables().items():
        files = [str(p) for p in source.tables.get(name, []) if Path(p).exists()]
        if files:
            relation = con.read_parquet(files, union_by_name=True)
            have = set(relation.columns)
            missing = [f for f in table.field_names if f not in have]
            if missing:
                raise InvalidInput(f"table {name} lacks fields {missing}", where=files[0])
            con.register(f"_raw_{name}", relation)
            view = exp.select(*[exp.column(f) for f in table.field_names]).from_(f"_raw_{name}")
            con.execute(exp.Create(this=exp.to_table(name), kind="VIEW", expression=view).sql("duckdb"))
        else:
            empty = table.arrow_schema(lineage=False).empty_table()
            con.register(f"_empty_{name}", empty)
            view = exp.select("*").from_(f"_empty_{name}")
            con.execute(exp.Create(this=exp.to_table(name), kind="VIEW", expression=view).sql("duckdb"))
    return con


class SeriesMap(dict):
    """Metric -> (enterprises × months) matrix; a derived metric (``DERIVED_METRICS``, e.g. the tax
    rate) is computed from its parts the first time it is read, so runs that never use it never
    pay for it."""

    def __missing__(self, name: str) -> np.ndarray:
        if name not in DERIVED_METRICS:
            raise KeyError(name)
        num, den = DERIVED_METRICS[name]
        a, b = self[num], self[den]
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where((a > 0) & (b > 0), a / b, np.nan)
        self[name] = value
        return value


@dataclass
class Panel:
    """Enterprises (sorted by USCC) × months (ending at the as-of month) and their monthly series."""

    as_of: np.datetime64  # datetime64[M]
    months: np.ndarray  # datetime64[M], oldest first
    uscc: np.ndarray
    name: np.ndarray
    town_code: np.ndarray
    industry_code: np.ndarray
    status: np.ndarray
    status_changed_on: np.ndarray  # datetime64[D], NaT when unknown
    series: dict[str, np.ndarray] = field(default_factory=SeriesMap)  # metric -> float64 (N × T), NaN missing

    @property
    def n(self) -> int:
        return len(self.uscc)

    @property
    def t(self) -> int:
        return len(self.months)

    def month_index(self, month: np.datetime64) -> int:
        return int((np.datetime64(month, "M") - self.months[0]).astype(int))


def latest_month(con: duckdb.DuckDBPyConnection) -> np.datetime64 | None:
    """The latest month any monthly table holds (the default as-of month)."""
    tables = sorted({t for t, _ in METRICS.values()})
    selects = [exp.select(exp.Max(this=exp.column("month")).as_("m")).from_(t) for t in tables]
    union = selects[0]
    for s in selects[1:]:
        union = exp.union(union, s, distinct=False)
    query = exp.select(exp.Max(this=exp.column("m"))).from_(union.subquery("u"))
    value = con.sql(query.sql("duckdb")).fetchall()[0][0]
    return None if value is None else np.datetime64(value, "M")


def _date_literal(value: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), "DATE")


def load_panel(con: duckdb.DuckDBPyConnection, as_of: np.datetime64, months: int,
               metrics: list[str] | None = None) -> Panel:
    """Read the registry and the monthly series of the ``months`` months ending at ``as_of``."""
    as_of = np.datetime64(as_of, "M")
    first = as_of - (months - 1)
    month_axis = np.arange(first, as_of + 1)
    ent_query = exp.select(
        "uscc", "name", "town_code", "industry_code", "status", "status_changed_on",
    ).from_("enterprises").order_by("uscc")
    ents = con.sql(ent_query.sql("duckdb")).to_arrow_table()
    def text(column: str) -> np.ndarray:
        return ents.column(column).fill_null("").to_numpy(zero_copy_only=False).astype(object)

    uscc = text("uscc")
    if len(uscc) > 1 and (uscc[1:] == uscc[:-1]).any():  # sorted: duplicates are neighbours
        raise InvalidInput("the enterprises table holds the same USCC twice", where="enterprises")
    changed = ents.column("status_changed_on").cast(pa.date32()).to_numpy(zero_copy_only=False)
    panel = Panel(
        as_of=as_of,
        months=month_axis,
        uscc=uscc,
        name=text("name"),
        town_code=text("town_code"),
        industry_code=text("industry_code"),
        status=text("status"),
        status_changed_on=np.asarray(changed, dtype="datetime64[D]"),
    )
    # panel row of each enterprise: its rank in USCC order (the order the registry was read in)
    ids = exp.select(
        exp.column("uscc"),
        exp.alias_(exp.Sub(this=exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[exp.column("uscc")])),
                           expression=exp.Literal.number(1)), "idx"),
    ).from_("enterprises")
    first_date = np.datetime64(first, "D").astype(dt.date)
    last_date = np.datetime64(as_of, "D").astype(dt.date)
    wanted = metrics if metrics is not None else list(METRICS)
    by_table: dict[str, list[str]] = {}
    for metric in wanted:
        table, _field = METRICS[metric]
        by_table.setdefault(table, []).append(metric)
    y0 = int(str(first)[:4]) * 12 + int(str(first)[5:7]) - 1
    for table, table_metrics in by_table.items():
        month_col = exp.column("month", table="m")
        index = exp.Sub(
            this=exp.Add(
                this=exp.Mul(this=exp.Year(this=month_col), expression=exp.Literal.number(12)),
                expression=exp.Month(this=month_col.copy()),
            ),
            expression=exp.Literal.number(y0 + 1),
        )
        cols = [exp.cast(exp.column("idx", table="p"), "INT").as_("i"), exp.cast(index, "INT").as_("t")]
        for metric in table_metrics:
            cols.append(exp.cast(exp.column(METRICS[metric][1], table="m"), "DOUBLE").as_(metric))
        query = (
            exp.select(*cols)
            .from_(exp.to_table(table).as_("m"))
            .join(ids.subquery("p"), on=exp.EQ(this=exp.column("uscc", table="m"),
                                                                  expression=exp.column("uscc", table="p")))
            .where(exp.Between(this=exp.column("month", table="m"), low=_date_literal(first_date),
                               high=_date_literal(last_date)))
        )
        data = con.sql(query.sql("duckdb")).to_arrow_table()
        flat = data.column("i").to_numpy().astype(np.int64) * panel.t + data.column("t").to_numpy()
        for metric in table_metrics:
            matrix = np.full((panel.n, panel.t), np.nan)
            matrix.ravel()[flat] = data.column(metric).fill_null(np.nan).to_numpy()
            panel.series[metric] = matrix
    for metric in wanted:
        if metric not in panel.series:
            panel.series[metric] = np.full((panel.n, panel.t), np.nan)
    return panel  # derived metrics (DERIVED_METRICS) are computed when first read (SeriesMap)


def load_events(con: duckdb.DuckDBPyConnection, table: str, date_field: str, fields: list[str],
                first: np.datetime64 | None, as_of: np.datetime64) -> pa.Table:
    """Rows of an event table dated within ``[first month, end of as-of month]`` (USCC, date, fields),
    ordered by USCC and date; ``first=None`` reads all history up to the as-of month."""
    get_table(table)  # unknown tables fail with the list of known ones
    end = month_end(as_of)
    wanted = ["uscc", date_field] + [f for f in fields if f not in ("uscc", date_field)]
    if first is None:
        condition = exp.LTE(this=exp.column(date_field), expression=_date_literal(end))
    else:
        start = np.datetime64(first, "D").astype(dt.date)
        condition = exp.Between(this=exp.column(date_field), low=_date_literal(start), high=_date_literal(end))
    query = (
        exp.select(*[exp.column(f) for f in wanted])
        .from_(table)
        .where(condition)
        .order_by(exp.column("uscc"), exp.column(date_field))
    )
    return con.sql(query.sql("duckdb")).to_arrow_table()


def survey_inclusion(con: duckdb.DuckDBPyConnection, panel: Panel) -> np.ndarray:
    """For each enterprise the earliest month it is in the survey list (``datetime64[M]``; NaT: never)."""
    query = (
        exp.select(exp.column("uscc"), exp.Min(this=exp.column("included_month")).as_("first_month"))
        .from_("survey_list")
        .group_by(exp.column("uscc"))
    )
    data = con.sql(query.sql("duckdb")).to_arrow_table()
    out = np.full(panel.n, np.datetime64("NaT"), dtype="datetime64[M]")
    if data.num_rows:
        pos = np.searchsorted(panel.uscc.astype(str), np.asarray(data.column("uscc").to_pylist(), dtype=str))
        pos = np.clip(pos, 0, max(panel.n - 1, 0))
        months = data.column("first_month").cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[M]")
        ok = panel.uscc.astype(str)[pos] == np.asarray(data.column("uscc").to_pylist(), dtype=str)
        out[pos[ok]] = months[ok]
    return out
