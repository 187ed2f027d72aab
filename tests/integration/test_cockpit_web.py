"""The cockpit through the real app, on a real synthetic district ingested by the data hub and a
published signal snapshot: tiles computed from the data, chart data, town scope, role checks."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from shengxin.accounts.demo import ensure_demo_accounts
from shengxin.cockpit.service import clear_cache
from shengxin.config import DEFAULT_DISTRICT_FILE, Settings, get_settings
from shengxin.enterprises.hub.run import ingest
from shengxin.enterprises.store import open_current
from shengxin.reference.district import load_district
from shengxin.signals import service
from shengxin.synth.generate import SynthConfig, generate
from shengxin.web.app import create_app
from tests.conftest import TEST_SECRET
from tests.integration.conftest import csrf_of, login

TOWN = "330110005"  # the demo town account's town


@pytest.fixture(scope="module")
def district_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cockpit")
    with pytest.MonkeyPatch.context() as mp:  # module scope: the per-test settings fixture is not active yet
        mp.setenv("SHENGXIN_SECRET_KEY", TEST_SECRET)
        mp.setenv("SHENGXIN_DATA_DIR", str(root / "data"))
        get_settings.cache_clear()
        generate(SynthConfig(enterprises=1500, seed=5), root / "delivery")
        settings = Settings(data_dir=root / "data", secret_key=TEST_SECRET)
        ingest([root / "delivery"], analytic_dir=settings.analytic_dir)
        service.detect_and_publish(settings, load_district(DEFAULT_DISTRICT_FILE))
    get_settings.cache_clear()
    return settings


@pytest.fixture
def cockpit_app(district_data, session_factory):
    clear_cache()
    with session_factory() as s:
        ensure_demo_accounts(s, load_district(district_data.district_file), demo_mode=True)
        s.commit()
    return create_app(district_data, session_factory)


@pytest.fixture
def as_user(cockpit_app):
    clients = []

    def make(username: str) -> TestClient:
        c = TestClient(cockpit_app, base_url="http://testserver")
        c.__enter__()
        clients.append(c)
        assert login(c, username).status_code == 303
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def active_enterprises(settings: Settings, town: str | None = None) -> int:
    """Active enterprises registered in one town, or in any town of the district."""
    towns = [town] if town else [t.code for t in load_district(DEFAULT_DISTRICT_FILE).towns]
    con = open_current(settings.analytic_dir)
    try:
        rows = con.execute("SELECT town_code, count(*) FROM enterprises WHERE status = 'active' GROUP BY 1").fetchall()
    finally:
        con.close()
    return sum(n for code, n in rows if code in towns)


def tiles_of(data: dict) -> dict[str, dict]:
    return {t["key"]: t for t in data["tiles"]}


def test_district_cockpit_is_computed_from_the_data(as_user, district_data):
    data = as_user("admin").get("/api/cockpit").json()
    assert data["scope"] == {"town": None, "label": "余杭区"}
    tiles = tiles_of(data)
    assert tiles["enterprises"]["value"] == active_enterprises(district_data)
    for key in ("survey", "revenue_ttm", "tax_ttm", "headcount", "warnings", "warnings_high", "growth", "new_signals"):
        assert key in tiles, key
    assert tiles["warnings"]["value"] > 0 and tiles["growth"]["value"] > 0
    assert "appeals" not in tiles and "feedback_precision" not in tiles  # no appeals, no feedback yet
    charts = data["charts"]
    towns = [r for r in charts["towns"] if r["code"] != "district"]
    assert [r["code"] for r in towns] == [t.code for t in load_district(DEFAULT_DISTRICT_FILE).towns]
    assert sum(r["enterprises"] for r in towns) == tiles["enterprises"]["value"]
    assert sum(r["warning"] for r in charts["towns"]) == tiles["warnings"]["value"]
    assert len(charts["grid"]) == 12 and {c["x"] for c in charts["grid"]} == {0, 1, 2, 3}
    assert charts["by_signal"] and charts["signal_trend"]
    ttm = [r["revenue_ttm_yi"] for r in charts["economy_trend"] if r["revenue_ttm_yi"] is not None]
    assert len(ttm) == 25 and all(v > 0 for v in ttm)  # 36 months of data: 25 trailing-12-month totals
    assert data["lists"]["warnings"] and all(r["signal_key"] for r in data["lists"]["warnings"])
    assert data["sources"]["signal_snapshot"] and data["sources"]["hub_snapshot"]


def test_town_staff_get_their_town(as_user, district_data):
    data = as_user("town").get("/api/cockpit").json()
    assert data["scope"]["town"] == TOWN
    tiles = tiles_of(data)
    assert tiles["enterprises"]["value"] == active_enterprises(district_data, TOWN)
    assert [r["code"] for r in data["charts"]["towns"]] == [TOWN]
    for row in data["lists"]["warnings"] + data["lists"]["growth"]:
        assert row["town_code"] == TOWN


def test_feedback_precision_tile_appears(as_user):
    admin = as_user("admin")
    key = admin.get("/api/cockpit").json()["lists"]["warnings"][0]["signal_key"]
    r = admin.post(f"/api/signals/{key}/feedback", json={"status": "confirmed"},
                   headers={"X-CSRF-Token": csrf_of(admin, "/cockpit")})
    assert r.status_code == 200
    tiles = tiles_of(admin.get("/api/cockpit").json())
    assert tiles["feedback_precision"]["value"] == 100.0


def test_cockpit_page(as_user):
    page = as_user("dept").get("/cockpit")
    assert page.status_code == 200
    assert "企业服务驾驶舱" in page.text and 'data-kpi="enterprises"' in page.text
    assert '<script src="/static/js/cockpit.js"></script>' in page.text
    assert not re.search(r"<script>(?!</script>)", page.text)  # no inline script (CSP)
    for chart in ("chart-towns", "chart-grid", "chart-by-signal", "chart-signal-trend", "chart-economy"):
        assert f'id="{chart}"' in page.text
    assert as_user("enterprise").get("/api/cockpit", headers={"accept": "application/json"}).status_code == 403


def test_empty_district(as_role):
    clear_cache()
    admin = as_role("admin")
    data = admin.get("/api/cockpit").json()
    assert data["tiles"] == [] and data["charts"]["by_signal"] == []
    page = admin.get("/cockpit")
    assert page.status_code == 200 and "暂无可计算的指标" in page.text and "尚未检测信号" in page.text
