"""Changing the catalogue: upload → validate → preview → activate, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shengxin.audit.models import AuditEntry
from shengxin.audit.service import Actor
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.errors import Conflict, NotFound
from shengxin.reference.district import load_district
from shengxin.tags.compute import compute
from shengxin.tags.versions import (
    activate,
    catalogue_version,
    effective_catalogue,
    list_changes,
    preview_change,
    upload,
    withdraw,
)
from tests.integration.test_tags_population import (
    arrow_tables,
    make_population,
    publish_hub_snapshot,
)

ADMIN = Actor("admin", "district_admin")

CHANGE = """
tags:
  - id: dynamics.revenue_10m_plus
    name: 年营收千万元以上
    category: dynamics
    version: 2
    valid_from: 2020-01-01
    provenance: derived
    source: 税务月报
    description: 近12个月营业收入2000万元及以上（调整门槛）。
    definition: sum(revenue, months=12) >= 2000万元
  - id: dynamics.revenue_5m_plus
    name: 年营收五百万元以上
    category: dynamics
    version: 1
    valid_from: 2020-01-01
    provenance: derived
    description: 近12个月营业收入500万元及以上。
    definition: sum(revenue, months=12) >= 500万元 and not tag('dynamics.revenue_10m_plus')
"""

BAD = """
tags:
  - id: test.broken
    name: 坏定义
    category: dynamics
    version: 1
    valid_from: 2020-01-01
    provenance: derived
    description: x
    definition: |
      sum(revenue, months=12) >= 500万元
      and annual.revenue > 3人
"""


@pytest.fixture
def district():
    return load_district(DEFAULT_DISTRICT_FILE)


@pytest.fixture
def analytic(tmp_path, district):
    path = tmp_path / "analytic"
    publish_hub_snapshot(path, arrow_tables(make_population(150, seed=3)))
    return path


def test_invalid_change_is_kept_with_its_errors(db_session, district):
    change = upload(db_session, district, "bad.yaml", BAD, ADMIN, "试试")
    assert change.status == "invalid" and change.tag_ids == ["test.broken"]
    (error,) = change.errors
    assert error["subject"] == "tag test.broken" and error["line"] == 2 and error["column"] == 22
    assert "unit mismatch" in error["message"] and "bad.yaml: tags[0].definition" in error["path"]
    with pytest.raises(Conflict):
        preview_change(db_session, change.id, district, None, ADMIN)
    assert [c.id for c in list_changes(db_session)] == [change.id]


def test_a_change_must_raise_the_version(db_session, district):
    change = upload(db_session, district, "same.yaml", CHANGE.replace("version: 2", "version: 1"), ADMIN)
    assert change.status == "invalid"
    assert any("not newer" in e["message"] and e["subject"] == "tag dynamics.revenue_10m_plus" for e in change.errors)


def test_upload_preview_activate(db_session, district, analytic):
    first = compute(effective_catalogue(db_session, district), district, analytic)
    change = upload(db_session, district, "change.yaml", CHANGE, ADMIN, "门槛调整")
    assert change.status == "validated" and change.errors == []
    with pytest.raises(Conflict, match="只有已预览"):
        activate(db_session, change.id, district, ADMIN)
    change = preview_change(db_session, change.id, district, analytic, ADMIN)
    assert change.status == "previewed"
    preview = {t["id"]: t for t in change.preview["tags"]}
    changed = preview["dynamics.revenue_10m_plus"]
    assert changed["state"] == "changed" and changed["version_before"] == 1 and changed["version_after"] == 2
    assert changed["before"] == first.counts["dynamics.revenue_10m_plus"]
    assert changed["gained"] == 0 and changed["lost"] == changed["before"] - changed["after"] > 0
    assert sum(t["lost"] for t in changed["by_town"]) == changed["lost"]
    new = preview["dynamics.revenue_5m_plus"]
    assert new["state"] == "new" and new["before"] == 0 and new["gained"] == new["after"] > 0
    # tags that use a changed tag are previewed too
    assert preview["dynamics.revenue_10m_plus"]["id"] in change.tag_ids
    change = activate(db_session, change.id, district, ADMIN)
    assert change.status == "active" and change.catalogue_version == 1 == catalogue_version(db_session)
    catalogue = effective_catalogue(db_session, district)
    assert catalogue.latest()["dynamics.revenue_10m_plus"].version == 2
    assert [v.version for v in catalogue.versions_of("dynamics.revenue_10m_plus")] == [1, 2]  # every version kept
    second = compute(catalogue, district, analytic)
    assert second.counts["dynamics.revenue_10m_plus"] == changed["after"]
    assert second.counts["dynamics.revenue_5m_plus"] == new["after"]
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(change.id))).all()
    assert {"tags.catalogue.upload", "tags.catalogue.preview", "tags.catalogue.activate"} <= set(actions)


def test_activation_after_another_change_needs_a_new_preview(db_session, district, analytic):
    compute(effective_catalogue(db_session, district), district, analytic)
    a = upload(db_session, district, "a.yaml", CHANGE, ADMIN)
    b = upload(db_session, district, "b.yaml", CHANGE.replace("dynamics.revenue_5m_plus", "dynamics.revenue_3m_plus")
               .replace("version: 2", "version: 3").replace("500万元", "300万元"), ADMIN)
    preview_change(db_session, a.id, district, analytic, ADMIN)
    preview_change(db_session, b.id, district, analytic, ADMIN)
    activate(db_session, a.id, district, ADMIN)
    with pytest.raises(Conflict, match="重新预览"):
        activate(db_session, b.id, district, ADMIN)
    b = preview_change(db_session, b.id, district, analytic, ADMIN)
    assert activate(db_session, b.id, district, ADMIN).catalogue_version == 2
    assert effective_catalogue(db_session, district).latest()["dynamics.revenue_10m_plus"].version == 3


def test_preview_needs_a_tag_snapshot_and_withdraw_keeps_the_record(db_session, district, tmp_path):
    change = upload(db_session, district, "change.yaml", CHANGE, ADMIN)
    with pytest.raises(NotFound, match="tags compute"):
        preview_change(db_session, change.id, district, tmp_path / "nothing", ADMIN)
    withdrawn = withdraw(db_session, change.id, ADMIN)
    assert withdrawn.status == "withdrawn"
    with pytest.raises(Conflict):
        withdraw(db_session, change.id, ADMIN)
    with pytest.raises(NotFound):
        activate(db_session, 999_999, district, ADMIN)
    assert list_changes(db_session)[0].status == "withdrawn"
