"""Statistical scope rules and the lists built from the population (certifications, IP, credit)."""

import re

import numpy as np
import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.enterprises import uscc
from shengxin.reference.district import load_district
from shengxin.synth import lists
from shengxin.synth.calendar import Timeline, month_of_date, parse_month
from shengxin.synth.population import build_population
from shengxin.synth.profiles import parse_scope_codes, scope_of_classes, scopes


def test_scope_cells_parse_into_sections_divisions_and_classes():
    assert parse_scope_codes("B C D") == (frozenset("BCD"), frozenset(), frozenset())
    sections, divisions, classes = parse_scope_codes("G (53-60)")
    assert not sections and divisions == frozenset(f"{d}" for d in range(53, 61)) and not classes
    assert parse_scope_codes("7020 7030 7040 7090")[2] == frozenset({"7020", "7030", "7040", "7090"})
    assert parse_scope_codes("51") == (frozenset(), frozenset({"51"}), frozenset())


@pytest.mark.parametrize(
    ("code", "scope", "threshold"),
    [
        ("3911", "规模以上工业", 2000),
        ("5111", "限额以上批发业", 2000),
        ("5292", "限额以上零售业", 500),
        ("6513", "规模以上服务业", 2000),
        ("7299", "规模以上服务业", 1000),
        ("7020", "规模以上服务业", 1000),
        ("6210", "限额以上餐饮业", 200),
        ("7010", "房地产开发经营业", None),
        ("4811", "资质等级建筑业", None),
        ("0111", None, None),
    ],
)
def test_scope_of_a_class_follows_the_thresholds_file(code, scope, threshold):
    idx, thr = scope_of_classes(np.array([code]))
    if scope is None:
        assert idx[0] == -1
    else:
        assert scopes()[idx[0]].name == scope
        assert (np.isnan(thr[0]) and threshold is None) or thr[0] == threshold


@pytest.fixture(scope="module")
def world():
    tl = Timeline(parse_month("2026-10"), 36)
    district = load_district(DEFAULT_DISTRICT_FILE)
    pop = build_population(np.random.default_rng(31), 15_000, tl, district)
    cert = lists.certifications(np.random.default_rng(32), pop, tl, district.code)
    return tl, district, pop, cert


def column(table, name):
    return np.asarray(table.column(name).to_pylist())


def test_certificates_follow_the_recognition_rules(world):
    tl, _, pop, cert = world
    t = cert.table
    kind, code = column(t, "认定类型"), column(t, "统一社会信用代码")
    certified = column(t, "认定日期").astype("datetime64[D]")
    valid = column(t, "有效期至").astype("datetime64[D]")
    assert set(kind) == set(lists.CERT_TYPES)
    assert (certified <= tl.as_of_date).all() and (valid > certified).all()
    index = {c: i for i, c in enumerate(pop.uscc)}
    firm = np.asarray([index[c] for c in code])
    assert (certified > pop.founded[firm]).all()
    # high-tech: valid three years, R&D share at or above the recognition floor
    ht = kind == lists.CERT_TYPES[lists.HIGH_TECH]
    years = (valid[ht] - certified[ht]).astype(int) / 365.25
    assert ((years > 2.9) & (years < 3.01)).all()
    rev = pop.revenue[firm[ht]]
    floor = np.where(rev <= 5000, 0.05, np.where(rev <= 20000, 0.04, 0.03))
    assert (pop.rd_intensity[firm[ht]] >= floor).all()
    assert all(re.fullmatch(r"GR\d{4}33\d{6}", n) for n in column(t, "证书编号")[ht])
    # little giants were recognised as specialised SMEs first
    giants = set(code[kind == lists.CERT_TYPES[lists.LITTLE_GIANT]])
    specialised = set(code[kind == lists.CERT_TYPES[lists.SPECIALISED_SME]])
    assert giants and giants <= specialised
    # the key (enterprise, type, certificate number) is unique
    assert len(set(zip(code, kind, column(t, "证书编号")))) == t.num_rows


def test_new_certification_events_are_first_recognitions_in_the_window(world):
    tl, _, pop, cert = world
    (event,) = cert.events
    assert len(event.index) > 0
    assert ((event.start >= tl.window_start) & (event.start <= tl.as_of)).all()
    t = cert.table
    code, kind = column(t, "统一社会信用代码"), column(t, "认定类型")
    month = month_of_date(column(t, "认定日期").astype("datetime64[D]"))
    for i, m, detail in zip(event.index, event.start, event.detail):
        this_kind = detail.split(" ")[0]
        rows = (code == pop.uscc[i]) & (kind == this_kind)
        assert month[rows].min() == m  # nothing of this type before: it is new


def test_ip_and_credit_lists_reference_registered_firms_with_unique_keys(world):
    tl, district, pop, cert = world
    high_tech = lists.high_tech_firms(cert, pop)
    ip = lists.ip_rights(np.random.default_rng(33), pop, tl, high_tech).table
    numbers = column(ip, "登记号")
    assert len(set(numbers)) == len(numbers)
    for n, kind in zip(numbers[:3000], column(ip, "权利类型")[:3000]):
        if kind == "软件著作权":
            assert re.fullmatch(r"\d{4}SR\d{7}", n)
        else:
            assert re.fullmatch(r"ZL\d{4}[123]\d{7}\.[0-9X]", n)
    registered = set(pop.uscc[~pop.inert])
    assert set(column(ip, "统一社会信用代码")) <= registered
    # every high-tech firm holds at least one IP right
    assert set(pop.uscc[high_tech]) <= set(column(ip, "统一社会信用代码"))
    court = lists.dishonesty(np.random.default_rng(34), pop, tl, np.zeros(pop.n, dtype=bool), district.code).table
    cases = column(court, "案号")
    assert len(set(cases)) == len(cases)
    assert all(re.fullmatch(r"（\d{4}）浙\d{2,4}执\d+号", c) for c in cases)
    published = column(court, "发布日期").astype("datetime64[D]")
    assert (published >= column(court, "立案日期").astype("datetime64[D]")).all()
    fines = lists.penalties(np.random.default_rng(35), pop, tl, district.full_name, district.name).table
    numbers = column(fines, "决定书文号")
    assert len(set(numbers)) == len(numbers)
    assert (column(fines, "罚款金额(元)").astype(float) >= 200).all()
    assert all(uscc.check(c).valid for c in column(fines, "统一社会信用代码"))


def test_financing_rounds_climb_the_ladder(world):
    tl, _, pop, _ = world
    fin = lists.financing(np.random.default_rng(36), pop, tl).table
    code, rnd = column(fin, "统一社会信用代码"), column(fin, "轮次")
    when = column(fin, "融资日期").astype("datetime64[D]")
    ladder = {r: i for i, r in enumerate(lists.ROUNDS[:6])}
    for c in set(code):
        rows = np.flatnonzero(code == c)
        assert (np.diff(when[rows]).astype(int) > 0).all()
        steps = [ladder[r] for r in rnd[rows] if r in ladder]
        assert steps == list(range(len(steps)))  # 天使轮, A轮, B轮 … in order, none skipped
    assert (when <= tl.as_of_date).all()
