"""Payouts in a real browser, each step by the right person: a department officer creates a
no-application round, excludes an enterprise with a reason and starts publicity; the public lodges an
objection on the (masked) publicity page and the officer answers it; the payee confirms another bank
account in its portal; the creator cannot approve, a second person (admin) does; the officer
downloads the bank file, uploads the bank's result file (one line failed), retries the failed line in
a new batch, uploads its result and closes the round; the payee sees its payout paid; an enterprise
applies for an instant-application policy from its portal and gets an answer at once."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from shengxin.accounts.demo import DEMO_PASSWORD
from tests.browser.conftest import screenshot, start_server
from tests.browser.test_login_navigation import login


@pytest.fixture(scope="module")
def payout_server(tmp_path_factory):
    """The demo (which already holds completed rounds) served over HTTP; returns (base, env, data_dir)."""
    tmp = tmp_path_factory.mktemp("payouts-browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp / "data"))
    proc, base = start_server(env, tmp, [["demo", "setup", "--enterprises", "2000"]])
    yield base, env, tmp / "data"
    proc.terminate()
    proc.wait(timeout=20)


def as_user(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    login(page, base, username)
    page.wait_for_selector("[data-testid=main-nav]")
    return page


def create_enterprise_user(env: dict, username: str, uscc: str) -> None:
    subprocess.run([sys.executable, "-m", "shengxin", "users", "create", username, "--role", "enterprise",
                    "--uscc", uscc, "--password", DEMO_PASSWORD, "--name", f"{username}（测试）"],
                   env=env, check=True, capture_output=True, timeout=120)


def round_action(page, action: str) -> None:
    page.click(f"[data-testid=action-{action}]")
    page.wait_for_selector("[data-testid=round-message]")


def download_lines(page, testid: str, encoding: str) -> list[dict]:
    with page.expect_download() as info:
        page.click(f"[data-testid={testid}]")
    data = open(info.value.path(), "rb").read()
    return list(csv.DictReader(io.StringIO(data.decode(encoding))))


def result_file(tmp_path, name: str, rows: list[list[str]]):
    path = tmp_path / name
    with open(path, "w", encoding="gbk", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["明细编号", "金额（元）", "状态", "失败原因", "银行流水号"])
        w.writerows(rows)
    return path


def test_no_application_round_walked_by_the_right_people(browser, payout_server, tmp_path):
    base, env, _ = payout_server
    dept = as_user(browser, base, "dept")
    dept.click("[data-section=payouts]")
    dept.wait_for_selector("[data-testid=rounds-table]")
    assert dept.locator("[data-testid=rounds-table] tbody tr[data-round]").count() >= 1  # the demo's closed rounds
    screenshot(dept, "payouts-list-dept")
    # create a round from the first policy that has payees and no round yet
    options = dept.locator("[data-testid=create-policy] option").evaluate_all("els => els.map(e => e.value)")
    for value in [v for v in options if v]:
        dept.select_option("[data-testid=create-policy]", value)
        dept.click("[data-testid=create-round-submit]")
        dept.wait_for_load_state()
        if "/payouts/rounds/" in dept.url:
            break
        dept.goto(f"{base}/payouts")
    assert "/payouts/rounds/" in dept.url
    round_id = int(dept.url.split("/payouts/rounds/")[1].split("?")[0])
    assert "待复核" in dept.inner_text("[data-testid=round-status]")
    rows = dept.locator("[data-testid=items-table] tbody tr[data-item]")
    assert rows.count() >= 2
    first, second = rows.nth(0).get_attribute("data-item"), rows.nth(1).get_attribute("data-item")
    payee_uscc = rows.nth(1).locator("td").nth(1).locator(".hint").inner_text().strip()
    screenshot(dept, "payouts-round-review")
    # review: exclude one enterprise with a reason
    dept.fill(f"[data-testid=exclude-reason-{first}]", "企业已迁出本区，经复核不予兑现")
    dept.click(f"[data-testid=exclude-{first}]")
    dept.wait_for_selector("[data-testid=round-message]")
    assert dept.locator(f"tr[data-item='{first}']").get_attribute("data-status") == "excluded"
    # publicity (0 working days: it ends at once, so the test can go on)
    dept.fill("[data-testid=publicity-days]", "0")
    round_action(dept, "publicise")
    assert "公示中" in dept.inner_text("[data-testid=round-status]")

    # the public, without login: masked list, objection
    public = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN").new_page()
    public.goto(f"{base}/public/payouts")
    public.click(f"[data-testid=public-round-{round_id}]")
    public.wait_for_selector("[data-testid=public-list]")
    listing = public.inner_text("[data-testid=public-list]")
    assert payee_uscc not in listing and payee_uscc[:4] in listing and "*" in listing
    public.fill("[data-testid=objection-text]", "名单中有企业去年曾被列入经营异常名录，请核实是否符合条件。")
    public.click("[data-testid=objection-submit]")
    public.wait_for_selector("[data-testid=objection-lodged]")
    screenshot(public, "payouts-public-list")

    # the officer answers the objection
    dept.goto(f"{base}/payouts/rounds/{round_id}")
    objection = dept.locator("[data-objection]").first.get_attribute("data-objection")
    dept.fill(f"[data-testid=answer-{objection}]", "经与市场监管部门核实，该企业已移出经营异常名录，符合条件。")
    dept.click(f"[data-testid=answer-submit-{objection}]")
    dept.wait_for_selector("[data-testid=round-message]")
    assert "经与市场监管部门核实" in dept.inner_text("[data-testid=objections]")

    # the payee confirms another bank account in its portal
    create_enterprise_user(env, "payee", payee_uscc)
    payee = as_user(browser, base, "payee")
    payee.click("[data-section=my-payouts]")
    payee.wait_for_selector("[data-testid=my-items]")
    payee.click(f"[data-testid=change-account-{second}]")
    payee.fill(f"[data-testid=account-no-{second}]", "6228480000123456789")
    payee.fill(f"[data-testid=bank-name-{second}]", "中国农业银行杭州余杭支行")
    payee.click(f"[data-testid=change-account-submit-{second}]")
    payee.wait_for_selector("[data-testid=mine-message]")
    assert "6789" in payee.inner_text("[data-testid=my-items]")
    screenshot(payee, "payouts-portal-account")

    # accounts confirmed; the creator cannot approve (button hidden), a second person does
    round_action(dept, "confirm_accounts")
    assert dept.locator("[data-testid=approve-hidden]").is_visible()
    assert dept.locator("[data-testid=action-approve]").count() == 0
    screenshot(dept, "payouts-round-four-eyes")
    admin = as_user(browser, base, "admin")
    admin.goto(f"{base}/payouts/rounds/{round_id}")
    round_action(admin, "approve")
    assert "dept" not in admin.inner_text("[data-testid=round-approver]")

    # batch → bank file (GBK) → result file with one failure → retry → paid → close
    dept.goto(f"{base}/payouts/rounds/{round_id}")
    round_action(dept, "batch")
    batch = dept.locator("[data-batch]").first.get_attribute("data-batch")
    lines = download_lines(dept, f"export-gbk-{batch}", "gbk")
    assert len(lines) >= 1 and all(ln["收款账号"] for ln in lines)
    with dept.expect_download() as xlsx:
        dept.click(f"[data-testid=export-xlsx-{batch}]")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    failed_ref = lines[0]["明细编号"]
    rows = [[ln["明细编号"], ln["金额（元）"], "失败" if ln["明细编号"] == failed_ref else "成功",
             "收款账号户名不符" if ln["明细编号"] == failed_ref else "", f"BK{n:05d}"] for n, ln in enumerate(lines)]
    rows.append(["B999999-000001", "1.00", "成功", "", "BK99999"])  # a line that is not ours: reported, not applied
    dept.set_input_files("[data-testid=bank-file]", str(result_file(tmp_path, "回单1.csv", rows)))
    dept.click("[data-testid=action-reconcile]")
    dept.wait_for_selector("[data-testid=import-result]")
    assert dept.inner_text("[data-testid=rows-failed]") == "1"
    assert "B999999-000001" in dept.inner_text("[data-testid=import-errors]")
    screenshot(dept, "payouts-bank-result")
    round_action(dept, "retry")
    round_action(dept, "batch")
    batch2 = dept.locator("[data-batch]").last.get_attribute("data-batch")
    assert batch2 != batch
    (line,) = download_lines(dept, f"export-csv-{batch2}", "utf-8-sig")
    assert line["明细编号"] != failed_ref and line["统一社会信用代码"] == lines[0]["统一社会信用代码"]
    dept.set_input_files("[data-testid=bank-file]", str(result_file(
        tmp_path, "回单2.csv", [[line["明细编号"], line["金额（元）"], "成功", "", "BK10000"]])))
    dept.click("[data-testid=action-reconcile]")
    dept.wait_for_selector("[data-testid=import-result]")
    assert dept.inner_text("[data-testid=rows-paid]") == "1"
    round_action(dept, "close")
    assert "已结束" in dept.inner_text("[data-testid=round-status]")
    screenshot(dept, "payouts-round-closed")

    # the payee sees its payout paid
    payee.goto(f"{base}/payouts/mine")
    assert payee.inner_text(f"[data-testid=item-status-{second}]") == "已支付"
    screenshot(payee, "payouts-portal-paid")
    # the ledger is intact; statistics show the payments
    admin.goto(f"{base}/payouts/ledger")
    assert admin.inner_text("[data-testid=verify-status]") == "完整"
    admin.click("[data-section=payouts]")
    admin.click("[data-testid=link-stats]")
    admin.wait_for_selector("[data-testid=stats-table]")
    assert admin.locator("[data-testid=stats-table] tbody tr").count() >= 1
    screenshot(admin, "payouts-stats")


def test_instant_application_answered_at_once(browser, payout_server):
    from shengxin.policies.matching import open_results

    base, env, data_dir = payout_server
    admin = as_user(browser, base, "admin")
    instant = [p["id"] for p in admin.request.get(f"{base}/api/policies?delivery=instant_application").json()
               if p["live"]]
    if not instant:
        pytest.fail("the demo policy library has no live instant-application policy")
    con, _ = open_results(data_dir / "analytic")
    try:
        uscc, policy_id = con.execute(
            "SELECT uscc, policy_id FROM policy_results WHERE policy_id IN (SELECT unnest(?)) "
            "AND status IN ('eligible', 'missing_data') ORDER BY status DESC, uscc DESC LIMIT 1", [instant]).fetchone()
    finally:
        con.close()
    create_enterprise_user(env, "applicant", uscc)
    ent = as_user(browser, base, "applicant")
    ent.click("[data-section=my-payouts]")
    ent.click(f"[data-testid=apply-{policy_id}]")
    ent.wait_for_selector("[data-testid=apply-form]")
    assert uscc in ent.inner_text("[data-testid=apply-form]")  # pre-filled from its data
    # the policy's own declarations: a date typed in (the others are left for the reviewer to check)
    for field in ent.locator("input[type=date][data-testid^=input-]").all():
        field.fill("2025-06-30")
    screenshot(ent, "payouts-apply-form")
    if ent.locator("[data-testid=materials]").count():
        ent.set_input_files("[data-testid=materials]", files=[
            {"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% test material\n"}])
    ent.click("[data-testid=apply-submit]")
    ent.wait_for_selector("[data-testid=applied-notice]")
    status = ent.inner_text("[data-testid=application-status]")
    assert status in ("已进入支付队列", "不符合条件", "待人工审核")
    screenshot(ent, "payouts-apply-answer")
    if status == "待人工审核":
        assert ent.locator("[data-testid=application-due]").is_visible()  # a working-day deadline
        app_url = ent.url.split("?")[0]
        admin.goto(f"{base}/payouts/applications")
        admin.wait_for_selector("[data-testid=applications-table]")
        screenshot(admin, "payouts-applications-review")
        admin.goto(app_url)
        admin.check("[data-testid=decision-approve]")
        if "留空" not in admin.inner_text("[data-testid=review-form]"):
            admin.fill("[data-testid=review-amount]", "10000")
        admin.click("[data-testid=review-submit]")
        admin.wait_for_selector("[data-testid=application-status]")
        assert admin.inner_text("[data-testid=application-status]") == "审核通过"
        ent.goto(app_url)
        assert ent.inner_text("[data-testid=application-status]") == "审核通过"
