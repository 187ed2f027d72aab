"""Appeals domain on a real database: the state machine, routing, clocks, merge, scoping, sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals import service as svc
from shengxin.appeals.attachments import Upload
from shengxin.appeals.models import AppealBounce, AppealClock, AppealEvent
from shengxin.appeals.service import ActionInput, AppealCreate
from shengxin.appeals.sweep import sweep
from shengxin.audit.models import AuditEntry
from shengxin.audit.service import Actor
from shengxin.config import Settings
from shengxin.enterprises.uscc import make_code
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound
from shengxin.notify.models import Notification
from shengxin.reference.district import load_district
from shengxin.workdays.calendar import TZ
from shengxin.workdays.service import load_calendar, store_override
from tests.conftest import TEST_SECRET

USCC_A = make_code("9", "1", "330110", "MA2H8K9X1")
USCC_B = make_code("9", "1", "330110", "MA7QWE12X")
SYSTEM = Actor("test")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET)


@pytest.fixture
def district(settings):
    return load_district(settings.district_file)


@pytest.fixture
def people():
    """Principals as the web layer hands them to the services (no login needed at this layer)."""
    specs = {
        "admin": ("t_admin", Role.ADMIN, {}),
        "auditor": ("t_auditor", Role.AUDITOR, {}),
        "town": ("t_town", Role.TOWN, {"town_code": "330110005"}),
        "town2": ("t_town2", Role.TOWN, {"town_code": "330110009"}),
        "jxj": ("t_jxj", Role.DEPARTMENT, {"department_code": "jxj"}),
        "sw": ("t_sw", Role.DEPARTMENT, {"department_code": "sw"}),
        "ent": ("t_ent", Role.ENTERPRISE, {"uscc": USCC_A}),
        "ent2": ("t_ent2", Role.ENTERPRISE, {"uscc": USCC_B}),
    }
    return {k: Principal(i, name, name, role, **extra) for i, (k, (name, role, extra)) in enumerate(specs.items(), 1)}


def env(db_session, settings, district, now):
    return svc.make_env(db_session, settings, district, now)


def submit(db_session, settings, district, now, **kw):
    data = AppealCreate(description=kw.pop("description", "我司申报高新技术企业认定后，奖励资金一直未到账，请帮忙查询进度。"),
                        enterprise_name=kw.pop("enterprise_name", "杭州甲科技有限公司"),
                        uscc=kw.pop("uscc", USCC_A), town_code=kw.pop("town_code", "330110005"), **kw)
    return svc.submit_appeal(db_session, env(db_session, settings, district, now), data, Actor("t_ent", "enterprise"),
                             channel="portal")


def act(db_session, settings, district, now, appeal, action, who, **kw):
    return svc.perform(db_session, env(db_session, settings, district, now), appeal.id, action, who,
                       ActionInput(**kw))


def test_full_walk_records_every_transition_and_clock(db_session, settings, district, people):
    a = submit(db_session, settings, district, at(2025, 3, 10, 9, 0))
    assert a.status == "submitted" and a.code.startswith("SQ2025")
    assert a.stage == "accept" and a.due_at.astimezone(TZ) == at(2025, 3, 11, 23, 59, 59)
    steps = [
        (at(2025, 3, 10, 10), "accept", "admin", {"subcategory_code": "policy.payout"}),
        (at(2025, 3, 10, 11), "assign", "admin", {"lead_unit": "jxj", "co_units": ["sw"], "layer": "simple"}),
        (at(2025, 3, 11, 9), "sign", "jxj", {}),
        (at(2025, 3, 11, 10), "start", "jxj", {}),
        (at(2025, 3, 11, 11), "pause", "jxj", {"reason": "等待企业补充银行账户信息"}),
        (at(2025, 3, 13, 9), "resume", "jxj", {}),
        (at(2025, 3, 14, 15), "reply", "jxj", {"reply_text": "资金已于今日拨付到账。"}),
        (at(2025, 3, 17, 10), "visit", "town", {"satisfaction": "satisfied", "solved": True}),
        (at(2025, 3, 17, 11), "close", "admin", {"outcome": "solved"}),
    ]
    for now, action, who, kw in steps:
        a = act(db_session, settings, district, now, a, action, people[who], **kw)
    assert a.status == "closed" and a.outcome == "solved"
    assert a.first_receiver == "district" and a.lead_unit == "jxj"
    events = db_session.scalars(select(AppealEvent).where(AppealEvent.appeal_id == a.id).order_by(AppealEvent.id)).all()
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("submit", None, "submitted"), ("accept", "submitted", "accepted"), ("assign", "accepted", "assigned"),
        ("sign", "assigned", "signed"), ("start", "signed", "in_progress"), ("pause", "in_progress", "paused"),
        ("resume", "paused", "in_progress"), ("reply", "in_progress", "replied"),
        ("visit", "replied", "return_visit"), ("close", "return_visit", "closed")]
    assert events[5].reason == "等待企业补充银行账户信息" and events[3].actor == "t_jxj"
    audit = db_session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == a.code)).all()
    assert "appeal.close" in audit and "appeal.submit" in audit
    clocks = db_session.scalars(select(AppealClock).where(AppealClock.appeal_id == a.id).order_by(AppealClock.id)).all()
    assert [(c.stage, c.unit_code, c.used_days, c.on_time) for c in clocks] == [
        ("accept", "district", 0, True), ("sign", "jxj", 1, True),
        # handle: signed Tue 11th; paused 11th-13th (both touched, not counted); Fri 14th counts.
        ("handle", "jxj", 1, True), ("return_visit", "district", 1, True)]
    handle = clocks[2]
    # Simple limit 3 days; Tue, Wed, Thu touched by the pause → Fri 14, Mon 17, Tue 18.
    assert handle.due_at.astimezone(TZ) == at(2025, 3, 18, 23, 59, 59)
    assert a.working_days_to_close == 2  # Fri 14 and Mon 17; 11-13 were touched by the pause


def test_illegal_transition_names_state_and_allowed_actions(db_session, settings, district, people):
    a = submit(db_session, settings, district, at(2025, 3, 10, 9))
    with pytest.raises(Conflict) as info:
        act(db_session, settings, district, at(2025, 3, 10, 10), a, "reply", people["admin"], reply_text="x")
    msg = str(info.value)
    assert "submitted" in msg and "accept, reject, merge" in msg
    with pytest.raises(Conflict):
        act(db_session, settings, district, at(2025, 3, 10, 10), a, "fly", people["admin"])
    act(db_session, settings, district, at(2025, 3, 10, 10), a, "reject", people["admin"], reason="非企业诉求")
    with pytest.raises(Conflict, match="rejected"):
        act(db_session, settings, district, at(2025, 3, 10, 11), a, "accept", people["admin"])


def test_wrong_people_are_refused(db_session, settings, district, people):
    a = submit(db_session, settings, district, at(2025, 3, 10, 9))
    for who in ("auditor", "jxj", "ent"):
        with pytest.raises((Forbidden, NotFound)):
            act(db_session, settings, district, at(2025, 3, 10, 10), a, "accept", people[who])
    with pytest.raises(NotFound):  # another town's staff cannot even see it
        act(db_session, settings, district, at(2025, 3, 10, 10), a, "accept", people["town2"])
    # The appeal's own town is a first receiver.
    act(db_session, settings, district, at(2025, 3, 10, 10), a, "accept", people["town"], subcategory_code="tax.refund")
    with pytest.raises(Forbidden, match="本镇街"):
        act(db_session, settings, district, at(2025, 3, 10, 11), a, "assign", people["town"], lead_unit="sw")
    act(db_session, settings, district, at(2025, 3, 10, 11), a, "assign", people["admin"], lead_unit="sw")
    with pytest.raises(Forbidden):  # only the lead unit signs
        act(db_session, settings, district, at(2025, 3, 10, 12), a, "sign", people["admin"])
    with pytest.raises(InvalidInput, match="原因"):
        act(db_session, settings, district, at(2025, 3, 10, 12), a, "bounce", people["sw"], reason="  ")
    act(db_session, settings, district, at(2025, 3, 10, 12), a, "sign", people["sw"])
    act(db_session, settings, district, at(2025, 3, 10, 12), a, "start", people["sw"])
    with pytest.raises((Forbidden, NotFound)):  # another unit cannot pause the lead's clock
        act(db_session, settings, district, at(2025, 3, 10, 13), a, "pause", people["jxj"], reason="等待")
    with pytest.raises(InvalidInput, match="原因"):
        act(db_session, settings, district, at(2025, 3, 10, 13), a, "pause", people["sw"], reason="")


def test_unsatisfied_visit_reopens(db_session, settings, district, people):
    a = submit(db_session, settings, district, at(2025, 3, 10, 9))
    for now, action, who, kw in [
        (at(2025, 3, 10, 10), "accept", "admin", {"subcategory_code": "tax.refund"}),
        (at(2025, 3, 10, 11), "assign", "admin", {}),
        (at(2025, 3, 10, 12), "sign", "sw", {}), (at(2025, 3, 10, 13), "start", "sw", {}),
        (at(2025, 3, 10, 14), "reply", "sw", {"reply_text": "已说明退税流程"}),
    ]:
        a = act(db_session, settings, district, now, a, action, people[who], **kw)
    assert a.lead_unit == "sw"  # the subcategory's default unit
    with pytest.raises(NotFound):  # another enterprise cannot evaluate it
        act(db_session, settings, district, at(2025, 3, 11, 9), a, "visit", people["ent2"],
            satisfaction="satisfied", solved=True)
    a = act(db_session, settings, district, at(2025, 3, 11, 9), a, "visit", people["ent"],
            satisfaction="unsatisfied", solved=False, reason="仍未退税")
    assert a.status == "reopened" and a.reopen_count == 1 and a.stage == "accept"
    a = act(db_session, settings, district, at(2025, 3, 11, 10), a, "assign", people["admin"], layer="complex")
    assert a.status == "assigned"
    notes = db_session.scalars(select(Notification.kind).where(Notification.object_id == a.code)).all()
    assert "appeal.reopened" in notes


def test_bounce_goes_to_arbitration_and_time_is_charged_to_the_holder(db_session, settings, district, people):
    a = submit(db_session, settings, district, at(2025, 3, 10, 9))
    a = act(db_session, settings, district, at(2025, 3, 10, 10), a, "accept", people["admin"], subcategory_code="policy.consult")
    a = act(db_session, settings, district, at(2025, 3, 10, 11), a, "assign", people["admin"], lead_unit="jxj")
    a = act(db_session, settings, district, at(2025, 3, 12, 11), a, "bounce", people["jxj"], reason="属于税务事项")
    assert a.status == "bounced" and a.bounce_count == 1 and a.stage == "arbitrate"
    with pytest.raises(Forbidden):
        act(db_session, settings, district, at(2025, 3, 12, 12), a, "arbitrate", people["town"], lead_unit="sw")
    a = act(db_session, settings, district, at(2025, 3, 12, 12), a, "arbitrate", people["admin"], lead_unit="sw",
            reason="改由税务局办理")
    assert a.status == "assigned" and a.lead_unit == "sw"
    bounce = db_session.scalar(select(AppealBounce).where(AppealBounce.appeal_id == a.id))
    assert (bounce.unit_code, bounce.new_unit, bounce.decided_by) == ("jxj", "sw", "t_admin")
    sign_jxj = db_session.scalar(select(AppealClock).where(AppealClock.appeal_id == a.id, AppealClock.unit_code == "jxj"))
    assert (sign_jxj.end_reason, sign_jxj.used_days, sign_jxj.on_time) == ("bounced", 2, False)
    # jxj no longer sees it in its queue; sw does.
    assert svc.list_appeals(db_session, people["jxj"])[1] == 0
    assert svc.list_appeals(db_session, people["sw"])[1] == 1


def test_duplicates_merge_into_a_parent(db_session, settings, district, people):
    parent = submit(db_session, settings, district, at(2025, 3, 10, 9))
    child = submit(db_session, settings, district, at(2025, 3, 10, 9, 30))
    with pytest.raises(InvalidInput, match="自己"):
        act(db_session, settings, district, at(2025, 3, 10, 10), child, "merge", people["admin"], parent_code=child.code)
    with pytest.raises(InvalidInput, match="不存在"):
        act(db_session, settings, district, at(2025, 3, 10, 10), child, "merge", people["admin"], parent_code="SQ0")
    child = act(db_session, settings, district, at(2025, 3, 10, 10), child, "merge", people["admin"],
                parent_code=parent.code.lower())
    assert (child.status, child.outcome, child.parent_id) == ("closed", "merged", parent.id)
    d = svc.detail(db_session, people["admin"], parent.id)
    assert [c.code for c in d.children] == [child.code]
    assert any(e.action == "absorb" for e in d.events)
    third = submit(db_session, settings, district, at(2025, 3, 10, 11))
    with pytest.raises(InvalidInput, match="已合并"):
        act(db_session, settings, district, at(2025, 3, 10, 12), third, "merge", people["admin"], parent_code=child.code)


def test_role_scoping(db_session, settings, district, people):
    mine = submit(db_session, settings, district, at(2025, 3, 10, 9))  # 五常 enterprise A
    other_town = submit(db_session, settings, district, at(2025, 3, 10, 9), uscc=USCC_B, town_code="330110009",
                        enterprise_name="乙公司")
    act(db_session, settings, district, at(2025, 3, 10, 10), other_town, "accept", people["admin"],
        subcategory_code="utilities.power")
    act(db_session, settings, district, at(2025, 3, 10, 11), other_town, "assign", people["admin"],
        lead_unit="330110005", co_units=["jxj"])

    def codes(who):
        return {r.code for r in svc.list_appeals(db_session, people[who])[0]}

    assert codes("admin") == codes("auditor") == {mine.code, other_town.code}
    assert codes("town") == {mine.code, other_town.code}  # own town's + assigned to the town
    assert codes("town2") == {other_town.code}
    assert codes("jxj") == {other_town.code}  # co-handler
    assert codes("sw") == set()
    assert codes("ent") == {mine.code} and codes("ent2") == {other_town.code}
    with pytest.raises(NotFound):
        svc.detail(db_session, people["sw"], mine.id)
    assert svc.detail(db_session, people["auditor"], mine.id).actions == []
    assert "note" in svc.detail(db_session, people["jxj"], other_town.id).actions


@pytest.mark.parametrize("kw, where", [
    ({"description": "   "}, "description"),
    ({"description": "太短"}, "description"),
    ({"description": "很长" * 3000}, "description"),
    ({"uscc": "91330110MA2H8K9X10"}, "uscc"),
    ({"uscc": "ABC"}, "uscc"),
    ({"uscc": None}, "uscc"),
    ({"subcategory_code": "tax.nonsense"}, "subcategory_code"),
    ({"town_code": "330113001"}, "town_code"),
    ({"contact_email": "not-an-email"}, "contact_email"),
    ({"attachments": [Upload("virus.exe", b"MZ\x90\x00")]}, "attachments[0]"),
    ({"attachments": [Upload("fake.pdf", b"MZ\x90\x00")]}, "attachments[0]"),
    ({"attachments": [Upload("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (10 * 1024 * 1024))]}, "attachments[0]"),
    ({"attachments": [Upload(f"{i}.png", b"\x89PNG\r\n\x1a\n") for i in range(6)]}, "attachments"),
])
def test_bad_input_is_refused_with_where(db_session, settings, district, people, kw, where):
    with pytest.raises((InvalidInput, NotFound)) as info:
        submit(db_session, settings, district, at(2025, 3, 10, 9), **kw)
    assert info.value.where.startswith(where)


def test_html_is_kept_verbatim_and_attachments_get_generated_names(db_session, settings, district, people):
    text = "<script>alert('x')</script> 园区道路<b>积水</b>严重，影响货车进出。"
    a = submit(db_session, settings, district, at(2025, 3, 10, 9), description=text,
               attachments=[Upload("../../etc/现场照片.png", b"\x89PNG\r\n\x1a\n1234"),
                            Upload("C:\\docs\\说明.pdf", b"%PDF-1.4 test")])
    assert a.description == text
    d = svc.detail(db_session, people["admin"], a.id)
    names = sorted(x.display_name for x in d.attachments)
    assert names == ["现场照片.png", "说明.pdf"]
    for x in d.attachments:
        assert ".." not in x.stored_name and "/" in x.stored_name and x.stored_name.count("/") == 2
        row, path = svc.attachment_path(db_session, people["admin"], x.id, settings.data_dir)
        assert path.is_file() and path.resolve().is_relative_to((settings.data_dir / "appeals").resolve())
    with pytest.raises(NotFound):
        svc.attachment_path(db_session, people["ent2"], d.attachments[0].id, settings.data_dir)


def test_sweep_warns_then_marks_overdue_and_escalates_once(db_session, settings, district, people):
    a = submit(db_session, settings, district, at(2025, 3, 10, 9))
    # Accept limit 1 working day: due Tue 11th 23:59:59, warning at 19:12.
    e = env(db_session, settings, district, at(2025, 3, 11, 12))
    assert sweep(db_session, e, SYSTEM).warnings == 0
    e = env(db_session, settings, district, at(2025, 3, 11, 19, 30))
    r = sweep(db_session, e, SYSTEM)
    assert (r.warnings, r.overdue) == (1, 0) and a.deadline_state == "warning"
    e = env(db_session, settings, district, at(2025, 3, 12, 8))
    r = sweep(db_session, e, SYSTEM)
    assert (r.warnings, r.overdue) == (0, 1) and a.deadline_state == "overdue"
    assert sweep(db_session, e, SYSTEM).overdue == 0  # marked once
    kinds = db_session.scalars(select(Notification.kind).where(Notification.object_id == a.code)
                               .order_by(Notification.id)).all()
    # The acceptance clock is the district desk's own: its overdue notice goes to the desk itself.
    assert kinds == ["appeal.warning", "appeal.overdue"]
    assert db_session.scalar(select(Notification.unit_code).where(Notification.kind == "appeal.overdue")) == "district"
    dash = svc.dashboard(db_session, people["admin"])
    assert dash["counts"].get("overdue") == 1 and dash["overdue"][0].code == a.code


def test_provisional_deadline_is_recomputed_when_the_calendar_arrives(db_session, settings, district, people):
    a = submit(db_session, settings, district, at(2026, 12, 31, 10))
    # 1 Jan 2027 is Friday: with no calendar for 2027 it counts as a working day (provisional).
    assert a.due_at.astimezone(TZ) == at(2027, 1, 1, 23, 59, 59) and a.due_provisional
    from shengxin.appeals.deadlines import recompute_provisional

    store_override(db_session, b"year: 2027\nsource: test\nholidays:\n  - {date: 2027-01-01, name: NY}\n",
                   "2027.yaml", SYSTEM)
    changed = recompute_provisional(db_session, load_calendar(db_session), SYSTEM, at(2026, 12, 31, 11))
    assert changed == 1
    assert a.due_at.astimezone(TZ) == at(2027, 1, 4, 23, 59, 59) and not a.due_provisional
    assert db_session.scalar(select(AuditEntry.id).where(AuditEntry.action == "appeals.deadlines.recompute"))


def test_intake_stores_the_classifier_suggestion_for_staff_to_confirm(db_session, settings, district, people):
    a = submit(db_session, settings, district, at(2025, 3, 10, 9),
               description="园区上周三次停电，生产线被迫停工，请尽快协调供电部门恢复稳定供电。")
    from shengxin.appeals.categories import load_taxonomy
    from shengxin.appeals.suggestions import classify_pending, is_pending

    # intake does not wait for the classifier: the suggestion is filled in after the commit
    assert is_pending(a) and a.suggested_subcategory is None
    db_session.commit()
    assert classify_pending(db_session, settings.data_dir) == 1
    db_session.refresh(a)
    assert not is_pending(a) and a.suggestion["source"] == "model"
    sub = load_taxonomy().subcategory(a.suggested_subcategory)  # a real code of our taxonomy
    assert 0 < a.suggestion_confidence <= 1 and a.suggested_unit
    assert a.subcategory_code is None  # only a suggestion: staff confirm or correct it
    a = act(db_session, settings, district, at(2025, 3, 10, 10), a, "accept", people["admin"],
            subcategory_code="utilities.power")
    event = db_session.scalar(select(AppealEvent).where(AppealEvent.appeal_id == a.id, AppealEvent.action == "accept"))
    assert event.detail == {"suggested": sub.code, "confirmed": "utilities.power"}


def test_demo_history_walks_the_real_state_machine(db_session, tmp_path, district):
    from shengxin.appeals.demo import load_demo_appeals
    from shengxin.appeals.models import Appeal
    from shengxin.appeals.states import TRANSITIONS
    from shengxin.appeals.stats import appeal_stats

    demo_settings = Settings(data_dir=tmp_path / "demo", demo=True)
    e = svc.make_env(db_session, demo_settings, district, at(2026, 6, 30, 18))
    result = load_demo_appeals(db_session, e, n=150, seed=3)
    assert result["created"] == 150
    assert load_demo_appeals(db_session, e, n=150, seed=3)["created"] == 0  # once only
    appeals = db_session.scalars(select(Appeal)).all()
    assert {"closed", "rejected"} <= {a.status for a in appeals}
    assert any(a.status not in ("closed", "rejected") for a in appeals)  # the latest are still open
    for ev in db_session.scalars(select(AppealEvent)):
        if ev.action in TRANSITIONS:
            assert ev.from_status in TRANSITIONS[ev.action].sources, (ev.action, ev.from_status)
    rows = appeal_stats(db_session, district, "month")
    assert sum(r.appeals for r in rows) <= 150 and any(r.avg_working_days for r in rows)
    assert all(0 <= (r.on_time_rate or 0) <= 1 for r in rows)
    with pytest.raises(Forbidden):
        load_demo_appeals(db_session, svc.make_env(db_session, settings_nodemo(tmp_path), district), n=5)


def settings_nodemo(tmp_path):
    return Settings(data_dir=tmp_path / "nodemo", secret_key=TEST_SECRET)


def test_instants_survive_a_reload_on_every_backend(db_session, settings, district, people):
    from shengxin.appeals.deadlines import aware

    a = submit(db_session, settings, district, at(2025, 3, 10, 9, 0))
    a = act(db_session, settings, district, at(2025, 3, 10, 10), a, "accept", people["admin"],
            subcategory_code="tax.refund")
    a = act(db_session, settings, district, at(2025, 3, 10, 11), a, "assign", people["admin"])
    a = act(db_session, settings, district, at(2025, 3, 10, 12), a, "sign", people["sw"])
    a = act(db_session, settings, district, at(2025, 3, 10, 13), a, "start", people["sw"])
    a = act(db_session, settings, district, at(2025, 3, 11, 9), a, "pause", people["sw"], reason="等待企业补充材料")
    db_session.expire_all()  # read everything back from the database
    assert aware(a.submitted_at) == at(2025, 3, 10, 9, 0)
    a = act(db_session, settings, district, at(2025, 3, 12, 9), a, "resume", people["sw"])
    db_session.expire_all()
    # Handle clock from Mon 10th 12:00, 3 days; the pause touched 11th and 12th → Thu 13, Fri 14, Mon 17.
    assert aware(a.due_at).astimezone(TZ) == at(2025, 3, 17, 23, 59, 59)
