"""Why an enterprise has (or lacks) a tag: the decisive values, thresholds and data lineage.

An explanation is computed from the snapshot itself, never from newer data: the definition comes
from the catalogue stored with the snapshot, the values from the snapshot's evidence row (what the
SQL computed), and the evaluator re-decides every condition from those values. ``consistent``
says that the evaluator reached the same result as the snapshot (it always should; a ``false``
here is a bug worth reporting). Lineage lists the hub rows the definition read — each with its
source, delivered file, row number and ingest run — from the hub snapshot the tags were computed
from, restricted to the windows the definition used.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from shengxin.engine import asof as A
from shengxin.engine import ir
from shengxin.engine import vocabulary as V
from shengxin.engine.evaluate import FeatureEnv, atoms, evaluate
from shengxin.engine.evaluate import explain as explain_tree
from shengxin.engine.plan import atom_column, tables_of
from shengxin.engine.render import display, json_value
from shengxin.enterprises import store
from shengxin.enterprises.hub.tables import load_tables
from shengxin.enterprises.uscc import check
from shengxin.errors import InvalidInput, NotFound
from shengxin.reference.district import District
from shengxin.tags import snapshots
from shengxin.tags.catalogue import CompiledTag, catalogue_from_json, compile_at

MAX_LINEAGE_ROWS = 60


@lru_cache(maxsize=8)
def _compiled(snapshot_path: str, snapshot_id: str, district: District) -> dict[str, CompiledTag]:
    snap = snapshots.load(Path(snapshot_path).parent.parent, snapshot_id)
    catalogue = catalogue_from_json(snap.catalogue_json(), f"snapshot {snapshot_id}")
    compiled, _ = compile_at(catalogue, snap.as_of, district)
    return compiled


def compiled_tags(snap: snapshots.TagSnapshot, district: District) -> dict[str, CompiledTag]:
    """The tags of a snapshot, compiled from the catalogue stored with it."""
    return _compiled(str(snap.path), snap.id, district)


def check_uscc(uscc: str) -> str:
    """The code normalised, or :class:`InvalidInput` saying why it cannot be a USCC.

    A wrong check character is accepted (the hub keeps such records with a warning)."""
    result = check(uscc)
    if result.severity == "error":
        raise InvalidInput(f"{uscc!r} 不是有效的统一社会信用代码：{result.reason}", where="uscc")
    return result.code


def evidence_row(snap: snapshots.TagSnapshot, uscc: str) -> dict:
    table = pq.read_table(snap.evidence_file, filters=[("uscc", "=", uscc)])
    if table.num_rows == 0:
        raise NotFound(f"企业 {uscc} 不在标签快照 {snap.id} 中（统计日期 {snap.as_of} 时尚未成立，或数据中没有该企业）")
    return table.slice(0, 1).to_pylist()[0]


def tag_rows(snap: snapshots.TagSnapshot, uscc: str) -> dict[str, object]:
    """``tag_id → value`` for the tags the enterprise has in the snapshot."""
    table = pq.read_table(snap.tags_file, filters=[("uscc", "=", uscc)], columns=["tag_id", "value"])
    return dict(zip(table.column("tag_id").to_pylist(), table.column("value").to_pylist()))


def feature_env(row: dict, tag: CompiledTag, as_of: dt.date) -> FeatureEnv:
    nodes = atoms(tag.condition) + (atoms(tag.value) if tag.value is not None else [])
    columns = {n: atom_column(n) for n in nodes}
    columns.setdefault(ir.INDUSTRY, atom_column(ir.INDUSTRY))
    for n in (ir.ANNUAL_EMPLOYEES, ir.ANNUAL_REVENUE, ir.ANNUAL_ASSETS):
        columns.setdefault(n, atom_column(n))
    return FeatureEnv(row, columns, as_of)


def explain(uscc: str, tag_id: str, analytic_dir: Path, district: District,
            snap: snapshots.TagSnapshot | None = None, *, lineage: bool = True) -> dict:
    """The full explanation of one tag for one enterprise (see module doc for the fields)."""
    uscc = check_uscc(uscc)
    snap = snap or snapshots.require_current(analytic_dir)
    compiled = compiled_tags(snap, district)
    if tag_id not in compiled:
        raise NotFound(f"标签 {tag_id} 不在标签快照 {snap.id} 中（未定义、已停用或统计日期时尚未生效）")
    tag = compiled[tag_id]
    row = evidence_row(snap, uscc)
    held = tag_rows(snap, uscc)
    env = feature_env(row, tag, snap.as_of)
    result = evaluate(tag.condition, env)
    value = evaluate(tag.value, env) if tag.value is not None else None
    has = tag_id in held
    v = tag.version
    out = {
        "uscc": uscc,
        "tag": {"id": v.id, "name": v.name, "category": v.category, "version": v.version,
                "valid_from": v.valid_from.isoformat(), "provenance": v.provenance, "source": v.source,
                "description": v.description, "definition": v.definition, "value_definition": v.value},
        "snapshot": {"id": snap.id, "as_of": snap.as_of.isoformat(),
                     "catalogue_fingerprint": snap.manifest["catalogue"]["fingerprint"],
                     "input_snapshot": snap.manifest["input"]["snapshot_id"]},
        "value": has,
        "tag_value": json_value(held.get(tag_id)) if has else None,
        "tag_value_display": display(value, tag.value.type) if (has and tag.value is not None) else None,
        "consistent": (result is True) == has,
        "explanation": _named(explain_tree(tag.condition, env), compiled),
    }
    if lineage:
        out["lineage"] = lineage_of(uscc, tag, snap, analytic_dir)
    return out


def _named(node: dict, compiled: dict[str, CompiledTag]) -> dict:
    """Give referenced tags their Chinese names in the explanation tree."""
    if node.get("kind") == "tag" and node.get("tag_id") in compiled:
        name = compiled[node["tag_id"]].version.name
        node["tag_name"] = name
        node["label"] = f"具有标签“{name}”"
    for child in node.get("conditions", []):
        _named(child, compiled)
    return node


# ----------------------------------------------------------------------------- lineage


def _windows(tag: CompiledTag, table: str, as_of: dt.date) -> exp.Expression | None:
    """A filter on ``table`` covering every window the definition reads from it."""
    nodes = atoms(tag.condition) + (atoms(tag.value) if tag.value is not None else [])
    if table == V.ANNUAL_TABLE:
        return exp.LTE(this=exp.column("year"), expression=exp.Literal.number(A.annual_year(as_of)))
    series = [n for n in nodes if isinstance(n, ir.SeriesAgg) and n.table == table]
    if series:
        windows = [A.series_window(as_of, n.months, n.offset) for n in series]
        first, last = min(w[0] for w in windows), max(w[1] for w in windows)
        month = exp.column("month")
        return exp.and_(exp.GTE(this=month, expression=_date(first)), exp.LTE(this=month, expression=_date(last)))
    events = [n for n in nodes if isinstance(n, ir.EventAgg) and n.table == table]
    if events:
        date = exp.column(V.COLLECTIONS[table].date)
        cond = exp.LTE(this=date, expression=_date(as_of))
        if all(n.months is not None for n in events):
            start = min(A.event_window_start(as_of, n.months) for n in events)
            cond = exp.and_(cond, exp.GT(this=date, expression=_date(start)))
        return cond
    return None


def _date(d: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(d.isoformat()), "DATE")


def _order_column(table: str) -> str | None:
    if table in V.COLLECTIONS:
        return V.COLLECTIONS[table].date
    if table == V.ANNUAL_TABLE:
        return "year"
    if any(s.table == table for s in V.SERIES.values()):
        return "month"
    return None


def lineage_of(uscc: str, tag: CompiledTag, snap: snapshots.TagSnapshot, analytic_dir: Path) -> dict:
    """Hub rows behind a definition, per table, each with its lineage columns."""
    input_id = snap.manifest["input"]["snapshot_id"]
    try:
        source = store.get_snapshot(input_id, analytic_dir)
    except NotFound:
        return {"available": False, "input_snapshot": input_id,
                "reason": f"数据快照 {input_id} 已被清理，无法列出数据来源"}
    tables = load_tables()
    con = store.open_snapshot(source, analytic_dir=analytic_dir)
    out = []
    try:
        for table in sorted(tables_of(tag.condition) | (tables_of(tag.value) if tag.value is not None else set())):
            definition = tables[table]
            columns = [*definition.field_names, "_source", "_file", "_row", "_run"]
            where = exp.EQ(this=exp.column("uscc"), expression=exp.Placeholder())
            window = _windows(tag, table, snap.as_of)
            if window is not None:
                where = exp.and_(where, window)
            order = _order_column(table)
            base = sqlglot.select(*[exp.column(c) for c in columns]).from_(table).where(where)
            total = con.execute(sqlglot.select(exp.Count(this=exp.Star())).from_(table).where(where.copy()).sql("duckdb"),
                                [uscc]).fetchone()[0]
            query = base.order_by(exp.Ordered(this=exp.column(order), desc=True)) if order else base
            rows = con.execute(query.limit(MAX_LINEAGE_ROWS).sql("duckdb"), [uscc]).fetchall()
            out.append({
                "table": table, "title": definition.title, "total": total, "shown": len(rows),
                "rows": [{c: json_value(v) if not isinstance(v, str) else v for c, v in zip(columns, r)} for r in rows],
            })
    finally:
        con.close()
    return {"available": True, "input_snapshot": input_id, "tables": out}
