"""Shareholders, and companies registered outside the district: the relocation early warning.

Issue #8's relocation-risk signal also fires when "a same-industry company is set up outside the
district with shared shareholders or contacts". This module writes what that detector reads and
its ground truth, all column-wise from the population (no Python loop over the population):

* ``scjg/股东信息.csv`` — 1-4 shareholders per enterprise (enterprises deregistered before the
  horizon have none, like they have no rows anywhere else). The legal form decides the structure:
  sole proprietors and 自然人独资 one natural person, 法人独资 and foreign-owned firms one 企业法人,
  other companies 2-4 holders with a natural person (or, for 其他有限责任公司 and listed firms, an
  企业法人) as the major one. Shares are drawn per firm, sorted so the first holder is the major
  one, and sum to exactly 100.00 %. The legal representative is one of the natural-person
  holders of about 70 % of the firms that have one. A natural person's 证照号码 is the masked
  identity number (``330106********123X``, check character of the full number), an entity's its
  own valid USCC.
* ``scjg/外区新设企业.csv`` and ``scjg/外区新设企业股东.csv`` — the city platform's feed of
  companies registered in other counties of Hangzhou and Zhejiang (never the district), with their
  shareholders.

Planted (``truth/events.csv``, event ``relocation_affiliate``, uscc = the district enterprise,
month = the outside company's establishment month), one per enterprise at most:

* ≈ 60 % of the ``relocation_out`` enterprises: the outside company is set up 2-8 months before
  the relocation's first month;
* ``relocation_prepared``: ≈ 0.3 % of all enterprises (no other planted event, active at the as-of
  month, founded ≥ 12 months before the window): set up in a random month of the window, the
  monthly series unchanged (an early warning).

Link kinds: ≈ 55 % a shared natural-person shareholder (same name and masked ID, the district
firm's major holder), ≈ 20 % an 企业法人 shareholder with the same USCC (the enterprise itself, or
its parent company), ≈ 25 % the outside company's phone equals the enterprise's registry phone (and
no shared holder). Industry: ≈ 70 % the same class, ≈ 30 % another class of the division.

Distractors (``truth/distractors.csv``, series ``registry``), none of which is an event:
``affiliate_other_industry`` (shared person, another GB/T 4754 section), ``common_investor``
(≈ 5 district investment platforms each holding ≥ max(6, 1 %) of the enterprises; an outside
company whose only link is a platform), ``agent_phone`` (≈ 5 agency phones each the registry phone
of ≥ max(6, 0.4 %) enterprises; an outside company whose only link is such a phone),
``namesake_shareholder`` (same name, another masked ID) and ``old_affiliate`` (shared person, same
division, set up 3-10 years before the window). Background: ≈ 3 % × n unrelated registrations.
Planted, distractor, platform-held and agency-client enterprises are disjoint (except that each
``common_investor`` / ``agent_phone`` enterprise is by construction a platform holding / an agency
client), and none of them has another planted event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shengxin.reference.district import District
from shengxin.synth import events as ev
from shengxin.synth import names
from shengxin.synth.calendar import Timeline, days_in_month, first_day
from shengxin.synth.codes import digits_string, fresh_usccs, in_sorted, masked_id_numbers, string_hashes
from shengxin.synth.formats import date_text, fixed2_text, month_texts
from shengxin.synth.lists import ListFile, TruthEvent
from shengxin.synth.population import NEW_CODES_FROM, Population, nearest_step
from shengxin.synth.profiles import industry_table, read_classes

EVENT = "relocation_affiliate"
SHAREHOLDER_COLUMNS = ("统一社会信用代码", "股东名称", "股东类型", "证照号码", "认缴出资额(万元)", "出资比例(%)")
OUTSIDE_COLUMNS = ("统一社会信用代码", "企业名称", "成立日期", "行业代码", "登记机关区划代码", "登记机关", "住所",
                   "法定代表人", "联系电话")
PERSON, ENTITY, PARTNERSHIP, PLATFORM = 0, 1, 2, 3
KIND_TEXT = np.asarray(["自然人", "企业法人", "合伙企业"])
LINK_PERSON, LINK_ENTITY, LINK_PHONE = 0, 1, 2
LINK_SHARES = (0.55, 0.20, 0.25)

#: Shares (of all enterprises unless said otherwise) of each planted kind and distractor.
SHARES = {
    "after_relocation": 0.60,  # of the relocation_out enterprises
    "prepared": 0.003,
    "affiliate_other_industry": 0.004,
    "common_investor": 0.002,
    "agent_phone": 0.002,
    "namesake_shareholder": 0.002,
    "old_affiliate": 0.002,
    "background": 0.03,
}
PLATFORM_HOLDING_SHARE = 0.01  # each platform holds a stake in at least max(6, 1 %) of the firms
AGENCY_CLIENT_SHARE = 0.004  # each agency phone is the registry phone of at least max(6, 0.4 %)
MIN_SHARED = 6
AGENCIES = 5  # agency phone numbers

#: County-level registration authorities of Hangzhou and nearby Zhejiang cities where outside
#: companies are registered: (code, city, county, weight). Codes: 中华人民共和国县以上行政区划代码
#: (Ministry of Civil Affairs, 2023 edition; Hangzhou's 2021 reorganisation created 临平区 330113
#: and 钱塘区 330114). Weights favour the district's neighbours; the district's own code is dropped.
OUTSIDE_REGIONS = (
    ("330102", "杭州", "上城区", 5), ("330105", "杭州", "拱墅区", 6), ("330106", "杭州", "西湖区", 8),
    ("330108", "杭州", "滨江区", 6), ("330109", "杭州", "萧山区", 7), ("330110", "杭州", "余杭区", 8),
    ("330111", "杭州", "富阳区", 5), ("330112", "杭州", "临安区", 5), ("330113", "杭州", "临平区", 12),
    ("330114", "杭州", "钱塘区", 5), ("330122", "杭州", "桐庐县", 2), ("330127", "杭州", "淳安县", 1),
    ("330182", "杭州", "建德市", 1),
    ("330502", "湖州", "吴兴区", 2), ("330503", "湖州", "南浔区", 1), ("330521", "湖州", "德清县", 6),
    ("330522", "湖州", "长兴县", 1), ("330523", "湖州", "安吉县", 3),
    ("330402", "嘉兴", "南湖区", 1), ("330411", "嘉兴", "秀洲区", 1), ("330421", "嘉兴", "嘉善县", 1),
    ("330481", "嘉兴", "海宁市", 2), ("330483", "嘉兴", "桐乡市", 2),
    ("330602", "绍兴", "越城区", 1), ("330603", "绍兴", "柯桥区", 2), ("330681", "绍兴", "诸暨市", 1),
    ("330212", "宁波", "鄞州区", 1), ("330282", "宁波", "慈溪市", 1), ("330782", "金华", "义乌市", 1),
)
#: Region codes printed on shareholders' identity cards (the holder's registration place when the
#: card was first issued, so superseded codes such as 余杭市 330184 or 萧山市 330181 still occur),
#: with weights: mostly Hangzhou, then Zhejiang, then other provinces. Same code list source.
ID_REGIONS = (
    ("330102", 4), ("330103", 3), ("330104", 3), ("330105", 4), ("330106", 5), ("330108", 2),
    ("330110", 6), ("330181", 3), ("330183", 2), ("330184", 5), ("330185", 2), ("330122", 1),
    ("330127", 1), ("330182", 1), ("330203", 1), ("330282", 1), ("330302", 1), ("330381", 1),
    ("330382", 1), ("330402", 1), ("330481", 1), ("330502", 1), ("330521", 1), ("330523", 1),
    ("330602", 1), ("330681", 1), ("330702", 1), ("330782", 1), ("330802", 1), ("331002", 1),
    ("331082", 1), ("331102", 1), ("340104", 1), ("341221", 1), ("320106", 0.5), ("321281", 0.5),
    ("310104", 0.5), ("310115", 0.5), ("360102", 0.5), ("411522", 0.5), ("420106", 0.5),
    ("430102", 0.5), ("510107", 0.5), ("350102", 0.5), ("370102", 0.5), ("130104", 0.5),
)
#: Investment platforms of the district (government funds): name pattern and holder type.
PLATFORMS = (
    ("{city}{district}产业投资有限公司", ENTITY),
    ("{city}{district}国有资本投资运营有限公司", ENTITY),
    ("{city}{district}创新投资有限公司", ENTITY),
    ("{city}{district}产业发展基金合伙企业（有限合伙）", PARTNERSHIP),
    ("{city}{district}科创股权投资基金合伙企业（有限合伙）", PARTNERSHIP),
)
HOLDING_WORDS = np.asarray(["控股", "投资", "实业", "投资管理", "控股集团", "投资集团"])
PARTNERSHIP_WORDS = np.asarray(["企业管理合伙企业（有限合伙）", "股权投资合伙企业（有限合伙）",
                                "创业投资合伙企业（有限合伙）"])
#: Legal forms (names.LEGAL_FORMS) whose structure admits a platform as a minority holder.
PLATFORM_FORMS = (0, 3, 4, 9)


@dataclass
class Affiliates:
    shareholders: ListFile
    outside: ListFile
    outside_shareholders: ListFile
    events: list[TruthEvent]
    #: distractor rows: enterprise index, kind, start month, end month, detail
    distractors: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


# ------------------------------------------------------------------------------ small helpers


def _pick(rng: np.random.Generator, pool: np.ndarray, taken: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` enterprises of ``pool`` (a mask) not yet taken, marked taken, sorted."""
    candidates = np.flatnonzero(pool & ~taken)
    k = min(max(count, 0), len(candidates))
    picked = np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]
    taken[picked] = True
    return picked


def _weighted(rng: np.random.Generator, table, m: int, column: int = -1) -> np.ndarray:
    w = np.asarray([row[column] for row in table], dtype=np.float64)
    return rng.choice(len(table), size=m, p=w / w.sum())


def _people(rng: np.random.Generator, m: int, as_of_date) -> tuple[np.ndarray, np.ndarray]:
    """``m`` invented natural persons: names and masked identity numbers (aged 22-68)."""
    regions = np.asarray([c for c, _ in ID_REGIONS])[_weighted(rng, ID_REGIONS, m)]
    birth = as_of_date - (rng.uniform(22, 68, m) * 365.25).astype("timedelta64[D]")
    # wide enough for the entity names and codes that replace some of them
    return (names.person_names(rng, m).astype("U32"),
            masked_id_numbers(regions, birth, rng.integers(0, 1000, m)).astype("U18"))


def _person_keys(name: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """A 64-bit key of each (name, masked ID) pair."""
    return string_hashes(name) * np.uint64(1_000_003) ^ string_hashes(pid)


def _fresh_people(rng, m: int, as_of_date, avoid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Persons whose (name, masked ID) key is not in ``avoid`` (sorted :func:`_person_keys`)."""
    name, pid = _people(rng, m, as_of_date)
    while True:
        bad = np.flatnonzero(in_sorted(_person_keys(name, pid), avoid))
        if not len(bad):
            return name, pid
        name[bad], pid[bad] = _people(rng, len(bad), as_of_date)


def _fresh_phones(rng, m: int, avoid: np.ndarray) -> np.ndarray:
    """Distinct phone numbers whose hash is not in ``avoid`` (sorted)."""
    phone = names.phone_numbers(rng, m)
    while True:
        h = string_hashes(phone)
        bad = np.flatnonzero(in_sorted(h, avoid) | _duplicated(h))
        if not len(bad):
            return phone
        phone[bad] = names.phone_numbers(rng, len(bad))


def _duplicated(values: np.ndarray) -> np.ndarray:
    """True for every occurrence of a value after its first (strings are compared by hash)."""
    if np.asarray(values).dtype.kind == "U":
        values = string_hashes(values)
    _, first = np.unique(values, return_index=True)
    dup = np.ones(len(values), dtype=bool)
    dup[first] = False
    return dup


def _shares(rng, k: np.ndarray, fixed_last: np.ndarray) -> np.ndarray:
    """(rows × 4) shares in hundredths of a percent, each row summing to exactly 10000: slot 0 is
    the major holder; ``fixed_last`` (hundredths, 0 = none) is the share of the last slot."""
    m = len(k)
    slot = np.arange(4)[None, :]
    inside = slot < k[:, None]
    has_fixed = fixed_last > 0
    free = inside & ~(has_fixed[:, None] & (slot == (k - 1)[:, None]))
    w = np.where(free, rng.gamma(1.2, size=(m, 4)), 0.0)
    w = -np.sort(-w, axis=1)  # major holder first (free slots come first, zeros last)
    total = w.sum(axis=1, keepdims=True)
    rest = (10000 - fixed_last)[:, None]
    pct = np.floor(np.where(total > 0, w / np.where(total > 0, total, 1) * rest, 0)).astype(np.int64)
    pct[np.arange(m), k - 1] = np.where(has_fixed, fixed_last, pct[np.arange(m), k - 1])
    pct[:, 0] += 10000 - pct.sum(axis=1)
    return np.where(inside, pct, 0)


def _industries():
    """Class codes of the district's industry mix, sorted, with sector, division and section."""
    table = industry_table()
    order = np.argsort(table.codes)
    codes = table.codes[order]
    sections = read_classes()
    return (codes, table.sector[order].astype(np.int64), table.weight[order] / table.weight.sum(),
            np.asarray([c[:2] for c in codes]), np.asarray([sections[c][1] for c in codes]))


def _class_index(codes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.searchsorted(codes, classes)


def _same_division(rng, codes, division, idx: np.ndarray, p_same_class: float) -> np.ndarray:
    """Class index per row: the same class with ``p_same_class``, else another class of its
    division (the same class when the division has only one)."""
    div = division[idx]
    lo = np.searchsorted(division, div, side="left")
    hi = np.searchsorted(division, div, side="right")
    size = hi - lo
    other = lo + (idx - lo + 1 + (rng.random(len(idx)) * np.maximum(size - 1, 1)).astype(np.int64)) % size
    return np.where((rng.random(len(idx)) < p_same_class) | (size == 1), idx, other)


def _other_section(rng, weight, section, idx: np.ndarray) -> np.ndarray:
    """A class (drawn by the mix) of another GB/T 4754 section than each row's class."""
    out = rng.choice(len(weight), size=len(idx), p=weight)
    while True:
        bad = np.flatnonzero(section[out] == section[idx])
        if not len(bad):
            return out
        out[bad] = rng.choice(len(weight), size=len(bad), p=weight)


def _trade_names(full_names: np.ndarray, legal_form: np.ndarray) -> np.ndarray:
    """The 字号 of district names (prefix + 字号 + industry wording + form suffix).

    Runs on the few enterprises whose outside company resembles them, not on the population."""
    words = sorted({w for ws in names.SECTOR_WORDS.values() for w in ws}
                   | {w for ws in names.DIVISION_WORDS.values() for w in ws} | {"实业", "制造"},
                   key=len, reverse=True)
    suffix = np.asarray([f[2] for f in names.LEGAL_FORMS])[legal_form]
    out = []
    for name, suf in zip(full_names.tolist(), suffix.tolist()):
        stem = name[2:len(name) - len(suf)]
        out.append(next((stem[:-len(w)] for w in words if stem.endswith(w) and 2 <= len(stem) - len(w) <= 4),
                        stem[:2]))
    return np.asarray(out, dtype="U8") if out else np.zeros(0, dtype="U8")


# ------------------------------------------------------------------------------ the plan


def plan_affiliates(
    rng: np.random.Generator,
    pop: Population,
    plan: ev.EventPlan,
    tl: Timeline,
    district: District,
    neighbours: list[tuple[str, str]],
) -> Affiliates:
    """Draw shareholders, outside registrations, truth and distractors; overwrite the registry
    phone of the agencies' client enterprises in ``pop`` (before the registry is written)."""
    kinds, k = _structure(rng, pop)
    who = _choose(rng, pop, plan, tl, kinds, k)
    agency_phones = _agency_phones(rng, pop, who.agency_of)
    reserved = np.sort(string_hashes(np.concatenate([pop.uscc, pop.ghosts])))  # codes in use, hashed
    platforms, reserved = _platforms(rng, district, reserved)
    holders, reserved = _district_holders(rng, pop, (kinds, k), who, platforms, reserved, tl.as_of_date,
                                          district.code)
    comp, reserved = _outside_companies(rng, pop, who, tl, district, neighbours, reserved)
    rows, reserved = _outside_holders(rng, pop, who, comp, holders, platforms, reserved, tl.as_of_date,
                                      district.code)
    rep, phone = _contacts(rng, pop, comp, rows, agency_phones)
    events, distractors = _truth(pop, plan, who, comp, rows, holders, platforms)
    return _files(pop, who, comp, rows, holders, rep, phone, events, distractors)


@dataclass
class _Who:
    """Which enterprises get what (indices into the population); all sets disjoint."""

    after: np.ndarray  # relocation_out enterprises with an affiliate set up before the move
    planted: np.ndarray  # ``after`` then the relocation_prepared ones
    established: np.ndarray  # month of each planted outside company
    link: np.ndarray  # LINK_* per planted
    via_parent: np.ndarray  # entity links through the parent company
    distractors: dict[str, np.ndarray]
    platform_of: np.ndarray  # platform index per enterprise, -1 when none
    agency_of: np.ndarray  # agency index per enterprise, -1 when none
    linked: np.ndarray  # mask: planted or a distractor
    parent_pool: np.ndarray  # enterprises that may be another district firm's corporate holder


def _choose(rng, pop: Population, plan: ev.EventPlan, tl: Timeline, kinds: np.ndarray, k: np.ndarray) -> _Who:
    """Planted enterprises, distractor enterprises, platform holdings and agency clients.

    Rules: ≈ 60 % of the relocations, then ``prepared`` among the settled firms without a planted
    event (active at the as-of month, founded ≥ 12 months before the window); person links only
    for firms whose major holder is a natural person, phone links only for firms whose phone no
    other firm has; distractors from the same settled pool; the platforms' further holdings and the
    agencies' further clients among the remaining firms without a planted event."""
    n = pop.n
    w0, a = tl.window_start, tl.as_of
    count = {key: int(round(v * n)) for key, v in SHARES.items()}
    major_person = (kinds[:, 0] == PERSON) & (k > 0)
    has_entity = ((kinds == ENTITY) & (np.arange(4)[None, :] < k[:, None])).any(axis=1)
    _, inverse, counts = np.unique(string_hashes(pop.phone), return_inverse=True, return_counts=True)
    unique_phone = counts[inverse] == 1

    taken = plan.kind != ev.NONE
    relocated = np.flatnonzero(plan.kind == ev.RELOCATION)
    after = relocated[rng.random(len(relocated)) < SHARES["after_relocation"]]
    base = (plan.kind == ev.NONE) & ~pop.inert & pop.active_at(a) & (pop.founded_month <= w0 - 12) & (k > 0)
    prepared = _pick(rng, base, taken, count["prepared"])
    planted = np.concatenate([after, prepared])
    established = np.concatenate([
        plan.start[after] - rng.integers(2, 9, len(after)).clip(max=np.maximum(plan.start[after] - w0, 2)),
        rng.integers(w0, a + 1, len(prepared)),
    ])
    link = rng.choice(3, size=len(planted), p=LINK_SHARES)
    link = np.where((link == LINK_PERSON) & ~major_person[planted], LINK_ENTITY, link)
    link = np.where((link == LINK_PHONE) & ~unique_phone[planted],
                    np.where(major_person[planted], LINK_PERSON, LINK_ENTITY), link)
    # half of the entity links go through a parent company: a firm without a corporate holder gets
    # one in its last slot (firms with a single holder keep the link to themselves)
    via_parent = (link == LINK_ENTITY) & (rng.random(len(planted)) < 0.5) & (has_entity[planted] | (k[planted] >= 2))
    new_parent = planted[via_parent & ~has_entity[planted]]
    kinds[new_parent, k[new_parent] - 1] = ENTITY

    person_pool = base & major_person
    platform_forms = np.isin(pop.legal_form, PLATFORM_FORMS)
    d = {
        "affiliate_other_industry": _pick(rng, person_pool, taken, count["affiliate_other_industry"]),
        "namesake_shareholder": _pick(rng, person_pool, taken, count["namesake_shareholder"]),
        "old_affiliate": _pick(rng, person_pool & (pop.founded_month <= w0 - 121), taken, count["old_affiliate"]),
        "common_investor": _pick(rng, base & platform_forms, taken, count["common_investor"]),
        "agent_phone": _pick(rng, base, taken, count["agent_phone"]),
    }
    free = (plan.kind == ev.NONE) & ~pop.inert & (k > 0)
    platform_of = _spread(rng, d["common_investor"], len(PLATFORMS), free & platform_forms, taken,
                          PLATFORM_HOLDING_SHARE)
    agency_of = _spread(rng, d["agent_phone"], AGENCIES, free, taken, AGENCY_CLIENT_SHARE)
    linked = np.zeros(n, dtype=bool)
    for ids in (planted, *d.values()):
        linked[ids] = True
    # a district parent is never planted or a distractor (the outside company would look linked to it)
    parent_pool = np.flatnonzero(~pop.inert & ~linked & (plan.kind == ev.NONE) & (pop.legal_form <= 4))
    return _Who(after, planted, established, link, via_parent, d, platform_of, agency_of, linked, parent_pool)


def _spread(rng, named: np.ndarray, groups: int, pool: np.ndarray, taken: np.ndarray, share: float) -> np.ndarray:
    """Group index per enterprise (-1 when none): the ``named`` distractor firms round-robin, then
    each group filled up to max(6, ``share`` × n × U(1, 1.3)) members from ``pool``."""
    n = len(pool)
    of = np.full(n, -1, dtype=np.int64)
    named_group = np.arange(len(named)) % groups
    of[named] = named_group
    for g in range(groups):
        need = max(MIN_SHARED, int(np.ceil(share * n * rng.uniform(1.0, 1.3))))
        of[_pick(rng, pool, taken, need - int((named_group == g).sum()))] = g
    return of


def _agency_phones(rng, pop: Population, agency_of: np.ndarray) -> np.ndarray:
    """Five Hangzhou landlines no enterprise has, written over the clients' registry phones."""
    sorted_phones = np.sort(string_hashes(pop.phone))
    while True:
        phones = np.char.add("0571-8", digits_string(rng.integers(0, 10**7, AGENCIES), 7))
        if not in_sorted(string_hashes(phones), sorted_phones).any() and len(set(phones.tolist())) == AGENCIES:
            break
    clients = np.flatnonzero(agency_of >= 0)
    pop.phone[clients] = phones[agency_of[clients]]
    return phones


@dataclass
class _Platforms:
    name: np.ndarray
    kind: np.ndarray
    uscc: np.ndarray


def _platforms(rng, district: District, reserved: np.ndarray) -> tuple[_Platforms, np.ndarray]:
    """The district's investment platforms, named after the district, registered by the city
    bureau (330100) so that none of them looks like an unregistered district enterprise."""
    city_district = district.full_name[district.full_name.find("省") + 1:]
    city = city_district[: city_district.find("市") + 1]
    dname = city_district[len(city):]
    name = np.asarray([p.format(city=city, district=dname) for p, _ in PLATFORMS])
    kind = np.asarray([t for _, t in PLATFORMS])
    uscc = fresh_usccs(rng, np.full(len(PLATFORMS), "330100"), np.ones(len(PLATFORMS), bool), reserved)
    return _Platforms(name, kind, uscc), _reserve(reserved, uscc)


@dataclass
class _Holders:
    """Shareholder rows of the district enterprises, and per enterprise its major holder."""

    firm: np.ndarray
    slot: np.ndarray
    kind: np.ndarray
    name: np.ndarray
    ident: np.ndarray
    pct: np.ndarray  # hundredths of a percent
    major_name: np.ndarray  # per enterprise ('' when none)
    major_id: np.ndarray
    parent_row: np.ndarray  # per enterprise: row of its first 企业法人 holder, -1 when none
    person_keys: np.ndarray  # sorted keys of every (name, masked ID) of a natural-person holder


def _outside_companies(rng, pop: Population, who: _Who, tl: Timeline, district: District,
                       neighbours: list[tuple[str, str]], reserved: np.ndarray) -> tuple[dict, np.ndarray]:
    """One outside company per planted and distractor enterprise, plus the background.

    Industry: planted and the same-division distractors 70 % the same class, else another class of
    the division; ``affiliate_other_industry`` a class of another section; background drawn from
    the district's mix. Month: planted as chosen, ``old_affiliate`` 3-10 years before the window,
    the others uniform in the window. Region by :data:`OUTSIDE_REGIONS` weights (never the
    district); names unique against each other and the district's names."""
    w0, a = tl.window_start, tl.as_of
    codes, sector, weight, division, section = _industries()
    own_class = _class_index(codes, pop.class_code)
    d = who.distractors
    groups = [("planted", who.planted, who.established,
               _same_division(rng, codes, division, own_class[who.planted], 0.7))]
    ids = d["affiliate_other_industry"]
    groups.append(("affiliate_other_industry", ids, rng.integers(w0, a + 1, len(ids)),
                   _other_section(rng, weight, section, own_class[ids])))
    for role in ("common_investor", "agent_phone", "namesake_shareholder"):
        ids = d[role]
        groups.append((role, ids, rng.integers(w0, a + 1, len(ids)),
                       _same_division(rng, codes, division, own_class[ids], 0.7)))
    ids = d["old_affiliate"]
    groups.append(("old_affiliate", ids, w0 - rng.integers(36, 121, len(ids)),
                   _same_division(rng, codes, division, own_class[ids], 0.7)))
    nb = int(round(SHARES["background"] * pop.n))
    groups.append(("background", np.full(nb, -1), rng.integers(w0, a + 1, nb),
                   rng.choice(len(codes), size=nb, p=weight)))
    role = np.concatenate([np.full(len(g[1]), g[0], dtype="U24") for g in groups])
    firm, month, cls = (np.concatenate([np.asarray(g[i], dtype=np.int64) for g in groups]) for i in (1, 2, 3))
    m = len(firm)
    link = np.full(m, -1, dtype=np.int64)
    link[: len(who.planted)] = who.link
    via_parent = np.zeros(m, dtype=bool)
    via_parent[: len(who.planted)] = who.via_parent

    regions = [r for r in OUTSIDE_REGIONS if r[0] != district.code]
    reg = _weighted(rng, regions, m)
    region_code, region_city, region_county = (np.asarray([r[i] for r in regions])[reg] for i in (0, 1, 2))
    day = (rng.random(m) * days_in_month(month)).astype(np.int64)
    established = np.minimum(first_day(month) + day.astype("timedelta64[D]"), tl.as_of_date)
    uscc = fresh_usccs(rng, region_code, established >= NEW_CODES_FROM, reserved)
    reserved = _reserve(reserved, uscc)
    name = _outside_names(rng, pop, role, firm, sector[cls], codes[cls], region_city)
    county_city = np.char.endswith(region_county, "市") | np.char.endswith(region_county, "县")
    authority = np.where(county_city, np.char.add(region_county, "市场监督管理局"),
                         np.char.add(np.char.add(np.char.add(region_city, "市"), region_county), "市场监督管理局"))
    town = np.full(m, "", dtype="U12")
    for code, town_name in neighbours:  # towns of the neighbour districts in the district file
        here = np.flatnonzero((region_code == code[:6]) & (rng.random(m) < 0.6) & (town == ""))
        town[here] = town_name
    address = names.addresses(rng, np.char.add(np.char.add(np.char.add("浙江省", region_city), "市"),
                                               region_county), town)
    comp = dict(role=role, firm=firm, month=month, cls=cls, link=link, via_parent=via_parent, uscc=uscc, name=name,
                established=established, region=region_code, authority=authority, address=address,
                codes=codes, section=section, own_class=own_class)
    return comp, reserved


def _outside_names(rng, pop: Population, role, firm, sectors, classes, region_city) -> np.ndarray:
    """City (浙江 for 10 %) + 字号 + industry wording + 有限公司; 55 % of the planted and
    person-linked look-alikes carry the district firm's 字号. Clashes get a new 字号."""
    m = len(role)
    resemble = np.isin(role, ["planted", "affiliate_other_industry", "old_affiliate"]) & (rng.random(m) < 0.55)
    brand, _ = names.brand_strings(rng, names.choose(rng, [2, 3, 4], m, p=[0.55, 0.35, 0.10]))
    brand = brand.astype("U8")
    sel = np.flatnonzero(resemble)
    brand[sel] = _trade_names(pop.name[firm[sel]], pop.legal_form[firm[sel]])
    words, _ = names.industry_words(rng, sectors, classes)
    prefix = np.where(rng.random(m) < 0.1, "浙江", region_city)
    name = np.char.add(np.char.add(np.char.add(prefix, brand), words), "有限公司")
    district_names = np.sort(string_hashes(pop.name))
    while True:  # registered names are unique
        h = string_hashes(name)
        bad = np.flatnonzero(in_sorted(h, district_names) | _duplicated(h))
        if not len(bad):
            return name
        b, _ = names.brand_strings(rng, np.full(len(bad), 3))
        name[bad] = np.char.add(np.char.add(np.char.add(prefix[bad], b), words[bad]), "有限公司")


def _outside_holders(rng, pop: Population, who: _Who, comp: dict, holders: _Holders, platforms: _Platforms,
                     reserved: np.ndarray, as_of_date, district_code: str) -> tuple[dict, np.ndarray]:
    """1-3 holders per outside company (≥ 2 for a platform's), fresh persons (90 %) or holdings,
    none of them a (name, ID) of the district; then the link holder in slot 0: the shared person
    (person links, ``affiliate_other_industry``, ``old_affiliate``), the enterprise itself or its
    parent (entity links), the namesake (same name, new ID); a platform in the last slot
    (``common_investor``, 5-30 %)."""
    role, firm, m = comp["role"], comp["firm"], len(comp["role"])
    ko = names.choose(rng, [1, 2, 3], m, p=[0.45, 0.40, 0.15])
    ko = np.where(role == "common_investor", np.maximum(ko, 2), ko)
    o_kind = np.where(rng.random((m, 4)) < 0.9, PERSON, ENTITY)
    o_kind[:, 0] = PERSON
    rows_c, rows_s = np.nonzero(np.arange(4)[None, :] < ko[:, None])
    kind = o_kind[rows_c, rows_s]
    avoid = holders.person_keys
    name, ident = _fresh_people(rng, len(rows_c), as_of_date, avoid)
    ent = np.flatnonzero(kind == ENTITY)
    ent_name, ent_uscc, reserved = _fresh_entities(rng, len(ent), ENTITY, reserved, district_code)
    name[ent], ident[ent] = ent_name, ent_uscc
    fixed = np.where(role == "common_investor", rng.integers(500, 3001, m), 0)
    pct = _shares(rng, ko, fixed)[rows_c, rows_s]
    row0 = np.flatnonzero(rows_s == 0)  # one per company, in company order

    person_link = np.isin(role, ["affiliate_other_industry", "old_affiliate"]) | (comp["link"] == LINK_PERSON)
    name[row0[person_link]] = holders.major_name[firm[person_link]]
    ident[row0[person_link]] = holders.major_id[firm[person_link]]
    entity_link = comp["link"] == LINK_ENTITY
    el, e_firm, e_parent = row0[entity_link], firm[entity_link], comp["via_parent"][entity_link]
    prow = np.maximum(holders.parent_row[e_firm], 0)
    kind[el] = np.where(e_parent, holders.kind[prow], ENTITY)
    name[el] = np.where(e_parent, holders.name[prow], pop.name[e_firm])
    ident[el] = np.where(e_parent, holders.ident[prow], pop.uscc[e_firm])
    namesake = role == "namesake_shareholder"
    ns = row0[namesake]
    name[ns] = holders.major_name[firm[namesake]]
    ident[ns] = _fresh_people_named(rng, name[ns], as_of_date, avoid)
    inv = np.flatnonzero((role == "common_investor")[rows_c] & (rows_s == ko[rows_c] - 1))
    p = who.platform_of[firm[rows_c[inv]]]
    kind[inv], name[inv], ident[inv] = platforms.kind[p], platforms.name[p], platforms.uscc[p]
    company = string_hashes(comp["uscc"][rows_c]) * np.uint64(1_000_003)
    while True:  # a company never lists the same holder twice: a later duplicate is another person
        dup = np.flatnonzero(_duplicated(company ^ _person_keys(name, ident)))
        if not len(dup):
            break
        name[dup], ident[dup] = _fresh_people(rng, len(dup), as_of_date, avoid)
        kind[dup] = PERSON
    capital = nearest_step(np.exp(rng.normal(np.log(200), 1.2, m)))
    subscribed = np.round(capital[rows_c] * pct / 100).astype(np.int64)  # hundredths of 万元
    rows = dict(company=rows_c, slot=rows_s, kind=kind, name=name, ident=ident, pct=pct, subscribed=subscribed,
                row0=row0)
    return rows, reserved


def _contacts(rng, pop: Population, comp: dict, rows: dict, agency_phones: np.ndarray):
    """Legal representative (the first holder when a person, 60 %) and phone: the enterprise's
    registry phone for phone links and ``agent_phone``, otherwise a number nobody in the district
    has."""
    m = len(comp["role"])
    row0 = rows["row0"]
    rep = names.person_names(rng, m).astype("U32")
    rep = np.where((rows["kind"][row0] == PERSON) & (rng.random(m) < 0.6), rows["name"][row0], rep)
    phone = _fresh_phones(rng, m, np.sort(np.concatenate([string_hashes(pop.phone), string_hashes(agency_phones)])))
    same = (comp["link"] == LINK_PHONE) | (comp["role"] == "agent_phone")
    phone[same] = pop.phone[comp["firm"][same]]
    return rep, phone


def _truth(pop: Population, plan: ev.EventPlan, who: _Who, comp: dict, rows: dict, holders: _Holders,
           platforms: _Platforms):
    """``relocation_affiliate`` events of the planted, and the distractor rows (index, kind, start,
    end, detail) of the look-alikes, each detail naming the outside company and the link."""
    planted, link = who.planted, who.link
    parent = np.maximum(holders.parent_row[planted], 0)
    link_text = np.where(
        link == LINK_PERSON,
        np.char.add("shared shareholder ", np.char.add(np.char.add(holders.major_name[planted], " "),
                                                       holders.major_id[planted])),
        np.where(link == LINK_PHONE, np.char.add("same contact phone ", pop.phone[planted]),
                 np.where(who.via_parent,
                          np.char.add("its parent company is a shareholder: ",
                                      np.char.add(np.char.add(holders.name[parent], " "), holders.ident[parent])),
                          "the enterprise itself is a shareholder")))
    why = np.where(np.arange(len(planted)) < len(who.after),
                   np.char.add("; ahead of relocation_out from ", month_texts(plan.start[planted])),
                   "; relocation prepared, no move yet")
    head = _outside_text(comp["uscc"], comp["name"], comp["region"])
    detail = np.char.add(np.char.add(np.char.add(head[: len(planted)], " set up; "), link_text), why)
    events = [TruthEvent(planted, EVENT, who.established, who.established, np.full(len(planted), np.nan), detail)]

    role, firm = comp["role"], comp["firm"]
    sel = np.flatnonzero((role != "planted") & (firm >= 0))
    d_firm, d_role, d_month = firm[sel], role[sel], comp["month"][sel]
    held = np.bincount(who.platform_of[who.platform_of >= 0], minlength=len(PLATFORMS))
    served = np.bincount(who.agency_of[who.agency_of >= 0], minlength=AGENCIES)
    shared = np.char.add(np.char.add(holders.major_name[d_firm], " "), holders.major_id[d_firm])
    first_ident = rows["ident"][rows["row0"]]
    codes, section, own_class = comp["codes"], comp["section"], comp["own_class"]
    d_detail = np.asarray([
        _distractor_text(kind, head[c], sh, codes[comp["cls"][c]], section[comp["cls"][c]], section[own_class[f]],
                         platforms.name, who.platform_of[f], held, pop.phone[f], served, who.agency_of[f], mo,
                         first_ident[c])
        for kind, sh, f, mo, c in zip(d_role, shared, d_firm, month_texts(d_month), sel)
    ], dtype=str)
    return events, (d_firm, d_role, d_month, d_month, d_detail)


def _files(pop: Population, who: _Who, comp: dict, rows: dict, holders: _Holders, rep, phone, events,
           distractors) -> Affiliates:
    """The three tables as delivered: outside companies sorted by 成立日期 (then code), their
    holders in that order; rows of planted and distractor companies and enterprises protected."""
    uscc, m = comp["uscc"], len(comp["uscc"])
    order = np.lexsort((uscc, comp["established"]))
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    linked_company = comp["role"] != "background"
    outside = pa.table(
        [_t(uscc[order]), _t(comp["name"][order]), date_text(comp["established"][order]),
         _t(comp["codes"][comp["cls"]][order]), _t(comp["region"][order]), _t(comp["authority"][order]),
         _t(comp["address"][order]), _t(rep[order]), _t(phone[order])],
        names=list(OUTSIDE_COLUMNS),
    )
    row_order = np.lexsort((rows["slot"], rank[rows["company"]]))
    rc = rows["company"][row_order]
    outside_holders = _holder_table(uscc[rc], rows["name"][row_order], rows["kind"][row_order],
                                    rows["ident"][row_order], rows["subscribed"][row_order], rows["pct"][row_order])
    subscribed = np.round(pop.capital[holders.firm] * holders.pct / 100).astype(np.int64)
    holders_table = _holder_table(pop.uscc[holders.firm], holders.name, holders.kind, holders.ident, subscribed,
                                  holders.pct)
    return Affiliates(
        shareholders=ListFile(holders_table, who.linked[holders.firm]),
        outside=ListFile(outside, linked_company[order]),
        outside_shareholders=ListFile(outside_holders, linked_company[rc]),
        events=events,
        distractors=distractors,
    )


def _t(values) -> pa.Array:
    """Text column; the array is narrowed to its longest value first (faster to convert)."""
    a = np.asarray(values)
    a = a if a.dtype.kind == "U" else a.astype(str)
    if len(a):
        a = a.astype(f"U{max(1, int(np.char.str_len(a).max()))}")
    return pa.array(a)


def _holder_table(company, name, kind, ident, subscribed, pct) -> pa.Table:
    return pa.table(
        [_t(company), _t(name), _t(KIND_TEXT[kind]), _t(ident), fixed2_text(subscribed), fixed2_text(pct)],
        names=list(SHAREHOLDER_COLUMNS),
    )


def _outside_text(uscc, name, region) -> np.ndarray:
    return np.char.add(np.char.add(np.char.add(np.char.add(np.char.add("outside company ", uscc), " "), name),
                                   np.char.add(" (", region)), ")")


def _distractor_text(kind, head, shared, cls, sec, own_sec, platform_name, platform, held, phone, served, agency,
                     month, namesake_id) -> str:
    if kind == "affiliate_other_industry":
        return (f"{head} shares shareholder {shared} but is in industry {cls} (section {sec}), "
                f"the enterprise in section {own_sec}: not the same industry")
    if kind == "common_investor":
        return (f"{head} has investment platform {platform_name[platform]} as shareholder, which holds stakes "
                f"in {held[platform]} district enterprises: a common investor, not an affiliate")
    if kind == "agent_phone":
        return (f"{head} uses phone {phone}, an agency's number listed by {served[agency]} district enterprises: "
                "a shared agent, not an affiliate")
    if kind == "namesake_shareholder":
        return f"{head} has a shareholder named like {shared} but with ID {namesake_id}: another person"
    return f"{head} set up {month} shares shareholder {shared}: a long-standing group, not a move"


def _fresh_people_named(rng, person_names: np.ndarray, as_of_date, avoid: np.ndarray) -> np.ndarray:
    """Masked IDs for people of the given names, no (name, ID) key of them in ``avoid``."""
    _, pid = _people(rng, len(person_names), as_of_date)
    while True:
        bad = np.flatnonzero(in_sorted(_person_keys(person_names, pid), avoid))
        if not len(bad):
            return pid
        pid[bad] = _people(rng, len(bad), as_of_date)[1]


def _fresh_entities(rng, m: int, kind: int, reserved: np.ndarray, district_code: str):
    """Invented holding companies (or partnerships): names, fresh USCCs, and the grown reserve."""
    brand, _ = names.brand_strings(rng, names.choose(rng, [2, 3], m, p=[0.6, 0.4]))
    if kind == PARTNERSHIP:
        name = np.char.add(np.char.add("杭州", brand), PARTNERSHIP_WORDS[rng.integers(0, len(PARTNERSHIP_WORDS), m)])
    else:
        prefix = np.where(rng.random(m) < 0.3, "浙江", "杭州")
        word = HOLDING_WORDS[rng.integers(0, len(HOLDING_WORDS), m)]
        name = np.char.add(np.char.add(np.char.add(prefix, brand), word), "有限公司")
    hz = np.asarray([r[0] for r in OUTSIDE_REGIONS if r[1] == "杭州" and r[0] != district_code])
    codes = fresh_usccs(rng, hz[rng.integers(0, len(hz), m)], np.ones(m, dtype=bool), reserved)
    return name, codes, _reserve(reserved, codes)


def _reserve(reserved: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The sorted hashes of codes in use, with ``codes`` added."""
    return np.sort(np.concatenate([reserved, string_hashes(codes)]))


def _structure(rng, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Holder type per slot (n × 4) and number of holders per enterprise, by legal form."""
    n = pop.n
    lf = pop.legal_form
    k = names.choose(rng, [2, 3, 4], n, p=[0.5, 0.33, 0.17])
    k = np.where(np.isin(lf, [1, 2, 5, 6, 8]), 1, k)
    k = np.where(lf == 3, np.minimum(k, 3), k)
    k = np.where(lf == 9, 4, k)
    k = np.where(pop.inert, 0, k)
    u = rng.random((n, 4))
    mostly_people = np.where(u < 0.84, PERSON, np.where(u < 0.94, ENTITY, PARTNERSHIP))
    mixed = np.where(u < 0.5, PERSON, np.where(u < 0.85, ENTITY, PARTNERSHIP))
    kinds = np.where(np.isin(lf, [3, 9])[:, None], mixed, mostly_people)
    kinds = np.where((lf == 10)[:, None], PERSON, kinds)
    kinds[:, 0] = np.where(np.isin(lf, [2, 3, 5, 6, 9]), ENTITY, PERSON)
    return kinds, k


def _district_holders(rng, pop: Population, structure, who: _Who, platforms: _Platforms, reserved: np.ndarray,
                      as_of_date, district_code: str) -> tuple[_Holders, np.ndarray]:
    """Shareholder rows of the district enterprises: the structure of :func:`_structure`, a
    platform added last (3-20 %) to its holdings, the representative as the major natural-person
    holder (70 %; or the second holder of an entity-led firm, 30 %), corporate holders another
    district firm (30 %) or an invented holding, partnerships invented."""
    platform_of, parent_pool = who.platform_of, who.parent_pool
    planted, via_parent = who.planted, who.via_parent
    platform_name, platform_kind, platform_uscc = platforms.name, platforms.kind, platforms.uscc
    kinds, k = structure
    kinds = kinds.copy()
    held = platform_of >= 0
    k = np.where(held, np.minimum(k + 1, 4), k)
    kinds[held, k[held] - 1] = PLATFORM
    fixed = np.where(held, rng.integers(300, 2001, pop.n), 0)
    pct = _shares(rng, k, fixed)
    firm, slot = np.nonzero(np.arange(4)[None, :] < k[:, None])
    kind = kinds[firm, slot]
    share = pct[firm, slot]
    rows = len(firm)
    name, ident = _people(rng, rows, as_of_date)
    # the legal representative is the major natural-person holder of most firms
    lead = np.flatnonzero((slot == 0) & (kind == PERSON) & (rng.random(rows) < 0.7))
    second = np.flatnonzero((slot == 1) & (kind == PERSON) & (kinds[firm, 0] != PERSON) & (rng.random(rows) < 0.3))
    rep_rows = np.concatenate([lead, second])
    name[rep_rows] = pop.representative[firm[rep_rows]]
    # entities: a district parent (30 %) or an invented holding; partnerships invented
    ent = np.flatnonzero(kind == ENTITY)
    e_name, e_uscc, reserved = _fresh_entities(rng, len(ent), ENTITY, reserved, district_code)
    name[ent], ident[ent] = e_name, e_uscc
    parent_needed = np.zeros(pop.n, dtype=bool)
    parent_needed[planted[via_parent]] = True  # planted via-parent firms keep an invented parent
    local = ent[(rng.random(len(ent)) < 0.3) & ~parent_needed[firm[ent]]]
    if len(parent_pool) and len(local):
        parent = parent_pool[rng.integers(0, len(parent_pool), len(local))]
        parent = np.where(parent == firm[local], parent_pool[(np.searchsorted(parent_pool, parent) + 1)
                                                             % len(parent_pool)], parent)
        keep = parent != firm[local]
        local, parent = local[keep], parent[keep]
        name[local], ident[local] = pop.name[parent], pop.uscc[parent]
    part = np.flatnonzero(kind == PARTNERSHIP)
    p_name, p_uscc, reserved = _fresh_entities(rng, len(part), PARTNERSHIP, reserved, district_code)
    name[part], ident[part] = p_name, p_uscc
    plat = np.flatnonzero(kind == PLATFORM)
    p = platform_of[firm[plat]]
    name[plat], ident[plat], kind[plat] = platform_name[p], platform_uscc[p], platform_kind[p]
    # a firm never lists the same holder twice (the hub's key: company, name, ID)
    company = string_hashes(pop.uscc[firm]) * np.uint64(1_000_003)
    while True:
        dup = np.flatnonzero(_duplicated(company ^ _person_keys(name, ident)))
        if not len(dup):
            break
        people = dup[kind[dup] == PERSON]
        ident[people] = _people(rng, len(people), as_of_date)[1]
        ents = dup[kind[dup] != PERSON]
        e_name, e_uscc, reserved = _fresh_entities(rng, len(ents), ENTITY, reserved, district_code)
        name[ents], ident[ents], kind[ents] = e_name, e_uscc, ENTITY
    first_row = np.full(pop.n, -1, dtype=np.int64)
    first_row[firm[slot == 0]] = np.flatnonzero(slot == 0)
    major_name = np.where(first_row >= 0, name[np.maximum(first_row, 0)], "")
    major_id = np.where(first_row >= 0, ident[np.maximum(first_row, 0)], "")
    parent_row = np.full(pop.n, -1, dtype=np.int64)
    entity_rows = np.flatnonzero(kind == ENTITY)
    with_parent, first_entity = np.unique(firm[entity_rows], return_index=True)
    parent_row[with_parent] = entity_rows[first_entity]
    person = kind == PERSON
    keys = np.sort(_person_keys(name[person], ident[person]))
    return _Holders(firm, slot, kind, name, ident, share, major_name, major_id, parent_row, keys), reserved
