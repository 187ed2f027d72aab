"""The impact sandbox: what a new or changed policy would do before it is published.

``impact(text)`` validates the text, runs its test cases, and evaluates it — and, when the policy
already has a published version, that version too — over every enterprise of the current data
snapshot through the policy's own SQL (:func:`shengxin.policies.sql.execute`). It reports how many
enterprises qualify, the total cost against the budget, both by town, and who gains or loses
compared with the published version. Nothing is saved.
"""

from __future__ import annotations

import datetime as dt

import duckdb
from sqlalchemy.orm import Session

from shengxin.enterprises.store import current_snapshot, open_snapshot
from shengxin.errors import NotFound
from shengxin.policies import sql as Q
from shengxin.policies.compile import compile_text
from shengxin.policies.errors import PolicyInvalid
from shengxin.policies.facts import add_input_columns
from shengxin.policies.matching import default_as_of
from shengxin.policies.testing import run_tests
from shengxin.reference.district import District

SAMPLE = 20
NEW, OLD = 1_000_000, 1_000_001  # version tags of the two sides inside one run


def impact(session: Session, district: District, analytic_dir, text: str, *, as_of: dt.date | None = None) -> dict:
    from shengxin.policies import service

    policy = compile_text(text, district)
    try:
        tests = run_tests(policy).to_dict()
    except PolicyInvalid as exc:
        tests = {"passed": False, "cases": [], "problems": [str(p) for p in exc.problems]}
    data = current_snapshot(analytic_dir)
    if data is None:
        raise NotFound("分析库中还没有企业数据：请先运行 shengxin ingest 导入部门数据")
    as_of = as_of or default_as_of(data)
    baseline = None
    try:
        summary = service.get(session, policy.id)
    except NotFound:
        summary = None
    if summary is not None and summary.published_version is not None:
        baseline, _ = service.compiled_version(session, district, policy.id, summary.published_version)
    members = [(policy, NEW)] + ([(baseline, OLD)] if baseline is not None else [])
    con = open_snapshot(data, analytic_dir=analytic_dir)
    try:
        inputs = {s.column: s.type for p, _ in members for s in p.context.vocabulary.inputs}
        add_input_columns(con, data, inputs)
        table = Q.execute(con, Q.build(members, as_of))
        con.register("impact_rows", table)
        report = _report(con, policy, baseline, summary, district)
    finally:
        con.close()
    report.update({"policy_id": policy.id, "title": policy.definition.title, "as_of": as_of.isoformat(),
                   "data_snapshot": data.id, "tests": tests,
                   "published_version": summary.published_version if summary else None})
    return report


def _side(con: duckdb.DuckDBPyConnection, version: int) -> dict:
    counts = dict(con.execute("SELECT status, count(*) FROM impact_rows WHERE version = ? GROUP BY status",
                              [version]).fetchall())
    cost, unknown = con.execute(
        "SELECT coalesce(sum(amount_fen), 0), count(*) FILTER (WHERE amount_fen IS NULL) FROM impact_rows "
        "WHERE version = ? AND status = 'eligible'", [version]).fetchone()
    return {"eligible": counts.get("eligible", 0), "near_miss": counts.get("near_miss", 0),
            "missing_data": counts.get("missing_data", 0), "cost_fen": int(cost), "amount_unknown": int(unknown)}


def _report(con, policy, baseline, summary, district: District) -> dict:
    new = _side(con, NEW)
    budget = policy.definition.budget_fen
    out: dict = {"new": new, "budget_fen": budget,
                 "budget_used": (round(new["cost_fen"] / budget, 4) if budget else None),
                 "over_budget": bool(budget and new["cost_fen"] > budget)}
    towns = {t.code: t.name for t in district.towns}
    by_town = con.execute(
        "SELECT town, count(*) FILTER (WHERE version = ? AND status = 'eligible'), "
        "coalesce(sum(amount_fen) FILTER (WHERE version = ? AND status = 'eligible'), 0), "
        "count(*) FILTER (WHERE version = ? AND status = 'eligible'), "
        "coalesce(sum(amount_fen) FILTER (WHERE version = ? AND status = 'eligible'), 0) "
        "FROM impact_rows GROUP BY town ORDER BY town", [NEW, NEW, OLD, OLD]).fetchall()
    out["by_town"] = [{"town": t, "town_name": towns.get(t, t or "未知"), "eligible": int(n), "cost_fen": int(c),
                       "before_eligible": int(bn), "before_cost_fen": int(bc)} for t, n, c, bn, bc in by_town
                      if n or bn]
    if baseline is not None:
        out["before"] = _side(con, OLD)
        gains = con.execute(
            "SELECT n.uscc, n.town, n.amount_fen FROM impact_rows n WHERE n.version = ? AND n.status = 'eligible' "
            "AND NOT EXISTS (SELECT 1 FROM impact_rows o WHERE o.version = ? AND o.status = 'eligible' "
            "AND o.uscc = n.uscc) ORDER BY n.uscc", [NEW, OLD]).fetchall()
        losses = con.execute(
            "SELECT o.uscc, o.town, o.amount_fen FROM impact_rows o WHERE o.version = ? AND o.status = 'eligible' "
            "AND NOT EXISTS (SELECT 1 FROM impact_rows n WHERE n.version = ? AND n.status = 'eligible' "
            "AND n.uscc = o.uscc) ORDER BY o.uscc", [OLD, NEW]).fetchall()
        changed = con.execute(
            "SELECT count(*) FROM impact_rows n JOIN impact_rows o ON o.uscc = n.uscc "
            "WHERE n.version = ? AND o.version = ? AND n.status = 'eligible' AND o.status = 'eligible' "
            "AND n.amount_fen IS DISTINCT FROM o.amount_fen", [NEW, OLD]).fetchone()[0]
        out["gains"] = {"count": len(gains), "sample": [_row(r, towns) for r in gains[:SAMPLE]]}
        out["losses"] = {"count": len(losses), "sample": [_row(r, towns) for r in losses[:SAMPLE]]}
        out["amount_changed"] = int(changed)
    return out


def _row(r, towns) -> dict:
    uscc, town, amount = r
    return {"uscc": uscc, "town": town, "town_name": towns.get(town, town), "amount_fen": amount}
