"""Policies in the operational store (SQLite and PostgreSQL): versions, workflow, permissions, audit;
and matching snapshots over the synthetic district (explain, re-match, partial runs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.audit.models import AuditEntry
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.engine.evaluate import FactsEnv
from shengxin.errors import Conflict, Forbidden
from shengxin.policies import matching, service
from shengxin.policies.errors import PolicyInvalid
from shengxin.policies.evaluate import CachedEnv, outcome
from shengxin.policies.facts import load_facts
from shengxin.policies.library import real_policy_files
from shengxin.policies.models import PolicyEvent
from shengxin.reference.district import load_district

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)
ADMIN = Principal(1, "admin", "管理员", Role.ADMIN)
JXJ = Principal(2, "dept", "经信局", Role.DEPARTMENT, department_code="jxj")
KJJ = Principal(3, "kjj", "科技局", Role.DEPARTMENT, department_code="kjj")
TOWN = Principal(4, "town", "街道", Role.TOWN, town_code="330110005")

SIMPLE = """\
id: TEST-REV
title: 营业收入奖励
issuer: 测试
level: district
department: jxj
legal_basis: {document: 测试文件}
valid_from: 2020-01-01
delivery: no_application
budget: 100万元
eligibility:
  all:
    - {id: revenue, field: "sum(revenue, months=12)", op: ">=", value: THRESHOLD}
amount: 1万元
tests_as_of: 2026-10-31
tests:
  - name: 达标
    enterprise: {monthly: {revenue: [{from: 2025-11, to: 2026-10, each: 100万元}]}}
    expect: {status: eligible, amount: 1万元}
  - name: 未达标
    enterprise: {monthly: {revenue: [{from: 2025-11, to: 2026-10, each: 1万元}]}}
    expect: {status: EXPECT_LOW}
"""


def text(threshold: str = "500万元", expect_low: str = "not_eligible") -> str:
    return SIMPLE.replace("THRESHOLD", threshold).replace("EXPECT_LOW", expect_low)


def test_save_versions_and_workflow(db_session):
    v1 = service.save(db_session, text(), JXJ, DISTRICT, "初稿")
    assert (v1.version, v1.tests_passed) == (1, True)
    with pytest.raises(Conflict, match="相同"):
        service.save(db_session, text(), JXJ, DISTRICT)
    v2 = service.save(db_session, text("600万元"), JXJ, DISTRICT, "提高门槛")
    assert v2.version == 2 and service.get_version(db_session, "TEST-REV", 1).text == text()
    assert service.transition(db_session, "TEST-REV", "submit", JXJ, DISTRICT).status == "in_review"
    with pytest.raises(Conflict, match="审核中"):
        service.save(db_session, text("700万元"), JXJ, DISTRICT)
    p = service.transition(db_session, "TEST-REV", "publish", ADMIN, DISTRICT)
    assert (p.status, p.published_version, p.live) == ("published", 2, True)
    # a revision keeps the published version live
    service.save(db_session, text("800万元"), JXJ, DISTRICT, "修订")
    p = service.get(db_session, "TEST-REV")
    assert (p.status, p.current_version, p.published_version, p.live) == ("draft", 3, 2, True)
    [live] = service.live_policies(db_session, DISTRICT, dt.date(2026, 10, 31))
    assert live.version == 2
    with pytest.raises(PolicyInvalid):
        service.save(db_session, text("800"), JXJ, DISTRICT)  # money without a unit
    actions = [e.action for e in service.events(db_session, "TEST-REV")]
    assert actions == ["create", "edit", "submit", "publish", "edit"]
    audited = db_session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == "TEST-REV")).all()
    assert audited == ["policy.create", "policy.edit", "policy.submit", "policy.publish", "policy.edit"]
    p = service.transition(db_session, "TEST-REV", "submit", JXJ, DISTRICT)
    p = service.transition(db_session, "TEST-REV", "reject", ADMIN, DISTRICT, "门槛依据不足")
    assert p.status == "draft"
    assert db_session.scalars(select(PolicyEvent.reason).where(PolicyEvent.action == "reject")).one() == "门槛依据不足"


def test_a_policy_whose_tests_fail_cannot_be_published(db_session):
    wrong = text(expect_low="eligible")  # the second case expects the wrong answer
    v = service.save(db_session, wrong, JXJ, DISTRICT)
    assert v.tests_passed is False and v.test_report["problems"]
    with pytest.raises(Conflict, match="测试未通过"):
        service.transition(db_session, "TEST-REV", "submit", JXJ, DISTRICT)
    one_case = "\n".join(text().splitlines()[:-3])  # only an eligible case
    service.save(db_session, one_case, JXJ, DISTRICT)
    with pytest.raises(Conflict, match="缺少预期“不符合”"):
        service.transition(db_session, "TEST-REV", "submit", JXJ, DISTRICT)


def test_only_the_responsible_department_or_an_admin_manages_a_policy(db_session):
    service.save(db_session, text(), JXJ, DISTRICT)
    with pytest.raises(Forbidden):
        service.save(db_session, text("600万元"), KJJ, DISTRICT)
    with pytest.raises(Forbidden):
        service.transition(db_session, "TEST-REV", "submit", TOWN, DISTRICT)
    with pytest.raises(Forbidden, match="责任部门"):
        service.save(db_session, text("600万元").replace("department: jxj", "department: kjj"), JXJ, DISTRICT)
    service.save(db_session, text("600万元").replace("department: jxj", "department: kjj"), ADMIN, DISTRICT)
    assert service.get(db_session, "TEST-REV").department_code == "kjj"


def test_suspend_resume_expire(db_session):
    service.save(db_session, text().replace("valid_from: 2020-01-01", "valid_from: 2020-01-01\nvalid_until: 2024-12-31"),
                 ADMIN, DISTRICT)
    service.transition(db_session, "TEST-REV", "submit", ADMIN, DISTRICT)
    service.transition(db_session, "TEST-REV", "publish", ADMIN, DISTRICT)
    with pytest.raises(Exception, match="原因"):
        service.transition(db_session, "TEST-REV", "suspend", ADMIN, DISTRICT)
    assert not service.transition(db_session, "TEST-REV", "suspend", ADMIN, DISTRICT, "审计整改").live
    assert service.transition(db_session, "TEST-REV", "resume", ADMIN, DISTRICT).live
    from shengxin.audit.service import Actor

    assert service.expire_due(db_session, dt.date(2025, 1, 1), Actor("system")) == ["TEST-REV"]
    assert service.get(db_session, "TEST-REV").status == "expired"


# ----------------------------------------------------------------------------- matching


@pytest.fixture
def analytic(district_data, tmp_path) -> Path:
    """An analytic directory reading the shared synthetic district's hub (never writing it)."""
    _, data_dir = district_data
    root = tmp_path / "analytic"
    root.mkdir()
    (root / "hub").symlink_to(data_dir / "analytic" / "hub", target_is_directory=True)
    return root


def _publish_library(session, count: int = 30):
    from shengxin.audit.service import Actor
    from shengxin.policies.library.generate import dump, generate

    texts = [t for _, t in real_policy_files()] + [dump(p) for p in generate(7, count, count // 2)]
    for t in texts:
        service.import_published(session, t, Actor("test"), DISTRICT)
    return texts


def test_match_explain_and_rematch(db_session, analytic):
    from shengxin.enterprises.store import open_current

    _publish_library(db_session)
    snap = matching.run_match(db_session, DISTRICT, analytic)
    m = snap.manifest
    assert m["enterprises"] > 1000 and m["rows"] > 0 and m["counts"]["eligible"]["pairs"] > 0
    assert all(v == 1 for v in m["policies"].values())
    con, _ = matching.open_results(analytic)
    rows = con.execute("SELECT * FROM policy_results ORDER BY uscc, policy_id").fetchall()
    sample = con.execute("SELECT DISTINCT uscc FROM policy_results ORDER BY uscc LIMIT 25").fetchall()
    con.close()
    assert rows
    # the snapshot agrees with the single-enterprise evaluator on a sample of enterprises
    live = service.live_policies(db_session, DISTRICT, snap.as_of)
    data = open_current(analytic)
    for (uscc,) in sample:
        env = CachedEnv(FactsEnv(load_facts(data, uscc), snap.as_of))
        expected = {(lp.policy.id, o.status, o.amount_fen) for lp in live
                    if (o := outcome(lp.policy, env)).status != "not_eligible"}
        got = {(r[2], r[4], r[5]) for r in rows if r[0] == uscc}
        assert got == expected, uscc
    uscc = sample[0][0]
    policy_id = next(r[2] for r in rows if r[0] == uscc)
    exp = matching.explain(db_session, DISTRICT, analytic, policy_id, uscc)
    assert exp["status"] in ("eligible", "near_miss", "missing_data") and exp["conditions"]
    assert exp["version"] == 1 and exp["data_snapshot"] == m["data_snapshot"]
    # re-match one enterprise: a delta replaces its rows for readers, nothing else changes
    result = matching.rematch(db_session, DISTRICT, analytic, uscc)
    assert result.rows and result.newly_eligible == []
    con, _ = matching.open_results(analytic)
    assert con.execute("SELECT count(*) FROM policy_results").fetchone()[0] == len(rows)
    con.close()


def test_partial_run_carries_other_policies_forward(db_session, analytic):
    _publish_library(db_session, count=10)
    first = matching.run_match(db_session, DISTRICT, analytic)
    one = next(iter(first.manifest["policies"]))
    second = matching.run_match(db_session, DISTRICT, analytic, policy_id=one)
    assert second.manifest["rows"] == first.manifest["rows"]
    assert second.manifest["scope"] == one and second.id != first.id
    a = duckdb.sql(f"SELECT * FROM read_parquet('{first.results_path}') ORDER BY ALL").fetchall()
    b = duckdb.sql(f"SELECT * FROM read_parquet('{second.results_path}') ORDER BY ALL").fetchall()
    assert a == b
