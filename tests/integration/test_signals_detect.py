"""Detection on hand-built canonical tables: every signal's positive and negative cases, the
distractors (Spring Festival dip, one-off dip, intermittent reporter, missing months), as-of runs
and snapshot publication.

The fixture district (:func:`build_district`) is 180 ordinary enterprises in three industries with
seasonal patterns (a Spring Festival dip that moves between January and February) and small noise,
plus one enterprise per scenario. It is written as canonical Parquet files (the data hub's table
shapes) and read through ``--inputs``-style folder sources, like the benchmark.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE, Settings
from shengxin.enterprises.hub.tables import get_table
from shengxin.enterprises.uscc import make_code
from shengxin.errors import InvalidInput, NotFound
from shengxin.reference.district import load_district
from shengxin.signals import queries, service, store
from shengxin.signals.catalogue import load_catalogue
from shengxin.signals.detect import run_detection
from shengxin.signals.inputs import connect, folder_source
from tests.conftest import TEST_SECRET

AS_OF = np.datetime64("2026-10", "M")
MONTHS = np.arange(AS_OF - 35, AS_OF + 1)  # 2023-11 .. 2026-10
T = len(MONTHS)
TOWN = "330110005"
OTHER_TOWN = "330110010"
NEIGHBOUR = "330113004"
#: (industry class, revenue 元/month, tax rate, headcount, kWh/month, Spring Festival dip)
INDUSTRIES = {
    "software": ("6513", 2_000_000, 0.05, 40, 20_000, 0.10),
    "manufacturing": ("3411", 4_000_000, 0.04, 120, 400_000, 0.30),
    "retail": ("5211", 300_000, 0.02, 15, 30_000, 0.05),
}
#: month index of the festival dip each year (2024-02, 2025-01, 2026-02: the Spring Festival moves)
FESTIVAL = {int(np.flatnonzero(MONTHS == np.datetime64(m, "M"))[0]) for m in ("2024-02", "2025-01", "2026-02")}
SCENARIOS = [
    "rev_drop", "one_off_dip", "festival_firm", "quarterly", "gap", "tax_rate_drop",
    "layoff", "small_team_dip", "festival_headcount", "reloc_registry", "reloc_town", "reloc_data",
    "dishonest_new", "dishonest_old", "dishonest_removed", "abnormal_new",
    "cert_first", "cert_renewal", "financed",
    "approach", "approach_listed", "approach_flat", "above", "above_listed",
    "expand", "expand_headcount_only", "young_drop", "slow_decline",
    "aff_person", "aff_parent", "aff_phone", "aff_other_industry", "aff_namesake", "aff_investor",
    "aff_agent_phone", "aff_old", "aff_in_district", "aff_mask_variant", "aff_full_id", "aff_phone_ext",
    "aff_mask_conflict",
]
#: scenario -> (outside company's industry class, established on, link); "reloc_data" also set up an
#: outside company four months before its headcount and electricity fell away.
AFFILIATES = {
    "aff_person": ("3412", dt.date(2026, 5, 20), "person"),
    "aff_parent": ("3411", dt.date(2026, 3, 2), "parent"),
    "aff_phone": ("3419", dt.date(2026, 9, 9), "phone"),
    "aff_other_industry": ("6513", dt.date(2026, 5, 20), "person"),
    "aff_namesake": ("3411", dt.date(2026, 5, 20), "namesake"),
    "aff_investor": ("3411", dt.date(2026, 5, 20), "investor"),
    "aff_agent_phone": ("3411", dt.date(2026, 5, 20), "agent_phone"),
    "aff_old": ("3411", dt.date(2019, 4, 1), "person"),
    "aff_in_district": ("3411", dt.date(2026, 5, 20), "person"),
    "reloc_data": ("3411", dt.date(2026, 2, 10), "person"),
    # real-world formats: another masking, an unmasked ID, several numbers and an extension
    "aff_mask_variant": ("3411", dt.date(2026, 7, 1), "mask_variant"),
    "aff_full_id": ("3411", dt.date(2026, 7, 1), "full_id"),
    "aff_phone_ext": ("3411", dt.date(2026, 7, 1), "phone_ext"),
    "aff_mask_conflict": ("3411", dt.date(2026, 7, 1), "mask_conflict"),  # same name and tail, other county
}
#: registry phones of some scenarios (everyone else shares an agency's number)
PHONES = {"aff_phone": "13800001111", "aff_phone_ext": "0571-8666 0000转801"}


def _code(i: int) -> str:
    return make_code("9", "1", "330110", f"MA{i:07d}")


def _month_dates(cols: np.ndarray) -> pa.Array:
    return pa.array(MONTHS[cols].astype("datetime64[D]"), type=pa.date32())


def _write(folder: Path, table: str, columns: dict) -> None:
    schema = get_table(table).arrow_schema(lineage=False)
    pq.write_table(pa.table({f.name: columns[f.name] for f in schema}, schema=schema), folder / f"{table}.parquet")


def build_district(folder: Path, seed: int = 7) -> dict[str, str]:
    """Write the fixture district's canonical tables into ``folder``; returns scenario -> USCC."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    firms: list[tuple[str, str]] = []  # (uscc, sector)
    for sector in INDUSTRIES:
        base = len(firms)
        firms += [(_code(base + k), sector) for k in range(60)]
    sector_of = {"rev_drop": "software", "one_off_dip": "software", "festival_firm": "manufacturing",
                 "quarterly": "software", "gap": "software", "tax_rate_drop": "software", "layoff": "manufacturing",
                 "small_team_dip": "retail", "festival_headcount": "manufacturing", "reloc_registry": "manufacturing",
                 "reloc_town": "software", "reloc_data": "manufacturing", "expand": "manufacturing",
                 "expand_headcount_only": "manufacturing", **{a: "manufacturing" for a in AFFILIATES}}
    special = {}
    for name in SCENARIOS:
        uscc = _code(len(firms))
        special[name] = uscc
        firms.append((uscc, sector_of.get(name, "retail")))
    n = len(firms)
    index = {u: i for i, (u, _) in enumerate(firms)}
    sector = np.asarray([s for _, s in firms])
    seasonal = np.ones((n, T))
    for i, s in enumerate(sector):
        for col in FESTIVAL:
            seasonal[i, col] = 1 - INDUSTRIES[s][5]
    revenue = np.asarray([INDUSTRIES[s][1] for s in sector], dtype=float)[:, None] * seasonal
    revenue *= np.exp(0.05 * rng.standard_normal((n, T)))
    tax_rate = np.asarray([INDUSTRIES[s][2] for s in sector])[:, None] * np.exp(0.03 * rng.standard_normal((n, T)))
    head = np.asarray([INDUSTRIES[s][3] for s in sector], dtype=float)[:, None] * np.ones((n, T))
    kwh = np.asarray([INDUSTRIES[s][4] for s in sector], dtype=float)[:, None] * seasonal ** 0.5
    kwh *= np.exp(0.04 * rng.standard_normal((n, T)))
    present = {k: np.ones((n, T), dtype=bool) for k in ("tax", "head", "kwh")}

    def row(name: str) -> int:
        return index[special[name]]

    # --- warnings -----------------------------------------------------------------------------
    revenue[row("rev_drop"), 24:] *= 0.5  # sudden, persistent halving; electricity falls with it
    kwh[row("rev_drop"), 24:] *= 0.65
    revenue[row("one_off_dip"), 25] *= 0.4
    fest = row("festival_firm")
    for col in FESTIVAL:  # its own deeper festival dip every year, on top of the industry's
        revenue[fest, col] *= 0.55
        kwh[fest, col] *= 0.7
    q = row("quarterly")  # files once a quarter: the quarter's sum at its last month, nothing between
    quarter_end = (MONTHS.astype(np.int64) % 12 + 1) % 3 == 0
    sums = np.convolve(revenue[q], np.ones(3))[: T]
    revenue[q] = np.where(quarter_end, sums, np.nan)
    revenue[q, 26] *= 0.45  # a weak quarter must not look like a sudden monthly drop
    present["tax"][q] = quarter_end
    present["tax"][row("gap"), 20:24] = False  # four months not delivered, nothing happened
    tax_rate[row("tax_rate_drop"), 24:] *= 0.4  # tax falls while revenue holds
    head[row("layoff"), 25:] = 70
    head[row("small_team_dip")] = 12
    head[row("small_team_dip"), 25:] = 9
    fh = row("festival_headcount")
    festive_2026 = int(np.flatnonzero(MONTHS == np.datetime64("2026-02", "M"))[0])
    head[fh, festive_2026 - 1: festive_2026 + 1] = 80  # migrant workers away over the festival only
    for name in ("reloc_registry", "reloc_town"):
        present["tax"][row(name), 34:] = present["head"][row(name), 34:] = present["kwh"][row(name), 34:] = False
    rd = row("reloc_data")
    head[rd, 31:34] = np.asarray([90, 45, 12])
    kwh[rd, 31:34] *= np.asarray([0.7, 0.3, 0.05])
    revenue[rd, 31:34] *= np.asarray([0.9, 0.7, 0.5])
    for mask in present.values():
        mask[rd, 34:] = False
    yd = row("young_drop")  # starts filing in the window and halves ten months later: no level yet
    present["tax"][yd, :12] = False
    revenue[yd, 22:] *= 0.5
    # a steady decline of 35 % a year (the steepest the synthetic district plants), no sudden fall
    revenue[row("slow_decline")] *= np.exp(np.log(0.65) * np.arange(T) / 12)
    # --- growth -------------------------------------------------------------------------------
    months_from_end = np.arange(T)[::-1]
    for name in ("approach", "approach_listed"):  # 5,000,000 元 threshold for retail (5211)
        revenue[row(name)] = 400_000 * np.exp(-0.02 * months_from_end) * seasonal[row(name)]
    revenue[row("approach_flat")] = 360_000 * seasonal[row("approach_flat")]
    for name in ("above", "above_listed"):
        revenue[row(name)] = 520_000 * seasonal[row(name)]
    for name in ("expand", "expand_headcount_only"):
        head[row(name), 24:] *= 1.5
    kwh[row("expand"), 24:] *= 1.5

    tax = revenue * tax_rate
    status = np.full(n, "active", dtype=object)
    town = np.where(np.arange(n) % 2 == 0, TOWN, OTHER_TOWN).astype(object)
    changed = [None] * n
    status[row("reloc_registry")] = "moved_out"
    changed[row("reloc_registry")] = dt.date(2026, 8, 15)
    town[row("reloc_registry")] = NEIGHBOUR
    town[row("reloc_town")] = NEIGHBOUR
    industry = [INDUSTRIES[s][0] for s in sector]
    _write(folder, "enterprises", {
        "uscc": [u for u, _ in firms], "name": [f"测试企业{i:03d}有限公司" for i in range(n)],
        "established_on": [dt.date(2015, 1, 1)] * n, "legal_form": ["有限责任公司"] * n, "industry_code": industry,
        "registered_capital_fen": [100_000_000] * n, "address": ["浙江省杭州市余杭区"] * n, "town_code": list(town),
        "status": list(status), "status_changed_on": changed, "legal_representative": ["张三"] * n,
        "phone": [next((p for k, p in PHONES.items() if special[k] == u), "0571-00000000") for u, _ in firms],
    })
    _write_affiliates(folder, special, [u for u, s in firms if s == "manufacturing"])

    def long(values: np.ndarray, mask: np.ndarray, dtype=np.int64):
        r, c = np.nonzero(mask & ~np.isnan(values))
        return [firms[i][0] for i in r], _month_dates(c), np.round(values[r, c]).astype(dtype)

    u, m, v = long(revenue * 100, present["tax"])
    _, _, tv = long(tax * 100, present["tax"])
    _write(folder, "monthly_tax", {"uscc": u, "month": m, "revenue_fen": v, "tax_fen": tv})
    u, m, v = long(head, present["head"])
    _write(folder, "monthly_social_insurance", {"uscc": u, "month": m, "headcount": v})
    u, m, v = long(kwh, present["kwh"])
    _write(folder, "monthly_electricity", {"uscc": u, "month": m,
                                           "electricity_kwh": pa.array([Decimal(int(x)) for x in v], type=pa.decimal128(18, 2))})
    # the big software and manufacturing firms are in the survey; two retail scenarios too
    listed = [u for u, s in firms if s in ("software", "manufacturing")] + [special["approach_listed"],
                                                                             special["above_listed"]]
    _write(folder, "survey_list", {
        "uscc": listed, "name": ["甲"] * len(listed), "scope": ["industry"] * (len(listed) - 2) + ["retail"] * 2,
        "included_month": [dt.date(2020, 1, 1)] * (len(listed) - 2) + [dt.date(2024, 1, 1)] * 2})
    _write(folder, "dishonesty_list", {
        "uscc": [special["dishonest_new"], special["dishonest_old"], special["dishonest_removed"]],
        "name": ["甲", "乙", "丙"], "case_no": ["(2026)浙0110执1号", "(2025)浙0110执2号", "(2026)浙0110执3号"],
        "filed_on": [dt.date(2026, 9, 1), dt.date(2025, 2, 1), dt.date(2026, 9, 1)],
        "published_on": [dt.date(2026, 10, 12), dt.date(2025, 3, 3), dt.date(2026, 10, 5)],
        "removed_on": [None, None, dt.date(2026, 10, 20)]})
    _write(folder, "abnormal_operations", {
        "uscc": [special["abnormal_new"]], "listed_on": [dt.date(2026, 10, 3)],
        "reason": ["通过登记的住所或者经营场所无法联系的"], "removed_on": [None]})
    _write(folder, "certifications", {
        "uscc": [special["cert_first"], special["cert_renewal"], special["cert_renewal"]],
        "kind": ["high_tech"] * 3, "certificate_no": ["GR202533000001", "GR202233000002", "GR202533000003"],
        "certified_on": [dt.date(2025, 12, 1), dt.date(2022, 12, 1), dt.date(2025, 12, 1)],
        "valid_until": [dt.date(2028, 11, 30), dt.date(2025, 11, 30), dt.date(2028, 11, 30)]})
    _write(folder, "financing", {
        "uscc": [special["financed"]], "financed_on": [dt.date(2026, 9, 10)], "round": ["a"],
        "amount_fen": [3_000_000_000]})
    return special


def _write_affiliates(folder: Path, special: dict[str, str], manufacturers: list[str]) -> None:
    """Shareholders of some district firms and the outside-registrations feed (one company per
    AFFILIATES entry, plus an unrelated one)."""
    holders = {"uscc": [], "shareholder_name": [], "shareholder_kind": [], "shareholder_id": [],
               "subscribed_fen": [], "share_pct": []}

    def hold(company: str, name: str, kind: str, sid: str) -> None:
        for key, value in zip(holders, (company, name, kind, sid, 1_000_000, Decimal("50"))):
            holders[key].append(value)

    platform = make_code("9", "1", "330110", "MA8888888")
    for k, u in enumerate(manufacturers[:6]):  # an investment platform in six district firms
        hold(u, "杭州市余杭区产业投资有限公司", "entity", platform)
    outside = {"uscc": [], "name": [], "established_on": [], "industry_code": [], "region_code": [],
               "registration_authority": [], "address": [], "legal_representative": [], "phone": []}
    for k, (scenario, (industry, founded, link)) in enumerate(AFFILIATES.items()):
        firm = special[scenario]
        person, masked = f"股东{k:02d}", f"330106********{k:03d}X"
        hold(firm, person, "person", masked)
        code = make_code("9", "1", "330110" if scenario == "aff_in_district" else "330113", f"MA7{k:06d}")
        phone = {"phone": "+86 138-0000-1111", "agent_phone": "0571-00000000",
                 "phone_ext": "13912345678／(0571)86660000"}.get(link, f"1390000{k:04d}")
        for key, value in zip(outside, (code, f"杭州{scenario}科技有限公司", founded, industry,
                                         "330110" if scenario == "aff_in_district" else "330113",
                                         "杭州市临平区市场监督管理局", "浙江省杭州市临平区", "王五", phone)):
            outside[key].append(value)
        if link == "person":
            hold(code, f" {person}", "person", masked.lower())  # spaces and a lower-case x still match
        elif link == "parent":
            hold(code, "测试母公司", "entity", firm)
        elif link == "mask_variant":
            hold(code, person, "person", f"3301**********{k:03d}X")
        elif link == "full_id":
            hold(code, person, "person", f"33010619800101{k:03d}X")
        elif link == "mask_conflict":
            hold(code, person, "person", f"330107********{k:03d}X")
        elif link == "namesake":
            hold(code, person, "person", f"330106********{k + 50:03d}X")
        elif link == "investor":
            hold(code, "杭州市余杭区产业投资有限公司", "entity", platform)
    feed = set(outside["uscc"])
    for table, mine in (("shareholders", False), ("outside_shareholders", True)):
        keep = [(u in feed) == mine for u in holders["uscc"]]
        _write(folder, table, {k: [v for v, ok in zip(vals, keep) if ok] for k, vals in holders.items()})
    _write(folder, "outside_enterprises", outside)


@pytest.fixture(scope="module")
def district_files(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("signals-district")
    return folder, build_district(folder)


@pytest.fixture(scope="module")
def detected(district_files):
    folder, special = district_files
    source = folder_source(folder)
    con = connect(source)
    result = run_detection(con, load_district(DEFAULT_DISTRICT_FILE), load_catalogue(), input_snapshot_id=source.snapshot_id)
    con.close()
    return result, special


def signals_of(result, uscc: str) -> dict[str, list[dict]]:
    rows = [r for r in result.table.to_pylist() if r["uscc"] == uscc]
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["signal"], []).append(r)
    return out


POSITIVE = [
    ("rev_drop", "revenue_drop"), ("rev_drop", "tax_drop"), ("tax_rate_drop", "tax_drop"),
    ("layoff", "layoff"), ("reloc_registry", "relocation_risk"), ("reloc_town", "relocation_risk"),
    ("reloc_data", "relocation_risk"), ("dishonest_new", "dishonesty_listing"), ("dishonest_old", "dishonesty_listing"),
    ("abnormal_new", "abnormal_operations"), ("cert_first", "new_certification"), ("financed", "financing"),
    ("approach", "approaching_threshold"), ("above", "above_threshold_unlisted"), ("expand", "expansion"),
    ("aff_person", "relocation_risk"), ("aff_parent", "relocation_risk"), ("aff_phone", "relocation_risk"),
    ("aff_mask_variant", "relocation_risk"), ("aff_full_id", "relocation_risk"), ("aff_phone_ext", "relocation_risk"),
]
NEGATIVE = [
    ("one_off_dip", "revenue_drop"), ("festival_firm", "revenue_drop"), ("festival_firm", "tax_drop"),
    ("quarterly", "revenue_drop"), ("quarterly", "tax_drop"), ("gap", "revenue_drop"), ("gap", "tax_drop"),
    ("tax_rate_drop", "revenue_drop"), ("small_team_dip", "layoff"), ("festival_headcount", "layoff"),
    ("reloc_data", "layoff"), ("layoff", "relocation_risk"), ("cert_renewal", "new_certification"),
    ("approach_listed", "approaching_threshold"), ("approach_flat", "approaching_threshold"),
    ("above_listed", "above_threshold_unlisted"), ("expand_headcount_only", "expansion"),
    ("young_drop", "revenue_drop"), ("young_drop", "tax_drop"), ("slow_decline", "revenue_drop"),
    ("slow_decline", "tax_drop"),
    ("aff_other_industry", "relocation_risk"), ("aff_namesake", "relocation_risk"),
    ("aff_investor", "relocation_risk"), ("aff_agent_phone", "relocation_risk"), ("aff_old", "relocation_risk"),
    ("aff_in_district", "relocation_risk"), ("aff_mask_conflict", "relocation_risk"),
]


@pytest.mark.parametrize(("scenario", "signal"), POSITIVE, ids=[f"{a}->{b}" for a, b in POSITIVE])
def test_signal_fires(detected, scenario, signal):
    result, special = detected
    assert signal in signals_of(result, special[scenario]), f"{scenario} should raise {signal}"


@pytest.mark.parametrize(("scenario", "signal"), NEGATIVE, ids=[f"{a}-/->{b}" for a, b in NEGATIVE])
def test_signal_does_not_fire(detected, scenario, signal):
    result, special = detected
    assert signal not in signals_of(result, special[scenario]), f"{scenario} must not raise {signal}"


def test_ordinary_enterprises_raise_no_warning(detected):
    result, special = detected
    specials = set(special.values())
    warnings = [r for r in result.table.to_pylist() if r["kind"] == "warning" and r["uscc"] not in specials]
    assert warnings == []


def test_evidence_of_a_revenue_drop(detected):
    result, special = detected
    (drop,) = signals_of(result, special["rev_drop"])["revenue_drop"]
    assert drop["start_month"] == dt.date(2025, 11, 1)  # month index 24
    assert drop["active"] and drop["months"] >= 5
    assert -0.6 < drop["change"] < -0.4  # halved
    assert drop["value"] == pytest.approx(1_000_000, rel=0.15) and drop["baseline"] == pytest.approx(2_000_000, rel=0.15)
    assert len(drop["series_values"]) == T and drop["series_metric"] == "revenue"
    assert drop["detected_month"] <= dt.date(2026, 2, 1)  # confirmed within a few months


def test_layoff_evidence_counts_people(detected):
    result, special = detected
    (layoff,) = signals_of(result, special["layoff"])["layoff"]
    assert layoff["lost"] == pytest.approx(50, abs=3)
    assert layoff["start_month"] == dt.date(2025, 12, 1)


def test_relocation_reasons_and_routing(detected):
    result, special = detected
    (moved,) = signals_of(result, special["reloc_registry"])["relocation_risk"]
    assert set(moved["reason_codes"].split(",")) >= {"registry_moved_out", "registry_town_outside"}
    assert moved["town_code"] == ""  # registered outside the district: the district desk
    (data,) = signals_of(result, special["reloc_data"])["relocation_risk"]
    assert "headcount_and_electricity_falling" in data["reason_codes"].split(",")
    assert data["town_code"] in (TOWN, OTHER_TOWN)


def test_outside_affiliate_evidence(detected):
    """A same-industry company set up outside the district: the month it was set up, the link and the
    company named in the evidence; merged with the same firm's later fall of headcount and electricity."""
    result, special = detected
    (person,) = signals_of(result, special["aff_person"])["relocation_risk"]
    assert person["reason_codes"] == "affiliate_outside_shared_shareholder"
    assert person["start_month"] == person["detected_month"] == dt.date(2026, 5, 1) and person["active"]
    detail = json.loads(person["detail"])
    assert detail["affiliate_region"] == "330113" and detail["shared_shareholders"] == "股东00"
    assert detail["affiliate_established_on"] == "2026-05-20" and detail["affiliates"] == 1
    assert person["series_metric"] == "headcount" and len(person["series_values"]) == T
    (parent,) = signals_of(result, special["aff_parent"])["relocation_risk"]
    assert parent["reason_codes"] == "affiliate_outside_shared_shareholder"
    (phone,) = signals_of(result, special["aff_phone"])["relocation_risk"]
    assert phone["reason_codes"] == "affiliate_outside_shared_contact"
    assert json.loads(phone["detail"])["shared_phone"] == "13800001111"
    (moved,) = signals_of(result, special["reloc_data"])["relocation_risk"]
    assert set(moved["reason_codes"].split(",")) == {"headcount_and_electricity_falling",
                                                     "affiliate_outside_shared_shareholder"}
    assert moved["start_month"] == dt.date(2026, 2, 1) and moved["value"] is not None


def test_listing_activity(detected):
    result, special = detected
    assert signals_of(result, special["dishonest_new"])["dishonesty_listing"][0]["active"]
    assert not signals_of(result, special["dishonest_old"])["dishonesty_listing"][0]["active"]
    assert not signals_of(result, special["dishonest_removed"])["dishonesty_listing"][0]["active"]
    first = signals_of(result, special["cert_first"])["new_certification"][0]
    assert '"high_tech"' in first["detail"]


def test_threshold_evidence(detected):
    result, special = detected
    (above,) = signals_of(result, special["above"])["above_threshold_unlisted"]
    assert above["baseline"] == pytest.approx(5_000_000)  # 500万元 for retail, in 元
    assert above["ratio"] == pytest.approx(520_000 * 12 / 5_000_000, rel=0.05)


def test_as_of_run_ignores_later_data(district_files):
    folder, special = district_files
    source = folder_source(folder)
    con = connect(source)
    result = run_detection(con, load_district(DEFAULT_DISTRICT_FILE), load_catalogue(), input_snapshot_id=source.snapshot_id,
                           as_of=np.datetime64("2026-06", "M"), months=24)
    con.close()
    assert result.window_start == np.datetime64("2024-07", "M")
    for scenario in ("dishonest_new", "abnormal_new", "financed", "reloc_registry", "aff_phone"):
        assert signals_of(result, special[scenario]) == {}, scenario
    # the outside company set up in February shows; the fall of headcount from June does not yet
    (early,) = signals_of(result, special["reloc_data"])["relocation_risk"]
    assert early["reason_codes"] == "affiliate_outside_shared_shareholder"
    assert result.table.column("detected_month").to_pylist() and \
        max(result.table.column("end_month").to_pylist()) <= dt.date(2026, 6, 1)


def test_publish_is_atomic_idempotent_and_marks_new(district_files, tmp_path):
    folder, special = district_files
    settings = Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET)
    district = load_district(DEFAULT_DISTRICT_FILE)
    _, first = service.detect_and_publish(settings, district, inputs=folder, as_of="2026-09")
    _, second = service.detect_and_publish(settings, district, inputs=folder)
    assert second.manifest["previous_as_of"] == "2026-09" and second.as_of == "2026-10"
    root = store.signals_dir(settings.analytic_dir)
    assert (root / "CURRENT").read_text().strip() == second.id
    assert not any((root / "tmp").iterdir())
    # the dishonesty listing of October is new since the September detection; the layoff is not
    new = queries.list_signals(second, queries.SignalFilter(new=True, active=None), limit=500)[0]
    new_firms = {r["uscc"] for r in new}
    assert special["dishonest_new"] in new_firms and special["layoff"] not in new_firms
    _, third = service.detect_and_publish(settings, district, inputs=folder)
    assert third.id == second.id  # same inputs, definitions and previous as-of: same snapshot
    assert {s.id for s in store.list_snapshots(settings.analytic_dir)} == {first.id, second.id}
    manifest = third.manifest
    assert manifest["catalogue_fingerprint"] == load_catalogue().fingerprint
    assert manifest["input_snapshot_id"].startswith("folder-")
    assert manifest["counts"]["layoff"]["episodes"] == 1


def test_queries_filter_by_desk(district_files, tmp_path):
    folder, special = district_files
    settings = Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET)
    _, snap = service.detect_and_publish(settings, load_district(DEFAULT_DISTRICT_FILE), inputs=folder)
    town_rows, _ = queries.list_signals(snap, queries.SignalFilter(town=TOWN, active=None), limit=500)
    assert town_rows and all(r["town_code"] == TOWN for r in town_rows)
    desk_rows, _ = queries.list_signals(snap, queries.SignalFilter(town="", active=None), limit=500)
    assert {r["uscc"] for r in desk_rows} == {special["reloc_registry"], special["reloc_town"]}
    by_town = {r["key"]: r for r in queries.counts_by(snap, "town_code", queries.SignalFilter(active=None))}
    assert by_town[""]["warning"] == 2
    key = town_rows[0]["signal_key"]
    assert queries.get_signal(snap, key)["series_start"] == "2023-11"
    with pytest.raises(NotFound):
        queries.get_signal(snap, "no-such-key")
    with pytest.raises(InvalidInput, match="unknown signal"):
        queries.SignalFilter(signal="nonsense").validate(load_catalogue().ids())


def test_bad_inputs_are_refused(tmp_path, district_files):
    with pytest.raises(NotFound):
        folder_source(tmp_path / "missing")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "salaries.parquet").write_bytes(b"PAR1")
    with pytest.raises(InvalidInput, match="not a canonical table"):
        folder_source(bad)
    settings = Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET)
    with pytest.raises(InvalidInput, match="YYYY-MM"):
        service.detect(settings, load_district(DEFAULT_DISTRICT_FILE), inputs=district_files[0], as_of="2026/10")
    with pytest.raises(InvalidInput, match="months"):
        service.detect(settings, load_district(DEFAULT_DISTRICT_FILE), inputs=district_files[0], months=6)
    with pytest.raises(NotFound, match="ingest"):
        service.detect(settings, load_district(DEFAULT_DISTRICT_FILE))  # no data hub snapshot yet
