"""Problem library in a real browser: a year of demo appeals grouped, one group promoted and edited."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.orm import Session

from shengxin.appeals.classify.corpus import generate_demo_appeals
from shengxin.appeals.models import Appeal
from shengxin.db import make_engine
from tests.browser.conftest import screenshot, start_server
from tests.browser.test_login_navigation import login


@pytest.fixture(scope="module")
def library_server(tmp_path_factory):
    """A demo server whose store holds a year of demo appeals (written straight into its SQLite)."""
    tmp = tmp_path_factory.mktemp("library-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp / "data"))
    proc, base = start_server(env, tmp, [["demo", "setup", "--no-data"]])
    engine = make_engine(f"sqlite:///{tmp / 'data' / 'shengxin.sqlite3'}")
    with Session(engine) as s:
        for i, a in enumerate(generate_demo_appeals(4000, 2025, 7)):
            s.add(Appeal(code=f"SQ2025{i:06d}", channel=a["channel"], enterprise_name="演示企业",
                         town_code=a["town_code"], title=a["text"][:24], description=a["text"],
                         category_code=a["category_code"], subcategory_code=a["subcategory_code"],
                         status="closed", submitted_by="demo", submitted_at=a["submitted_at"],
                         updated_at=a["submitted_at"]))
        s.commit()
    engine.dispose()
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def test_department_promotes_a_group_and_the_auditor_reads_it(browser, library_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    login(page, library_server, "dept")
    page.wait_for_selector("[data-testid=main-nav]")
    page.click("[data-section=appeals_library]")
    page.wait_for_selector("[data-testid=group]")
    assert "相似诉求分组" in page.inner_text("main")
    screenshot(page, "appeals-library-groups")

    page.select_option("select[name=category]", label="水电气网")
    page.click("text=重新归类")
    page.wait_for_selector("[data-testid=group]")
    group = page.locator("[data-testid=group]").first
    assert "水电气网" in group.inner_text()
    group.locator("summary").click()
    group.locator("textarea[name=root_cause]").fill("园区配电线路老化，变压器容量不足，夏季高峰频繁跳闸")
    group.locator("textarea[name=public_answer]").fill("供电公司已排定园区线路改造计划，改造期间停电将提前24小时通知。")
    group.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=entry-root-cause]")
    assert "园区配电线路老化" in page.inner_text("[data-testid=entry-root-cause]")
    assert "区经济和信息化局" in page.inner_text("[data-testid=entry-owner]")
    screenshot(page, "appeals-library-entry")

    page.fill("textarea[name=resolution]", "完成园区两条配电线路改造")
    page.select_option("select[name=status]", "resolved")
    page.click("text=保存")
    page.wait_for_selector("text=已保存。")
    assert page.inner_text("[data-testid=entry-status]") == "已形成解决方案"
    context.close()

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    login(page, library_server, "auditor")
    page.wait_for_selector("[data-testid=main-nav]")
    page.goto(f"{library_server}/appeals/library")
    assert "已形成解决方案" in page.inner_text("[data-testid=entries-table]")
    assert page.locator("[data-testid=promote-form]").count() == 0
    screenshot(page, "appeals-library-auditor")
    context.close()
