"""Shareholders and outside registrations of the synthetic district (``shengxin.synth.affiliates``):
the contract of the three files, the planted ``relocation_affiliate`` links and the distractors."""

import csv
import hashlib
import re
from collections import defaultdict
from pathlib import Path

import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.enterprises import uscc
from shengxin.reference.district import load_district
from shengxin.synth.generate import DELIVERIES, SynthConfig, generate
from shengxin.synth.profiles import read_classes
from shengxin.synth.writers import BOM

N = 3000
SEED = 91
HOLDERS = ["统一社会信用代码", "股东名称", "股东类型", "证照号码", "认缴出资额(万元)", "出资比例(%)"]
OUTSIDE = ["统一社会信用代码", "企业名称", "成立日期", "行业代码", "登记机关区划代码", "登记机关", "住所", "法定代表人",
           "联系电话"]
FILES = {"scjg/股东信息.csv": HOLDERS, "scjg/外区新设企业.csv": OUTSIDE, "scjg/外区新设企业股东.csv": HOLDERS}
MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
REGISTRY_KINDS = {"affiliate_other_industry", "common_investor", "agent_phone", "namesake_shareholder", "old_affiliate"}


@pytest.fixture(scope="module")
def delivery(tmp_path_factory):
    out = tmp_path_factory.mktemp("affiliates")
    generate(SynthConfig(enterprises=N, seed=SEED), out)
    return out


def read(out: Path, rel: str, encoding: str = "utf-8-sig") -> tuple[list[str], list[list[str]]]:
    with open(out / rel, encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def defect_rows(out: Path) -> dict[str, set[int]]:
    by = defaultdict(set)
    _, rows = read(out, "truth/defects.csv", "utf-8")
    for file, row, _field, _kind in rows:
        by[file].add(int(row))
    return by


def truth(out: Path, name: str) -> list[dict]:
    with open(out / "truth" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def world(delivery):
    """Clean rows of the three files and the registry, indexed for the link checks."""
    out = delivery
    bad = defect_rows(out)

    def clean(rel, encoding="utf-8-sig"):
        header, rows = read(out, rel, encoding)
        return [dict(zip(header, r)) for i, r in enumerate(rows, start=1) if i not in bad[rel]]

    registry = {r["统一社会信用代码"]: r for r in clean("scjg/企业登记信息.csv", "gbk")}
    holders, outside_holders = defaultdict(list), defaultdict(list)
    for r in clean("scjg/股东信息.csv"):
        holders[r["统一社会信用代码"]].append(r)
    for r in clean("scjg/外区新设企业股东.csv"):
        outside_holders[r["统一社会信用代码"]].append(r)
    outside = {r["统一社会信用代码"]: r for r in clean("scjg/外区新设企业.csv")}
    return registry, holders, outside, outside_holders


# ------------------------------------------------------------------------------ contract


def test_headers_encodings_and_deliveries(delivery):
    out = delivery
    paths = {d.path: d for d in DELIVERIES.values()}
    for rel, header in FILES.items():
        assert rel in paths and paths[rel].encoding == "utf-8-sig" and paths[rel].format == "csv"
        raw = (out / rel).read_bytes()
        assert raw.startswith(BOM)
        raw.decode("utf-8")
        got, rows = read(out, rel)
        assert got == header and rows, rel


def test_person_ids_are_masked_and_codes_are_valid(delivery):
    out = delivery
    bad = defect_rows(out)
    district = load_district(DEFAULT_DISTRICT_FILE)
    classes = set(read_classes())
    for rel in ("scjg/股东信息.csv", "scjg/外区新设企业股东.csv"):
        _, rows = read(out, rel)
        kinds = set()
        for i, r in enumerate(rows, start=1):
            if i in bad[rel]:
                continue
            kinds.add(r[2])
            assert uscc.check(r[0]).valid and r[0] == uscc.normalise(r[0]), (rel, i)
            if r[2] == "自然人":
                assert MASKED_ID.match(r[3]), (rel, i, r[3])
            else:
                assert r[2] in ("企业法人", "合伙企业") and uscc.check(r[3]).valid, (rel, i, r[3])
            assert float(r[4]) >= 0 and 0 <= float(r[5]) <= 100
        assert kinds == {"自然人", "企业法人", "合伙企业"}
    # an enterprise's shares sum to 100 % and it has 1-4 holders (enterprises with any defect aside)
    header, rows = read(out, "scjg/股东信息.csv")
    by, touched = defaultdict(list), set()
    for i, r in enumerate(rows, start=1):
        if i in bad["scjg/股东信息.csv"]:  # rows are grouped by enterprise: a changed code has neighbours
            touched.update(x[0] for x in rows[max(i - 2, 0):i + 1])
        else:
            by[r[0]].append(r)
    sums = [sum(float(r[5]) for r in v) for c, v in by.items() if c not in touched]
    assert sums and all(abs(s - 100) < 0.05 for s in sums)
    assert {len(v) for c, v in by.items() if c not in touched} == {1, 2, 3, 4}
    # outside companies: registered elsewhere, a real class, a consistent authority
    _, rows = read(out, "scjg/外区新设企业.csv")
    for i, r in enumerate(rows, start=1):
        if i in bad["scjg/外区新设企业.csv"]:
            continue
        code, region = r[0], r[4]
        assert uscc.check(code).valid and code[2:8] == region != district.code, (i, code, region)
        assert r[3] in classes and re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[2])
        assert r[5].endswith("市场监督管理局") and r[6].startswith("浙江省")
    assert any(r[5] == "杭州市临平区市场监督管理局" and r[4] == "330113" for r in rows)


def test_legal_representative_is_usually_a_holder(world):
    registry, holders, _, _ = world
    with_person = [c for c, v in holders.items() if c in registry and any(h["股东类型"] == "自然人" for h in v)]
    share = sum(any(h["股东名称"] == registry[c]["法定代表人"] for h in holders[c]) for c in with_person) / len(with_person)
    assert 0.6 <= share <= 0.8


# ------------------------------------------------------------------------------ truth


def _division(code: str) -> str:
    return code[:2]


def _links(code, registry, holders, outside_row, outside_holders):
    """The link kinds between a district enterprise and an outside company."""
    mine = holders[code]
    theirs = outside_holders[outside_row["统一社会信用代码"]]
    people = {(h["股东名称"], h["证照号码"]) for h in mine if h["股东类型"] == "自然人"}
    entities = {h["证照号码"] for h in mine if h["股东类型"] != "自然人"} | {code}
    found = set()
    if any((h["股东名称"], h["证照号码"]) in people for h in theirs if h["股东类型"] == "自然人"):
        found.add("person")
    if any(h["证照号码"] in entities for h in theirs if h["股东类型"] != "自然人"):
        found.add("entity")
    if outside_row["联系电话"] == registry[code]["联系电话"]:
        found.add("phone")
    return found


def test_planted_affiliates_have_their_link(delivery, world):
    registry, holders, outside, outside_holders = world
    planted = [e for e in truth(delivery, "events.csv") if e["event"] == "relocation_affiliate"]
    assert len(planted) >= 0.003 * N
    relocations = {e["uscc"]: e for e in truth(delivery, "events.csv") if e["event"] == "relocation_out"}
    by_month = defaultdict(list)
    for code, row in outside.items():
        by_month[row["成立日期"][:7]].append(row)
    kinds = defaultdict(int)
    for e in planted:
        assert e["start_month"] == e["end_month"] and e["magnitude"] == "" and e["evidence_months"] == ""
        code = e["uscc"]
        m = re.search(r"outside company (\S+) ", e["detail"])
        row = outside[m.group(1)]
        assert row["成立日期"][:7] == e["start_month"]
        assert _division(row["行业代码"]) == _division(registry[code]["行业代码"])
        found = _links(code, registry, holders, row, outside_holders)
        if "shared shareholder" in e["detail"]:
            kinds["person"] += 1
            assert "person" in found, e
        elif "phone" in e["detail"]:
            kinds["phone"] += 1
            assert found == {"phone"}, e
        else:
            kinds["entity"] += 1
            assert "entity" in found, e
        if code in relocations:
            gap = _month_gap(e["start_month"], relocations[code]["start_month"])
            assert 2 <= gap <= 8, (e, relocations[code])
        else:
            assert "relocation prepared" in e["detail"]
    assert set(kinds) == {"person", "entity", "phone"}
    assert kinds["person"] > kinds["entity"] and kinds["phone"] > kinds["entity"] / 2
    moved = [c for c in relocations if c in {e["uscc"] for e in planted}]
    assert 0.35 <= len(moved) / len(relocations) <= 0.85
    assert len({e["uscc"] for e in planted}) == len(planted)  # at most one per enterprise


def _month_gap(a: str, b: str) -> int:
    return (int(b[:4]) * 12 + int(b[5:])) - (int(a[:4]) * 12 + int(a[5:]))


def test_distractors_have_the_property_they_claim(delivery, world):
    registry, holders, outside, outside_holders = world
    rows = [d for d in truth(delivery, "distractors.csv") if d["series"] == "registry"]
    assert {d["kind"] for d in rows} == REGISTRY_KINDS
    window_start = "2023-11"  # 36 months to the default as-of 2026-10
    sections = {c: s for c, (_, s) in read_classes().items()}
    platform_holdings = defaultdict(set)
    for code, v in holders.items():
        for h in v:
            if h["股东类型"] != "自然人":
                platform_holdings[h["证照号码"]].add(code)
    phones = defaultdict(set)
    for code, r in registry.items():
        phones[r["联系电话"]].add(code)
    for d in rows:
        code, kind = d["uscc"], d["kind"]
        row = outside[re.search(r"outside company (\S+) ", d["detail"]).group(1)]
        assert row["成立日期"][:7] == d["start_month"] == d["end_month"]
        found = _links(code, registry, holders, row, outside_holders)
        same_division = _division(row["行业代码"]) == _division(registry[code]["行业代码"])
        if kind == "affiliate_other_industry":
            assert "person" in found and sections[row["行业代码"]] != sections[registry[code]["行业代码"]]
        elif kind == "old_affiliate":
            assert "person" in found and same_division
            assert "2013-11" <= d["start_month"] <= "2020-11" < window_start
        elif kind == "common_investor":
            assert found == {"entity"} and same_division
            shared = {h["证照号码"] for h in outside_holders[row["统一社会信用代码"]]} & {
                h["证照号码"] for h in holders[code]}
            assert all(len(platform_holdings[s]) >= max(6, 0.01 * N) for s in shared)
        elif kind == "agent_phone":
            assert found == {"phone"} and same_division
            assert len(phones[row["联系电话"]]) >= max(6, 0.004 * N)
        elif kind == "namesake_shareholder":
            assert not found and same_division
            mine = {h["股东名称"] for h in holders[code] if h["股东类型"] == "自然人"}
            assert mine & {h["股东名称"] for h in outside_holders[row["统一社会信用代码"]]}
    # distinct agency phones and platforms, about five of each
    agency = {outside[re.search(r"outside company (\S+) ", d["detail"]).group(1)]["联系电话"]
              for d in rows if d["kind"] == "agent_phone"}
    assert 1 <= len(agency) <= 5


def test_planted_distractor_and_other_event_sets_are_disjoint(delivery):
    events = truth(delivery, "events.csv")
    planted = {e["uscc"] for e in events if e["event"] == "relocation_affiliate"}
    registry_distractors = [d for d in truth(delivery, "distractors.csv") if d["series"] == "registry"]
    by_kind = defaultdict(set)
    for d in registry_distractors:
        by_kind[d["kind"]].add(d["uscc"])
    assert not planted & set().union(*by_kind.values())
    kinds = list(by_kind)
    for i, a in enumerate(kinds):
        for b in kinds[i + 1:]:
            assert not by_kind[a] & by_kind[b], (a, b)
    others = {e["uscc"] for e in events if e["event"] in ("sustained_revenue_drop", "sustained_tax_drop", "layoff")
              and not e["detail"].startswith("realised")}
    assert not planted & others and not set().union(*by_kind.values()) & others


def test_background_registrations_are_unlinked(delivery, world):
    registry, holders, outside, outside_holders = world
    linked = {re.search(r"outside company (\S+) ", r["detail"]).group(1)
              for r in truth(delivery, "events.csv") + truth(delivery, "distractors.csv")
              if r["detail"].startswith("outside company")}
    background = [c for c in outside if c not in linked]
    assert len(background) >= 0.02 * N
    people = {(h["股东名称"], h["证照号码"]) for v in holders.values() for h in v}
    district_phones = {r["联系电话"] for r in registry.values()}
    for c in background:
        assert outside[c]["联系电话"] not in district_phones
        assert not any((h["股东名称"], h["证照号码"]) in people for h in outside_holders[c])


def test_same_seed_gives_identical_new_files(delivery, tmp_path):
    generate(SynthConfig(enterprises=N, seed=SEED), tmp_path)
    for rel in list(FILES) + ["truth/events.csv", "truth/distractors.csv", "truth/defects.csv"]:
        a = hashlib.sha256((delivery / rel).read_bytes()).hexdigest()
        b = hashlib.sha256((tmp_path / rel).read_bytes()).hexdigest()
        assert a == b, rel
