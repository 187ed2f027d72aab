"""Enterprise search, portrait and quarantine pages over a real synthetic district."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shengxin.accounts.demo import DEMO_PASSWORD
from shengxin.enterprises.store import open_current
from tests.integration.conftest import login


def client_for(app, username: str) -> TestClient:
    c = TestClient(app, base_url="http://testserver")
    assert login(c, username, DEMO_PASSWORD).status_code == 303
    return c


@pytest.fixture
def sample(district_data):
    """One enterprise inside the demo town (五常街道) and one outside it, with monthly data."""
    _, data_dir = district_data
    con = open_current(data_dir / "analytic")
    try:
        inside = con.execute("select e.uscc from enterprises e join monthly_tax t using (uscc) "
                             "where e.town_code = '330110005' order by e.uscc limit 1").fetchone()[0]
        outside = con.execute("select uscc from enterprises where town_code <> '330110005' order by uscc limit 1"
                              ).fetchone()[0]
    finally:
        con.close()
    return inside, outside


def test_search_is_scoped_for_town_staff(data_app, sample):
    inside, outside = sample
    staff = client_for(data_app, "town")
    r = staff.get("/api/enterprises", params={"page_size": 100})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] > 0 and all(i["town_code"] == "330110005" for i in body["items"])
    assert staff.get("/api/enterprises", params={"town": "330110012"}).status_code == 403
    admin = client_for(data_app, "admin")
    assert admin.get("/api/enterprises").json()["total"] > body["total"]
    page = staff.get("/enterprises", params={"q": inside[:10]})
    assert inside in page.text


def test_portrait_access_follows_scope(data_app, sample):
    inside, outside = sample
    staff = client_for(data_app, "town")
    r = staff.get(f"/enterprises/{inside}")
    assert r.status_code == 200
    for part in ("基本信息", "规模与统计范围", "资质与创新", "信用记录", "月度经营数据"):
        assert part in r.text
    assert staff.get(f"/enterprises/{outside}").status_code == 403
    assert staff.get(f"/api/enterprises/{outside}/series").status_code == 403
    enterprise = client_for(data_app, "enterprise")
    assert enterprise.get(f"/api/enterprises/{inside}").status_code == 403
    dept = client_for(data_app, "dept")
    series = dept.get(f"/api/enterprises/{outside}/series").json()
    assert len(series["months"]) == len(series["revenue_fen"]) > 0


def test_unknown_and_malformed_codes(data_app):
    admin = client_for(data_app, "admin")
    r = admin.get("/api/enterprises/91330110MA2H8K9X1F")
    assert r.status_code == 404 and "91330110MA2H8K9X1F" in r.json()["error"]["message"]
    r = admin.get("/api/enterprises/not-a-code")
    assert r.status_code == 422


def test_quarantine_page_and_excel_download(data_app, district_data):
    admin = client_for(data_app, "admin")
    page = admin.get("/data/quarantine")
    assert page.status_code == 200 and "拒收" in page.text
    assert "data-testid=\"quarantine-table\"" in page.text
    xlsx = admin.get("/data/quarantine.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert "问题清单" in wb.sheetnames
    runs = admin.get("/data")
    assert "导入批次" in runs.text
    assert client_for(data_app, "town").get("/data/quarantine").status_code == 403


def test_portrait_lists_shareholders_with_person_ids_masked(data_app, district_data):
    _, data_dir = district_data
    con = open_current(data_dir / "analytic")
    try:
        uscc, name, id_number = con.execute(
            "select s.uscc, s.shareholder_name, s.shareholder_id from shareholders s join enterprises e using (uscc) "
            "where s.shareholder_kind = 'person' order by s.uscc limit 1").fetchone()
        holders = con.execute("select count(*) from shareholders where uscc = ?", [uscc]).fetchone()[0]
    finally:
        con.close()
    admin = client_for(data_app, "admin")
    page = admin.get(f"/enterprises/{uscc}")
    assert page.status_code == 200 and "股东信息" in page.text and name in page.text
    assert id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:] in page.text
    if "*" not in id_number:  # delivered unmasked: never shown whole
        assert id_number not in page.text
    body = admin.get(f"/api/enterprises/{uscc}").json()
    assert len(body["shareholders"]) == holders
    assert all(h["id_display"].count("*") >= 8 for h in body["shareholders"] if h["kind"] == "person")
