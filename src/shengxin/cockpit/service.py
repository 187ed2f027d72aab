"""The cockpit's figures: KPI tiles, charts and signal lists, computed from the data.

Rules:

* every figure is computed from a store — the data hub's current snapshot, the current signal and
  tag snapshots, the appeals in the operational store — never typed in; a tile whose source does
  not exist yet (no ingest, no tag snapshot, a domain not installed) is simply absent;
* the scope follows the principal: district-wide roles see the district, town staff their own
  town (the same page, filtered: tiles, charts and lists count that town's enterprises only);
* the analytic part is cached per (hub snapshot, signal snapshot, tag snapshot, scope), so the page
  costs one set of DuckDB queries per new snapshot; appeals figures are read on every request.

Tile providers are the functions in :data:`TILE_PROVIDERS`; a new domain adds one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlglot import exp

from shengxin.accounts.service import Principal
from shengxin.config import Settings
from shengxin.enterprises.store import current_snapshot as hub_snapshot
from shengxin.enterprises.store import open_snapshot
from shengxin.reference.district import District
from shengxin.signals import followup, queries, store
from shengxin.signals.catalogue import load_catalogue

log = logging.getLogger(__name__)
LIST_LENGTH = 8
DISTRICT_DESK = "district"


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: float | int
    display: str
    unit: str = ""
    source: str = ""
    hint: str = ""
    href: str | None = None


@dataclass(frozen=True)
class Scope:
    """What the principal's cockpit covers: the district (``town=None``) or one town."""

    town: str | None
    label: str


def scope_of(principal: Principal, district: District) -> Scope:
    town = followup.visible_town(principal)
    if town is None:
        return Scope(None, district.name)
    found = district.town(town)
    return Scope(town, found.name if found else town)


def _fmt_int(n: float | int) -> str:
    return f"{int(round(n)):,}"


def _fmt_yi(fen: float) -> str:
    return f"{fen / 1e10:,.2f}"


# ------------------------------------------------------------------------------- hub figures


def _town_filter(town: str | None) -> exp.Expression | None:
    if town is None:
        return None
    return exp.EQ(this=exp.column("town_code", table="e"), expression=exp.Literal.string(town))


def _sql_rows(con: duckdb.DuckDBPyConnection, query: exp.Expression) -> list[tuple]:
    return con.sql(query.sql("duckdb")).fetchall()


def _hub_figures(con: duckdb.DuckDBPyConnection, town: str | None) -> dict:
    e = exp.to_table("enterprises").as_("e")
    active = exp.EQ(this=exp.column("status", table="e"), expression=exp.Literal.string("active"))
    by_town_q = (exp.select(exp.column("town_code", table="e"), exp.Count(this=exp.Star()))
                 .from_(e).where(active).group_by(exp.column("town_code", table="e")))
    enterprises_by_town = {t: n for t, n in _sql_rows(con, by_town_q)}
    survey_q = (exp.select(exp.column("town_code", table="e"),
                           exp.Count(this=exp.Distinct(expressions=[exp.column("uscc", table="s")])))
                .from_(exp.to_table("survey_list").as_("s"))
                .join(e, on=exp.EQ(this=exp.column("uscc", table="s"), expression=exp.column("uscc", table="e")))
                .where(active).group_by(exp.column("town_code", table="e")))
    survey_by_town = {t: n for t, n in _sql_rows(con, survey_q)}

    def monthly(table: str, columns: list[str]) -> list[tuple]:
        sums = [exp.Sum(this=exp.cast(exp.column(c, table="m"), "DOUBLE")).as_(c) for c in columns]
        q = (exp.select(exp.column("month", table="m"), *sums)
             .from_(exp.to_table(table).as_("m"))
             .join(e, on=exp.EQ(this=exp.column("uscc", table="m"), expression=exp.column("uscc", table="e")))
             .group_by(exp.column("month", table="m")).order_by(exp.column("month", table="m")))
        cond = _town_filter(town)
        if cond is not None:
            q = q.where(cond)
        return _sql_rows(con, q)

    tax = monthly("monthly_tax", ["revenue_fen", "tax_fen"])
    heads = {m: h for m, h in monthly("monthly_social_insurance", ["headcount"])}
    months = [m for m, _, _ in tax][-36:]
    revenue = {m: r or 0.0 for m, r, _ in tax}
    taxes = {m: x or 0.0 for m, _, x in tax}
    trend = []
    for i, m in enumerate(months):
        window = months[max(0, i - 11): i + 1]
        full = i >= 11
        trend.append({
            "month": m.isoformat()[:7],
            "revenue_ttm_yi": round(sum(revenue[w] for w in window) / 1e10, 2) if full else None,
            "tax_ttm_yi": round(sum(taxes[w] for w in window) / 1e10, 3) if full else None,
            "headcount": int(heads.get(m) or 0) or None,
        })
    return {"enterprises_by_town": enterprises_by_town, "survey_by_town": survey_by_town, "trend": trend}


# ------------------------------------------------------------------------------- cached analytic part


@lru_cache(maxsize=32)
def _analytic(analytic_dir: str, hub_id: str | None, signals_id: str | None, tags_id: str | None,
              town: str | None) -> dict:
    """Everything read from the analytic store, for one combination of snapshots and scope."""
    out: dict = {"hub": None, "signals": None, "tags": None}
    if hub_id is not None:
        snapshot = hub_snapshot(Path(analytic_dir))
        if snapshot is not None and snapshot.id == hub_id:
            con = open_snapshot(snapshot, analytic_dir=Path(analytic_dir))
            try:
                out["hub"] = _hub_figures(con, town)
            finally:
                con.close()
    if signals_id is not None:
        snap = store.load(Path(analytic_dir), signals_id)
        desk = queries.SignalFilter(town=town, active=True)
        catalogue = load_catalogue()
        names = {d.id: d.name for d in catalogue}
        by_signal = queries.counts_by(snap, "signal", desk)
        out["signals"] = {
            "snapshot_id": snap.id, "as_of": snap.as_of, "window_start": snap.window_start,
            "by_town": queries.counts_by(snap, "town_code", desk),
            "by_signal": [dict(r, name=names.get(r["key"], r["key"])) for r in by_signal],
            "by_severity": queries.counts_by(snap, "severity", queries.SignalFilter(town=town, active=True, kind="warning")),
            "new": queries.counts_by(snap, "signal", queries.SignalFilter(town=town, active=None, new=True)),
            "trend": [{"month": r["month"].isoformat()[:7], "warning": r["warning"], "growth": r["growth"]}
                      for r in queries.monthly_new(snap, queries.SignalFilter(town=town, active=None))],
            "warnings": queries.list_signals(snap, queries.SignalFilter(town=town, active=True, kind="warning"),
                                             limit=LIST_LENGTH)[0],
            "growth": queries.list_signals(snap, queries.SignalFilter(town=town, active=True, kind="growth"),
                                           limit=LIST_LENGTH)[0],
        }
    if tags_id is not None:
        from shengxin.tags import service as tag_service
        from shengxin.tags import snapshots as tag_snapshots

        snap = tag_snapshots.load(tag_snapshots.tags_dir(Path(analytic_dir)), tags_id)
        per_tag = tag_service.counts_by_town(snap)
        assigned = sum(n for towns in per_tag.values() for t, n in towns.items() if town is None or t == town)
        out["tags"] = {"tags": len(snap.manifest.get("tags", {})), "assigned": assigned,
                       "as_of": snap.manifest.get("as_of")}
    return out


def _tags_id(analytic_dir: Path) -> str | None:
    from shengxin.tags import snapshots as tag_snapshots

    return tag_snapshots.read_current_id(tag_snapshots.tags_dir(analytic_dir))


# ------------------------------------------------------------------------------- tiles


def _hub_tiles(ctx: dict) -> list[Tile]:
    hub = ctx["analytic"]["hub"]
    if hub is None:
        return []
    town = ctx["scope"].town
    towns = [town] if town else [t.code for t in ctx["district"].towns]  # registered in the district
    n = sum(hub["enterprises_by_town"].get(code, 0) for code in towns)
    survey = sum(hub["survey_by_town"].get(code, 0) for code in towns)
    tiles = [Tile("enterprises", "在册企业", n, _fmt_int(n), "家", "数据中心·企业登记",
                  "在本区各镇街登记且存续", "/enterprises"),
             Tile("survey", "规上（限上）企业", survey, _fmt_int(survey), "家", "数据中心·规上企业名录")]
    last = next((r for r in reversed(hub["trend"]) if r["revenue_ttm_yi"] is not None), None)
    if last is not None:
        tiles.append(Tile("revenue_ttm", "近12个月营业收入", last["revenue_ttm_yi"], f"{last['revenue_ttm_yi']:,.2f}",
                          "亿元", "数据中心·税收月报", f"截至 {last['month']}"))
        tiles.append(Tile("tax_ttm", "近12个月实缴税额", last["tax_ttm_yi"], f"{last['tax_ttm_yi']:,.2f}", "亿元",
                          "数据中心·税收月报", f"截至 {last['month']}"))
    heads = next((r for r in reversed(hub["trend"]) if r["headcount"]), None)
    if heads is not None:
        tiles.append(Tile("headcount", "社保参保人数", heads["headcount"], _fmt_int(heads["headcount"]), "人",
                          "数据中心·社保参保月报", f"{heads['month']} 月"))
    return tiles


def _signal_tiles(ctx: dict) -> list[Tile]:
    sig = ctx["analytic"]["signals"]
    if sig is None:
        return []
    warning = sum(r["warning"] for r in sig["by_town"])
    growth = sum(r["growth"] for r in sig["by_town"])
    new = sum(r["total"] for r in sig["new"])
    high = next((r["total"] for r in sig["by_severity"] if r["key"] == "high"), 0)
    return [
        Tile("warnings", "在办预警信号", warning, _fmt_int(warning), "条", "信号快照", f"截至 {sig['as_of']}",
             "/signals?kind=warning"),
        Tile("warnings_high", "高等级预警", high, _fmt_int(high), "条", "信号快照", "迁出、裁员、营收骤降、失信等",
             "/signals?kind=warning&severity=high"),
        Tile("growth", "成长信号", growth, _fmt_int(growth), "条", "信号快照", "临近规上、新获资质、融资等",
             "/signals?kind=growth"),
        Tile("new_signals", "本期新增信号", new, _fmt_int(new), "条", "信号快照", "上次检测以来首次出现"),
    ]


def _followup_tiles(ctx: dict) -> list[Tile]:
    session: Session = ctx["session"]
    measured = followup.measured_precision(session, ctx["scope"].town)
    decided = sum(e["decided"] for e in measured.values())
    if not decided:
        return []
    positives = sum(e["positives"] for e in measured.values())
    p = positives / decided
    return [Tile("feedback_precision", "信号核实准确率", round(p * 100, 1), f"{p * 100:.1f}", "%", "镇街反馈",
                 f"已核实 {decided} 条（确认或已处置 {positives} 条）", "/signals")]


def _tag_tiles(ctx: dict) -> list[Tile]:
    tags = ctx["analytic"]["tags"]
    if tags is None:
        return []
    return [Tile("tags", "企业标签", tags["tags"], _fmt_int(tags["tags"]), "个", "标签快照", f"截至 {tags['as_of']}"),
            Tile("tag_assignments", "已打标签", tags["assigned"], _fmt_int(tags["assigned"]), "次", "标签快照")]


def _appeal_tiles(ctx: dict) -> list[Tile]:
    try:
        from shengxin.appeals.stats import appeal_stats
    except ImportError:  # the appeals domain is not installed
        return []
    session: Session = ctx["session"]
    try:
        with session.begin_nested():
            rows = appeal_stats(session, ctx["district"], "town")
    except SQLAlchemyError:
        log.warning("appeal statistics unavailable (appeal tables missing?)", exc_info=True)
        return []
    town = ctx["scope"].town
    rows = [r for r in rows if town is None or r.key == town]
    appeals = sum(r.appeals for r in rows)
    if not appeals:
        return []
    closed = sum(r.closed for r in rows)
    tiles = [Tile("appeals", "企业诉求", appeals, _fmt_int(appeals), "件", "诉求", f"已办结 {closed} 件", "/appeals")]
    weighted = [(r.avg_working_days, r.closed) for r in rows if r.avg_working_days is not None and r.closed]
    if weighted:
        days = sum(d * w for d, w in weighted) / sum(w for _, w in weighted)
        tiles.append(Tile("appeal_days", "平均办结时长", round(days, 1), f"{days:.1f}", "个工作日", "诉求"))
    rated = [(r.satisfaction_rate, r.closed) for r in rows if r.satisfaction_rate is not None and r.closed]
    if rated:
        sat = sum(s * w for s, w in rated) / sum(w for _, w in rated)
        tiles.append(Tile("appeal_satisfaction", "诉求满意率", round(sat * 100, 1), f"{sat * 100:.1f}", "%", "诉求回访"))
    return tiles


def _payout_tiles(ctx: dict) -> list[Tile]:
    """Paid policy money (payouts ledger): amount, payees, median days from eligibility to payment;
    town staff see their own town's (the payouts domain scopes it by the principal)."""
    from shengxin.payouts.stats import payout_stats

    session: Session = ctx["session"]
    try:
        with session.begin_nested():
            rows = payout_stats(session, ctx["principal"], by=("mode",))
    except SQLAlchemyError:
        log.warning("payout statistics unavailable (payout tables missing?)", exc_info=True)
        return []
    payees = sum(r["payees"] for r in rows)
    if not payees:
        return []
    amount = sum(r["amount_fen"] for r in rows)
    wan, rest = divmod(amount, 1_000_000)  # fen → 万元 with one decimal, in integers
    tiles = [Tile("payouts", "政策兑现资金", amount, f"{wan:,}.{rest // 100_000}", "万元", "兑现台账",
                  f"{payees:,} 家企业已到账", "/payouts/stats")]
    weighted = [(r["days_avg"], r["payees"]) for r in rows if r["days_avg"] is not None]
    if weighted:
        days = sum(d * n for d, n in weighted) / sum(n for _, n in weighted)
        tiles.append(Tile("payout_days", "兑现平均用时", round(days, 1), f"{days:.1f}", "天", "兑现台账",
                          "从符合条件到资金到账"))
    return tiles


TILE_PROVIDERS: list[Callable[[dict], list[Tile]]] = [
    _hub_tiles, _signal_tiles, _followup_tiles, _tag_tiles, _appeal_tiles, _payout_tiles,
]


# ------------------------------------------------------------------------------- charts


def _town_chart(district: District, scope: Scope, analytic: dict) -> dict:
    towns = [t for t in district.towns if scope.town is None or t.code == scope.town]
    hub = analytic["hub"] or {"enterprises_by_town": {}}
    sig = analytic["signals"] or {"by_town": []}
    counts = {r["key"]: r for r in sig["by_town"]}
    rows = []
    for t in towns:
        c = counts.get(t.code, {})
        n = hub["enterprises_by_town"].get(t.code, 0)
        w = c.get("warning", 0)
        rows.append({"code": t.code, "name": t.name, "enterprises": n, "warning": w, "growth": c.get("growth", 0),
                     "warning_per_1000": round(w * 1000 / n, 2) if n else None})
    if scope.town is None and "" in counts:
        c = counts[""]
        rows.append({"code": DISTRICT_DESK, "name": "区级（登记在区外）", "enterprises": 0, "warning": c["warning"],
                     "growth": c["growth"], "warning_per_1000": None})
    return {"towns": rows}


def _grid(rows: list[dict], columns: int = 4) -> list[dict]:
    """A schematic tile map: towns laid out in a grid in the district file's order (no geography
    is available offline), each cell coloured by warnings per 1,000 enterprises."""
    cells = []
    for i, r in enumerate(x for x in rows if x["code"] != DISTRICT_DESK):
        cells.append({"x": i % columns, "y": i // columns, "name": r["name"], "code": r["code"],
                      "value": r["warning_per_1000"] if r["warning_per_1000"] is not None else 0,
                      "warning": r["warning"], "enterprises": r["enterprises"]})
    return cells


def cockpit(settings: Settings, district: District, session: Session, principal: Principal) -> dict:
    """The whole cockpit for this principal (tiles, charts, lists, provenance)."""
    scope = scope_of(principal, district)
    hub = hub_snapshot(settings.analytic_dir)
    sig = store.current(settings.analytic_dir)
    analytic = _analytic(str(settings.analytic_dir), hub.id if hub else None, sig.id if sig else None,
                         _tags_id(settings.analytic_dir), scope.town)
    ctx = {"analytic": analytic, "scope": scope, "session": session, "district": district, "settings": settings,
           "principal": principal}
    tiles = [t for provider in TILE_PROVIDERS for t in provider(ctx)]
    towns = _town_chart(district, scope, analytic)
    signals = analytic["signals"]
    return {
        "scope": {"town": scope.town, "label": scope.label},
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "sources": {"hub_snapshot": hub.id if hub else None, "hub_as_of": (hub.as_of or "")[:7] if hub else None,
                    "signal_snapshot": sig.id if sig else None, "signal_as_of": sig.as_of if sig else None},
        "tiles": [asdict(t) for t in tiles],
        "charts": {
            "towns": towns["towns"],
            "grid": _grid(towns["towns"]),
            "by_signal": signals["by_signal"] if signals else [],
            "signal_trend": signals["trend"] if signals else [],
            "economy_trend": analytic["hub"]["trend"] if analytic["hub"] else [],
        },
        "lists": {
            "warnings": _list_rows(signals["warnings"]) if signals else [],
            "growth": _list_rows(signals["growth"]) if signals else [],
        },
    }


def _list_rows(rows: list[dict]) -> list[dict]:
    catalogue = load_catalogue()
    names = {d.id: d.name for d in catalogue}
    out = []
    for r in rows:
        out.append({
            "signal_key": r["signal_key"], "signal": r["signal"], "signal_name": names.get(r["signal"], r["signal"]),
            "severity": r["severity"], "uscc": r["uscc"], "name": r["name"], "town_code": r["town_code"],
            "detected_month": r["detected_month"].isoformat()[:7] if r["detected_month"] else None,
            "change": r["change"], "months": r["months"],
        })
    return out


def clear_cache() -> None:
    _analytic.cache_clear()
