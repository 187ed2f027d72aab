"""Tags in a real browser: statistics by town, the catalogue, and explanations on demand."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.browser.conftest import screenshot, start_server
from tests.browser.test_login_navigation import login


@pytest.fixture(scope="module")
def tagged_server(tmp_path_factory):
    """The demo district with its tags computed, served over real HTTP."""
    tmp = tmp_path_factory.mktemp("tags-browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp / "data"))
    proc, base = start_server(env, tmp, [["demo", "setup", "--enterprises", "2000"], ["tags", "compute"]])
    listed = subprocess.run([sys.executable, "-m", "shengxin", "tags", "members", "scope.near_any", "--json"],
                            env=env, capture_output=True, text=True, check=True)
    yield base, json.loads(listed.stdout)["enterprises"][0]["uscc"]
    proc.terminate()
    proc.wait(timeout=20)


def test_admin_sees_statistics_and_catalogue(page, tagged_server):
    base, _ = tagged_server
    login(page, base, "admin")
    page.click("[data-section=tags]")
    page.wait_for_selector("[data-testid=tags-snapshot]")
    heads = page.locator("[data-testid=tags-stats-town] thead th").all_inner_texts()
    assert "五常街道" in heads and "黄湖镇" in heads and "合计" in heads
    screenshot(page, "tags-statistics-admin")
    page.click("[data-section=tags_catalogue]")
    page.wait_for_selector("[data-testid=tags-upload]")
    assert page.locator("[data-category] tr[data-tag]").count() >= 200
    screenshot(page, "tags-catalogue-admin")


def test_town_staff_see_their_town_only(page, tagged_server):
    base, _ = tagged_server
    login(page, base, "town")
    page.click("[data-section=tags]")
    page.wait_for_selector("[data-testid=tags-snapshot]")
    heads = page.locator("[data-testid=tags-stats-basic] thead th").all_inner_texts()
    assert heads == ["标签", "五常街道"]
    screenshot(page, "tags-statistics-town")


def test_explanation_opens_on_demand(page, tagged_server):
    base, uscc = tagged_server
    login(page, base, "dept")
    page.goto(f"{base}/tags/enterprise/{uscc}")
    page.wait_for_selector("[data-testid=portrait-tags]")
    details = page.locator("details[data-tag='scope.near_any']")
    details.locator("summary").click()
    details.locator("[data-testid=tag-explanation]").wait_for()
    text = details.inner_text()
    assert "具有该标签" in text and "营业收入" in text and "✓" in text
    details.locator("[data-testid=tag-lineage] summary").click()
    assert "导入批次" in details.inner_text()
    screenshot(page, "tags-explanation")


CHANGE = """tags:
  - id: scope.near_industry
    name: 临规工业企业
    category: scope
    version: 2
    valid_from: 2026-01-01
    provenance: derived
    source: 税务月报营业收入 + 统计范围标准
    description: 尚未列入规上工业名录的工业企业，近12个月营业收入达到门槛的70%但未达门槛，且同比增长。
    definition: >-
      scope_rule = '规模以上工业' and not has(survey_list, scope='industry')
      and sum(revenue, months=12) >= 0.7 * scope_threshold and sum(revenue, months=12) < scope_threshold
      and growth(revenue, months=12) > 0%
"""


def test_admin_uploads_previews_and_activates_a_change(page, tagged_server, tmp_path):
    base, _ = tagged_server
    change = tmp_path / "near_industry_v2.yaml"
    change.write_text(CHANGE, encoding="utf-8")
    login(page, base, "admin")
    page.goto(f"{base}/tags/catalogue")
    page.set_input_files("input[name=file]", str(change))
    page.fill("input[name=note]", "临规门槛改为70%")
    page.click("text=上传并校验")
    page.wait_for_selector("[data-testid=change-preview]")
    assert page.get_attribute("[data-testid=change-status]", "data-status") == "previewed"
    assert page.locator("[data-testid='preview-scope.near_industry'] tbody tr").count() >= 1
    screenshot(page, "tags-change-preview")
    page.click("[data-testid=change-activate]")
    page.wait_for_selector("[data-testid=change-status][data-status=active]")
