"""Signals API and town desk pages through the real app: desk scoping, evidence, feedback forms,
role checks, errors. The data is the hand-built fixture district (see test_signals_detect.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shengxin.accounts.demo import ensure_demo_accounts
from shengxin.audit.models import AuditEntry
from shengxin.config import DEFAULT_DISTRICT_FILE, Settings
from shengxin.reference.district import load_district
from shengxin.signals import service
from shengxin.web.app import create_app
from tests.conftest import TEST_SECRET
from tests.integration.conftest import csrf_of, login
from tests.integration.test_signals_detect import OTHER_TOWN, TOWN, build_district


@pytest.fixture(scope="module")
def signal_data(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A data directory holding a published signal snapshot of the fixture district."""
    root = tmp_path_factory.mktemp("signals-web")
    special = build_district(root / "inputs")
    settings = Settings(data_dir=root / "data", secret_key=TEST_SECRET)
    service.detect_and_publish(settings, load_district(DEFAULT_DISTRICT_FILE), inputs=root / "inputs")
    return root / "data", special


@pytest.fixture
def signals_app(signal_data, session_factory):
    settings = Settings(data_dir=signal_data[0], secret_key=TEST_SECRET)
    with session_factory() as s:
        ensure_demo_accounts(s, load_district(settings.district_file), demo_mode=True)
        s.commit()
    return create_app(settings, session_factory)


@pytest.fixture
def as_user(signals_app):
    clients = []

    def make(username: str) -> TestClient:
        c = TestClient(signals_app, base_url="http://testserver")
        c.__enter__()
        clients.append(c)
        assert login(c, username).status_code == 303
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def api(client: TestClient, path: str, **kw):
    return client.get(path, headers={"accept": "application/json"}, **kw)


def keys(client: TestClient, query: str = "") -> list[dict]:
    r = api(client, f"/api/signals?state=all&page_size=500{query}")
    assert r.status_code == 200, r.text
    return r.json()["signals"]


def test_town_staff_see_their_desk_only(as_user, signal_data):
    _, special = signal_data
    town, admin = as_user("town"), as_user("admin")
    own = keys(town)
    assert own and {r["town_code"] for r in own} == {TOWN}
    assert api(town, f"/api/signals?town={OTHER_TOWN}").status_code == 403
    everything = keys(admin)
    assert {r["town_code"] for r in everything} == {TOWN, OTHER_TOWN, ""}
    district_desk = keys(admin, "&town=district")
    assert {r["uscc"] for r in district_desk} == {special["reloc_registry"], special["reloc_town"]}
    other_key = next(r["signal_key"] for r in everything if r["town_code"] == OTHER_TOWN)
    assert api(town, f"/api/signals/{other_key}").status_code == 403
    assert api(town, f"/signals/{other_key}").status_code == 403
    assert api(as_user("auditor"), f"/api/signals/{other_key}").status_code == 200
    assert api(as_user("enterprise"), "/api/signals").status_code == 403


def test_signal_detail_has_evidence(as_user, signal_data):
    _, special = signal_data
    admin = as_user("admin")
    row = next(r for r in keys(admin, "&signal=revenue_drop") if r["uscc"] == special["rev_drop"])
    detail = api(admin, f"/api/signals/{row['signal_key']}").json()
    assert detail["status"] == "open" and detail["case"] is None and detail["history"] == []
    assert len(detail["series_values"]) == len(detail["series_baseline"]) == 36
    assert detail["series_start"] == "2023-11" and detail["series_metric"] == "revenue"
    page = admin.get(f"/signals/{row['signal_key']}")
    assert page.status_code == 200
    assert "营业收入骤降" in page.text and 'id="evidence-chart"' in page.text and "证据" in page.text
    assert f'href="/enterprises/{special["rev_drop"]}"' in page.text  # drill-down to the portrait
    assert "<script>" not in page.text  # no inline script under the CSP
    assert api(admin, "/api/signals/nope").status_code == 404


def test_outside_affiliate_evidence_on_the_detail_page(as_user, signal_data):
    _, special = signal_data
    town = as_user("town")  # the enterprise's own town desk
    row = next(r for r in keys(as_user("admin"), "&signal=relocation_risk") if r["uscc"] == special["aff_person"])
    page = town.get(f"/signals/{row['signal_key']}") if row["town_code"] == TOWN else as_user("admin").get(
        f"/signals/{row['signal_key']}")
    assert page.status_code == 200
    for text in ("区外新设同行业企业（共同股东）", "区外关联企业", "杭州aff_person科技有限公司", "杭州市临平区市场监督管理局",
                 "2026-05-20", "共同股东", "股东00"):
        assert text in page.text, text
    assert 'data-evidence="detail.shared_phone"' not in page.text  # no phone link: not shown


def test_feedback_through_the_api(as_user, session_factory):
    town = as_user("town")
    row = next(r for r in keys(town) if r["kind"] == "warning")
    url = f"/api/signals/{row['signal_key']}/feedback"
    token = csrf_of(town, "/signals")
    assert town.post(url, json={"status": "confirmed"}).status_code == 403  # no CSRF token
    r = town.post(url, json={"status": "confirmed", "note": "走访确认"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    r = town.post(url, json={"status": "dismissed"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and r.json()["error"]["where"] == "reason"
    r = town.post(url, json={"status": "reopened"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422
    r = town.post(url, json={"status": "handled"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200
    r = town.post(url, json={"status": "confirmed"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 409  # handled is final
    auditor = as_user("auditor")
    r = auditor.post(url, json={"status": "confirmed"}, headers={"X-CSRF-Token": csrf_of(auditor, "/signals")})
    assert r.status_code == 403
    detail = api(town, f"/api/signals/{row['signal_key']}").json()
    assert [h["to_status"] for h in detail["history"]] == ["confirmed", "handled"]
    listed = {r["signal_key"]: r["status"] for r in keys(town)}
    assert listed[row["signal_key"]] == "handled"
    precision = api(town, "/api/signals/precision").json()["signals"]
    assert precision[row["signal"]]["precision"] == 1.0
    with session_factory() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == row["signal_key"])).all()
    assert actions == ["signal.confirmed", "signal.handled"]


def test_feedback_form_on_the_desk_page(as_user):
    town = as_user("town")
    page = town.get("/signals")
    assert page.status_code == 200 and "预警与成长信号" in page.text and "本镇街工作台" in page.text
    key = re.search(r'data-key="([0-9a-f]+)"', page.text).group(1)
    token = csrf_of(town, "/signals")
    r = town.post(f"/signals/{key}/feedback", data={"status": "dismissed", "reason": "", "csrf_token": token,
                                                     "next": "/signals?kind=warning"}, follow_redirects=False)
    assert r.status_code == 422 and "排除信号需要选择原因" in r.text
    r = town.post(f"/signals/{key}/feedback", data={"status": "dismissed", "reason": "data_error",
                                                     "csrf_token": token, "next": "https://evil.example/"},
                  follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signals"
    detail = town.get(f"/signals/{key}")
    assert "已排除" in detail.text and "数据有误或漏报" in detail.text
    assert town.post(f"/signals/{key}/feedback", data={"status": "confirmed"}, follow_redirects=False).status_code == 403


def test_desk_page_filters_and_errors(as_user):
    admin = as_user("admin")
    r = admin.get("/signals?kind=growth&state=all")
    assert r.status_code == 200 and "新获资质认定" in r.text
    r = admin.get("/signals?signal=nonsense")
    assert r.status_code == 422 and "unknown signal" in r.text
    assert as_user("town").get(f"/signals?town={OTHER_TOWN}").status_code == 403


def test_definitions_endpoint(as_user):
    data = api(as_user("dept"), "/api/signals/definitions").json()
    ids = {d["id"] for d in data["definitions"]}
    assert {"revenue_drop", "tax_drop", "layoff", "relocation_risk", "dishonesty_listing", "abnormal_operations",
            "approaching_threshold", "above_threshold_unlisted", "new_certification", "financing",
            "expansion"} <= ids
    assert data["dismiss_reasons"]["data_error"]


def test_without_a_snapshot(client, as_role):
    admin = as_role("admin")
    r = admin.get("/api/signals", headers={"accept": "application/json"})
    assert r.status_code == 404 and "shengxin signals detect" in r.json()["error"]["message"]
    page = admin.get("/signals")
    assert page.status_code == 200 and "还没有信号快照" in page.text
