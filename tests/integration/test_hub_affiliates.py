"""The shareholder register and the outside-registrations feed land in the hub like any delivery:
real files, real snapshot, each bad row quarantined with its reason and the rest kept."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shengxin.enterprises.hub import ingest
from shengxin.enterprises.uscc import make_code
from tests.integration.test_hub_ingest import by_file, code, demo_settings, facts, issues, write_csv, write_registry  # noqa: F401

HOLDER_HEADER = ["统一社会信用代码", "股东名称", "股东类型", "证照号码", "认缴出资额(万元)", "出资比例(%)"]
OUTSIDE_HEADER = ["统一社会信用代码", "企业名称", "成立日期", "行业代码", "登记机关区划代码", "登记机关", "住所",
                  "法定代表人", "联系电话"]


def outside_code(n: int) -> str:
    return make_code("9", "1", "330113", f"MA{n:07d}")


def test_shareholders_and_outside_registrations_land_with_their_defects_quarantined(tmp_path):
    d = tmp_path / "d"
    write_registry(d, ns=[1, 2])
    write_csv(d / "scjg" / "股东信息.csv", HOLDER_HEADER, [
        [code(1), "张伟", "自然人", "330106********123X", "300", "60"],
        [code(1), "杭州某某控股有限公司", "企业法人", outside_code(90), "200", "40"],
        [code(2), "李娜", "自然人股东", "330106********0042", "1,000", "100"],
        [code(77), "王芳", "自然人", "330106********0077", "10", "100"],      # row 4: not a district enterprise
        [code(2), "赵强", "自然人", "", "10", "1"],                           # row 5: no ID
        [code(2), "钱七", "外籍个人", "P1234567", "10", "1"],                  # row 6: unknown kind
        [code(2), "孙八", "自然人", "330106********0099", "10", "120"],       # row 7: share over 100 %
    ], bom=True)
    write_csv(d / "scjg" / "外区新设企业.csv", OUTSIDE_HEADER, [
        [outside_code(1), "杭州临平张伟科技有限公司", "2026-05-20", "6511", "330113", "杭州市临平区市场监督管理局",
         "临平区某路1号", "张伟", "138 0000 1111"],
        [outside_code(2), "杭州某新公司", "2026-13-01", "6511", "330113", "", "", "", ""],   # row 2: bad date
        [outside_code(3), "杭州某新公司三", "2026-06-01", "6598", "330113", "", "", "", ""],  # row 3: no such class
    ], bom=True)
    write_csv(d / "scjg" / "外区新设企业股东.csv", HOLDER_HEADER, [
        [outside_code(1), "张伟", "自然人", "330106********123x", "50", "100"],
    ], bom=True)
    report = ingest([d])

    holders = by_file(report, "股东信息.csv")
    assert (holders.rows, holders.accepted, holders.rejected) == (7, 3, 4)
    found = {(i["row"], i["code"]) for i in issues(report.run_id) if i["file"].endswith("scjg/股东信息.csv")}
    assert found == {(4, "reference.unknown_enterprise"), (5, "required.missing"), (6, "enum.unknown"),
                     (7, "number.above_max")}
    outside = by_file(report, "外区新设企业.csv")
    assert (outside.rows, outside.accepted, outside.rejected) == (3, 1, 2)
    found = {(i["row"], i["code"]) for i in issues(report.run_id) if i["file"].endswith("scjg/外区新设企业.csv")}
    assert found == {(2, "date.invalid"), (3, "code.industry_unknown")}
    assert by_file(report, "外区新设企业股东.csv").accepted == 1

    rows = facts("shareholders", order="uscc, shareholder_name")
    kinds = {(r["uscc"], r["shareholder_name"]): (r["shareholder_kind"], r["shareholder_id"]) for r in rows}
    assert kinds[(code(1), "张伟")] == ("person", "330106********123X")
    assert kinds[(code(1), "杭州某某控股有限公司")] == ("entity", outside_code(90))
    (outside_holder,) = facts("outside_shareholders")
    assert (outside_holder["uscc"], outside_holder["shareholder_kind"], outside_holder["shareholder_id"]) == (
        outside_code(1), "person", "330106********123x")  # compared upper-cased by the detector
    li_na = next(r for r in rows if r["shareholder_name"] == "李娜")
    assert li_na["subscribed_fen"] == 1_000 * 1_000_000 and li_na["share_pct"] == Decimal("100")
    (company,) = facts("outside_enterprises")
    assert company["established_on"] == dt.date(2026, 5, 20) and company["region_code"] == "330113"
