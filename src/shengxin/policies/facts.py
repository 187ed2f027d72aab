"""Enterprise facts for policies: from a test case's YAML, from the analytic store (one enterprise),
and as DuckDB tables (so a policy's test cases run through the SQL path too).

A test case's ``enterprise`` uses the names of the definition language::

    enterprise:
      industry: '3311'            town: '330110005'          established_on: 2020-05-01
      status: active              registered_capital: 500万元
      annual: {revenue: 3000万元, rd_expense: 120万元, employees: 50}     # year: as-of year − 1
      annual_reports: {2024: {revenue: 2500万元}}                          # several years
      monthly:
        revenue: [{from: 2024-11, to: 2025-10, each: 80万元}, {from: 2025-11, to: 2026-10, each: 100万元}]
        tax: {2026-09: 5万元, 2026-10: 6万元}
      certifications: [{kind: high_tech, certified_on: 2025-12-01, valid_until: 2028-11-30}]
      survey_list: [{scope: industry, included_month: 2026-01}]
    inputs: {hires: 3}
    paid: {total: 0元, this_year: 0元}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from shengxin.engine import types as T
from shengxin.engine import vocabulary as V
from shengxin.engine.evaluate import Facts
from shengxin.enterprises.hub.tables import load_tables
from shengxin.enterprises.uscc import make_code
from shengxin.policies.context import PolicyContext
from shengxin.policies.errors import Collector
from shengxin.policies.values import const_for

EXTRA_ENTERPRISE_FIELDS = {"status_changed_on": T.DATE}
#: registry fields no policy condition can name (not in the vocabulary); not read for matching
CONTACT_FIELDS = frozenset({"address", "legal_representative", "phone"})
INPUT_DECIMAL = pa.decimal128(38, 10)


def test_uscc(index: int) -> str:
    """A valid code for the ``index``-th test enterprise (``91330110T…``)."""
    return make_code("9", "1", "330110", f"T{index:08d}")


def _month(value, where: str, c: Collector) -> dt.date | None:
    if isinstance(value, dt.date):
        return value.replace(day=1)
    try:
        y, m = str(value).strip().split("-")[:2]
        return dt.date(int(y), int(m), 1)
    except (ValueError, TypeError):
        c.add(where, f"{value!r} 不是年月", "写成 YYYY-MM，例如 2026-10")
        return None


def _months(first: dt.date, last: dt.date):
    d = first
    while d <= last:
        yield d
        d = dt.date(d.year + (d.month // 12), d.month % 12 + 1, 1)


def _canonical(value, typ: T.Type, where: str, c: Collector):
    const = const_for(value, typ, where, c)
    if const is None:
        return None
    v = const.value
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else v
    return v


def facts_from_case(case: dict, ctx: PolicyContext, as_of: dt.date, index: int, where: str, c: Collector) -> tuple[Facts, int, int]:
    """``(facts, paid_total_fen, paid_year_fen)`` of a test case (problems go to ``c``)."""
    ent_spec = case.get("enterprise") or {}
    if not isinstance(ent_spec, dict):
        c.add(f"{where}.enterprise", "enterprise 应是映射", "enterprise: {industry: '3311', annual: {revenue: 3000万元}}")
        ent_spec = {}
    uscc = test_uscc(index)
    enterprise: dict = {"uscc": uscc, "name": f"测试企业{index}", "status": "active", "town_code": None,
                        "industry_code": None, "established_on": None, "status_changed_on": None,
                        "legal_form": None, "registered_capital_fen": None}
    tables: dict[str, list[dict]] = {}
    known = set(V.ENTERPRISE_FIELDS) | set(EXTRA_ENTERPRISE_FIELDS) | {"annual", "annual_reports", "monthly"} | set(V.COLLECTIONS)
    for key, value in ent_spec.items():
        kwhere = f"{where}.enterprise.{key}"
        if key not in known:
            c.add(kwhere, f"未知的企业字段 {key!r}", f"可用：{', '.join(sorted(known))}")
            continue
        if key in V.ENTERPRISE_FIELDS:
            spec = ctx.vocabulary.field(key)
            enterprise[spec.column] = _canonical(value, spec.type, kwhere, c)
        elif key in EXTRA_ENTERPRISE_FIELDS:
            enterprise[key] = _canonical(value, EXTRA_ENTERPRISE_FIELDS[key], kwhere, c)
        elif key in ("annual", "annual_reports"):
            reports = {as_of.year - 1: value} if key == "annual" else value
            if not isinstance(reports, dict):
                c.add(kwhere, f"{key} 应是映射", "annual: {revenue: 3000万元, employees: 50}")
                continue
            for year, figures in reports.items():
                if isinstance(figures, dict) and "year" in figures and key == "annual":
                    year = figures["year"]
                if not isinstance(figures, dict) or not isinstance(year, int):
                    c.add(kwhere, "年报应写成 年份: {revenue: …}", "annual_reports: {2025: {revenue: 3000万元}}")
                    continue
                row = {"uscc": uscc, "year": year, "employees": None, "revenue_fen": None, "assets_fen": None,
                       "rd_expense_fen": None}
                for fname, fvalue in figures.items():
                    if fname == "year":
                        continue
                    spec = V.ANNUAL_FIELDS.get(f"annual.{fname}")
                    if spec is None:
                        c.add(f"{kwhere}.{fname}", f"未知的年报字段 {fname!r}", "可用：employees、revenue、assets、rd_expense")
                        continue
                    row[spec.column] = _canonical(fvalue, spec.type, f"{kwhere}.{fname}", c)
                tables.setdefault(V.ANNUAL_TABLE, []).append(row)
        elif key == "monthly":
            _monthly(value, uscc, tables, kwhere, c)
        else:
            _events(key, value, uscc, tables, kwhere, c)
    for name, value in (case.get("inputs") or {}).items():
        spec = ctx.vocabulary.field(f"input.{name}")
        if spec is None:
            c.add(f"{where}.inputs.{name}", f"政策没有声明申报信息 {name!r}", "先在 inputs: 中声明，或删掉这一项")
            continue
        enterprise[spec.column] = _canonical(value, spec.type, f"{where}.inputs.{name}", c)
    paid = case.get("paid") or {}
    totals = []
    for key in ("total", "this_year"):
        v = paid.get(key, "0元") if isinstance(paid, dict) else "0元"
        totals.append(_canonical(v, T.number(T.MONEY), f"{where}.paid.{key}", c) or 0)
    return Facts(enterprise, tables), int(totals[0]), int(totals[1])


def _monthly(value, uscc: str, tables: dict, where: str, c: Collector) -> None:
    if not isinstance(value, dict):
        c.add(where, "monthly 应是 序列: 取值 的映射", "monthly: {revenue: [{from: 2025-11, to: 2026-10, each: 100万元}]}")
        return
    for series, spec in value.items():
        s = V.SERIES.get(series)
        if s is None:
            c.add(f"{where}.{series}", f"未知的月度序列 {series!r}", f"可用：{', '.join(V.SERIES)}")
            continue
        entries: list[tuple[dt.date, object]] = []
        if isinstance(spec, list):
            for i, r in enumerate(spec):
                rw = f"{where}.{series}[{i}]"
                if not isinstance(r, dict) or set(r) != {"from", "to", "each"}:
                    c.add(rw, "每段写 from、to（YYYY-MM）和 each（每月数值）", "{from: 2025-11, to: 2026-10, each: 100万元}")
                    continue
                first, last = _month(r["from"], rw, c), _month(r["to"], rw, c)
                v = _canonical(r["each"], s.type, rw, c)
                if first and last:
                    entries += [(m, v) for m in _months(first, last)]
        elif isinstance(spec, dict):
            for month, v in spec.items():
                m = _month(month, f"{where}.{series}", c)
                if m:
                    entries.append((m, _canonical(v, s.type, f"{where}.{series}.{month}", c)))
        else:
            c.add(f"{where}.{series}", "序列应是分段列表或 年月: 数值 的映射", "[{from: 2025-11, to: 2026-10, each: 100万元}]")
            continue
        rows = tables.setdefault(s.table, [])
        by_month = {r["month"]: r for r in rows}
        for m, v in entries:
            row = by_month.get(m)
            if row is None:
                row = by_month[m] = {"uscc": uscc, "month": m}
                rows.append(row)
            row[s.column] = v


def _events(name: str, value, uscc: str, tables: dict, where: str, c: Collector) -> None:
    spec = V.COLLECTIONS[name]
    if not isinstance(value, list):
        c.add(where, f"{name} 应是记录列表", f"{name}: [{{{', '.join(f'{k}: …' for k in spec.fields)}}}]")
        return
    table = load_tables()[name]
    for i, r in enumerate(value):
        rw = f"{where}[{i}]"
        if not isinstance(r, dict):
            c.add(rw, "每条记录应是映射", f"{{{', '.join(f'{k}: …' for k in spec.fields)}}}")
            continue
        row = {f: None for f in table.field_names}
        row["uscc"] = uscc
        for k, v in r.items():
            fs = spec.fields.get(k)
            if fs is None:
                if k in table.field_names:
                    row[k] = str(v)
                    continue
                c.add(f"{rw}.{k}", f"{name} 没有字段 {k!r}", f"可用：{', '.join(spec.fields)}")
                continue
            if spec.date_is_month and k == spec.date:
                row[fs.column] = _month(v, f"{rw}.{k}", c)
            else:
                row[fs.column] = _canonical(v, fs.type, f"{rw}.{k}", c)
        if row.get(spec.date) is None:
            c.add(rw, f"{name} 的记录缺少日期 {spec.date}", f"补上 {spec.date}: YYYY-MM-DD")
            continue
        for key in table.key:
            if row.get(key) is None:
                row[key] = f"{key}-{i}"
        tables.setdefault(name, []).append(row)


# ----------------------------------------------------------------------------- DuckDB tables


def _arrow_value(v, typ: pa.DataType):
    if v is None:
        return None
    if pa.types.is_decimal(typ):
        q = Fraction(v)
        return Decimal(q.numerator) / Decimal(q.denominator)
    if isinstance(v, Fraction):
        return int(v)
    return v


def input_arrow_type(typ: T.Type) -> pa.DataType:
    if typ.kind == "number":
        return pa.int64() if (typ.integral or typ.unit == T.MONEY) else INPUT_DECIMAL
    return {"bool": pa.bool_(), "string": pa.string(), "date": pa.date32()}[typ.kind]


def arrow_tables(facts: list[Facts], inputs: dict[str, T.Type] | None = None) -> dict[str, pa.Table]:
    """Every canonical table (empty where no fact fills it) holding ``facts``; the enterprises
    table also gets one column per declared input (``input_<name>``)."""
    out = {}
    for name, table in load_tables().items():
        schema = table.arrow_schema(lineage=False)
        fields = list(schema)
        if name == "enterprises":
            fields += [pa.field(col, input_arrow_type(t)) for col, t in sorted((inputs or {}).items())]
        rows = [f.enterprise for f in facts] if name == "enterprises" else [r for f in facts for r in f.tables.get(name, [])]
        columns = {fl.name: pa.array([_arrow_value(r.get(fl.name), fl.type) for r in rows], type=fl.type) for fl in fields}
        out[name] = pa.table(columns, schema=pa.schema(fields))
    return out


def register_facts(con: duckdb.DuckDBPyConnection, facts: list[Facts], inputs: dict[str, T.Type] | None = None) -> None:
    """Make the canonical tables of ``facts`` queryable by name on ``con``."""
    for name, table in arrow_tables(facts, inputs).items():
        con.register(name, table)


def add_input_columns(con: duckdb.DuckDBPyConnection, snapshot, inputs: dict[str, T.Type]) -> None:
    """Redefine the ``enterprises`` view of a store connection with an empty column per input."""
    from shengxin.enterprises.store import table_select

    if not inputs:
        return
    base = table_select(load_tables()["enterprises"], snapshot.table_files("enterprises") if snapshot else [])
    type_sql = {pa.int64(): "BIGINT", INPUT_DECIMAL: "DECIMAL(38, 10)", pa.bool_(): "BOOLEAN", pa.string(): "VARCHAR",
                pa.date32(): "DATE"}
    cols = [exp.Star()] + [exp.alias_(exp.cast(exp.null(), type_sql[input_arrow_type(t)]), col)
                           for col, t in sorted(inputs.items())]
    query = sqlglot.select(*cols).from_(exp.alias_(exp.Subquery(this=base), "e", table=True))
    stmt = exp.Create(this=exp.to_table("enterprises"), kind="VIEW", expression=query, replace=True)
    con.execute(stmt.sql("duckdb"))


# ----------------------------------------------------------------------------- one enterprise from the store


def snapshot_facts(snapshot, uscc: str, tables: Iterable[str] | None = None) -> Facts | None:
    """One enterprise's rows of every canonical table (or only of ``tables``; the registry row
    always), read straight from the data snapshot's sorted segments (``None`` if it is not
    registered) — what :func:`load_facts` returns, without views that scan whole tables; the
    registry's contact fields (:data:`CONTACT_FIELDS`), which no rule may use, are left out.

    Rule: a caller that evaluates known rules passes the tables they read
    (:meth:`CompiledPolicy.tables_read`) — each table costs a row-group decode (~0.5 ms) — and the
    answers are the same as with every table."""
    from shengxin.enterprises.store import enterprise_rows

    found = enterprise_rows(snapshot, uscc, ["enterprises"], skip=CONTACT_FIELDS)["enterprises"]
    if not found:
        return None
    wanted = set(tables) if tables is not None else None
    rows = enterprise_rows(snapshot, uscc, [n for n in load_tables() if n != "enterprises"
                                            and (wanted is None or n in wanted)])
    return Facts(found[0], {name: r for name, r in rows.items() if r})


def load_facts(con: duckdb.DuckDBPyConnection, uscc: str) -> Facts | None:
    """One enterprise's rows of every canonical table (``None`` if it is not registered)."""
    tables = load_tables()
    rows: dict[str, list[dict]] = {}
    enterprise = None
    for name, table in tables.items():
        names = list(table.field_names)
        q = sqlglot.select(*[exp.column(n) for n in names]).from_(name).where(
            exp.EQ(this=exp.column("uscc"), expression=exp.Placeholder()))
        result = con.execute(q.sql("duckdb"), [uscc]).fetchall()
        dicts = [dict(zip(names, r)) for r in result]
        if name == "enterprises":
            if not dicts:
                return None
            enterprise = dicts[0]
        elif dicts:
            rows[name] = dicts
    return Facts(enterprise, rows)

