"""Follow-up at the town desks: transitions, reasons, desk scoping, audit, measured precision.

Runs on SQLite and PostgreSQL (the ``db_session`` fixture rolls everything back).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.audit.models import AuditEntry
from shengxin.errors import Conflict, Forbidden, InvalidInput
from shengxin.signals import followup
from shengxin.signals.models import SignalCase, SignalFeedback

TOWN = "330110005"
OTHER = "330110010"

town_staff = Principal(1, "wu", "五常街道工作人员", Role.TOWN, town_code=TOWN)
other_town = Principal(2, "liang", "良渚街道工作人员", Role.TOWN, town_code=OTHER)
dept = Principal(3, "jxj", "经信局", Role.DEPARTMENT, department_code="jxj")
admin = Principal(4, "admin", "区级管理员", Role.ADMIN)
auditor = Principal(5, "auditor", "审计员", Role.AUDITOR)


def signal(key: str = "k1", town: str | None = TOWN, name: str = "layoff") -> dict:
    return {"signal_key": key, "signal": name, "kind": "warning", "uscc": "91330110MA0000001Y",
            "town_code": town or "", "start_month": dt.date(2026, 5, 1)}


def test_confirm_creates_case_history_and_audit(db_session):
    case = followup.give_feedback(db_session, town_staff, signal(), "snap-1", "confirmed", note="已电话核实")
    assert case.status == "confirmed" and case.town_code == TOWN and case.updated_by == "wu"
    stored = db_session.scalar(select(SignalCase).where(SignalCase.signal_key == "k1"))
    assert stored.snapshot_id == "snap-1" and stored.start_month == dt.date(2026, 5, 1)
    events = db_session.scalars(select(SignalFeedback).where(SignalFeedback.case_id == stored.id)).all()
    assert [(e.from_status, e.to_status, e.actor) for e in events] == [("open", "confirmed", "wu")]
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.object_type == "signal")).all()
    assert [(a.action, a.object_id, a.actor) for a in audit] == [("signal.confirmed", "k1", "wu")]
    assert audit[0].detail["note"] == "已电话核实" and audit[0].detail["from"] == "open"
    followup.give_feedback(db_session, town_staff, signal(), "snap-2", "handled")
    assert [h.to_status for h in followup.history(db_session, "k1")] == ["confirmed", "handled"]


def test_town_staff_act_on_their_own_desk_only(db_session):
    with pytest.raises(Forbidden, match="其他镇街"):
        followup.give_feedback(db_session, other_town, signal(), "s", "confirmed")
    with pytest.raises(Forbidden):  # the district desk (enterprise registered outside the district)
        followup.give_feedback(db_session, town_staff, signal("k2", town=None), "s", "confirmed")
    assert followup.give_feedback(db_session, admin, signal("k2", town=None), "s", "confirmed").town_code is None
    assert followup.give_feedback(db_session, dept, signal("k3"), "s", "handled").status == "handled"
    with pytest.raises(Forbidden, match="只能查看"):
        followup.give_feedback(db_session, auditor, signal("k4"), "s", "confirmed")
    assert db_session.scalar(select(SignalCase).where(SignalCase.signal_key == "k4")) is None


def test_visibility_rules():
    assert followup.visible_town(town_staff) == TOWN
    assert followup.visible_town(auditor) is None and followup.visible_town(dept) is None
    with pytest.raises(Forbidden):
        followup.visible_town(Principal(9, "e", "企业", Role.ENTERPRISE, uscc="91330110MA0000001Y"))
    assert followup.may_see(town_staff, TOWN) and not followup.may_see(town_staff, OTHER)
    assert not followup.may_see(town_staff, None) and followup.may_see(admin, None)


def test_dismissal_needs_a_reason(db_session):
    with pytest.raises(InvalidInput, match="原因") as exc:
        followup.give_feedback(db_session, town_staff, signal(), "s", "dismissed")
    assert exc.value.where == "reason"
    with pytest.raises(InvalidInput, match="原因"):
        followup.give_feedback(db_session, town_staff, signal(), "s", "dismissed", reason="because")
    with pytest.raises(InvalidInput, match="备注"):
        followup.give_feedback(db_session, town_staff, signal(), "s", "dismissed", reason="other")
    with pytest.raises(InvalidInput, match="只有排除"):
        followup.give_feedback(db_session, town_staff, signal(), "s", "confirmed", reason="data_error")
    with pytest.raises(InvalidInput, match="2000"):
        followup.give_feedback(db_session, town_staff, signal(), "s", "confirmed", note="长" * 2001)
    with pytest.raises(InvalidInput, match="处理结果"):
        followup.give_feedback(db_session, town_staff, signal(), "s", "open")
    case = followup.give_feedback(db_session, town_staff, signal(), "s", "dismissed", reason="normal_fluctuation")
    assert case.reason == "normal_fluctuation"
    assert case.as_dict()["reason_label"] == followup.DISMISS_REASONS["normal_fluctuation"]


def test_transitions(db_session):
    followup.give_feedback(db_session, admin, signal(), "s", "dismissed", reason="data_error")
    with pytest.raises(Conflict, match="已排除"):
        followup.give_feedback(db_session, admin, signal(), "s", "handled")
    followup.give_feedback(db_session, admin, signal(), "s", "confirmed", note="复核后确认")
    followup.give_feedback(db_session, admin, signal(), "s", "handled")
    with pytest.raises(Conflict, match="已处置"):
        followup.give_feedback(db_session, admin, signal(), "s", "dismissed", reason="other", note="x")
    assert followup.cases_for(db_session, ["k1", "missing"])["k1"].status == "handled"
    assert set(followup.cases_for(db_session, ["k1", "missing"])) == {"k1"}


def test_measured_precision_per_signal_and_desk(db_session):
    for key, status in (("a", "confirmed"), ("b", "handled"), ("c", "confirmed")):
        followup.give_feedback(db_session, admin, signal(key), "s", status)
    followup.give_feedback(db_session, admin, signal("d"), "s", "dismissed", reason="duplicate")
    followup.give_feedback(db_session, admin, signal("e", town=OTHER), "s", "dismissed", reason="data_error")
    followup.give_feedback(db_session, admin, signal("f", name="revenue_drop"), "s", "confirmed")
    measured = followup.measured_precision(db_session)
    assert measured["layoff"]["decided"] == 5 and measured["layoff"]["positives"] == 3
    assert measured["layoff"]["precision"] == pytest.approx(0.6)
    assert measured["revenue_drop"]["precision"] == 1.0
    month = measured["layoff"]["by_month"][0]
    assert month["decided"] == 5 and len(month["month"]) == 7
    own = followup.measured_precision(db_session, TOWN)
    assert own["layoff"]["decided"] == 4 and own["layoff"]["precision"] == pytest.approx(0.75)
    counts = followup.status_counts(db_session)
    assert counts == {"open": 0, "confirmed": 3, "dismissed": 2, "handled": 1}
