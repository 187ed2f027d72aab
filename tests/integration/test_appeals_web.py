"""Appeal pages and JSON API through the real app: intake, QR codes, scoping, uploads, stats."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from shengxin.accounts.demo import FALLBACK_DEMO_USCC
from shengxin.enterprises.uscc import make_code
from tests.integration.conftest import CSRF_RE, csrf_of

OTHER_USCC = make_code("9", "1", "330110", "MA5R2T8W4")
TEXT = "我司申请的人才公寓一直没有排上，新招的研发人员无处居住，请协调。"


def submit_form(c: TestClient, **fields):
    token = csrf_of(c, "/appeals/new")
    data = {"csrf_token": token, "description": TEXT, "town_code": "330110005"}
    data.update(fields)
    files = data.pop("files", None)
    return c.post("/appeals/new", data=data, files=files, follow_redirects=False)


def test_enterprise_submits_with_attachment_and_sees_its_timeline(as_role):
    ent = as_role("enterprise")
    r = submit_form(ent, subcategory_code="talent.housing",
                    files=[("attachments", ("申请表.pdf", b"%PDF-1.4 demo", "application/pdf"))])
    assert r.status_code == 303, r.text
    page = ent.get(r.headers["location"])
    assert page.status_code == 200 and "诉求已提交" in page.text and "申请表.pdf" in page.text
    assert "提交诉求" in page.text and "待受理" in page.text  # timeline and status in Chinese
    link = re.search(r'href="(/appeals/attachments/\d+)"', page.text).group(1)
    got = ent.get(link)
    assert got.status_code == 200 and got.content == b"%PDF-1.4 demo"
    # Another role without scope cannot download it.
    assert as_role("dept").get(link).status_code == 404
    listing = ent.get("/appeals")
    assert "我的诉求" in listing.text and "人才公寓" in listing.text


@pytest.mark.parametrize("fields, message", [
    ({"description": ""}, "请填写诉求内容"),
    ({"description": "很长" * 3000}, "超过上限"),
    ({"subcategory_code": "nope.nope"}, "unknown subcategory"),
    ({"files": [("attachments", ("tool.exe", b"MZ\x90", "application/octet-stream"))]}, "不支持的附件类型"),
    ({"files": [("attachments", ("photo.png", b"GIF89a", "image/png"))]}, "不符"),
])
def test_bad_form_input_is_explained_and_the_text_is_kept(as_role, fields, message):
    ent = as_role("enterprise")
    r = submit_form(ent, **{"contact_name": "王经理", **fields})
    assert r.status_code == 422
    assert message in r.text and 'value="王经理"' in r.text
    assert ent.get("/api/appeals").json() == []  # nothing half-stored


def test_html_in_text_is_escaped_on_display(as_role):
    ent = as_role("enterprise")
    r = submit_form(ent, description="<script>alert(1)</script><img src=x onerror=alert(2)> 厂区门口道路破损严重")
    page = ent.get(r.headers["location"]).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_staff_entry_for_phone_appeals(as_role):
    town = as_role("town")
    r = submit_form(town, channel="phone", enterprise_name="杭州戊食品有限公司", uscc=OTHER_USCC, town_code="")
    assert r.status_code == 303, r.text
    detail = town.get(r.headers["location"]).text
    assert "电话" in detail and "五常街道" in detail  # town staff's own town is filled in
    admin = as_role("admin")
    r = submit_form(admin, channel="fax", enterprise_name="x公司")
    assert r.status_code == 422 and "phone or walk_in" in r.text


def test_role_scoping_over_http(as_role):
    ent = as_role("enterprise")
    submit_form(ent)
    admin = as_role("admin")
    token = csrf_of(admin, "/")
    (mine,) = admin.get("/api/appeals").json()
    assert mine["uscc"] == FALLBACK_DEMO_USCC
    h = {"X-CSRF-Token": token}
    assert admin.post(f"/api/appeals/{mine['id']}/actions/accept", json={"subcategory_code": "talent.housing"},
                      headers=h).status_code == 200
    r = admin.post(f"/api/appeals/{mine['id']}/actions/assign", json={"lead_unit": "jxj", "co_units": ["sw"]}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "assigned" and r.json()["co_units"] == ["sw"]
    # dept (jxj) sees it, town (五常) sees it (its town), auditor sees it read-only.
    dept = as_role("dept")
    assert [a["code"] for a in dept.get("/api/appeals").json()] == [mine["code"]]
    assert "sign" in dept.get(f"/api/appeals/{mine['id']}").json()["actions"]
    assert as_role("town").get("/api/appeals").json()[0]["code"] == mine["code"]
    auditor = as_role("auditor")
    assert auditor.get(f"/api/appeals/{mine['id']}").json()["actions"] == []
    assert auditor.post(f"/api/appeals/{mine['id']}/actions/sign", json={},
                        headers={"X-CSRF-Token": csrf_of(auditor, "/")}).status_code == 403
    # The state machine answers 409 with the reason.
    r = admin.post(f"/api/appeals/{mine['id']}/actions/close", json={"outcome": "solved"}, headers=h)
    assert r.status_code == 409 and "assigned" in r.json()["error"]["message"]
    # Pages show the same scope.
    assert mine["code"] in dept.get("/appeals").text
    assert dept.get(f"/appeals/{mine['id']}").status_code == 200


def test_qr_code_binds_the_form_to_one_enterprise(as_role, client, app):
    admin = as_role("admin")
    token = csrf_of(admin, "/appeals/qr")
    r = admin.post("/appeals/qr", data={"csrf_token": token, "uscc": OTHER_USCC, "enterprise_name": "杭州己电子有限公司",
                                        "town_code": "330110009"}, follow_redirects=False)
    assert r.status_code == 303
    poster = admin.get(r.headers["location"])
    assert "<svg" in poster.text and "杭州己电子有限公司" in poster.text
    qr_url = re.search(r'href="(http://testserver/q/[^"]+)"', poster.text).group(1)
    png = admin.get(f"/appeals/qr/{OTHER_USCC}/code.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    path = qr_url.removeprefix("http://testserver")

    # Anyone with the code opens the form without logging in; it is bound to the enterprise.
    anon = TestClient(app, base_url="http://testserver")
    form = anon.get(path)
    assert form.status_code == 200 and "杭州己电子有限公司" in form.text
    csrf = CSRF_RE.search(form.text).group(1)
    done = anon.post(path, data={"csrf_token": csrf, "description": "厂区雨污管网堵塞，雨天倒灌，请协调处理。"})
    assert done.status_code == 200 and "诉求已提交" in done.text
    code = re.search(r'data-testid="appeal-code">(SQ\d+)<', done.text).group(1)
    got = admin.get("/api/appeals", params={"q": code}).json()[0]
    assert (got["uscc"], got["channel"], got["town_code"]) == (OTHER_USCC, "qr", "330110009")
    # The token cannot be edited, and it does not open anything else.
    assert anon.get(path[:-3] + "abc").status_code == 403
    assert anon.get("/appeals", follow_redirects=False).status_code == 303
    # Town staff of another town cannot print it; reissuing revokes the old code at once.
    assert as_role("town").get(f"/appeals/qr/{OTHER_USCC}").status_code == 404
    token = csrf_of(admin, "/appeals/qr")
    admin.post("/appeals/qr", data={"csrf_token": token, "uscc": OTHER_USCC, "enterprise_name": "杭州己电子有限公司",
                                    "town_code": "330110009"})
    assert anon.get(path).status_code == 403 and "作废" in anon.get(path).text
    # Bad input on issue is explained.
    r = admin.post("/appeals/qr", data={"csrf_token": token, "uscc": "123", "enterprise_name": "x"})
    assert r.status_code == 422 and "无效" in r.text


def test_workday_override_upload_recomputes_and_is_audited(as_role):
    admin = as_role("admin")
    token = csrf_of(admin, "/appeals/workdays")
    page = admin.get("/appeals/workdays").text
    assert "工作日历" in page
    bad = admin.post("/appeals/workdays", data={"csrf_token": token},
                     files={"file": ("2027.yaml", b"year: 2027\nworkdays: [2027-01-04]\n", "text/yaml")})
    assert bad.status_code == 422 and "Saturday or Sunday" in bad.text
    ok = admin.post("/appeals/workdays", data={"csrf_token": token},
                    files={"file": ("2027.yaml", "year: 2027\nsource: 测试\nholidays:\n  - {date: 2027-01-01, name: 元旦}\n"
                                    .encode(), "text/yaml")})
    assert ok.status_code == 200 and "已载入 2027 年第 1 版" in ok.text
    cov = admin.get("/api/workdays/coverage", params={"years": "2027"}).json()[0]
    assert cov["source"] == "override" and cov["provisional"] is False and cov["holidays"] == 1
    audit = admin.get("/audit", params={"action": "workdays.override.load"}).text
    assert "workdays.override.load" in audit
    # The auditor reads the page but cannot upload.
    auditor = as_role("auditor")
    assert auditor.get("/appeals/workdays").status_code == 200
    assert auditor.post("/appeals/workdays", data={"csrf_token": csrf_of(auditor, "/")}).status_code == 403


def test_api_keys_page_shows_a_key_once(as_role):
    admin = as_role("admin")
    token = csrf_of(admin, "/appeals/keys")
    r = admin.post("/appeals/keys", data={"csrf_token": token, "name": "12345-热线"})
    key = re.search(r'data-testid="new-key">(sx_[^<]+)<', r.text).group(1)
    assert key not in admin.get("/appeals/keys").text
    assert admin.get("/api/open311/v2/services.json", params={"api_key": key}).status_code == 200
    r = admin.post("/appeals/keys", data={"csrf_token": token, "name": "12345-热线"})
    assert r.status_code == 422 and "exists" in r.text


def test_statistics_endpoint_and_page(as_role):
    ent = as_role("enterprise")
    submit_form(ent, subcategory_code="tax.refund")
    admin = as_role("admin")
    for by in ("unit", "town", "category", "month"):
        r = admin.get("/api/appeals/stats", params={"by": by})
        assert r.status_code == 200
    rows = admin.get("/api/appeals/stats", params={"by": "category"}).json()
    assert rows[0]["key"] == "tax" and rows[0]["appeals"] == 1 and rows[0]["label"] == "税费服务"
    assert set(rows[0]) == {"key", "label", "appeals", "closed", "avg_working_days", "on_time_rate",
                            "satisfaction_rate", "reopen_rate", "bounce_rate"}
    assert admin.get("/api/appeals/stats", params={"by": "colour"}).status_code == 422
    assert "诉求统计" in admin.get("/appeals/stats?by=town").text
    assert as_role("town").get("/api/appeals/stats").status_code == 403
    assert as_role("enterprise").get("/appeals/stats").status_code == 403


def test_staff_see_the_suggestion_pending_until_the_classifier_fills_it_in(as_role, app, session_factory):
    from shengxin.appeals.suggestions import classify_all_pending

    ent = as_role("enterprise")
    r = submit_form(ent, description="园区上周三次停电，生产线被迫停工，请尽快协调供电部门恢复稳定供电。")
    assert r.status_code == 303, r.text
    admin = as_role("admin")
    page = admin.get(r.headers["location"])
    assert "分类建议生成中" in page.text and "系统建议" not in page.text
    appeal_id = int(r.headers["location"].rstrip("/").split("/")[-1].split("?")[0])
    assert admin.get(f"/api/appeals/{appeal_id}").json()["suggestion_pending"] is True
    assert "分类建议生成中" not in ent.get(r.headers["location"]).text  # enterprises never see suggestions

    assert classify_all_pending(session_factory, app.state.settings.data_dir) >= 1  # the worker's job
    page = admin.get(r.headers["location"])
    assert "系统建议：用电" in page.text and "分类建议生成中" not in page.text
    detail = admin.get(f"/api/appeals/{appeal_id}").json()
    assert detail["suggestion_pending"] is False and detail["suggestion"]["subcategory_code"] == "utilities.power"
