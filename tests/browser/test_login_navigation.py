"""Each role logs in through a real browser and sees exactly its navigation."""

from __future__ import annotations

import pytest

from shengxin.accounts.demo import DEMO_PASSWORD
from shengxin.accounts.roles import Role
from shengxin.web.app import routers
from shengxin.web.nav import SECTIONS
from tests.browser.conftest import screenshot

routers()  # imports every page module, which registers its navigation section

ROLES = {"admin": Role.ADMIN, "auditor": Role.AUDITOR, "town": Role.TOWN, "dept": Role.DEPARTMENT,
         "enterprise": Role.ENTERPRISE}


def login(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.mark.parametrize("username", list(ROLES))
def test_role_sees_its_navigation(page, demo_server, username):
    login(page, demo_server, username)
    page.wait_for_selector("[data-testid=main-nav]")
    shown = set(page.locator("[data-testid=main-nav] a").evaluate_all("els => els.map(e => e.dataset.section)"))
    expected = {s.key for s in SECTIONS if ROLES[username] in s.roles}
    assert shown == expected
    assert "（" in page.inner_text("[data-testid=current-user]")
    screenshot(page, f"home-{username}")
    page.click("text=退出登录")
    page.wait_for_url(f"{demo_server}/login")


def test_wrong_password_shows_chinese_error(page, demo_server):
    login(page, demo_server, "admin", "not-the-password")
    assert "用户名或密码错误" in page.inner_text("[role=alert]")


def test_forbidden_page_explains_what_to_do(page, demo_server):
    login(page, demo_server, "enterprise")
    page.wait_for_selector("[data-testid=main-nav]")
    page.goto(f"{demo_server}/audit")
    assert "没有权限" in page.inner_text("main")
    screenshot(page, "forbidden-enterprise")


def test_admin_creates_a_user_in_the_browser(page, demo_server):
    login(page, demo_server, "admin")
    page.goto(f"{demo_server}/admin/users")
    page.fill("input[name=username]", "browser-made")
    page.fill("input[name=display_name]", "浏览器创建的用户")
    page.fill("input[name=password]", "a-long-password")
    page.select_option("select[name=role]", "town_staff")
    page.select_option("select[name=town_code]", label="良渚街道")
    page.click("text=创建")
    page.wait_for_selector("text=浏览器创建的用户")
    screenshot(page, "admin-users")
