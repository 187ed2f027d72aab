"""Registry service (show, search with paging, monthly series) and its CLI, over real snapshots."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from shengxin.cli.enterprises import app
from shengxin.enterprises.hub import ingest
from shengxin.enterprises.registry import (
    enterprise_scope,
    get_enterprise,
    monthly_series,
    search_enterprises,
)
from shengxin.errors import InvalidInput, NotFound
from tests.integration.test_hub_ingest import (  # noqa: F401 (demo_settings is an autouse fixture)
    CERT_HEADER,
    ELECTRICITY_HEADER,
    code,
    demo_settings,
    registry_row,
    write_csv,
    write_registry,
    write_tax,
    write_xlsx,
)

runner = CliRunner()


@pytest.fixture
def registry(tmp_path):
    d = tmp_path / "d"
    extra = [registry_row(n, 企业名称=f"余杭云栖数据{n}有限公司", 所属镇街代码="330110012", 行业代码="3911") for n in range(10, 35)]
    write_registry(d, ns=range(1, 4), extra=extra)
    write_tax(d, [(code(1), f"2024{m:02d}", Decimal(f"{m}000.00"), Decimal("10.00")) for m in (1, 2, 3)])
    write_csv(d / "dl" / "用电月报.csv", ELECTRICITY_HEADER, [[code(1), "2024-02", "1500.5"], [code(1), "2024-04", "7"]])
    write_xlsx(d / "kj" / "资质认定.xlsx", CERT_HEADER,
               [[code(1), "高新技术企业", "GR202333000123", dt.datetime(2023, 12, 8), dt.datetime(2026, 12, 7)]])
    write_csv(d / "tj" / "企业年报财务.csv",
              ["统一社会信用代码", "年度", "从业人员期末人数", "营业收入(万元)", "资产总计(万元)", "研发费用(万元)"],
              [[code(1), "2022", "40", "900", "1200", "80"], [code(1), "2023", "52", "1,100.5", "1500", "95"]], bom=True)
    write_csv(d / "fy" / "失信被执行人.csv", ["统一社会信用代码", "被执行人名称", "案号", "立案日期", "发布日期", "移除日期"],
              [[code(1), "杭州测试1科技有限公司", "(2024)浙0110执1234号", "2024-01-10", "2024-02-01", ""]], encoding="gbk")
    write_csv(d / "scjg" / "股东信息.csv", ["统一社会信用代码", "股东名称", "股东类型", "证照号码", "认缴出资额(万元)", "出资比例(%)"],
              [[code(1), "张三", "自然人", "330106199001011234", "120.5", "60"],
               [code(1), "杭州控股有限公司", "企业法人", code(2), "80", "40"]])
    report = ingest([d])
    assert all(f.status == "ingested" for f in report.files)
    return report


def test_get_enterprise_gathers_identity_industry_town_certifications_credit_and_annual(registry):
    e = get_enterprise(f"  {code(1).lower()} ")
    assert e.uscc == code(1) and e.name == "杭州测试1科技有限公司"
    assert [(i.level, i.code) for i in e.industry_path] == [(1, "I"), (2, "65"), (3, "651"), (4, "6511")]
    assert (e.town_code, e.town_name) == ("330110005", "五常街道")
    assert (e.status, e.status_label) == ("active", "存续")
    assert e.registered_capital_fen == 500_000_000
    assert [(c.kind, c.label, c.valid_until) for c in e.certifications] == [
        ("high_tech", "高新技术企业", dt.date(2026, 12, 7))]
    assert [(c.kind, c.reference, c.start_on) for c in e.credit_events] == [
        ("dishonesty", "(2024)浙0110执1234号", dt.date(2024, 2, 1))]
    assert e.latest_annual.year == 2023 and e.latest_annual.revenue_fen == 1_100_500_000
    assert [(h.name, h.kind_label, h.id_display, h.subscribed_wan, str(h.share_pct)) for h in e.shareholders] == [
        ("张三", "自然人", "330106********1234", "120.50", "60.0000"),
        ("杭州控股有限公司", "企业法人", code(2), "80.00", "40.0000")]
    assert e.lineage.file == "scjg/企业登记信息.csv" and e.lineage.row == 1 and e.lineage.run == registry.run_id
    assert e.snapshot_id == registry.snapshot_id


def test_unknown_and_malformed_codes():
    with pytest.raises(NotFound, match=code(77)):
        get_enterprise(code(77))
    with pytest.raises(InvalidInput, match="格式不对"):
        get_enterprise("12345")
    with pytest.raises(NotFound, match=code(77)):
        enterprise_scope(code(77))
    with pytest.raises(InvalidInput, match="格式不对"):
        enterprise_scope("12345")


def test_enterprise_scope_is_the_code_and_town_of_the_portrait(registry):
    for n in (1, 2, 10, 34):
        full, scope = get_enterprise(code(n)), enterprise_scope(f" {code(n).lower()}")
        assert (scope.uscc, scope.town_code) == (full.uscc, full.town_code)
    assert enterprise_scope(code(10)).town_code == "330110012"


def test_search_by_name_substring_with_paging(registry):
    first = search_enterprises("云栖数据", page=1, page_size=10)
    assert (first.total, first.pages, len(first.items)) == (25, 3, 10)
    last = search_enterprises("云栖数据", page=3, page_size=10)
    assert len(last.items) == 5
    seen = {i.uscc for p in (1, 2, 3) for i in search_enterprises("云栖数据", page=p, page_size=10).items}
    assert len(seen) == 25  # pages do not overlap
    assert first.items[0].town_name == "仓前街道" and first.items[0].industry_name == "计算机整机制造"


def test_search_by_code_prefix_puts_prefix_matches_first(registry):
    result = search_enterprises(code(2)[:14].lower())
    assert result.items[0].uscc.startswith(code(2)[:14])
    exact = search_enterprises(code(2))
    assert [i.uscc for i in exact.items] == [code(2)]


def test_search_by_town_and_bad_paging(registry):
    assert search_enterprises(town_code="330110012").total == 25
    assert search_enterprises(town_code="330110005").total == 3
    assert search_enterprises().total == 28
    with pytest.raises(InvalidInput, match="页码"):
        search_enterprises(page=0)
    with pytest.raises(InvalidInput, match="每页条数"):
        search_enterprises(page_size=1000)
    with pytest.raises(InvalidInput, match="镇街代码"):
        search_enterprises(town_code="110101001")


def test_monthly_series_aligns_the_departments(registry):
    s = monthly_series(code(1))
    assert s.months == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert s.revenue_fen == [100000, 200000, 300000, None]
    assert s.electricity_kwh == [None, 1500.5, None, 7.0]
    empty = monthly_series(code(2))
    assert empty.months == [] and empty.revenue_fen == []
    with pytest.raises(NotFound):
        monthly_series(code(78))


def test_cli_show_search_series(registry):
    shown = runner.invoke(app, ["show", code(1), "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["uscc"] == code(1) and data["certifications"][0]["certified_on"] == "2023-12-08"
    table = runner.invoke(app, ["show", code(1)])
    assert "5,000,000.00 元" in table.output and "五常街道" in table.output
    found = runner.invoke(app, ["search", "云栖", "--town", "330110012", "--page", "2", "--page-size", "20", "--json"])
    page = json.loads(found.stdout)
    assert (page["total"], page["page"], len(page["items"])) == (25, 2, 5)
    series = runner.invoke(app, ["series", code(1), "--json"])
    assert json.loads(series.stdout)["months"][0] == "2024-01"
    missing = runner.invoke(app, ["show", code(77)])
    assert missing.exit_code == 1 and "没有统一社会信用代码为" in missing.output
