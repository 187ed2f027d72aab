"""Tag pages and API through the real app: scopes per role, explanations, catalogue changes."""

from __future__ import annotations

import dataclasses
import re

import pytest

from shengxin.accounts.demo import FALLBACK_DEMO_USCC
from shengxin.tags import snapshots
from shengxin.tags.catalogue import load_shipped
from shengxin.tags.compute import compute
from tests.integration.conftest import csrf_of
from tests.integration.test_tags_population import (
    arrow_tables,
    make_population,
    publish_hub_snapshot,
)
from tests.integration.test_tags_versions import CHANGE

OTHER_TOWN = "330110009"


@pytest.fixture
def tagged(web_settings, app):
    """A hub snapshot with the demo enterprise (in the demo town) and a computed tag snapshot."""
    population = make_population(120, seed=5)
    own = dataclasses.replace(population[0], enterprise={**population[0].enterprise, "uscc": FALLBACK_DEMO_USCC,
                                                         "town_code": "330110005", "established_on": None})
    own.tables = {k: [{**r, "uscc": FALLBACK_DEMO_USCC} for r in v] for k, v in population[0].tables.items()}
    other = dataclasses.replace(population[1], enterprise={**population[1].enterprise, "town_code": OTHER_TOWN,
                                                           "established_on": None})
    population = [own, other, *population[2:]]
    publish_hub_snapshot(web_settings.analytic_dir, arrow_tables(population))
    district = app.state.district
    compute(load_shipped(district), district, web_settings.analytic_dir)
    return {"own": FALLBACK_DEMO_USCC, "other": other.uscc}


def test_statistics_page_by_role(as_role, tagged):
    admin = as_role("admin").get("/tags")
    assert admin.status_code == 200 and "企业标签统计" in admin.text
    assert "五常街道" in admin.text and "仁和街道" in admin.text and "重新计算全部标签" in admin.text
    town = as_role("town").get("/tags")
    heads = set(re.findall(r"<th>([^<]+)</th>", town.text))
    assert town.status_code == 200 and "五常街道" in heads
    assert "仁和街道" not in heads and "合计" not in heads and "重新计算全部标签" not in town.text
    assert "仁和街道" in set(re.findall(r"<th>([^<]+)</th>", admin.text))
    stats = as_role("town").get("/api/tags/statistics").json()
    assert [t["code"] for t in stats["towns"]] == ["330110005"]
    assert as_role("enterprise").get("/tags", follow_redirects=False).status_code == 403


def test_enterprise_tags_and_explanations_respect_scope(as_role, tagged):
    own, other = tagged["own"], tagged["other"]
    me = as_role("enterprise")
    page = me.get(f"/tags/enterprise/{own}")
    assert page.status_code == 200 and 'data-testid="portrait-tags"' in page.text
    tag_id = re.search(r'<details data-tag="([^"]+)"', page.text).group(1)
    part = me.get(f"/tags/explain/{own}/{tag_id}")
    assert part.status_code == 200 and 'data-value="true"' in part.text and "数据来源" in part.text
    assert "<html" not in part.text  # an HTMX fragment, not a page
    assert me.get(f"/tags/enterprise/{other}").status_code == 403
    assert me.get(f"/api/tags/enterprises/{other}").status_code == 403
    town = as_role("town")
    assert town.get(f"/api/tags/enterprises/{own}").status_code == 200
    assert town.get(f"/api/tags/enterprises/{other}").status_code == 403
    dept = as_role("dept")
    data = dept.get(f"/api/tags/enterprises/{other}").json()
    assert data["uscc"] == other and data["tags"]
    x = dept.get(f"/api/tags/enterprises/{other}/{data['tags'][0]['id']}/explain").json()
    assert x["value"] is True and x["consistent"] and x["lineage"]["available"]
    bad = dept.get("/api/tags/enterprises/12345/size.small/explain")
    assert bad.status_code == 422 and "统一社会信用代码" in bad.json()["error"]["message"]
    missing = dept.get(f"/api/tags/enterprises/{other}/no.such_tag/explain")
    assert missing.status_code == 404


def test_catalogue_page_and_change_flow(as_role, tagged, web_settings):
    auditor = as_role("auditor").get("/tags/catalogue")
    assert auditor.status_code == 200 and "标签目录" in auditor.text and "上传并校验" not in auditor.text
    admin = as_role("admin")
    page = admin.get("/tags/catalogue")
    assert "上传并校验" in page.text and "dynamics.revenue_10m_plus" in page.text
    token = csrf_of(admin, "/tags/catalogue")
    r = admin.post("/tags/catalogue/upload", data={"csrf_token": token, "note": "门槛调整"},
                   files={"file": ("change.yaml", CHANGE.encode("utf-8"), "text/yaml")}, follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    detail = admin.get(url)
    assert 'data-status="previewed"' in detail.text and "预览" in detail.text and "五常街道" in detail.text
    assert as_role("dept").post(f"{url}/activate", headers={"X-CSRF-Token": csrf_of(as_role("dept"), "/")}).status_code == 403
    r = admin.post(f"{url}/activate", data={"csrf_token": csrf_of(admin, url)}, follow_redirects=False)
    assert r.status_code == 303
    assert 'data-status="active"' in admin.get(url).text
    again = admin.post(f"{url}/activate", data={"csrf_token": csrf_of(admin, url)})
    assert again.status_code == 409 and "只有已预览的变更可以启用" in again.text
    before = snapshots.require_current(web_settings.analytic_dir).id
    r = admin.post("/tags/compute", data={"csrf_token": csrf_of(admin, "/tags")}, follow_redirects=False)
    assert r.status_code == 303 and "computed=" in r.headers["location"]
    snap = snapshots.require_current(web_settings.analytic_dir)
    assert snap.id != before and "dynamics.revenue_5m_plus" in snap.manifest["tags"]
    audit = admin.get("/api/audit?object_type=tag_catalogue_version").json()
    assert {e["action"] for e in audit["entries"]} >= {"tags.catalogue.upload", "tags.catalogue.activate"}


def test_invalid_upload_shows_the_errors(as_role, tagged):
    admin = as_role("admin")
    bad = CHANGE.replace("sum(revenue, months=12) >= 2000万元", "sum(revenue, months=12) >= 2000")
    r = admin.post("/tags/catalogue/upload", data={"csrf_token": csrf_of(admin, "/tags/catalogue")},
                   files={"file": ("bad.yaml", bad.encode("utf-8"), "text/yaml")})
    assert r.status_code == 200 and 'data-status="invalid"' in r.text
    assert "unit mismatch" in r.text and "dynamics.revenue_10m_plus" in r.text and "万元" in r.text
    api = admin.post("/api/tags/changes", json={"filename": "x.yaml", "content": "tags: nope"},
                     headers={"X-CSRF-Token": csrf_of(admin, "/")})
    assert api.status_code == 201 and api.json()["status"] == "invalid"
