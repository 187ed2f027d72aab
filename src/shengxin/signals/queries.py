"""Reading a signal snapshot: lists with filters, one signal with its evidence, counts and trends.

Every query runs in DuckDB over the snapshot's Parquet file; SQL is built with SQLGlot (values are
literals of the expression tree, never spliced strings). ``town`` restricts a query to one desk:
a town's NBS code, or ``""`` for the district desk (enterprises registered outside the district).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from shengxin.errors import InvalidInput, NotFound
from shengxin.signals.catalogue import KINDS, SEVERITIES, SEVERITY_RANK
from shengxin.signals.store import SignalSnapshot

LIST_COLUMNS = (
    "signal_key", "signal", "kind", "severity", "reason_codes", "uscc", "name", "town_code", "industry_code",
    "start_month", "end_month", "detected_month", "months", "active", "new", "value", "baseline", "change",
    "score", "lost", "ratio", "detail", "series_metric",
)
ORDERS = {"severity", "newest", "change"}
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class SignalFilter:
    signal: str | None = None
    kind: str | None = None
    severity: str | None = None
    town: str | None = None  # None: every desk the caller may see; "" the district desk
    active: bool | None = True
    new: bool | None = None
    uscc: str | None = None
    detected_from: dt.date | None = None

    def validate(self, known_signals: list[str]) -> SignalFilter:
        if self.signal is not None and self.signal not in known_signals:
            raise InvalidInput(f"unknown signal {self.signal!r}; known: {', '.join(known_signals)}", where="signal")
        if self.kind is not None and self.kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", where="kind")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise InvalidInput(f"severity must be one of {', '.join(SEVERITIES)}", where="severity")
        return self


def months_before(as_of: str, months: int) -> dt.date:
    """First day of the month ``months`` months before ``as_of`` (``YYYY-MM``)."""
    year, month = int(as_of[:4]), int(as_of[5:7])
    index = year * 12 + month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _table(snapshot: SignalSnapshot) -> exp.Expression:
    return exp.func("read_parquet", exp.Literal.string(str(snapshot.data_file)))


def _conditions(filt: SignalFilter) -> list[exp.Expression]:
    out: list[exp.Expression] = []

    def eq(col: str, value) -> exp.Expression:
        lit = exp.Literal.string(value) if isinstance(value, str) else exp.Boolean(this=value)
        return exp.EQ(this=exp.column(col), expression=lit)

    for col in ("signal", "kind", "severity", "uscc"):
        value = getattr(filt, col)
        if value is not None:
            out.append(eq(col, value))
    if filt.town is not None:
        out.append(eq("town_code", filt.town))
    if filt.active is not None:
        out.append(eq("active", filt.active))
    if filt.new is not None:
        out.append(eq("new", filt.new))
    if filt.detected_from is not None:
        out.append(exp.GTE(this=exp.column("detected_month"),
                           expression=exp.cast(exp.Literal.string(filt.detected_from.isoformat()), "DATE")))
    return out


def _where(query: exp.Select, conditions: list[exp.Expression]) -> exp.Select:
    for c in conditions:
        query = query.where(c)
    return query


def _rows(query: exp.Expression) -> list[dict]:
    with duckdb.connect() as con:
        table = con.sql(query.sql("duckdb")).to_arrow_table()
    return table.to_pylist()


def _severity_rank() -> exp.Expression:
    case = exp.Case()
    for name, rank in SEVERITY_RANK.items():
        case = case.when(exp.EQ(this=exp.column("severity"), expression=exp.Literal.string(name)),
                         exp.Literal.number(rank))
    return case.else_(exp.Literal.number(0))


def _decode(row: dict) -> dict:
    detail = row.get("detail")
    row["detail"] = json.loads(detail) if detail else {}
    row["reason_codes"] = [c for c in (row.get("reason_codes") or "").split(",") if c]
    return row


def list_signals(snapshot: SignalSnapshot, filt: SignalFilter, *, limit: int = 50, offset: int = 0,
                 order: str = "severity") -> tuple[list[dict], int]:
    """Signals matching the filter (without their evidence series) and the total count."""
    if order not in ORDERS:
        raise InvalidInput(f"order must be one of {', '.join(sorted(ORDERS))}", where="order")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page size must be 1-{MAX_PAGE_SIZE}", where="limit")
    conditions = _conditions(filt)
    count = _where(exp.select(exp.Count(this=exp.Star()).as_("n")).from_(_table(snapshot)), conditions)
    total = _rows(count)[0]["n"]
    query = _where(exp.select(*[exp.column(c) for c in LIST_COLUMNS]).from_(_table(snapshot)), conditions)
    if order == "severity":
        query = query.order_by(exp.Ordered(this=_severity_rank(), desc=True),
                               exp.Ordered(this=exp.column("detected_month"), desc=True), exp.column("signal_key"))
    elif order == "newest":
        query = query.order_by(exp.Ordered(this=exp.column("detected_month"), desc=True), exp.column("signal_key"))
    else:
        query = query.order_by(exp.Ordered(this=exp.column("change"), nulls_first=False), exp.column("signal_key"))
    query = query.limit(limit).offset(offset)
    return [_decode(r) for r in _rows(query)], int(total)


def get_signal(snapshot: SignalSnapshot, key: str) -> dict:
    """One signal with its evidence series; NotFound when the key is not in the snapshot."""
    query = exp.select("*").from_(_table(snapshot)).where(
        exp.EQ(this=exp.column("signal_key"), expression=exp.Literal.string(key)))
    rows = _rows(query)
    if not rows:
        raise NotFound(f"当前信号快照中没有编号为 {key} 的信号（可能已在新一轮检测中消失）", where="signal_key")
    row = _decode(rows[0])
    row["series_start"] = snapshot.window_start  # month of the first value of the evidence series
    return row


def counts_by(snapshot: SignalSnapshot, column: str, filt: SignalFilter) -> list[dict]:
    """Counts per value of ``column`` (town_code, signal, severity) split by kind."""
    if column not in ("town_code", "signal", "severity", "uscc"):
        raise InvalidInput(f"cannot count by {column!r}", where="by")
    kind = exp.column("kind")
    query = _where(
        exp.select(
            exp.column(column).as_("key"),
            exp.Sum(this=exp.cast(exp.EQ(this=kind, expression=exp.Literal.string("warning")), "INT")).as_("warning"),
            exp.Sum(this=exp.cast(exp.EQ(this=kind, expression=exp.Literal.string("growth")), "INT")).as_("growth"),
            exp.Count(this=exp.Star()).as_("total"),
        ).from_(_table(snapshot)),
        _conditions(filt),
    ).group_by(exp.column(column)).order_by(exp.Ordered(this=exp.column("total"), desc=True), exp.column("key"))
    return _rows(query)


def monthly_new(snapshot: SignalSnapshot, filt: SignalFilter) -> list[dict]:
    """Signals first confirmed in each month of the window, split by kind (all episodes, not only
    the active ones: this is when each signal would have been raised)."""
    kind = exp.column("kind")
    query = _where(
        exp.select(
            exp.column("detected_month").as_("month"),
            exp.Sum(this=exp.cast(exp.EQ(this=kind, expression=exp.Literal.string("warning")), "INT")).as_("warning"),
            exp.Sum(this=exp.cast(exp.EQ(this=kind, expression=exp.Literal.string("growth")), "INT")).as_("growth"),
        ).from_(_table(snapshot)),
        _conditions(filt),
    ).group_by(exp.column("detected_month")).order_by(exp.column("detected_month"))
    return _rows(query)


def keys_of_enterprise(snapshot: SignalSnapshot, uscc: str) -> list[dict]:
    """All signals of one enterprise in the snapshot (for its portrait), newest first."""
    rows, _ = list_signals(snapshot, SignalFilter(uscc=uscc, active=None), limit=MAX_PAGE_SIZE, order="newest")
    return rows
