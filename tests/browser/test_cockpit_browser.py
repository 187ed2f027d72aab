"""The cockpit, a signal's evidence and the town desk in headless Chromium, on a real server with a
3,000-enterprise synthetic district and a published signal snapshot.

Each chart must be drawn with data (its ECharts option has series with values and its canvas is
not blank); screenshots go to test-artifacts/ (1920×1080 wall screen, a laptop, the town view).
"""

from __future__ import annotations

import logging
import os
import re

import pytest

from shengxin.accounts.demo import DEMO_PASSWORD
from tests.browser.conftest import screenshot, start_server

log = logging.getLogger(__name__)
CHARTS = ("towns", "grid", "by_signal", "signal_trend", "economy_trend")


@pytest.fixture(scope="module")
def cockpit_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cockpit-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp / "data"))
    proc, base = start_server(env, tmp, [["demo", "setup", "--enterprises", "3000"], ["signals", "detect"]])
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=main-nav]")


CHART_STATE = """() => Object.entries(window.shengxinCharts || {}).map(([key, chart]) => {
  const option = chart.getOption();
  const values = option.series.flatMap(s => s.data.map(d => Array.isArray(d) ? d[2] : (d && d.value !== undefined ? d.value : d)));
  const canvas = chart.getDom().querySelector('canvas');
  const ctx = canvas.getContext('2d');
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4 * 7) { if (pixels[i] > 0) { painted++; } }
  return {key, series: option.series.length, values: values.filter(v => v !== null && v !== undefined).length,
          nonzero: values.filter(v => v).length, painted};
})"""


def open_cockpit(page, base: str) -> list[dict]:
    page.goto(f"{base}/cockpit")
    page.wait_for_selector("#cockpit[data-rendered=true]", timeout=30_000)
    return page.evaluate(CHART_STATE)


def test_cockpit_charts_render_with_data(browser, cockpit_server):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    login(page, cockpit_server, "admin")
    charts = {c["key"]: c for c in open_cockpit(page, cockpit_server)}
    assert set(charts) == set(CHARTS)
    for key, c in charts.items():
        assert c["series"] >= 1 and c["values"] > 0 and c["nonzero"] > 0, key
        assert c["painted"] > 100, f"{key}: canvas is blank"
    timing = page.evaluate("() => { const t = performance.getEntriesByType('navigation')[0]; "
                           "return {load: t.loadEventEnd - t.startTime, dom: t.domContentLoadedEventEnd - t.startTime}; }")
    log.warning("cockpit page load (3,000 enterprises): %.0f ms (DOM ready %.0f ms)", timing["load"], timing["dom"])
    tiles = page.locator("[data-kpi]").count()
    assert tiles >= 8
    # the whole cockpit fits one 1920×1080 screen
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 1080 + 40
    screenshot(page, "cockpit-1920x1080")
    context.close()


def test_cockpit_on_a_laptop_and_drill_down(browser, cockpit_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    login(page, cockpit_server, "dept")
    charts = open_cockpit(page, cockpit_server)
    assert all(c["values"] > 0 for c in charts)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366  # no sideways scrolling
    screenshot(page, "cockpit-laptop-1366")
    # a warning with a monthly series (listings have none): layoff, revenue drop or relocation
    page.locator("[data-testid=warning-link]", has_text=re.compile("裁员|营业收入|迁出|税额")).first.click()
    page.wait_for_selector("#evidence-chart[data-rendered=true]", timeout=30_000)
    evidence = page.evaluate("() => window.shengxinEvidenceChart.getOption().series.map(s => s.data.filter(v => v !== null).length)")
    assert len(evidence) == 2 and evidence[0] > 0 and evidence[1] > 0
    assert page.locator("[data-testid=portrait-link]").count() == 1
    screenshot(page, "signal-evidence")
    context.close()


def test_town_desk_confirms_a_signal(browser, cockpit_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    login(page, cockpit_server, "town")
    charts = open_cockpit(page, cockpit_server)
    assert {c["key"] for c in charts} == set(CHARTS)
    assert "本镇街视图" in page.inner_text("[data-testid=cockpit-scope]")
    screenshot(page, "cockpit-town")
    page.goto(f"{cockpit_server}/signals?state=all")
    row = page.locator("[data-testid=signals-table] tbody tr[data-key]").first
    key = row.get_attribute("data-key")
    row.locator("select[name=status]").select_option("confirmed")
    row.locator("input[name=note]").fill("已上门核实")
    row.locator("button[type=submit]").click()
    page.wait_for_url("**/signals?**")
    assert page.locator(f"tr[data-key='{key}'] [data-testid=status]").inner_text() == "已确认"
    screenshot(page, "town-desk")
    context.close()
