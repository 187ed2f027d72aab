"""An appeal walked in a real browser from the enterprise's QR code to the return visit, each step by
the role that owns it: the district admin issues the code, anyone scans it and submits, the admin
accepts and assigns, the department signs, handles and replies, the enterprise gives the return
visit, the admin closes."""

from __future__ import annotations

import re

from tests.browser.conftest import screenshot
from tests.browser.test_login_navigation import login


def logout(page) -> None:
    page.click("text=退出登录")
    page.wait_for_selector("input[name=username]")


def act(page, action: str) -> None:
    page.click(f"[data-testid=action-{action}]")
    page.wait_for_load_state("load")
    assert not page.locator("[data-testid=action-error]").count(), page.inner_text("[data-testid=action-error]")


def test_appeal_from_qr_code_to_return_visit(browser, demo_server):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()

    # 1. The admin looks up the demo enterprise's code and issues its appeal QR code.
    login(page, demo_server, "admin")
    page.goto(f"{demo_server}/admin/users")
    uscc = re.search(r"企业 ([0-9A-Z]{18})", page.inner_text("[data-testid=users-table]")).group(1)
    page.goto(f"{demo_server}/appeals/qr")
    page.fill("input[name=uscc]", uscc)
    page.fill("input[name=enterprise_name]", "演示企业")
    page.select_option("select[name=town_code]", label="五常街道")
    page.click("[data-testid=issue-qr]")
    page.wait_for_selector("[data-testid=qr-svg] svg")
    qr_url = page.get_attribute("[data-testid=qr-url]", "href")
    assert "/q/" in qr_url
    screenshot(page, "appeals-qr-poster")
    logout(page)

    # 2. Someone at the enterprise scans the code: no login, the form is bound to the enterprise.
    scan = browser.new_context(viewport={"width": 420, "height": 860}, locale="zh-CN", is_mobile=True)
    phone = scan.new_page()
    phone.goto(qr_url)
    assert "演示企业" in phone.inner_text("[data-testid=bound-enterprise]")
    phone.fill("[data-testid=appeal-description]", "")
    phone.click("[data-testid=submit-appeal]")  # the browser refuses an empty required field
    assert phone.url == qr_url
    phone.fill("[data-testid=appeal-description]",
               "我司今年申报的企业技术改造项目补助，想了解兑付政策和所需材料，<b>请尽快答复</b>。")
    phone.fill("input[name=contact_name]", "李经理")
    phone.fill("input[name=contact_phone]", "0571-86000000")
    screenshot(phone, "appeals-qr-form")
    phone.click("[data-testid=submit-appeal]")
    code = phone.inner_text("[data-testid=appeal-code]")
    assert re.fullmatch(r"SQ\d{10}", code)
    screenshot(phone, "appeals-qr-done")
    scan.close()

    # 3. The district admin accepts (confirming the category) and assigns to the default unit.
    login(page, demo_server, "admin")
    page.goto(f"{demo_server}/appeals?q={code}")
    page.click(f"text={code}")
    assert "待受理" in page.inner_text("[data-testid=appeal-status]")
    assert "<b>请尽快答复</b>" in page.inner_text("[data-testid=appeal-description]")  # shown as text
    page.select_option("form[data-action=accept] select[name=subcategory_code]", "policy.consult")
    act(page, "accept")
    assert "已受理" in page.inner_text("[data-testid=appeal-status]")
    act(page, "assign")
    assert "已交办" in page.inner_text("[data-testid=appeal-status]")
    assert "区经济和信息化局" in page.inner_text("[data-testid=appeal-facts]")
    detail_url = page.url
    logout(page)

    # 4. The department signs, handles and replies.
    login(page, demo_server, "dept")
    page.goto(f"{demo_server}/appeals")
    page.click(f"text={code}")
    assert page.url == detail_url
    act(page, "sign")
    act(page, "start")
    page.fill("form[data-action=reply] textarea[name=reply_text]",
              "技改项目补助按设备投资额的 10% 兑付，请于下月底前通过平台提交设备发票和验收报告。")
    act(page, "reply")
    assert "已答复" in page.inner_text("[data-testid=appeal-status]")
    logout(page)

    # 5. The enterprise reads the reply and gives the return visit.
    login(page, demo_server, "enterprise")
    page.goto(f"{demo_server}/appeals")
    page.click(f"text={code}")
    assert "设备发票" in page.inner_text("[data-testid=appeal-reply]")
    page.check("form[data-action=visit] input[name=satisfaction][value=satisfied]")
    page.check("form[data-action=visit] input[name=solved][value=yes]")
    act(page, "visit")
    assert "已回访" in page.inner_text("[data-testid=appeal-status]")
    assert not page.locator("[data-testid=action-close]").count()  # closing is the desk's job
    screenshot(page, "appeals-enterprise-detail")
    logout(page)

    # 6. The admin closes it; the timeline shows every step with who did it.
    login(page, demo_server, "admin")
    page.goto(detail_url)
    page.select_option("form[data-action=close] select[name=outcome]", "solved")
    act(page, "close")
    assert "已办结" in page.inner_text("[data-testid=appeal-status]")
    timeline = page.inner_text("[data-testid=timeline]")
    for step in ("提交诉求", "受理", "交办", "签收", "开始办理", "答复企业", "回访", "办结"):
        assert step in timeline
    assert f"qr:{uscc}" in timeline and "dept" in timeline and "enterprise" in timeline
    screenshot(page, "appeals-admin-closed")
    page.goto(f"{demo_server}/appeals/dashboard")
    screenshot(page, "appeals-dashboard")
    ctx.close()
