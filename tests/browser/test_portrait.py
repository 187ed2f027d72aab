"""The portrait in a real browser: identity, size, and the four monthly charts drawn with data."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_login_navigation import login

CHARTS = ["chart-revenue", "chart-tax", "chart-headcount", "chart-electricity"]


def chart_points(page, element_id: str) -> int:
    return page.evaluate(
        """id => { const c = echarts.getInstanceByDom(document.getElementById(id));
                   if (!c) return -1;
                   return c.getOption().series[0].data.filter(v => v !== null).length; }""",
        element_id,
    )


def test_enterprise_sees_its_portrait_with_charts(page, demo_server):
    login(page, demo_server, "enterprise")
    page.click("[data-section=my-portrait]")
    page.wait_for_selector("[data-testid=identity]")
    page.wait_for_selector("#series-status:has-text('共')")
    for chart in CHARTS[:2]:
        assert chart_points(page, chart) > 0, chart
    assert "→" in page.inner_text("[data-testid=industry-path]")
    screenshot(page, "portrait-enterprise")


def test_town_staff_search_then_open_portrait(page, demo_server):
    login(page, demo_server, "town")
    page.click("[data-section=enterprises]")
    page.wait_for_selector("[data-testid=enterprise-results]")
    towns = page.locator("[data-testid=enterprise-results] tbody tr td:nth-child(4)").all_inner_texts()
    assert towns and set(towns) == {"五常街道"}
    screenshot(page, "enterprise-search-town")
    page.locator("[data-testid=enterprise-results] tbody a").first.click()
    page.wait_for_selector("[data-testid=size-scope]")
    page.wait_for_selector("#series-status:has-text('共')")


def test_admin_sees_quarantine(page, demo_server):
    login(page, demo_server, "admin")
    page.click("[data-section=data]")
    page.wait_for_selector("[data-testid=runs-table]")
    page.click("text=问题数据 >> nth=0")
    page.wait_for_selector("[data-testid=quarantine-table]")
    assert page.locator("[data-testid=quarantine-table] tbody tr").count() > 0
    screenshot(page, "quarantine-admin")
