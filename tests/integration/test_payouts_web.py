"""Payout pages and API through the real app on SQLite and PostgreSQL: the staff round workflow
step by step with the right role (and the wrong role, town, department or enterprise refused),
four eyes in the web, the bank files downloaded and the bank's result file uploaded with row-level
errors, the enterprise portal, the public publicity list (masked) and its objection form."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from shengxin.accounts.demo import DEMO_PASSWORD, FALLBACK_DEMO_USCC
from shengxin.accounts.models import User
from shengxin.accounts.roles import Role
from shengxin.accounts.service import UserCreate, create_user, get_principal
from shengxin.audit.service import Actor
from shengxin.enterprises.uscc import make_code
from shengxin.payouts import bankfile, rounds
from shengxin.policies import service as policies
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.reference.district import load_district
from tests.integration.conftest import csrf_of, login
from tests.integration.test_policies_store import text as policy_text

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)
TOWN_A, TOWN_B = DISTRICT.towns[0].code, DISTRICT.towns[1].code
ENT = FALLBACK_DEMO_USCC  # the demo "enterprise" account's company is a payee
B = make_code("9", "1", "330110", "MA2H8K9X2")
C = make_code("9", "1", "330110", "MA2H8K9X3")
OTHER = make_code("9", "1", "330110", "MA2H8K9X4")  # an enterprise with no payout
PAYEES = {ENT: ("演示企业", TOWN_A, 5_000_000), B: ("乙企业有限公司", TOWN_A, 3_000_000),
          C: ("丙企业有限公司", TOWN_B, 2_000_050)}


@pytest.fixture
def world(app, session_factory):
    """A published no-application policy of department jxj and a round created by ``dept`` (jxj),
    plus a second jxj officer, an officer of another department and an enterprise with no payout."""
    with session_factory() as s:
        body = policy_text().replace("id: TEST-REV", "id: TEST-WEB")
        policies.import_published(s, body, Actor("test"), DISTRICT)
        for data in (UserCreate("dept2", DEMO_PASSWORD, "经信局乙", Role.DEPARTMENT, department_code="jxj"),
                     UserCreate("kjj", DEMO_PASSWORD, "科技局", Role.DEPARTMENT, department_code="kjj"),
                     UserCreate("ent2", DEMO_PASSWORD, "无兑现企业", Role.ENTERPRISE, uscc=OTHER)):
            create_user(s, data, DISTRICT, Actor("test"))
        dept = get_principal(s, s.scalar(select(User.id).where(User.username == "dept")))
        rows = [{"uscc": u, "name": n, "town": t, "amount_fen": a} for u, (n, t, a) in PAYEES.items()]
        r = rounds.create_round_from_rows(s, "TEST-WEB", rows, dept, as_of=dt.date(2026, 10, 31),
                                          match_snapshot="web-test")
        items = {i.uscc: i.id for i in rounds.list_items(s, r.id, dept, page_size=100)[0]}
        s.commit()
    return {"round": r.id, "items": items}


@pytest.fixture
def user(as_role):
    return as_role


def post(c, url: str, data: dict | None = None, files=None, csrf_page: str = "/"):
    return c.post(url, data={**(data or {}), "csrf_token": csrf_of(c, csrf_page)}, files=files, follow_redirects=False)


def act(c, round_id: int, action: str, **data):
    return post(c, f"/payouts/rounds/{round_id}/action", {"action": action, **data})


def result_csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(bankfile.RESULT_COLUMNS)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def exported_lines(c, batch_id: int) -> list[dict]:
    r = c.get(f"/payouts/batches/{batch_id}/export?fmt=csv&encoding=gbk")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    text = r.content.decode("gbk")
    assert text.startswith("序号,明细编号")
    return list(csv.DictReader(io.StringIO(text)))


def _accounts_on_file(w) -> None:
    """Accounts on file for the payees other than the demo enterprise (staff import them)."""
    from shengxin.payouts import accounts

    app = w["app"]
    with app.state.sessionmaker() as s:
        admin = get_principal(s, s.scalar(select(User.id).where(User.username == "admin")))
        for n, u in enumerate((B, C)):
            accounts.set_account(s, admin, u, account_name=PAYEES[u][0], account_no=f"62170000111{n}88",
                                 bank_name="农业银行余杭支行")
        s.commit()


@pytest.fixture
def w(world, app):
    return {**world, "app": app}


def test_review_and_exclusion_with_the_right_roles(user, w):
    rid = w["round"]
    dept, town, auditor, ent, kjj = user("dept"), user("town"), user("auditor"), user("enterprise"), user("kjj")
    listing = dept.get("/payouts")
    assert listing.status_code == 200 and "TEST-WEB" in listing.text and 'data-round="%d"' % rid in listing.text
    page = dept.get(f"/payouts/rounds/{rid}")
    assert page.status_code == 200 and "兑现明细" in page.text and 'data-testid="action-publicise"' in page.text
    assert "50,000.00" in page.text and "20,000.50" in page.text  # integer fen shown as yuan, exactly
    # exclusion needs a reason; the page says so and nothing changes
    item = w["items"][C]
    bad = post(dept, f"/payouts/items/{item}/exclude", {"reason": " "})
    assert bad.status_code == 422 and "排除企业须填写原因" in bad.text
    assert post(dept, f"/payouts/items/{item}/exclude", {"reason": "已迁出本区"}).status_code == 303
    page = dept.get(f"/payouts/rounds/{rid}?status=excluded")
    assert f'data-item="{item}" data-status="excluded"' in page.text and "已迁出本区" in page.text
    assert post(dept, f"/payouts/items/{item}/exclude", {"undo": "1"}).status_code == 303
    # town staff read their own town's items only, and cannot act
    tpage = town.get(f"/payouts/rounds/{rid}")
    assert tpage.status_code == 200 and B in tpage.text and C not in tpage.text
    assert "仅显示本镇街企业" in tpage.text and 'data-testid="action-publicise"' not in tpage.text
    assert act(town, rid, "publicise").status_code == 403
    assert C not in town.get(f"/api/payouts/rounds/{rid}/items").text
    # the auditor reads everything and changes nothing
    assert C in auditor.get(f"/payouts/rounds/{rid}").text
    assert act(auditor, rid, "publicise").status_code == 403
    assert post(auditor, f"/payouts/items/{item}/exclude", {"reason": "x"}).status_code == 403
    # another department's officer reads but may not act on this policy's round
    assert 'data-testid="action-publicise"' not in kjj.get(f"/payouts/rounds/{rid}").text
    assert act(kjj, rid, "publicise").status_code == 403
    # enterprises never see rounds
    assert ent.get(f"/payouts/rounds/{rid}").status_code == 403
    assert ent.get(f"/api/payouts/rounds/{rid}", headers={"accept": "application/json"}).status_code == 403
    # CSRF: a form post without the token is refused
    assert dept.post(f"/payouts/rounds/{rid}/action", data={"action": "publicise"}).status_code == 403


def test_public_list_is_masked_and_takes_objections(user, w, client):
    rid, dept = w["round"], user("dept")
    assert client.get(f"/public/payouts/{rid}").status_code == 404  # not in publicity yet
    assert act(dept, rid, "publicise", days="abc").status_code == 422
    assert act(dept, rid, "publicise", days="5").status_code == 303
    listing = client.get("/public/payouts")
    assert listing.status_code == 200 and f'data-testid="public-round-{rid}"' in listing.text
    page = client.get(f"/public/payouts/{rid}")
    assert page.status_code == 200 and "乙企业有限公司" in page.text
    for uscc in PAYEES:  # never the full code, never an account
        assert uscc not in page.text and uscc[:4] + "*" in page.text
    assert "6222" not in page.text
    # objection: CSRF needed, bad input says what is wrong and keeps the text, a good one is recorded
    assert client.post(f"/public/payouts/{rid}/objection", data={"text": "这家企业已经停产"}).status_code == 403
    token = csrf_of(client, f"/public/payouts/{rid}")
    short = client.post(f"/public/payouts/{rid}/objection", data={"text": "短", "csrf_token": token})
    assert short.status_code == 422 and "5–2000" in short.text
    ref = client.post(f"/public/payouts/{rid}/objection",
                      data={"text": "该企业已迁出本区，不应享受", "item_ref": "P999999", "csrf_token": token})
    assert ref.status_code == 422 and "P999999" in ref.text and "该企业已迁出本区" in ref.text
    ok = client.post(f"/public/payouts/{rid}/objection",
                     data={"text": "该企业已迁出本区，不应享受", "item_ref": f"P{w['items'][C]:06d}",
                           "contact": "13800000000", "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303 and client.get(ok.headers["location"]).text.count("您的异议已提交") == 1
    # one client cannot flood the list: the domain's limit per window answers 429 with a message
    limit = w["app"].state.settings.payout_objections_per_window
    codes = [client.post(f"/public/payouts/{rid}/objection", data={"text": f"重复提交的异议第{n}条", "csrf_token": token},
                         follow_redirects=False).status_code for n in range(limit)]
    assert codes[-1] == 429 and set(codes[:limit - 1]) == {303}
    assert "提交过于频繁" in client.post(f"/public/payouts/{rid}/objection",
                                   data={"text": "再提交一条异议内容", "csrf_token": token}).text
    # staff see it and answer it; the answer is shown
    page = dept.get(f"/payouts/rounds/{rid}")
    assert "该企业已迁出本区" in page.text and "13800000000" in page.text
    oid = int(page.text.split('data-objection="')[1].split('"')[0])
    assert post(user("auditor"), f"/payouts/objections/{oid}/answer", {"round_id": rid, "answer": "x"}).status_code == 403
    empty = post(dept, f"/payouts/objections/{oid}/answer", {"round_id": rid, "answer": " "})
    assert empty.status_code == 422 and "答复内容不能为空" in empty.text
    assert post(dept, f"/payouts/objections/{oid}/answer",
                {"round_id": rid, "answer": "经核实该企业仍在本区经营"}).status_code == 303
    assert "经核实该企业仍在本区经营" in dept.get(f"/payouts/rounds/{rid}").text


def test_enterprise_portal_confirms_its_own_account_only(user, w):
    rid, ent, ent2 = w["round"], user("enterprise"), user("ent2")
    mine = ent.get("/payouts/mine")
    assert mine.status_code == 200 and "50,000.00" in mine.text and "乙企业" not in mine.text
    own, other = w["items"][ENT], w["items"][B]
    bad = post(ent, f"/payouts/mine/items/{own}/account",
               {"mode": "change", "account_name": "演示企业", "account_no": "12ab", "bank_name": "工商银行"})
    assert bad.status_code == 422 and "账号" in bad.text
    # another enterprise's item: refused (not found for it), nothing changes
    assert post(ent, f"/payouts/mine/items/{other}/account",
                {"mode": "change", "account_name": "x", "account_no": "62220212345678", "bank_name": "x"}
                ).status_code in (403, 404)
    assert post(ent2, f"/payouts/mine/items/{own}/account", {"mode": "confirm"}).status_code in (403, 404)
    ok = post(ent, f"/payouts/mine/items/{own}/account",
              {"mode": "change", "account_name": "演示企业", "account_no": "6222021234567890", "bank_name": "工商银行余杭支行"})
    assert ok.status_code == 303
    mine = ent.get("/payouts/mine")
    assert "已确认" in mine.text and "************7890" in mine.text and "6222021234567890" not in mine.text
    api = ent.get("/api/payouts/mine").json()
    assert [i["uscc"] for i in api["items"]] == [ENT] and "account_no" not in api["items"][0]["account"]
    assert ent2.get("/api/payouts/mine").json()["items"] == []
    assert user("dept").get("/payouts/mine").status_code == 403
    # staff see that the enterprise confirmed it
    assert "企业已确认" in user("dept").get(f"/payouts/rounds/{rid}").text


def test_four_eyes_in_the_web(user, w):
    rid = w["round"]
    dept, dept2, admin = user("dept"), user("dept2"), user("admin")
    _accounts_on_file(w)
    post(user("enterprise"), f"/payouts/mine/items/{w['items'][ENT]}/account",
         {"mode": "change", "account_name": "演示企业", "account_no": "6222021234567890", "bank_name": "工商银行"})
    assert act(dept, rid, "publicise", days="0").status_code == 303
    early = act(dept2, rid, "approve")
    assert early.status_code == 409 and "公示中" in early.text  # still in publicity
    assert act(dept, rid, "confirm_accounts").status_code == 303
    page = dept.get(f"/payouts/rounds/{rid}")
    assert 'data-testid="approve-hidden"' in page.text and 'data-testid="action-approve"' not in page.text
    refused = act(dept, rid, "approve")  # the creator: the server refuses too
    assert refused.status_code == 403 and "不能审批" in refused.text
    assert 'data-testid="action-approve"' in dept2.get(f"/payouts/rounds/{rid}").text
    assert act(dept2, rid, "approve").status_code == 303
    page = admin.get(f"/payouts/rounds/{rid}")
    assert 'data-testid="round-approver">dept2' in page.text and "已审批" in page.text


def test_batch_bank_files_result_upload_retry_close_and_clawback(user, w, monkeypatch):
    rid = w["round"]
    dept, admin, auditor, town = user("dept"), user("admin"), user("auditor"), user("town")
    _accounts_on_file(w)
    post(user("enterprise"), f"/payouts/mine/items/{w['items'][ENT]}/account",
         {"mode": "change", "account_name": "演示企业", "account_no": "6222021234567890", "bank_name": "工商银行"})
    assert act(dept, rid, "publicise", days="0").status_code == 303
    assert act(dept, rid, "confirm_accounts").status_code == 303
    assert act(admin, rid, "approve").status_code == 303
    assert act(dept, rid, "batch").status_code == 303
    info = dept.get(f"/api/payouts/rounds/{rid}").json()
    assert info["status"] == "paying" and len(info["batches"]) == 1
    bid = info["batches"][0]["id"]
    # the bank files: managers only
    lines = exported_lines(dept, bid)
    assert {ln["统一社会信用代码"] for ln in lines} == set(PAYEES)
    assert {ln["金额（元）"] for ln in lines} == {"50000.00", "30000.00", "20000.50"}
    xlsx = dept.get(f"/payouts/batches/{bid}/export?fmt=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    utf8 = dept.get(f"/payouts/batches/{bid}/export?fmt=csv&encoding=utf-8")
    assert utf8.content.startswith(b"\xef\xbb\xbf")
    assert dept.get(f"/payouts/batches/{bid}/export?fmt=pdf").status_code == 422
    for c in (auditor, town, user("enterprise"), user("kjj")):
        assert c.get(f"/payouts/batches/{bid}/export").status_code == 403
    ref = {ln["统一社会信用代码"]: ln["明细编号"] for ln in lines}
    # result file: one paid, one failed, one bad amount, one unknown line — valid rows applied, bad ones listed
    content = result_csv([[ref[ENT], "50000.00", "成功", "", "BK001"],
                          [ref[B], "30000.00", "失败", "账户已销户", ""],
                          [ref[C], "20000.00", "成功", "", "BK003"],
                          ["B999-000001", "1.00", "成功", "", "BK004"]], encoding="gbk")
    page = post(dept, f"/payouts/rounds/{rid}/reconcile", files={"file": ("回单.csv", content, "text/csv")})
    assert page.status_code == 200, page.text
    assert 'data-testid="rows-paid">1<' in page.text and 'data-testid="rows-failed">1<' in page.text
    errors = page.text.split('data-testid="import-errors"')[1].split("</table>")[0]
    assert '<td class="num">4</td><td>金额（元）</td>' in errors and "应为 20000.50 元" in errors  # file line 4
    assert '<td class="num">5</td><td>明细编号</td><td>B999-000001</td>' in errors
    again = post(dept, f"/payouts/rounds/{rid}/reconcile", files={"file": ("回单.csv", content, "text/csv")})
    assert 'data-testid="already-imported"' in again.text
    assert post(auditor, f"/payouts/rounds/{rid}/reconcile", files={"file": ("a.csv", content, "text/csv")}
                ).status_code == 403
    empty = post(dept, f"/payouts/rounds/{rid}/reconcile", files={"file": ("", b"", "text/csv")})
    assert empty.status_code == 422 and "请选择银行回单文件" in empty.text
    monkeypatch.setattr(w["app"].state.settings, "payout_bank_file_max_bytes", 64)
    big = post(dept, f"/payouts/rounds/{rid}/reconcile", files={"file": ("big.csv", b"x" * 65, "text/csv")})
    assert big.status_code == 413 and "拆分" in big.text
    monkeypatch.undo()
    fixed = result_csv([[ref[C], "20000.50", "成功", "", "BK003"]])
    assert 'data-testid="rows-paid">1<' in post(dept, f"/payouts/rounds/{rid}/reconcile",
                                                 files={"file": ("fix.csv", fixed, "text/csv")}).text
    # the failed item: retry into a new batch, paid; then the round closes
    cancel = act(dept, rid, "cancel", reason="")
    assert cancel.status_code == 422 and "取消须填写原因" in cancel.text
    early = act(dept, rid, "close")
    assert early.status_code == 409
    assert act(dept, rid, "retry").status_code == 303
    assert act(dept, rid, "batch").status_code == 303
    second = dept.get(f"/api/payouts/rounds/{rid}").json()["batches"][-1]["id"]
    (line,) = exported_lines(dept, second)
    assert line["统一社会信用代码"] == B
    paid = result_csv([[line["明细编号"], "30000.00", "成功", "", "BK010"]])
    assert 'data-testid="rows-paid">1<' in post(dept, f"/payouts/rounds/{rid}/reconcile",
                                                 files={"file": ("r2.csv", paid, "text/csv")}).text
    assert act(dept, rid, "close").status_code == 303
    page = dept.get(f"/payouts/rounds/{rid}")
    assert 'data-testid="round-status">已结束' in page.text
    # clawback of a paid item needs a reason
    item = w["items"][C]
    assert post(dept, f"/payouts/items/{item}/clawback", {"reason": ""}).status_code == 422
    assert post(town, f"/payouts/items/{item}/clawback", {"reason": "x"}).status_code == 403
    assert post(dept, f"/payouts/items/{item}/clawback", {"reason": "事后核查发现不符合条件"}).status_code == 303
    assert f'data-item="{item}" data-status="clawed_back"' in dept.get(f"/payouts/rounds/{rid}").text
    # the enterprise sees its payout paid
    assert 'data-testid="item-status-%d">已支付' % w["items"][ENT] in user("enterprise").get("/payouts/mine").text
    # ledger check, statistics
    ledger = auditor.get("/payouts/ledger")
    assert ledger.status_code == 200 and 'data-testid="verify-status">完整' in ledger.text and "TEST-WEB" in ledger.text
    assert "<title>资金台账 · " in ledger.text and ledger.text.count('data-testid="imports"') <= 1
    assert town.get("/payouts/ledger").status_code == 403
    assert auditor.get("/api/payouts/ledger").json()["verify"]["ok"] is True
    stats = auditor.get("/payouts/stats?by=policy&by=town")
    assert stats.status_code == 200 and 'data-testid="total-payees">2<' in stats.text  # C was clawed back
    assert "80,000.00" in stats.text
    assert auditor.get("/payouts/stats?by=colour").status_code == 422
    rows = town.get("/api/payouts/stats?by=town").json()
    assert {r["town"] for r in rows} == {TOWN_A}
    # the cockpit shows the paid money (town staff: their town's only)
    assert 'data-kpi="payouts"' in auditor.get("/cockpit").text
    tiles = {t["key"]: t for t in town.get("/api/cockpit").json()["tiles"]}
    assert tiles["payouts"]["value"] == 8_000_000 and "2 家企业" in tiles["payouts"]["hint"]


@pytest.fixture
def instant_world(district_data, session_factory, tmp_path):
    """The app over the synthetic district with the real policy library matched, and an enterprise user
    whose answer for the instant-application policy HZ-GRAD needs its own declarations (missing data)."""
    from shengxin.config import Settings
    from shengxin.policies import matching
    from shengxin.policies.library import real_policy_files
    from shengxin.web.app import create_app
    from tests.conftest import TEST_SECRET
    from shengxin.accounts.demo import ensure_demo_accounts

    _, data_dir = district_data
    data = tmp_path / "data"
    (data / "analytic").mkdir(parents=True)
    (data / "analytic" / "hub").symlink_to(data_dir / "analytic" / "hub", target_is_directory=True)
    settings = Settings(data_dir=data, secret_key=TEST_SECRET)
    with session_factory() as s:
        ensure_demo_accounts(s, DISTRICT, demo_mode=True)
        for _, t in real_policy_files():
            policies.import_published(s, t, Actor("test"), DISTRICT)
        matching.run_match(s, DISTRICT, settings.analytic_dir)
        con, _ = matching.open_results(settings.analytic_dir)
        uscc, other = [r[0] for r in con.execute(
            "SELECT uscc FROM policy_results WHERE policy_id = 'HZ-GRAD' AND status = 'missing_data' "
            "ORDER BY uscc LIMIT 2").fetchall()]
        con.close()
        create_user(s, UserCreate("grad", DEMO_PASSWORD, "申请企业", Role.ENTERPRISE, uscc=uscc), DISTRICT, Actor("t"))
        create_user(s, UserCreate("grad2", DEMO_PASSWORD, "另一企业", Role.ENTERPRISE, uscc=other), DISTRICT, Actor("t"))
        s.commit()
    return {"app": create_app(settings, session_factory), "uscc": uscc}


def test_instant_application_from_the_portal_to_the_reviewer(instant_world):
    from fastapi.testclient import TestClient

    def client(name):
        c = TestClient(instant_world["app"], base_url="http://testserver")
        assert login(c, name).status_code == 303
        return c

    ent, other, admin, town = client("grad"), client("grad2"), client("admin"), client("town")
    mine = ent.get("/payouts/mine")
    assert mine.status_code == 200 and 'data-testid="apply-HZ-GRAD"' in mine.text and "需补充信息" in mine.text
    form = ent.get("/payouts/apply/HZ-GRAD")
    assert form.status_code == 200 and instant_world["uscc"] in form.text  # pre-filled from its data
    assert "毕业证书" in form.text and "学历学位" in form.text and 'type="date"' in form.text
    assert town.get("/payouts/apply/HZ-GRAD").status_code == 403
    fields = {"in_degree": "硕士", "in_graduation_date": "2025-06-30"}
    # materials are required: refused with the reason, the declarations kept
    missing = post(ent, "/payouts/apply/HZ-GRAD", fields)
    assert missing.status_code == 422 and "申报材料" in missing.text and 'value="2025-06-30"' in missing.text
    exe = post(ent, "/payouts/apply/HZ-GRAD", fields, files={"materials": ("毕业证书.pdf", b"MZ\x90\x00", "application/pdf")})
    assert exe.status_code == 422 and "不符" in exe.text
    pdf = b"%PDF-1.4\n% diploma\n"
    done = post(ent, "/payouts/apply/HZ-GRAD", fields, files={"materials": ("毕业证书.pdf", pdf, "application/pdf")})
    assert done.status_code == 303, done.text
    url = done.headers["location"].split("?")[0]
    page = ent.get(done.headers["location"])
    # the yes/no conditions are the applicant's own declarations the data cannot prove: a reviewer decides,
    # with a working-day deadline
    assert 'data-testid="application-status">待人工审核' in page.text and 'data-testid="application-due"' in page.text
    assert "毕业证书.pdf" in page.text
    app_id = int(url.rsplit("/", 1)[1])
    file_link = page.text.split(f'href="/payouts/applications/{app_id}/files/')[1].split('"')[0]
    got = ent.get(f"{url}/files/{file_link}")
    assert got.status_code == 200 and got.content == pdf
    # scope: another enterprise and town staff cannot see it
    assert other.get(url).status_code in (403, 404)
    assert other.get(f"{url}/files/{file_link}").status_code in (403, 404)
    assert town.get(url).status_code == 403
    assert town.get("/payouts/applications").status_code == 403
    # the reviewer's list and decision
    queue = admin.get("/payouts/applications")
    assert queue.status_code == 200 and f'data-application="{app_id}"' in queue.text
    assert 'data-testid="review-form"' not in ent.get(url).text
    assert post(ent, f"{url}/review", {"decision": "approve"}).status_code == 403
    no_reason = post(admin, f"{url}/review", {"decision": "reject", "reason": ""})
    assert no_reason.status_code == 422 and "须填写原因" in no_reason.text
    bad_amount = post(admin, f"{url}/review", {"decision": "approve", "amount": "12.345"})
    assert bad_amount.status_code == 422 and "最多两位小数" in bad_amount.text
    ok = post(admin, f"{url}/review", {"decision": "approve", "amount": "5,000", "reason": "材料齐全，核实无误"})
    assert ok.status_code == 303, ok.text
    page = ent.get(url)
    assert 'data-testid="application-status">审核通过' in page.text and "5,000.00" in page.text
    assert post(admin, f"{url}/review", {"decision": "approve", "amount": "5000"}).status_code == 409
    api = ent.get("/api/payouts/mine").json()
    assert [a["status"] for a in api["applications"]] == ["approved"]
    assert any(i["application_id"] == app_id and i["amount_fen"] == 500_000 for i in api["items"])


def test_an_item_without_account_is_cancelled_by_hand_then_the_round_closes(user, w):
    rid, dept, admin = w["round"], user("dept"), user("admin")
    from shengxin.payouts import accounts

    with w["app"].state.sessionmaker() as s:  # only B has an account on file; ENT and C have none
        boss = get_principal(s, s.scalar(select(User.id).where(User.username == "admin")))
        accounts.set_account(s, boss, B, account_name=PAYEES[B][0], account_no="6217000011188", bank_name="农业银行")
        s.commit()
    for step, who in (("publicise", dept), ("confirm_accounts", dept), ("approve", admin), ("batch", dept)):
        assert act(who, rid, step, days="0").status_code == 303, step
    page = dept.get(f"/payouts/rounds/{rid}")
    assert "无收款账户</dt><dd>2 家" in page.text
    stuck = w["items"][C]
    assert f'data-item="{stuck}" data-status="approved"' in page.text and f'data-testid="cancel-{stuck}"' in page.text
    assert 'data-testid="action-close"' not in page.text  # items still open
    no_reason = act(dept, rid, "cancel", item_ids=str(stuck), reason=" ")
    assert no_reason.status_code == 422
    assert act(dept, rid, "cancel", item_ids=str(stuck), reason="企业未提供收款账户").status_code == 303
    assert act(dept, rid, "cancel", item_ids=str(w["items"][ENT]), reason="企业未提供收款账户").status_code == 303
    page = dept.get(f"/payouts/rounds/{rid}?status=cancelled")
    assert page.text.count('data-status="cancelled"') == 2 and "企业未提供收款账户" in page.text
    (line,) = exported_lines(dept, dept.get(f"/api/payouts/rounds/{rid}").json()["batches"][0]["id"])
    paid = result_csv([[line["明细编号"], line["金额（元）"], "成功", "", "BK1"]])
    assert 'data-testid="rows-paid">1<' in post(dept, f"/payouts/rounds/{rid}/reconcile",
                                                 files={"file": ("r.csv", paid, "text/csv")}).text
    assert 'data-testid="action-close"' in dept.get(f"/payouts/rounds/{rid}").text
    assert act(dept, rid, "close").status_code == 303
    # the budget released by the cancellations is back: committed = paid = B's amount
    (bal,) = [b for b in admin.get("/api/payouts/ledger").json()["balances"] if b["policy_id"] == "TEST-WEB"]
    assert bal["committed_fen"] == bal["paid_fen"] == PAYEES[B][2]


def test_staff_import_accounts_on_file_with_row_errors(user, w):
    dept, auditor = user("dept"), user("auditor")
    body = ("统一社会信用代码,收款户名,收款账号,开户银行\r\n"
            f"{B},乙企业有限公司,6217 0000 1111 88,农业银行余杭支行\r\n"
            f"{C},丙企业有限公司,12ab,农业银行\r\n").encode("gbk")
    page = post(dept, "/payouts/accounts/import", files={"file": ("账户.csv", body, "text/csv")})
    assert page.status_code == 200 and "新增 1 个" in page.text
    errors = page.text.split('data-testid="accounts-errors"')[1].split("</table>")[0]
    assert '<td class="num">3</td>' in errors and "12ab" in errors
    assert post(auditor, "/payouts/accounts/import", files={"file": ("a.csv", body, "text/csv")}).status_code == 403
    assert post(dept, "/payouts/accounts/import", files={"file": ("", b"", "text/csv")}).status_code == 422
    from shengxin.payouts import accounts

    with w["app"].state.sessionmaker() as s:
        assert accounts.account_on_file(s, B).account_no == "62170000111188"
        assert accounts.account_on_file(s, C) is None  # the bad row stored nothing
