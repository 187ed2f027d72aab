"""The registry and the small lists departments deliver, built column-wise from the population.

Each builder returns a :class:`ListFile`: an Arrow table of text columns exactly as delivered,
plus which rows back a planted truth event (those rows are kept free of defects) and the truth
events the list implies. Published rules the lists follow:

* high-tech enterprise (高新技术企业): certificates valid three years, R&D at least 5 % / 4 % / 3 %
  of revenue for annual revenue up to 5,000万 / 2亿 / above (国科发火〔2016〕32号);
* technology-based SME (科技型中小企业): evaluated and registered every year;
* innovative SME, specialised SME (专精特新) and "little giant": three-year recognitions, the
  little giant only for firms already recognised as specialised (工信部企业〔2022〕63号);
* statistical survey scope: the thresholds of ``reference/data/statistical_scope_thresholds.csv``,
  applied to the previous year's revenue, inclusion in January.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from shengxin.synth import names
from shengxin.synth.calendar import Timeline, first_day, last_day, month_of_date, year_of
from shengxin.synth.codes import digits_string, patent_numbers, unique_serials
from shengxin.synth.formats import date_text, fixed2_text, int_text, month_texts
from shengxin.synth.population import Population, scope_names
from shengxin.synth.profiles import SECTOR_INDEX, TECH_MANUFACTURING_DIVISIONS, sector_array

CERT_TYPES = ("高新技术企业", "科技型中小企业", "创新型中小企业", "专精特新中小企业", '专精特新"小巨人"企业')
HIGH_TECH, TECH_SME, INNOVATIVE_SME, SPECIALISED_SME, LITTLE_GIANT = range(5)
IP_TYPES = ("发明专利", "实用新型专利", "外观设计专利", "软件著作权")
ROUNDS = ("天使轮", "A轮", "B轮", "C轮", "D轮及以后", "Pre-IPO", "战略融资")
ROUND_MEDIAN_WAN = (500, 3000, 10000, 25000, 50000, 40000, 8000)
ABNORMAL_REASONS = (
    ("未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的", 0.6),
    ("通过登记的住所或者经营场所无法联系的", 0.3),
    ("未在责令的期限内公示有关企业信息的", 0.06),
    ("公示企业信息隐瞒真实情况、弄虚作假的", 0.04),
)
#: National "little giant" batches were announced about once a year; the month of each year's batch.
LITTLE_GIANT_MONTH = {2019: 6, 2020: 11, 2021: 7, 2022: 8, 2023: 7, 2024: 8, 2025: 8, 2026: 7}


@dataclass
class TruthEvent:
    index: np.ndarray  # enterprise index
    event: str
    start: np.ndarray  # month numbers
    end: np.ndarray
    magnitude: np.ndarray  # float, NaN when not applicable
    detail: np.ndarray  # str
    #: deviation events: months of the event delivered and visibly below the level (``realised.py``)
    evidence_months: np.ndarray | None = None


@dataclass
class ListFile:
    table: pa.Table
    protected: np.ndarray  # rows backing a truth event
    events: list[TruthEvent] = field(default_factory=list)


def _random_dates(rng, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A uniform date in [lo, hi] per row (both datetime64[D]; hi < lo gives lo)."""
    span = np.maximum((hi - lo).astype(np.int64), 0)
    return lo + (rng.random(len(lo)) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def _text(values) -> pa.Array:
    return pa.array(np.asarray(values).astype(str))


def _activity_end(pop: Population, tl: Timeline) -> np.ndarray:
    """Last day an enterprise is active in the district (as-of date for going concerns)."""
    return np.minimum(last_day(np.minimum(pop.last_month, tl.as_of)), tl.as_of_date)


# ------------------------------------------------------------------------------ registry


REGISTRY_COLUMNS = (
    "统一社会信用代码", "企业名称", "成立日期", "企业类型", "行业代码", "注册资本(万元)", "住所",
    "所属镇街代码", "登记状态", "状态变更日期", "法定代表人", "联系电话",
)


def registry(pop: Population) -> ListFile:
    forms = np.asarray([f[0] for f in names.LEGAL_FORMS])
    table = pa.table(
        [
            _text(pop.uscc), _text(pop.name), date_text(pop.founded), _text(forms[pop.legal_form]),
            _text(pop.class_code), int_text(pop.capital.astype(np.int64)), _text(pop.address),
            _text(pop.town_code), _text(pop.status), date_text(pop.status_date),
            _text(pop.representative), _text(pop.phone),
        ],
        names=list(REGISTRY_COLUMNS),
    )
    return ListFile(table, np.zeros(pop.n, dtype=bool))


# ------------------------------------------------------------------------------ certifications


def _cycles(rng, firms, first_year, period, p_continue, last_year):
    """Recognition years: the first, then every ``period`` years while renewed (chained)."""
    reps = 1 + max(0, (int(last_year) - int(first_year.min(initial=last_year))) // period) if len(firms) else 1
    k = np.arange(reps)
    years = first_year[:, None] + period * k[None, :]
    renewed = np.cumprod(np.concatenate(
        [np.ones((len(firms), 1), dtype=bool), rng.random((len(firms), reps - 1)) < p_continue], axis=1
    ), axis=1).astype(bool)
    keep = renewed & (years <= last_year)
    r, c = np.nonzero(keep)
    return firms[r], years[r, c], c == 0


def certifications(rng, pop: Population, tl: Timeline, district_code: str) -> ListFile:
    n = pop.n
    ok = ~pop.inert
    sector = pop.sector
    division = np.asarray([c[:2] for c in pop.class_code])
    tech_sector = sector_array("tech")[sector].astype(bool)
    manufacturing = sector == SECTOR_INDEX["manufacturing"]
    tech_mfg = manufacturing & np.isin(division, list(TECH_MANUFACTURING_DIVISIONS))
    tech_weight = np.where(tech_sector & (~manufacturing | tech_mfg), 1.0, np.where(manufacturing, 0.3, 0.02))
    size_weight = np.where(pop.employees >= 10, 1.0, np.where(pop.employees >= 5, 0.4, 0.05))
    found_year = year_of(pop.founded_month)
    as_of_year = year_of(tl.as_of)
    end_date = _activity_end(pop, tl)

    rows_firm, rows_type, rows_year, rows_first = [], [], [], []

    def add(firms, years, first, kind):
        rows_firm.append(firms)
        rows_year.append(years)
        rows_first.append(first)
        rows_type.append(np.full(len(firms), kind))

    # high-tech: batches are issued in December; renewed every three years
    ht_last = as_of_year if year_of(tl.as_of) * 12 + 11 <= tl.as_of else as_of_year - 1
    high_tech = ok & (rng.random(n) < 0.12 * tech_weight * size_weight * np.where(pop.rd_intensity > 0, 1, 0.1))
    firms = np.flatnonzero(high_tech)
    first = np.maximum(found_year[firms] + 1, 2016)
    first = first + (rng.random(len(firms)) * np.maximum(ht_last - first + 1, 1)).astype(np.int64)
    keep = first <= ht_last
    f, y, is_first = _cycles(rng, firms[keep], first[keep], 3, 0.75, ht_last)
    add(f, y, is_first, HIGH_TECH)
    # their R&D meets the recognition rule
    rev = pop.revenue[firms[keep]]
    floor = np.where(rev <= 5000, 0.05, np.where(rev <= 20000, 0.04, 0.03))
    boosted = floor * rng.uniform(1.05, 1.6, keep.sum())
    pop.rd_intensity[firms[keep]] = np.maximum(pop.rd_intensity[firms[keep]], boosted)
    has_high_tech = np.zeros(n, dtype=bool)
    has_high_tech[firms[keep]] = True

    # technology-based SMEs: registered year by year
    sme = ok & (pop.employees < 500) & (pop.revenue < 20000) & (pop.employees >= 3)
    tsme = sme & (rng.random(n) < 0.15 * tech_weight)
    firms = np.flatnonzero(tsme)
    years = np.arange(2018, as_of_year + 1)
    start = np.maximum(found_year[firms] + 1, 2018)
    listed = (rng.random((len(firms), len(years))) < 0.8) & (years[None, :] >= start[:, None])
    r, c = np.nonzero(listed)
    f, y = firms[r], years[c]
    is_first = np.ones(len(f), dtype=bool)
    is_first[1:] = f[1:] != f[:-1]
    add(f, y, is_first, TECH_SME)

    # innovative SMEs (since 2022)
    inno = ok & sme & (rng.random(n) < 0.08 * np.maximum(tech_weight, (pop.rd_intensity > 0) * 0.5))
    firms = np.flatnonzero(inno)
    first = np.maximum(found_year[firms] + 1, 2022)
    first = first + (rng.random(len(firms)) * np.maximum(as_of_year - first + 1, 1)).astype(np.int64)
    keep = first <= as_of_year
    f, y, is_first = _cycles(rng, firms[keep], first[keep], 3, 0.7, as_of_year)
    add(f, y, is_first, INNOVATIVE_SME)

    # specialised SMEs, and little giants among them
    spec_ok = ok & (pop.employees >= 20) & (pop.employees <= 1000) & (pop.revenue >= 1000) & (pop.rd_intensity > 0)
    spec = spec_ok & (rng.random(n) < 0.12 * np.where(manufacturing | tech_sector, 1.0, 0.1))
    firms = np.flatnonzero(spec)
    first = np.maximum(found_year[firms] + 2, 2019)
    first = first + (rng.random(len(firms)) * np.maximum(as_of_year - first + 1, 1)).astype(np.int64)
    keep = first <= as_of_year
    firms, first = firms[keep], first[keep]
    f, y, is_first = _cycles(rng, firms, first, 3, 0.8, as_of_year)
    add(f, y, is_first, SPECIALISED_SME)
    giant = rng.random(len(firms)) < 0.12
    g_first = first[giant] + 1 + (rng.random(giant.sum()) * 3).astype(np.int64)
    keep = g_first <= max(LITTLE_GIANT_MONTH)
    f, y, is_first = _cycles(rng, firms[giant][keep], g_first[keep], 3, 0.8, max(LITTLE_GIANT_MONTH))
    add(f, y, is_first, LITTLE_GIANT)

    firm = np.concatenate(rows_firm)
    kind = np.concatenate(rows_type)
    year = np.concatenate(rows_year)
    is_first = np.concatenate(rows_first)
    giant_month = np.asarray([LITTLE_GIANT_MONTH.get(y, 7) for y in range(2019, 2036)])
    month = np.select(
        [kind == HIGH_TECH, kind == TECH_SME, kind == LITTLE_GIANT],
        [12, rng.integers(3, 12, len(firm)), giant_month[np.clip(year - 2019, 0, len(giant_month) - 1)]],
        rng.integers(4, 12, len(firm)),
    )
    day = rng.integers(1, 29, len(firm))
    certified = first_day(year * 12 + month - 1) + (day - 1).astype("timedelta64[D]")
    valid_until = np.where(
        kind == TECH_SME,
        last_day(year * 12 + 11),
        first_day((year + 3) * 12 + month - 1) + (day - 2).astype("timedelta64[D]"),
    )
    alive = (certified <= end_date[firm]) & (certified > pop.founded[firm])
    firm, kind, year, is_first, certified, valid_until = (
        a[alive] for a in (firm, kind, year, is_first, certified, valid_until)
    )
    order = np.lexsort((certified, firm))
    firm, kind, year, is_first, certified, valid_until = (
        a[order] for a in (firm, kind, year, is_first, certified, valid_until)
    )

    serial = unique_serials(rng, len(firm), 10**6)
    number = np.select(
        [kind == HIGH_TECH, kind == TECH_SME, kind == INNOVATIVE_SME, kind == SPECIALISED_SME],
        [
            np.char.add(np.char.add(np.char.add("GR", digits_string(year, 4)), "33"), digits_string(serial, 6)),
            np.char.add(np.char.add(digits_string(year, 4), district_code), digits_string(serial, 6)),
            np.char.add(np.char.add(np.char.add("CX", digits_string(year, 4)), "33"), digits_string(serial, 6)),
            np.char.add(np.char.add("ZJTX", digits_string(year, 4)), digits_string(serial, 6)),
        ],
        np.char.add(np.char.add("XJR", digits_string(year, 4)), digits_string(serial, 6)),
    )
    table = pa.table(
        [_text(pop.uscc[firm]), _text(np.asarray(CERT_TYPES)[kind]), _text(number),
         date_text(certified), date_text(valid_until)],
        names=["统一社会信用代码", "认定类型", "证书编号", "认定日期", "有效期至"],
    )
    cert_month = month_of_date(certified)
    new = is_first & (cert_month >= tl.window_start) & (cert_month <= tl.as_of)
    event = TruthEvent(
        index=firm[new], event="new_certification", start=cert_month[new], end=cert_month[new],
        magnitude=np.full(new.sum(), np.nan),
        detail=np.char.add(np.char.add(np.asarray(CERT_TYPES)[kind[new]], " "), number[new].astype(str)),
    )
    return ListFile(table, new, [event])


def high_tech_firms(cert: ListFile, pop: Population) -> np.ndarray:
    """Mask of enterprises holding any high-tech certificate in the list."""
    kinds = np.asarray(cert.table.column("认定类型").to_pylist())
    codes = np.asarray(cert.table.column("统一社会信用代码").to_pylist())
    return np.isin(pop.uscc, codes[kinds == CERT_TYPES[HIGH_TECH]])


# ------------------------------------------------------------------------------ IP rights


def ip_rights(rng, pop: Population, tl: Timeline, high_tech: np.ndarray) -> ListFile:
    n = pop.n
    sector = pop.sector
    rate = sector_array("ip_rate")[sector] * (pop.employees / 10.0) ** 0.6 * np.where(high_tech, 3.0, 1.0)
    count = np.where(pop.inert, 0, rng.poisson(np.minimum(rate, 2000)))
    software = sector_array("software_ip")[sector].astype(bool)
    count += np.where(high_tech, np.where(software, 3, 1), 0)
    firm = np.repeat(np.arange(n), count)
    u = rng.random(len(firm))
    soft = software[firm]
    mfg = sector[firm] == SECTOR_INDEX["manufacturing"]
    # software firms: mostly copyrights; manufacturers: utility models first; others in between
    kind = np.where(
        soft, np.where(u < 0.82, 3, np.where(u < 0.95, 0, 1)),
        np.where(mfg, np.where(u < 0.22, 0, np.where(u < 0.75, 1, np.where(u < 0.97, 2, 3))),
                 np.where(u < 0.35, 0, np.where(u < 0.7, 1, np.where(u < 0.8, 2, 3)))),
    )
    if high_tech.any():  # a high-tech firm's guaranteed item is an invention patent or a copyright
        first_of_firm = np.r_[True, firm[1:] != firm[:-1]] if len(firm) else np.zeros(0, dtype=bool)
        kind = np.where(first_of_firm & high_tech[firm], np.where(soft, 3, 0), kind)
    end = _activity_end(pop, tl)[firm]
    lo = np.maximum(pop.founded[firm] + np.timedelta64(120, "D"), end - np.timedelta64(12 * 365, "D"))
    granted = _random_dates(rng, lo, end)
    keep = granted <= end
    firm, kind, granted = firm[keep], kind[keep], granted[keep]
    grant_year = granted.astype("datetime64[Y]").astype(np.int64) + 1970
    lag = np.where(kind == 0, rng.integers(1, 4, len(firm)), np.where(kind == 3, 0, rng.integers(0, 2, len(firm))))
    patent_kind = np.asarray([1, 2, 3, 0])[kind]
    is_patent = kind < 3
    serial_p = unique_serials(rng, int(is_patent.sum()), 10**7)
    serial_s = unique_serials(rng, int((~is_patent).sum()), 10**7)
    number = np.empty(len(firm), dtype="U20")
    number[is_patent] = patent_numbers(grant_year[is_patent] - lag[is_patent], patent_kind[is_patent], serial_p)
    number[~is_patent] = np.char.add(np.char.add(digits_string(grant_year[~is_patent], 4), "SR"),
                                     digits_string(serial_s, 7))
    table = pa.table(
        [_text(pop.uscc[firm]), _text(np.asarray(IP_TYPES)[kind]), _text(number), date_text(granted)],
        names=["统一社会信用代码", "权利类型", "登记号", "授权日期"],
    )
    return ListFile(table, np.zeros(len(firm), dtype=bool))


# ------------------------------------------------------------------------------ financing


def financing(rng, pop: Population, tl: Timeline) -> ListFile:
    n = pop.n
    sector = pop.sector
    young = pop.founded > tl.as_of_date - np.timedelta64(12 * 365, "D")
    p = sector_array("financing_rate")[sector] * np.where(pop.employees >= 5, 1.5, 0.5)
    raising = ~pop.inert & young & (rng.random(n) < p)
    firms = np.flatnonzero(raising)
    rounds = np.minimum(1 + rng.geometric(0.55, len(firms)) - 1, 6)
    firm = np.repeat(firms, rounds)
    starts = np.r_[0, np.cumsum(rounds)[:-1]] if len(firms) else np.zeros(0, dtype=np.int64)
    position = np.arange(len(firm)) - np.repeat(starts, rounds)
    gap_days = np.where(position == 0, rng.uniform(0.3, 3.0, len(firm)), rng.uniform(0.8, 2.5, len(firm))) * 365
    elapsed = np.cumsum(gap_days)
    elapsed -= np.repeat(np.r_[0.0, elapsed][starts], rounds)  # days since founding, per firm
    when = pop.founded[firm] + elapsed.astype(np.int64).astype("timedelta64[D]")
    strategic = rng.random(len(firm)) < 0.15  # strategic rounds do not move a firm up the ladder
    climbed = np.cumsum(~strategic)
    ladder = climbed - np.repeat(np.r_[0, climbed][starts], rounds) - 1
    label = np.where(strategic, 6, np.clip(ladder, 0, 5))
    amount = np.asarray(ROUND_MEDIAN_WAN, dtype=np.float64)[label] * np.exp(0.6 * rng.standard_normal(len(firm)))
    amount = np.where(amount < 1000, np.round(amount / 10) * 10, np.round(amount / 100) * 100)
    keep = when <= _activity_end(pop, tl)[firm]
    firm, when, label, amount = firm[keep], when[keep], label[keep], amount[keep]
    table = pa.table(
        [_text(pop.uscc[firm]), date_text(when), _text(np.asarray(ROUNDS)[label]),
         fixed2_text(np.round(amount * 100).astype(np.int64))],
        names=["统一社会信用代码", "融资日期", "轮次", "金额(万元)"],
    )
    m = month_of_date(when)
    new = (m >= tl.window_start) & (m <= tl.as_of)
    event = TruthEvent(firm[new], "financing", m[new], m[new], amount[new], np.asarray(ROUNDS)[label[new]])
    return ListFile(table, new, [event])


# ------------------------------------------------------------------------------ credit lists


def dishonesty(rng, pop: Population, tl: Timeline, troubled: np.ndarray, district_code: str) -> ListFile:
    n = pop.n
    closing = pop.last_month < tl.as_of
    p = 0.005 + 0.05 * troubled + 0.03 * closing
    firm = np.flatnonzero(~pop.inert & (rng.random(n) < p))
    end = _activity_end(pop, tl)[firm] + np.timedelta64(180, "D")
    end = np.minimum(end, tl.as_of_date - np.timedelta64(30, "D"))
    lo = np.maximum(pop.founded[firm] + np.timedelta64(365, "D"), tl.as_of_date - np.timedelta64(6 * 365, "D"))
    filed = _random_dates(rng, lo, end)
    keep = filed <= end
    firm, filed = firm[keep], filed[keep]
    published = np.minimum(filed + rng.integers(30, 200, len(firm)).astype("timedelta64[D]"), tl.as_of_date)
    removed = published + rng.integers(60, 700, len(firm)).astype("timedelta64[D]")
    removed = np.where((rng.random(len(firm)) < 0.4) & (removed <= tl.as_of_date), removed, np.datetime64("NaT"))
    # basic courts are numbered by their district code without the province digits (浙0110 = 余杭)
    courts = np.asarray([f"浙{district_code[2:6]}执", "浙0106执", "浙0108执", "浙01执"])
    court = courts[rng.choice(4, len(firm), p=[0.7, 0.1, 0.1, 0.1])]
    year = filed.astype("datetime64[Y]").astype(np.int64) + 1970
    serial = unique_serials(rng, len(firm), max(10**5, 5 * len(firm)))
    case = np.char.add(np.char.add(np.char.add(np.char.add("（", digits_string(year, 4)), "）"), court),
                       np.char.add(serial.astype(str), "号"))
    table = pa.table(
        [_text(pop.uscc[firm]), _text(pop.name[firm]), _text(case), date_text(filed),
         date_text(published), date_text(removed)],
        names=["统一社会信用代码", "被执行人名称", "案号", "立案日期", "发布日期", "移除日期"],
    )
    return ListFile(table, np.zeros(len(firm), dtype=bool))


def abnormal_operations(rng, pop: Population, tl: Timeline) -> ListFile:
    n = pop.n
    closing = pop.last_month < tl.as_of
    firm = np.flatnonzero(~pop.inert & (rng.random(n) < 0.025 + 0.1 * closing))
    lo = pop.founded[firm] + np.timedelta64(365, "D")
    end = np.minimum(_activity_end(pop, tl)[firm] + np.timedelta64(240, "D"), tl.as_of_date)
    listed = _random_dates(rng, lo, end)
    keep = listed <= end
    firm, listed = firm[keep], listed[keep]
    reasons = np.asarray([r for r, _ in ABNORMAL_REASONS])
    weights = np.asarray([w for _, w in ABNORMAL_REASONS])
    reason = reasons[rng.choice(len(reasons), len(firm), p=weights / weights.sum())]
    removed = listed + rng.integers(30, 400, len(firm)).astype("timedelta64[D]")
    removed = np.where((rng.random(len(firm)) < 0.5) & (removed <= tl.as_of_date), removed, np.datetime64("NaT"))
    table = pa.table(
        [_text(pop.uscc[firm]), date_text(listed), _text(reason), date_text(removed)],
        names=["统一社会信用代码", "列入日期", "列入原因", "移出日期"],
    )
    return ListFile(table, np.zeros(len(firm), dtype=bool))


def penalties(rng, pop: Population, tl: Timeline, full_name: str, district_name: str) -> ListFile:
    n = pop.n
    count = np.where(~pop.inert & (rng.random(n) < 0.015), rng.integers(1, 4, n), 0)
    firm = np.repeat(np.arange(n), count)
    city = full_name[full_name.find("省") + 1 : full_name.find("市") + 1] or full_name
    short = city[:1] + district_name[:1]
    authorities = (
        (f"{city}{district_name}市场监督管理局", f"{short}市监罚处", 0.55),
        (f"国家税务总局{city}{district_name}税务局", f"{short}税罚", 0.2),
        (f"{city}{district_name}应急管理局", f"{short}应急罚", 0.1),
        (f"{city}生态环境局{district_name[:-1]}分局", f"{city[:1]}环{district_name[:1]}罚", 0.1),
        (f"{city}{district_name}人力资源和社会保障局", f"{short}人社罚", 0.05),
    )
    which = rng.choice(len(authorities), len(firm), p=[a[2] for a in authorities])
    lo = np.maximum(pop.founded[firm] + np.timedelta64(180, "D"), tl.as_of_date - np.timedelta64(5 * 365, "D"))
    decided = _random_dates(rng, lo, _activity_end(pop, tl)[firm])
    keep = decided >= lo
    firm, which, decided = firm[keep], which[keep], decided[keep]
    year = decided.astype("datetime64[Y]").astype(np.int64) + 1970
    serial = unique_serials(rng, len(firm), max(10**4, 5 * len(firm)))
    prefix = np.asarray([a[1] for a in authorities])[which]
    number = np.char.add(np.char.add(np.char.add(np.char.add(prefix, "〔"), digits_string(year, 4)), "〕"),
                         np.char.add(serial.astype(str), "号"))
    fine = np.maximum(np.round(np.exp(np.log(8000) + 1.0 * rng.standard_normal(len(firm))) / 100) * 100, 200)
    table = pa.table(
        [_text(pop.uscc[firm]), _text(number), date_text(decided),
         fixed2_text(np.round(fine * 100).astype(np.int64)), _text(np.asarray([a[0] for a in authorities])[which])],
        names=["统一社会信用代码", "决定书文号", "处罚日期", "罚款金额(元)", "处罚机关"],
    )
    return ListFile(table, np.zeros(len(firm), dtype=bool))


# ------------------------------------------------------------------------------ statistics


def survey_scope(rng, pop: Population, tl: Timeline, stats_revenue: np.ndarray, active_dec: np.ndarray):
    """Who is in the statistical survey scope in each inclusion year, and since when.

    ``stats_revenue`` is (enterprises × ``tl.revenue_years``) in 万元. Returns
    (in-scope matrix over inclusion years = revenue years + 1, inclusion month of the current run
    or -1, truth events).
    """
    n = pop.n
    years = np.asarray(tl.revenue_years)
    include_years = years + 1
    threshold = pop.threshold
    revenue_based = ~np.isnan(threshold)
    limit = np.where(revenue_based, threshold, np.inf)[:, None]
    # a firm enters at the threshold and leaves only below 80 % of it, so that firms hovering at
    # the threshold do not flip in and out every year
    above = np.zeros(stats_revenue.shape, dtype=bool)
    for j in range(stats_revenue.shape[1]):
        stays = above[:, j - 1] & (stats_revenue[:, j] >= 0.8 * limit[:, 0]) if j else False
        above[:, j] = (stats_revenue[:, j] >= limit[:, 0]) | stays
    # qualification scopes (construction, real-estate development): from a qualification year on
    qualification = (pop.scope >= 0) & ~revenue_based
    share = np.where(pop.class_code == "7010", 0.5, 0.12)
    qualified = qualification & (rng.random(n) < share)
    q_year = year_of(pop.founded_month) + 1 + rng.exponential(1.5, n).astype(np.int64)
    in_scope = np.where(revenue_based[:, None], above, qualified[:, None] & (include_years[None, :] >= q_year[:, None]))
    going = pop.active_at(tl.as_of)
    in_scope &= active_dec  # inclusion for year Y+1 needs the firm still there at the end of Y
    # current run: the latest inclusion year from which the firm stayed in scope
    current = in_scope[:, -1] & going
    run_start = np.full(n, -1, dtype=np.int64)
    for j in range(len(include_years) - 1, -1, -1):
        still = current & in_scope[:, j:].all(axis=1)
        run_start = np.where(still, include_years[j], run_start)
    earlier = current & (run_start == include_years[0])
    before = np.maximum(year_of(pop.founded_month) + 1, include_years[0] - 8)
    early_year = np.where(
        revenue_based, before + (rng.random(n) * np.maximum(include_years[0] - before, 1)).astype(np.int64),
        np.minimum(q_year, include_years[0]),
    )
    founded_late = year_of(pop.founded_month) + 1 >= include_years[0]
    run_start = np.where(earlier & ~founded_late, np.minimum(early_year, include_years[0]), run_start)
    inclusion = np.where(current, run_start * 12, -1)  # January of the run's first year

    # truth: each transition out of scope -> in scope whose January lies in the window (the first
    # inclusion year lies before the window by construction of the timeline, so it never counts)
    prev = np.concatenate([np.zeros((n, 1), dtype=bool), in_scope[:, :-1]], axis=1)
    r, c = np.nonzero(in_scope & ~prev)
    month = include_years[c] * 12
    inside = (month >= tl.window_start) & (month <= tl.as_of)
    r, c, month = r[inside], c[inside], month[inside]
    scope_name = scope_names()[np.maximum(pop.scope[r], 0)]
    magnitude = np.where(revenue_based[r], stats_revenue[r, c], np.nan)
    detail = np.asarray([  # one string per event, not per enterprise-month
        f"{name}: {year} revenue {rev:.2f} 万元 >= {thr:g} 万元" if np.isfinite(rev) else f"{name}: qualification"
        for name, year, rev, thr in zip(scope_name, years[c], magnitude, threshold[r])
    ], dtype=str)
    event = TruthEvent(r, "reached_threshold", month, month, magnitude, detail)
    return in_scope, inclusion, event


def survey_list(pop: Population, inclusion: np.ndarray, tl: Timeline) -> ListFile:
    firm = np.flatnonzero(inclusion >= 0)
    names_ = scope_names()
    months = month_texts(inclusion[firm])
    table = pa.table(
        [_text(pop.uscc[firm]), _text(pop.name[firm]), _text(names_[pop.scope[firm]]), _text(months)],
        names=["统一社会信用代码", "单位名称", "统计范围", "纳入年月"],
    )
    protected = (inclusion[firm] >= tl.window_start) & (inclusion[firm] <= tl.as_of)
    return ListFile(table, protected)


def annual_finance(rng, pop: Population, tl: Timeline, stats_revenue: np.ndarray,
                   december: np.ndarray, in_scope: np.ndarray) -> ListFile:
    """Annual report rows for the report years: every firm active in December files, except ~12 %
    of those outside the survey scope (who are late or never file)."""
    years = np.asarray(tl.revenue_years)
    cols = [int(np.flatnonzero(years == y)[0]) for y in tl.report_years]
    emp = december[:, cols]
    rev = stats_revenue[:, cols]
    files = (emp > 0) & (in_scope[:, cols] | (rng.random(emp.shape) < 0.88))
    r, c = np.nonzero(files)
    revenue = rev[r, c]
    assets = revenue * pop.assets_ratio[r] * np.exp(0.05 * rng.standard_normal(len(r)))
    rd = revenue * pop.rd_intensity[r] * np.exp(0.1 * rng.standard_normal(len(r)))
    report_years = np.asarray(tl.report_years)
    table = pa.table(
        [_text(pop.uscc[r]), int_text(report_years[c]), int_text(emp[r, c]),
         fixed2_text(np.round(revenue * 100).astype(np.int64)),
         fixed2_text(np.round(assets * 100).astype(np.int64)),
         fixed2_text(np.round(rd * 100).astype(np.int64))],
        names=["统一社会信用代码", "年度", "从业人员期末人数", "营业收入(万元)", "资产总计(万元)", "研发费用(万元)"],
    )
    return ListFile(table, np.zeros(len(r), dtype=bool))
