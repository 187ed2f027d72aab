"""Read models for the pages and the API: one enterprise's policies, one policy's matches.

Rules:

* an enterprise's page evaluates every live policy for it with the single-enterprise evaluator at
  the current match snapshot's as-of date, so each answer comes with its reasons (the evaluator and
  the bulk SQL agree — see the property tests);
* a policy's page reads the current match snapshot: counts and amounts by town, eligible
  enterprises and near misses with the condition they fail; town staff see only their town.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from sqlalchemy.orm import Session

from shengxin.engine.evaluate import FactsEnv
from shengxin.enterprises.store import current_snapshot, open_snapshot
from shengxin.policies import matching
from shengxin.policies.evaluate import CachedEnv, answer
from shengxin.policies.facts import snapshot_facts
from shengxin.policies.service import live_policies
from shengxin.policies.text import money
from shengxin.reference.district import District

GROUPS = (("eligible", "符合，可享受"), ("missing_data", "可能符合，需补充信息或提出申请"),
          ("near_miss", "接近符合"), ("not_eligible", "暂不符合"))
PAGE = 50


def enterprise_overview(session: Session, district: District, analytic_dir: Path, uscc: str) -> dict:
    """Every live policy's answer for one enterprise, grouped by status."""
    data = current_snapshot(analytic_dir)
    if data is None:
        return {"ready": False, "reason": "尚未导入企业数据，暂时无法匹配政策。"}
    snap = matching.current(analytic_dir)
    as_of = snap.as_of if snap else matching.default_as_of(data)
    policies = live_policies(session, district, as_of)
    # its row groups of the sorted snapshot, of the tables the policies read (inputs stay unknown)
    facts = snapshot_facts(data, uscc, matching.tables_read(policies))
    if facts is None:
        return {"ready": False, "reason": "分析库中没有本企业的登记信息，请联系所在镇街核实。"}
    env = CachedEnv(FactsEnv(facts, as_of))
    groups: dict[str, list] = {k: [] for k, _ in GROUPS}
    for lp in policies:
        a = answer(lp.policy, env)
        groups[a.status].append({"answer": a, "policy": lp.policy, "version": lp.version})
    total = sum(x["answer"].amount_fen or 0 for x in groups["eligible"])
    return {"ready": True, "as_of": as_of, "snapshot": snap.id if snap else None, "name": facts.enterprise.get("name"),
            "groups": [(k, label, groups[k]) for k, label in GROUPS], "eligible_total": money(total),
            "counts": {k: len(v) for k, v in groups.items()}}


def _names(data_con: duckdb.DuckDBPyConnection, usccs: list[str]) -> dict[str, str]:
    if not usccs:
        return {}
    rows = data_con.execute("SELECT uscc, name FROM enterprises WHERE uscc IN (SELECT unnest(?))", [usccs]).fetchall()
    return dict(rows)


def policy_matches(analytic_dir: Path, district: District, policy_id: str, *, town: str | None = None,
                   status: str = "eligible", page: int = 1) -> dict:
    """The current snapshot's rows of one policy (``town``: only that town)."""
    snap = matching.current(analytic_dir)
    if snap is None:
        return {"ready": False}
    if status not in ("eligible", "near_miss", "missing_data"):
        status = "eligible"
    con = duckdb.connect(":memory:")
    try:
        matching.results_relation(con, snap)
        where = "policy_id = ?" + (" AND town = ?" if town else "")
        params = [policy_id] + ([town] if town else [])
        by_town = con.execute(
            f"SELECT town, count(*) FILTER (WHERE status = 'eligible'), coalesce(sum(amount_fen), 0), "
            f"count(*) FILTER (WHERE status = 'near_miss'), count(*) FILTER (WHERE status = 'missing_data') "
            f"FROM policy_results WHERE {where} GROUP BY town ORDER BY town", params).fetchall()
        total = con.execute(f"SELECT count(*) FROM policy_results WHERE {where} AND status = ?",
                            params + [status]).fetchone()[0]
        rows = con.execute(
            f"SELECT uscc, town, version, amount_fen, false_mask, unknown_mask FROM policy_results "
            f"WHERE {where} AND status = ? ORDER BY amount_fen DESC NULLS LAST, uscc LIMIT ? OFFSET ?",
            params + [status, PAGE, (max(page, 1) - 1) * PAGE]).fetchall()
    finally:
        con.close()
    towns = {t.code: t.name for t in district.towns}
    data = current_snapshot(analytic_dir)
    names = {}
    if data is not None and rows:
        dcon = open_snapshot(data, analytic_dir=analytic_dir)
        try:
            names = _names(dcon, [r[0] for r in rows])
        finally:
            dcon.close()
    return {
        "ready": True, "snapshot": snap.id, "as_of": snap.as_of, "status": status, "page": page,
        "pages": max(1, (total + PAGE - 1) // PAGE), "total": total,
        "by_town": [{"town": t, "town_name": towns.get(t, f"区外（{t}）" if t else "未知"), "eligible": n, "amount_fen": a,
                     "amount": money(a), "near_miss": nm, "missing_data": md} for t, n, a, nm, md in by_town],
        "totals": {"eligible": sum(r[1] for r in by_town), "amount": money(sum(r[2] for r in by_town)),
                   "amount_fen": sum(r[2] for r in by_town), "near_miss": sum(r[3] for r in by_town),
                   "missing_data": sum(r[4] for r in by_town)},
        "rows": [{"uscc": u, "name": names.get(u, ""), "town": t, "town_name": towns.get(t, t or "未知"), "version": v,
                  "amount_fen": a, "amount": money(a) if a is not None else "—", "false_mask": fm, "unknown_mask": um}
                 for u, t, v, a, fm, um in rows],
    }


def masked_items(policy, mask: int) -> list[str]:
    """The keys and texts of the top-level items set in ``mask``."""
    from shengxin.policies.conditions import Atomic
    from shengxin.policies.text import condition_text

    out = []
    for i, item in enumerate(policy.items):
        if mask >> i & 1:
            out.append(condition_text(item, policy.context) if isinstance(item, Atomic) else f"条件组 {item.key}")
    return out

