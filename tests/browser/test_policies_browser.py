"""Policies in a real browser: the enterprise's policies with reasons, the staff policy page, and an
officer writing, testing, previewing and publishing a policy from the web without code."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import screenshot, start_server
from tests.browser.test_login_navigation import login


@pytest.fixture(scope="module")
def policy_server(tmp_path_factory):
    """The demo district with 120 demo policies plus the real library published and matched."""
    tmp = tmp_path_factory.mktemp("policies-browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp / "data"))
    proc, base = start_server(env, tmp, [["demo", "setup", "--enterprises", "2000"],
                                         ["policies", "seed", "--count", "120", "--no-application", "70"],
                                         ["policies", "match"]])
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def test_enterprise_sees_its_policies(page, policy_server):
    login(page, policy_server, "enterprise")
    page.click("[data-section=my-policies]")
    page.wait_for_selector("[data-testid=mine-summary]")
    assert page.locator("[data-testid=group-not_eligible]").count() == 1
    first = page.locator(".pol-item details summary").first
    first.click()
    assert page.locator(".conds li").first.is_visible()
    screenshot(page, "policies-mine-enterprise")


def test_staff_policy_list_and_page(page, policy_server):
    login(page, policy_server, "admin")
    page.click("[data-section=policies]")
    page.wait_for_selector("[data-testid=policies-table]")
    assert page.locator("[data-testid=policies-table] tbody tr").count() >= 120
    screenshot(page, "policies-list-admin")
    page.goto(f"{policy_server}/policies/DEMO-0001")
    page.wait_for_selector("[data-testid=policy-matches]")
    assert page.locator("[data-testid=by-town] tbody tr").count() >= 1
    screenshot(page, "policies-detail-admin")


def test_officer_writes_tests_previews_and_publishes(page, policy_server):
    login(page, policy_server, "dept")
    page.goto(f"{policy_server}/policies/new")
    page.click("[data-testid=btn-test]")
    page.wait_for_selector("[data-testid=editor-tests]")
    assert "全部通过" in page.inner_text("[data-testid=editor-tests]")
    page.click("[data-testid=btn-impact]")
    page.wait_for_selector("[data-testid=editor-impact]")
    screenshot(page, "policies-editor-impact")
    text = page.input_value("[data-testid=policy-text]").replace("value: 2000万元", "value: 2000")
    page.fill("[data-testid=policy-text]", text)
    page.click("[data-testid=btn-validate]")
    page.wait_for_selector("[data-testid=editor-problems]")
    assert "没有写单位" in page.inner_text("[data-testid=editor-problems]")
    screenshot(page, "policies-editor-error")
    page.fill("[data-testid=policy-text]", text.replace("value: 2000\n", "value: 2000万元\n"))
    page.click("[data-testid=btn-save]")
    page.wait_for_selector("[data-testid=policy-workflow]")
    page.click("[data-testid=action-submit]")
    page.click("[data-testid=action-publish]")
    page.wait_for_selector("[data-testid=not-matched]")
    page.click("[data-testid=match-now]")
    page.wait_for_selector("[data-testid=by-town] tbody tr")
    assert page.locator("[data-testid=not-matched]").count() == 0
    screenshot(page, "policies-published")
