"""Generate a whole synthetic delivery: department files, ground truth and manifest.

Layout of the output folder (the data contract is ``docs/data-sources.md``)::

    scjg/ sw/ rs/ dl/ tj/ zscq/ kj/ jr/ fy/    department files
    truth/events.csv  truth/distractors.csv  truth/defects.csv
    manifest.json

Every random draw comes from a numpy ``Generator`` seeded with ``(seed, stage[, block])``, so a
seed gives byte-identical files whatever else runs in the process.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.reference.district import load_district
from shengxin.synth import events as ev
from shengxin.synth import affiliates, lists, realised
from shengxin.synth.calendar import Timeline, month_text, parse_month, spring_festival_month, year_of
from shengxin.synth.defects import Defect, FileSpec, defect_count, inject
from shengxin.synth.events import plan_events
from shengxin.synth.formats import month_texts
from shengxin.synth.population import build_population, neighbour_towns
from shengxin.synth.profiles import sector_array
from shengxin.synth.series import ELECTRICITY_COLUMNS, SOCIAL_SCHEMA, TAX_SCHEMA, SeriesGenerator
from shengxin.synth.writers import CsvWriter, ParquetWriter, sha256, write_xlsx

#: Named scale tiers: the default demo, the Yuhang district figure, a province-scale test.
TIERS = {"demo": 20_000, "district": 232_800, "province": 1_000_000}
#: Enterprises simulated per block of the monthly series (bounds memory at any tier).
BLOCK = 16_384
MIN_ENTERPRISES = 100
MONTHS_RANGE = (24, 120)

# stages of the random streams
_POPULATION, _EVENTS, _SERIES, _SERIES_DEFECTS, _STATS, _LISTS, _LIST_DEFECTS = range(1, 8)
_AFFILIATES, _AFFILIATE_DEFECTS = 8, 9  # shareholders and outside registrations (affiliates.py)


class Progress(Protocol):
    """Receives progress of a long run (the CLI shows it as Rich progress bars)."""

    def start(self, key: str, description: str, total: float) -> None: ...

    def advance(self, key: str, amount: float = 1) -> None: ...


class NullProgress:
    def start(self, key: str, description: str, total: float) -> None:
        pass

    def advance(self, key: str, amount: float = 1) -> None:
        pass


@dataclass(frozen=True)
class SynthConfig:
    enterprises: int = TIERS["demo"]
    months: int = 36
    seed: int = 20241
    as_of: str = "2026-10"
    defect_rate: float = 0.002
    district_file: Path = DEFAULT_DISTRICT_FILE

    def validate(self) -> list[str]:
        """Problems with the configuration, each saying what to change (empty when fine)."""
        problems = []
        if self.enterprises < MIN_ENTERPRISES:
            problems.append(f"--enterprises must be at least {MIN_ENTERPRISES} (got {self.enterprises})")
        lo, hi = MONTHS_RANGE
        if not lo <= self.months <= hi:
            problems.append(f"--months must be between {lo} and {hi} (got {self.months})")
        try:
            Timeline(parse_month(self.as_of), max(self.months, 1))
        except ValueError as exc:
            problems.append(f"--as-of: {exc}")
        if not 0 <= self.defect_rate <= 0.05:
            problems.append(f"--defect-rate must be between 0 and 0.05 (got {self.defect_rate})")
        if self.seed < 0:
            problems.append("--seed must be a non-negative integer")
        return problems


@dataclass(frozen=True)
class Delivery:
    """One department file of the contract."""

    path: str
    department: str
    format: str  # csv | parquet | xlsx
    encoding: str | None
    spec: FileSpec
    xlsx_dates: tuple[str, ...] = ()
    xlsx_numbers: tuple[str, ...] = ()


def _delivery(path, department, fmt, encoding=None, xlsx_dates=(), xlsx_numbers=(), **spec) -> Delivery:
    return Delivery(path, department, fmt, encoding, FileSpec(path=path, **spec), xlsx_dates, xlsx_numbers)


U = "统一社会信用代码"
DELIVERIES = {
    "registry": _delivery(
        "scjg/企业登记信息.csv", "市场监管", "csv", "gbk", uscc=U, dates={"成立日期": "date"},
        amounts=("注册资本(万元)",), required=("企业名称",), enums={"登记状态": ("吊销", "在业", "正常")},
        town="所属镇街代码", industry="行业代码", references_registry=False),
    "tax": _delivery(
        "sw/税收月报.parquet", "税务", "parquet", uscc="纳税人识别号", dates={"所属期": "period"},
        amounts=("营业收入(元)", "实缴税额(元)"), text=False, required=("营业收入(元)",)),
    "social": _delivery(
        "rs/社保参保月报.parquet", "人社", "parquet", uscc=U, dates={"月份": "month"}, amounts=("参保人数",),
        text=False, required=("参保人数",)),
    "electricity": _delivery(
        "dl/用电月报.csv", "供电", "csv", "utf-8", uscc=U, dates={"抄表年月": "month"},
        amounts=("用电量(千瓦时)",), required=("用电量(千瓦时)",)),
    "annual": _delivery(
        "tj/企业年报财务.csv", "统计", "csv", "utf-8-sig", uscc=U,
        amounts=("营业收入(万元)", "资产总计(万元)", "研发费用(万元)"), required=("年度",)),
    "survey": _delivery(
        "tj/规上企业名录.csv", "统计", "csv", "utf-8-sig", uscc=U, dates={"纳入年月": "month"},
        enums={"统计范围": ("规上服务业", "限上企业")}, required=("单位名称",)),
    "ip": _delivery(
        "zscq/知识产权清单.csv", "知识产权", "csv", "utf-8-sig", uscc=U, dates={"授权日期": "date"},
        enums={"权利类型": ("专利", "著作权", "集成电路布图设计")}, required=("登记号",)),
    "certifications": _delivery(
        "kj/资质认定.xlsx", "科技/经信", "xlsx", xlsx_dates=("认定日期", "有效期至"), uscc=U,
        dates={"认定日期": "date", "有效期至": "date"}, enums={"认定类型": ("高新企业", "专精特新企业", "瞪羚企业")},
        required=("证书编号",)),
    "financing": _delivery(
        "jr/融资事件.xlsx", "金融办", "xlsx", xlsx_dates=("融资日期",), xlsx_numbers=("金额(万元)",), uscc=U,
        dates={"融资日期": "date"}, amounts=("金额(万元)",), enums={"轮次": ("A+轮", "种子轮", "未披露")}),
    "dishonesty": _delivery(
        "fy/失信被执行人.csv", "法院", "csv", "gbk", uscc=U, dates={"立案日期": "date", "发布日期": "date"},
        required=("案号",)),
    "abnormal": _delivery(
        "scjg/经营异常名录.xlsx", "市场监管", "xlsx", xlsx_dates=("列入日期", "移出日期"), uscc=U,
        dates={"列入日期": "date"}, required=("列入原因",)),
    "penalties": _delivery(
        "scjg/行政处罚.csv", "市场监管", "csv", "utf-8", uscc=U, dates={"处罚日期": "date"},
        amounts=("罚款金额(元)",), required=("处罚机关",)),
    "shareholders": _delivery(
        "scjg/股东信息.csv", "市场监管", "csv", "utf-8-sig", uscc=U, amounts=("认缴出资额(万元)", "出资比例(%)"),
        enums={"股东类型": ("其他投资者", "事业单位法人", "个体户")}, required=("股东名称",)),
    "outside": _delivery(
        "scjg/外区新设企业.csv", "市场监管", "csv", "utf-8-sig", uscc=U, dates={"成立日期": "date"},
        required=("企业名称",), industry="行业代码", references_registry=False),
    "outside_shareholders": _delivery(
        "scjg/外区新设企业股东.csv", "市场监管", "csv", "utf-8-sig", uscc=U,
        amounts=("认缴出资额(万元)", "出资比例(%)"), enums={"股东类型": ("其他投资者", "事业单位法人", "个体户")},
        required=("股东名称",), references_registry=False),
}
#: Files written from ``affiliates.py`` (their defects use their own random stream).
AFFILIATE_FILES = ("shareholders", "outside", "outside_shareholders")

EVENT_COLUMNS = ["uscc", "event", "start_month", "end_month", "magnitude", "detail", "evidence_months"]
DISTRACTOR_COLUMNS = ["uscc", "kind", "series", "start_month", "end_month", "detail"]
DEFECT_COLUMNS = ["file", "row", "field", "defect"]


@dataclass
class _Written:
    path: str
    rows: int


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def generate(config: SynthConfig, out: Path, progress: Progress | None = None) -> dict:
    """Write a full delivery for ``config`` into ``out`` and return its manifest."""
    problems = config.validate()
    if problems:
        raise ValueError("; ".join(problems))
    progress = progress or NullProgress()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    district = load_district(Path(config.district_file))
    timeline = Timeline(parse_month(config.as_of), config.months)
    n, seed = config.enterprises, config.seed
    stamp = dt.datetime.combine(timeline.as_of_date.astype(dt.date), dt.time())

    progress.start("population", "企业名录 enterprises", 3)
    pop = build_population(_rng(seed, _POPULATION), n, timeline, district)
    progress.advance("population")
    neighbours = neighbour_towns(config.district_file)
    plan = plan_events(_rng(seed, _EVENTS), pop, timeline, neighbours, district.full_name)
    progress.advance("population")

    defects: list[tuple[str, int, str, str]] = []
    written: list[_Written] = []

    def record(path: str, offset: int, found: list[Defect]) -> None:
        defects.extend((path, offset + d.row + 1, d.field, d.kind) for d in found)

    # ---- monthly series, block by block --------------------------------------------------
    gen = SeriesGenerator(pop, plan, timeline)
    progress.advance("population")
    blocks = list(range(0, n, BLOCK))
    progress.start("series", "月度数据 monthly series", len(blocks))
    d_tax, d_social, d_elec = DELIVERIES["tax"], DELIVERIES["social"], DELIVERIES["electricity"]
    w_tax = ParquetWriter(out / d_tax.path, TAX_SCHEMA)
    w_social = ParquetWriter(out / d_social.path, SOCIAL_SCHEMA)
    w_elec = CsvWriter(out / d_elec.path, list(ELECTRICITY_COLUMNS), "utf-8")
    years = len(timeline.revenue_years)
    annual = np.zeros((n, years))
    december = np.zeros((n, years), dtype=np.int64)
    evidence = {m: np.zeros(n, dtype=np.int64) for m in ("revenue", "tax", "headcount")}
    realised_drops: dict[str, list] = {"revenue": [], "tax": []}
    for b, lo in enumerate(blocks):
        hi = min(n, lo + BLOCK)
        chunk = gen.simulate(lo, hi, _rng(seed, _SERIES, b))
        annual[lo:hi] = chunk.annual_revenue
        december[lo:hi] = chunk.december_employees
        for metric, months in chunk.evidence.items():
            evidence[metric][lo:hi] = months
        for metric, runs in chunk.realised_drops.items():
            realised_drops[metric].append(runs)
        for s, (delivery, table, writer) in enumerate(
            ((d_tax, chunk.tax, w_tax), (d_social, chunk.social, w_social), (d_elec, chunk.electricity, w_elec))
        ):
            table, found = inject(
                table, delivery.spec, _rng(seed, _SERIES_DEFECTS, b, s),
                defect_count(table.num_rows, config.defect_rate) if table.num_rows >= 50 else 0,
                ghosts=pop.ghosts, district_code=district.code,
            )
            record(delivery.path, writer.rows, found)
            writer.write(table)
        progress.advance("series")
    for d, w in ((d_tax, w_tax), (d_social, w_social), (d_elec, w_elec)):
        w.close()
        written.append(_Written(d.path, w.rows))

    # ---- lists -------------------------------------------------------------------------------
    progress.start("lists", "名单和年报 lists", 13 + len(AFFILIATE_FILES))
    # before the registry: agencies' client enterprises get the agency's phone in the registry
    aff = affiliates.plan_affiliates(_rng(seed, _AFFILIATES), pop, plan, timeline, district, neighbours)
    progress.advance("lists")
    stats_revenue = annual / 1e4 * (1 + 0.015 * _rng(seed, _STATS).standard_normal(annual.shape))
    r = lambda k: _rng(seed, _LISTS, k)  # noqa: E731 - one stream per list
    cert = lists.certifications(r(1), pop, timeline, district.code)
    high_tech = lists.high_tech_firms(cert, pop)
    troubled = np.isin(plan.kind, [ev.REVENUE_DROP, ev.RELOCATION])
    in_scope, inclusion, threshold_event = lists.survey_scope(r(2), pop, timeline, stats_revenue, december > 0)
    built = {
        "registry": lists.registry(pop),
        "certifications": cert,
        "ip": lists.ip_rights(r(3), pop, timeline, high_tech),
        "financing": lists.financing(r(4), pop, timeline),
        "dishonesty": lists.dishonesty(r(5), pop, timeline, troubled, district.code),
        "abnormal": lists.abnormal_operations(r(6), pop, timeline),
        "penalties": lists.penalties(r(7), pop, timeline, district.full_name, district.name),
        "survey": lists.survey_list(pop, inclusion, timeline),
        "annual": lists.annual_finance(r(8), pop, timeline, stats_revenue, december, in_scope),
    }
    progress.advance("lists", 3)
    list_events = cert.events + built["financing"].events + [threshold_event]
    del cert
    built.update(zip(AFFILIATE_FILES, (aff.shareholders, aff.outside, aff.outside_shareholders)))
    for k, key in enumerate(list(built)):
        lf = built.pop(key)  # each table is released once written
        delivery = DELIVERIES[key]
        fatal_ok = pop.inert if key == "registry" else None
        stream = (_AFFILIATE_DEFECTS, AFFILIATE_FILES.index(key)) if key in AFFILIATE_FILES else (_LIST_DEFECTS, k)
        table, found = inject(
            lf.table, delivery.spec, _rng(seed, *stream),
            defect_count(lf.table.num_rows, config.defect_rate),
            ghosts=pop.ghosts, district_code=district.code, protected=lf.protected, fatal_ok=fatal_ok,
        )
        record(delivery.path, 0, found)
        path = out / delivery.path
        if delivery.format == "xlsx":
            rows = write_xlsx(path, table, Path(delivery.path).stem, delivery.xlsx_dates,
                              delivery.xlsx_numbers, stamp)
        else:
            w = CsvWriter(path, table.column_names, delivery.encoding)
            w.write(table)
            w.close()
            rows = w.rows
        written.append(_Written(delivery.path, rows))
        progress.advance("lists")

    # ---- truth -------------------------------------------------------------------------------
    progress.start("truth", "真值与清单 truth and manifest", 4)
    truth_events = (_plan_events_table(pop, plan, timeline, evidence) + _realised_events(realised_drops)
                    + list_events + aff.events)
    events_table = _events_table(pop, truth_events)
    distractor_table = _distractors_table(pop, plan, timeline, aff.distractors)
    defects.sort(key=lambda d: (d[0], d[1]))
    defect_table = pa.table(
        [pa.array([d[0] for d in defects], pa.string()), pa.array([d[1] for d in defects], pa.int64()),
         pa.array([d[2] for d in defects], pa.string()), pa.array([d[3] for d in defects], pa.string())],
        names=DEFECT_COLUMNS,
    )
    truth_written = []
    for name, table in (("truth/events.csv", events_table), ("truth/distractors.csv", distractor_table),
                        ("truth/defects.csv", defect_table)):
        w = CsvWriter(out / name, table.column_names, "utf-8")
        w.write(table.cast(pa.schema([(c, pa.string()) for c in table.column_names])))
        w.close()
        truth_written.append(_Written(name, w.rows))
        progress.advance("truth")

    manifest = _manifest(config, timeline, district.code, out, written, truth_written,
                         events_table, distractor_table, defect_table)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    progress.advance("truth")
    return manifest


# ------------------------------------------------------------------------------ truth tables


def _plan_events_table(pop, plan: ev.EventPlan, tl: Timeline,
                       evidence: dict[str, np.ndarray]) -> list[lists.TruthEvent]:
    out = []
    kind = plan.kind

    def make(mask, name, magnitude, detail, months=None):
        idx = np.flatnonzero(mask)
        out.append(lists.TruthEvent(idx, name, plan.start[idx], plan.end[idx], magnitude[idx], detail(idx),
                                    None if months is None else months[idx]))

    def span(idx):
        return np.where(plan.persistent[idx], "until the as-of month", "then back to its level")

    make(kind == ev.REVENUE_DROP, "sustained_revenue_drop", plan.magnitude,
         lambda i: np.char.add("revenue below its level, ", span(i)), evidence["revenue"])
    make(np.isin(kind, [ev.REVENUE_DROP, ev.TAX_DROP]), "sustained_tax_drop", plan.tax_magnitude,
         lambda i: np.where(kind[i] == ev.TAX_DROP, "tax down while revenue holds, ", "tax down with revenue, ")
         .astype(object) + span(i).astype(object), evidence["tax"])
    level = np.round(pop.employees * pop.coverage * np.exp(0.5 * pop.growth * (plan.start - tl.as_of) / 12))
    make(kind == ev.LAYOFF, "layoff", plan.magnitude,
         lambda i: np.asarray([f"insured headcount about {int(h)} -> {int(round(h * (1 - m)))}"
                               for h, m in zip(level[i], plan.magnitude[i])], dtype=str), evidence["headcount"])
    make(kind == ev.RELOCATION, "relocation_out", plan.magnitude,
         lambda i: np.asarray([f"to town {t}; registry status {s}"
                               for t, s in zip(plan.relocation_town[i], pop.status[i])], dtype=str))
    return out


def _realised_events(drops: dict[str, list]) -> list[lists.TruthEvent]:
    """Sustained drops the noise made in the realised series (``synth/realised.py``), as truth events."""
    out = []
    for metric, event in (("revenue", "sustained_revenue_drop"), ("tax", "sustained_tax_drop")):
        runs = drops[metric]
        if not runs:
            continue
        cat = lambda name: np.concatenate([getattr(r, name) for r in runs])  # noqa: E731
        rows = cat("row")
        out.append(lists.TruthEvent(
            rows, event, cat("start"), cat("end"), cat("shortfall"),
            np.full(len(rows), f"realised in the series: {metric} at least "
                               f"{realised.DROP_SHARE:.0%} below its level for {realised.DROP_MONTHS}+ months, "
                               "no planted cause"),
            cat("evidence")))
    return out


def _events_table(pop, events: list[lists.TruthEvent]) -> pa.Table:
    idx = np.concatenate([e.index for e in events]).astype(np.int64)
    name = np.concatenate([np.full(len(e.index), e.event) for e in events])
    start = np.concatenate([e.start for e in events]).astype(np.int64)
    end = np.concatenate([e.end for e in events]).astype(np.int64)
    magnitude = np.concatenate([e.magnitude for e in events]).astype(np.float64)
    detail = np.concatenate([np.asarray(e.detail, dtype=str) for e in events])
    evidence = np.concatenate([np.full(len(e.index), -1, dtype=np.int64) if e.evidence_months is None
                               else np.asarray(e.evidence_months, dtype=np.int64) for e in events])
    uscc = pop.uscc[idx]
    order = np.lexsort((name, start, uscc))
    mag_text = np.where(np.isnan(magnitude), "", np.char.mod("%.4f", np.nan_to_num(magnitude)))
    money = np.isin(name, ["reached_threshold", "financing"])
    mag_text = np.where(money & ~np.isnan(magnitude), np.char.mod("%.2f", np.nan_to_num(magnitude)), mag_text)
    months = month_texts
    return pa.table(
        [pa.array(uscc[order]), pa.array(name[order]), pa.array(months(start[order])),
         pa.array(months(end[order])), pa.array(mag_text[order]), pa.array(detail[order]),
         pa.array(np.where(evidence[order] < 0, "", evidence[order].astype(str)))],
        names=EVENT_COLUMNS,
    )


def _distractors_table(pop, plan: ev.EventPlan, tl: Timeline, registry_rows=None) -> pa.Table:
    """Distractors of the plan and, as ``registry_rows`` (index, kind, start, end, detail), the
    look-alike outside registrations of ``affiliates.py`` (series ``registry``)."""
    rows_idx, rows_kind, rows_series, rows_start, rows_end, rows_detail = [], [], [], [], [], []

    def add(idx, kind, series, start, end, detail):
        rows_idx.append(idx)
        rows_kind.append(np.full(len(idx), kind))
        rows_series.append(np.broadcast_to(np.asarray(series, dtype=str), (len(idx),)))
        rows_start.append(np.broadcast_to(start, (len(idx),)))
        rows_end.append(np.broadcast_to(end, (len(idx),)))
        rows_detail.append(np.broadcast_to(np.asarray(detail, dtype=str), (len(idx),)))

    dip = np.flatnonzero(plan.dip_month >= 0)
    add(dip, "one_off_dip", "tax", plan.dip_month[dip], plan.dip_month[dip],
        np.char.add("revenue x", np.char.mod("%.2f", plan.dip_factor[dip])))
    gap = np.flatnonzero(plan.gap_source > 0)
    add(gap, "reporting_gap", np.asarray([ev.GAP_SOURCES[int(s)] for s in plan.gap_source[gap]], dtype=str),
        plan.gap_start[gap], plan.gap_start[gap] + plan.gap_length[gap] - 1, "rows missing, nothing happened")
    alive = (pop.founded_month <= tl.as_of) & (pop.last_month >= tl.window_start) & ~pop.inert
    quarterly = np.flatnonzero(pop.quarterly_tax & alive)
    add(quarterly, "quarterly_reporter", "tax", np.maximum(pop.founded_month[quarterly], tl.window_start),
        np.minimum(pop.last_month[quarterly], tl.as_of), "small-scale taxpayer filing once a quarter")
    deep = sector_array("sf_depth")[pop.sector] >= 0.6
    for year in range(year_of(tl.window_start), year_of(tl.as_of) + 1):
        m = spring_festival_month(year)
        if not tl.window_start <= m <= tl.as_of:
            continue
        who = np.flatnonzero(deep & ~pop.quarterly_tax & pop.active_at(m) & (pop.founded_month < m - 1))
        add(who, "seasonal_dip", "tax", m, m, f"Spring Festival {year}")
    if registry_rows is not None:
        idx, kinds, start, end, detail = registry_rows
        rows_idx.append(idx)
        rows_kind.append(np.asarray(kinds, dtype=str))
        rows_series.append(np.full(len(idx), "registry"))
        rows_start.append(start)
        rows_end.append(end)
        rows_detail.append(np.asarray(detail, dtype=str))
    idx = np.concatenate(rows_idx).astype(np.int64)
    kind = np.concatenate(rows_kind)
    start = np.concatenate(rows_start).astype(np.int64)
    order = np.lexsort((kind, start, pop.uscc[idx]))
    months = month_texts
    return pa.table(
        [pa.array(pop.uscc[idx][order]), pa.array(kind[order]), pa.array(np.concatenate(rows_series)[order]),
         pa.array(months(start[order])), pa.array(months(np.concatenate(rows_end).astype(np.int64)[order])),
         pa.array(np.concatenate(rows_detail)[order])],
        names=DISTRACTOR_COLUMNS,
    )


def _manifest(config, tl, district_code, out, written, truth_written, events, distractors, defects) -> dict:
    tier = next((name for name, size in TIERS.items() if size == config.enterprises), None)

    def describe(w: _Written, delivery: Delivery | None) -> dict:
        p = out / w.path
        entry = {"path": w.path, "rows": w.rows, "bytes": p.stat().st_size, "sha256": sha256(p)}
        if delivery:
            entry = {"path": w.path, "department": delivery.department, "format": delivery.format,
                     "encoding": delivery.encoding, **{k: v for k, v in entry.items() if k != "path"}}
        return entry

    by_path = {d.path: d for d in DELIVERIES.values()}
    return {
        "generator": "shengxin synth",
        "format_version": 1,
        "seed": config.seed,
        "enterprises": config.enterprises,
        "tier": tier,
        "tiers": TIERS,
        "months": config.months,
        "as_of": config.as_of,
        "window": {"start": month_text(tl.window_start), "end": month_text(tl.as_of)},
        "report_years": list(tl.report_years),
        "district": district_code,
        "defect_rate": config.defect_rate,
        "files": [describe(w, by_path[w.path]) for w in sorted(written, key=lambda w: w.path)],
        "truth": [describe(w, None) for w in truth_written],
        "summary": {
            "events": dict(sorted(Counter(events.column("event").to_pylist()).items())),
            "distractors": dict(sorted(Counter(distractors.column("kind").to_pylist()).items())),
            "defects": dict(sorted(Counter(defects.column("defect").to_pylist()).items())),
        },
    }
