"""Policy pages and API through the real app: the enterprise's "my policies", the staff policy
page (town staff see their town only), the officers' editor (validate, test, impact, save, publish),
explanations and their scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shengxin.accounts.demo import DEMO_PASSWORD, ensure_demo_accounts
from shengxin.accounts.roles import Role
from shengxin.accounts.service import UserCreate, create_user
from shengxin.audit.service import Actor
from shengxin.config import Settings
from shengxin.policies import matching
from shengxin.policies import service
from shengxin.policies.library import real_policy_files
from shengxin.policies.library.generate import dump, generate
from shengxin.reference.district import load_district
from shengxin.web.app import create_app
from tests.conftest import TEST_SECRET
from tests.integration.conftest import csrf_of, login
from tests.integration.test_policies_store import SIMPLE


@pytest.fixture
def world(district_data, session_factory, tmp_path):
    """The app over the synthetic district with the real library and 16 demo policies matched, and an enterprise
    user bound to an enterprise that qualifies for at least one policy."""
    _, data_dir = district_data
    data = tmp_path / "data"
    (data / "analytic").mkdir(parents=True)
    (data / "analytic" / "hub").symlink_to(data_dir / "analytic" / "hub", target_is_directory=True)
    settings = Settings(data_dir=data, secret_key=TEST_SECRET)
    district = load_district(settings.district_file)
    with session_factory() as s:
        ensure_demo_accounts(s, district, demo_mode=True)
        for t in [t for _, t in real_policy_files()] + [dump(p) for p in generate(3, 16, 8)]:
            service.import_published(s, t, Actor("test"), district)
        snap = matching.run_match(s, district, settings.analytic_dir)
        con, _ = matching.open_results(settings.analytic_dir)
        uscc, town = con.execute("SELECT uscc, town FROM policy_results WHERE status = 'eligible' AND town = ? "
                                 "ORDER BY uscc LIMIT 1", [district.towns[0].code]).fetchone()
        policy_id = con.execute("SELECT policy_id FROM policy_results WHERE uscc = ? AND status = 'eligible' "
                                "ORDER BY policy_id LIMIT 1", [uscc]).fetchone()[0]
        other = con.execute("SELECT uscc FROM policy_results WHERE town <> ? LIMIT 1", [town]).fetchone()[0]
        con.close()
        create_user(s, UserCreate("ent1", DEMO_PASSWORD, "企业用户", Role.ENTERPRISE, uscc=uscc), district, Actor("test"))
        s.commit()
    app = create_app(settings, session_factory)
    return {"app": app, "uscc": uscc, "town": town, "policy": policy_id, "other": other, "snap": snap}


def client(world, username: str) -> TestClient:
    c = TestClient(world["app"], base_url="http://testserver")
    assert login(c, username).status_code == 303
    return c


def test_enterprise_sees_its_policies_with_reasons(world):
    c = client(world, "ent1")
    page = c.get("/policies/mine")
    assert page.status_code == 200
    html = page.text
    assert "符合，可享受" in html and "逐项核验依据" in html and "暂不符合" in html
    assert f'data-testid="policy-{world["policy"]}"' in html
    data = c.get("/api/policies/mine").json()
    assert data["ready"] and data["counts"]["eligible"] >= 1
    assert any(p["policy_id"] == world["policy"] and p["status"] == "eligible" for p in data["policies"])
    explain = c.get(f"/api/policies/{world['policy']}/explain/{world['uscc']}").json()
    assert explain["status"] == "eligible" and all(x["result"] == "pass" for x in explain["conditions"])
    # another enterprise's answer is refused
    assert c.get(f"/api/policies/{world['policy']}/explain/{world['other']}").status_code == 403
    # push settings through the page
    token = csrf_of(c, "/policies/mine")
    bad = c.post("/policies/mine/subscription", data={"email": "nope", "csrf_token": token})
    assert bad.status_code == 422 and "不是有效的电子邮件地址" in bad.text
    ok = c.post("/policies/mine/subscription", data={"email": "cfo@example.com", "csrf_token": token},
                follow_redirects=False)
    assert ok.status_code == 303
    assert c.get("/api/policies/mine/subscription").json()["subscribed"] is True


def test_staff_policy_page_counts_by_town_and_town_staff_see_their_town(world):
    admin = client(world, "admin")
    listing = admin.get("/policies")
    assert listing.status_code == 200 and world["policy"] in listing.text and "政策推送" in listing.text
    page = admin.get(f"/policies/{world['policy']}")
    assert page.status_code == 200 and "匹配结果" in page.text and "逐项说明" in page.text
    all_rows = admin.get(f"/api/policies/{world['policy']}/matches").json()
    assert all_rows["totals"]["eligible"] >= 1
    town = client(world, "town")
    mine = town.get(f"/api/policies/{world['policy']}/matches").json()
    assert {t["town"] for t in mine["by_town"]} <= {world["town"]}
    assert mine["totals"]["eligible"] <= all_rows["totals"]["eligible"]
    assert town.get(f"/policies/{world['policy']}/explain/{world['other']}").status_code == 403
    near = admin.get(f"/policies/{world['policy']}?status=near_miss")
    assert near.status_code == 200


def test_officer_writes_tests_previews_saves_and_publishes(world):
    dept = client(world, "dept")  # the demo department is jxj
    assert dept.get("/policies/new").status_code == 200
    token = csrf_of(dept, "/policies/new")
    text = SIMPLE.replace("THRESHOLD", "500万元").replace("EXPECT_LOW", "not_eligible")
    bad = dept.post("/policies/editor", data={"text": text.replace("500万元", "500"), "action": "validate",
                                              "csrf_token": token})
    assert bad.status_code == 422 and "没有写单位" in bad.text and "修改建议" in bad.text
    tested = dept.post("/policies/editor", data={"text": text, "action": "test", "csrf_token": token})
    assert tested.status_code == 200 and "全部通过" in tested.text
    preview = dept.post("/policies/editor", data={"text": text, "action": "impact", "csrf_token": token})
    assert preview.status_code == 200 and "影响预览" in preview.text and "符合企业" in preview.text
    saved = dept.post("/policies/editor", data={"text": text, "action": "save", "note": "初稿", "csrf_token": token},
                      follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/policies/TEST-REV")
    for action in ("submit", "publish"):
        r = dept.post("/policies/TEST-REV/transition", data={"action": action, "csrf_token": token},
                      follow_redirects=False)
        assert r.status_code == 303
    assert dept.get("/api/policies/TEST-REV").json()["status"] == "published"
    # the impact of a change against the published version: gains and losses
    stricter = text.replace("500万元", "2000万元").replace("each: 100万元", "each: 200万元")
    data = dept.post("/api/policies/impact", json={"text": stricter}, headers={"X-CSRF-Token": token}).json()
    assert data["before"]["eligible"] >= data["new"]["eligible"] and data["losses"]["count"] >= 0
    assert data["gains"]["count"] == 0
    # another department's staff may read but not edit it; the auditor reads
    auditor = client(world, "auditor")
    assert auditor.get("/policies/TEST-REV").status_code == 200
    assert auditor.get("/policies/TEST-REV/edit").status_code == 403


def test_api_validation_errors_are_listed(world):
    admin = client(world, "admin")
    token = csrf_of(admin, "/")
    r = admin.post("/api/policies/validate", json={"text": "id: X\ntitle: t\n"}, headers={"X-CSRF-Token": token})
    body = r.json()
    assert r.status_code == 200 and body["valid"] is False and len(body["problems"]) >= 5
    assert all({"policy", "where", "message", "fix"} <= set(p) for p in body["problems"])
    saved = admin.post("/api/policies", json={"text": "id: X\n"}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 422 and saved.json()["error"]["type"] == "PolicyInvalid"


def test_rematch_one_enterprise(world):
    admin = client(world, "admin")
    token = csrf_of(admin, "/")
    r = admin.post(f"/api/policies/rematch/{world['uscc']}", headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["rows"]
    assert Path(world["snap"].path / "deltas").is_dir()
