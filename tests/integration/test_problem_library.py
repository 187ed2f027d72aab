"""Problem library on a real database (SQLite and PostgreSQL) and through the web pages."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from sqlalchemy import select

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals.classify.corpus import generate_demo_appeals
from shengxin.appeals.classify.store import corrections_from_appeals
from shengxin.appeals.library import service as lib
from shengxin.appeals.library.models import ProblemLibraryEntry
from shengxin.appeals.models import Appeal
from shengxin.audit.models import AuditEntry
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound
from shengxin.reference.district import load_district
from tests.integration.conftest import csrf_of

T0 = dt.datetime(2025, 11, 3, 2, 0, tzinfo=dt.timezone.utc)
POWER = [
    "仓前科技园今天又停电了，这个月已经第三次，没有任何通知，生产线全部停下",
    "您好，仓前科技园又停电了！这个月第三次了，事先没有任何通知，我们生产线全部停下来了",
    "仓前科技园今天又停电了，这个月都第三次了，也没提前通知，生产线全部停下，请尽快处理",
    "仓前科技园停电！这个月第三次，没有通知，整条生产线停下了，请供电部门处理",
    "我们在仓前科技园，今天又停电了，这个月第三次，没有任何通知，生产线全部停下",
]
HOUSING = [
    "五常的人才公寓排队两年了还没轮到，员工住得很远",
    "员工申请五常人才公寓，排队两年多了还没轮到，住得太远了",
    "技术骨干申请五常人才公寓，排队两年了还没轮到，住得很远",
    "五常人才公寓排队两年都没轮到，员工通勤太远",
]
_codes = itertools.count(1)

ADMIN = Principal(1, "admin", "管理员", Role.ADMIN)
DEPT_JXJ = Principal(2, "dept", "经信局", Role.DEPARTMENT, department_code="jxj")
DEPT_FGJ = Principal(3, "fgj-staff", "发改局", Role.DEPARTMENT, department_code="fgj")
AUDITOR = Principal(4, "auditor", "审计员", Role.AUDITOR)


def add(s, text, *, category="utilities", sub="utilities.power", town="330110012", at=T0, status="accepted",
        suggested=None, lead=None, suggested_unit=None) -> Appeal:
    a = Appeal(code=f"LIB{next(_codes):06d}", channel="portal", enterprise_name="测试企业", town_code=town,
               title=text[:20], description=text, category_code=category, subcategory_code=sub,
               suggested_subcategory=suggested, suggested_unit=suggested_unit, lead_unit=lead, status=status,
               submitted_by="test", submitted_at=at, updated_at=at)
    s.add(a)
    s.flush()
    return a


def seed(s) -> dict:
    """Background demo appeals of 2025 plus planted classes of cases in November 2025."""
    for a in generate_demo_appeals(150, 2025, 11):
        if a["category_code"] not in ("utilities", "talent"):
            add(s, a["text"], category=a["category_code"], sub=a["subcategory_code"], town=a["town_code"],
                at=a["submitted_at"])
    power = [add(s, t, at=T0 + dt.timedelta(days=2 * i)) for i, t in enumerate(POWER)]
    # not yet categorised by staff: the classifier's suggestion puts it in the class
    power.append(add(s, POWER[0] + "，急", category=None, sub=None, suggested="utilities.power",
                     at=T0 + dt.timedelta(days=11)))
    rejected = add(s, POWER[1], status="rejected", at=T0 + dt.timedelta(days=12))
    housing = [add(s, t, category="talent", sub="talent.housing", town="330110005", at=T0 + dt.timedelta(days=i))
               for i, t in enumerate(HOUSING)]
    s.flush()
    return {"power": power, "rejected": rejected, "housing": housing,
            "power_key": f"utilities:{power[0].id}", "housing_key": f"talent:{housing[0].id}"}


@pytest.fixture
def district():
    return load_district()


def test_groups_are_built_from_stored_appeals(db_session):
    planted = seed(db_session)
    records = lib.library_records(db_session)
    ids = {r.id for r in records}
    assert str(planted["rejected"].id) not in ids
    suggested = next(r for r in records if r.id == str(planted["power"][-1].id))
    assert suggested.category == "utilities"
    groups, latest = lib.current_groups(db_session)
    assert latest is not None
    by_key = {g.key: g for g in groups}
    assert set(by_key[planted["power_key"]].record_ids) == {str(a.id) for a in planted["power"]}
    assert set(by_key[planted["housing_key"]].record_ids) == {str(a.id) for a in planted["housing"]}
    assert by_key[planted["housing_key"]].by_town == (("330110005", 4),)
    talent_only, _ = lib.current_groups(db_session, lib.GroupQuery(category="talent"))
    assert {g.category for g in talent_only} == {"talent"}
    with pytest.raises(InvalidInput, match="相似度阈值"):
        lib.current_groups(db_session, lib.GroupQuery(threshold=0.05))


def test_promote_edit_and_audit(db_session, district):
    planted = seed(db_session)
    query = lib.GroupQuery()
    power = lib.find_group(db_session, planted["power_key"], query)
    data = lib.EntryInput(title="仓前科技园频繁停电", owner_unit="fgj", root_cause="园区配电线路老化，变压器容量不足")
    entry = lib.promote_group(db_session, power, data, ADMIN, district)
    assert entry.case_count == 6 and entry.status == "open" and entry.owner_unit == "fgj"
    assert sorted(entry.appeal_ids) == sorted(str(a.id) for a in planted["power"])
    assert entry.towns == [["330110012", 6]] and sum(entry.months.values()) == 6
    promoted = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "library.promote"))
    assert promoted.object_id == str(entry.id)
    with pytest.raises(Conflict, match="已经入库"):
        lib.promote_group(db_session, power, data, ADMIN, district)

    housing = lib.find_group(db_session, planted["housing_key"], query)
    with pytest.raises(Forbidden, match="本部门"):
        lib.promote_group(db_session, housing, lib.EntryInput("人才公寓", "zjj", "房源不足"), DEPT_JXJ, district)
    with pytest.raises(Forbidden):
        lib.promote_group(db_session, housing, lib.EntryInput("人才公寓", "jxj", "房源不足"), AUDITOR, district)
    with pytest.raises(InvalidInput, match="问题根源") as err:
        lib.promote_group(db_session, housing, lib.EntryInput("人才公寓", "jxj", "  "), DEPT_JXJ, district)
    assert err.value.where == "root_cause"
    with pytest.raises(InvalidInput, match="未知的责任单位"):
        lib.promote_group(db_session, housing, lib.EntryInput("人才公寓", "nowhere", "x"), ADMIN, district)
    own = lib.promote_group(db_session, housing, lib.EntryInput("五常人才公寓排队久", "jxj", "房源不足"), DEPT_JXJ,
                            district)
    assert own.owner_unit == "jxj" and own.created_by == "dept"

    # editing: department staff edit their own department's entries only, and never hand them over
    with pytest.raises(Forbidden, match="本部门负责"):
        lib.update_entry(db_session, entry.id, lib.EntryInput("x", "fgj", "y"), DEPT_JXJ, district)
    with pytest.raises(Forbidden, match="区级管理员"):
        lib.update_entry(db_session, own.id, lib.EntryInput("x", "fgj", "y"), DEPT_JXJ, district)
    with pytest.raises(InvalidInput, match="解决措施和面向企业的答复"):
        lib.update_entry(db_session, own.id, lib.EntryInput("x", "jxj", "y", status="resolved"), DEPT_JXJ, district)
    with pytest.raises(InvalidInput, match="未知状态"):
        lib.update_entry(db_session, own.id, lib.EntryInput("x", "jxj", "y", status="done"), DEPT_JXJ, district)
    done = lib.update_entry(db_session, own.id, lib.EntryInput(
        "五常人才公寓排队久", "jxj", "房源不足", resolution="新增定向配租房源 200 套",
        public_answer="五常人才公寓已新增企业定向配租房源，请企业人事通过平台统一申请。", status="resolved"),
        DEPT_JXJ, district)
    assert done.status == "resolved" and done.updated_by == "dept"
    moved = lib.update_entry(db_session, entry.id, lib.EntryInput("仓前科技园频繁停电", "330110012", "线路老化"),
                             ADMIN, district)
    assert moved.owner_unit == "330110012"
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "problem_library_entry"))
    assert sorted(actions) == ["library.promote", "library.promote", "library.update", "library.update"]
    assert [e.id for e in lib.list_entries(db_session, status="resolved")] == [own.id]
    with pytest.raises(NotFound):
        lib.get_entry(db_session, 999_999)


def test_a_changed_group_is_not_promoted_blindly(db_session):
    planted = seed(db_session)
    with pytest.raises(NotFound, match="刷新"):
        lib.find_group(db_session, planted["power_key"], lib.GroupQuery(threshold=0.95))


def test_answers_are_found_and_reuse_is_counted(db_session, district):
    planted = seed(db_session)
    housing = lib.find_group(db_session, planted["housing_key"], lib.GroupQuery())
    entry = lib.promote_group(db_session, housing, lib.EntryInput(
        "五常人才公寓排队", "jxj", "五常片区人才公寓房源不足，排队时间长",
        public_answer="已新增定向配租房源，请通过平台申请。"), ADMIN, district)
    matches = lib.reusable_answers(db_session, "员工排五常人才公寓排了很久，能不能快点", category="talent")
    assert [m.entry_id for m in matches] == [entry.id] and matches[0].similarity > 0
    assert lib.reusable_answers(db_session, "出口退税", category="tax") == []
    with pytest.raises(InvalidInput):
        lib.reusable_answers(db_session, " ")
    after = lib.record_answer_reuse(db_session, entry.id, planted["housing"][0].id, ADMIN.actor)
    assert after.reuse_count == 1
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "library.reuse_answer")) is not None


def test_corrections_are_read_from_stored_appeals(db_session):
    agreed = add(db_session, "出口退税一直没退", category="tax", sub="tax.refund", suggested="tax.refund",
                 lead="sw", suggested_unit="sw")
    corrected = add(db_session, "园区路灯坏了几个月", category="transport", sub="transport.road",
                    suggested="utilities.power", lead="330110012", suggested_unit="fgj")
    rerouted = add(db_session, "厂房租金太贵", category="land", sub="land.plant", suggested="land.plant",
                   lead="330110005", suggested_unit="tzcj")
    add(db_session, "垃圾", category="other", sub="other.general", suggested="tax.refund", status="rejected")
    got = corrections_from_appeals(db_session)
    assert [(c.subcategory, c.unit) for c in got] == [("transport.road", "330110012"), ("land.plant", "330110005")]
    assert got[0].text == f"{corrected.title}\n{corrected.description}"
    assert agreed.id and rerouted.id


# -- pages --------------------------------------------------------------------------------------

@pytest.fixture
def seeded(app, session_factory):
    with session_factory() as s:
        planted = seed(s)
        s.commit()
    return planted


def test_library_page_by_role(seeded, as_role, client):
    for user in ("admin", "dept", "auditor"):
        c = as_role(user)
        r = c.get("/appeals/library")
        assert r.status_code == 200, user
        assert f'data-key="{seeded["power_key"]}"' in r.text and "问题库" in r.text
        assert ('data-testid="promote-form"' in r.text) == (user != "auditor")
    for user in ("town", "enterprise"):
        assert as_role(user).get("/appeals/library").status_code == 403
    r = client.get("/appeals/library", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert as_role("admin").get("/appeals/library?threshold=2").status_code == 422


def _promote(c, key, **fields):
    token = csrf_of(c, "/appeals/library")
    data = {"csrf_token": token, "group_key": key, "title": "仓前科技园频繁停电", "owner_unit": "jxj",
            "root_cause": "园区配电线路老化", "window_days": "90", "threshold": "0.45", "months": "12",
            "min_size": "3", "category": ""}
    data.update(fields)
    return c.post("/appeals/library/promote", data=data, follow_redirects=False)


def test_promote_and_edit_through_the_pages(seeded, as_role, session_factory):
    admin, dept, auditor = as_role("admin"), as_role("dept"), as_role("auditor")
    r = _promote(admin, seeded["power_key"], root_cause="   ")
    assert r.status_code == 422 and "请填写问题根源" in r.text
    token = csrf_of(auditor, "/appeals/library")
    r = auditor.post("/appeals/library/promote", data={"csrf_token": token, "group_key": seeded["power_key"]},
                     follow_redirects=False)
    assert r.status_code == 403
    r = _promote(dept, seeded["power_key"], owner_unit="fgj")
    assert r.status_code == 403 and "本部门" in r.text
    r = _promote(admin, seeded["power_key"], owner_unit="fgj", public_answer="<script>alert(1)</script>")
    assert r.status_code == 303
    entry_url = r.headers["location"].split("?")[0]
    page = admin.get(entry_url)
    assert "园区配电线路老化" in page.text and "区发展和改革局" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert _promote(admin, seeded["power_key"]).status_code == 409
    listing = admin.get("/appeals/library")
    assert "仓前科技园频繁停电" in listing.text and "已入库" in listing.text

    # the department may not edit an entry owned by another unit; the admin may
    token = csrf_of(dept, entry_url)
    r = dept.post(entry_url, data={"csrf_token": token, "title": "x", "owner_unit": "fgj", "root_cause": "y"},
                  follow_redirects=False)
    assert r.status_code == 403
    token = csrf_of(admin, entry_url)
    r = admin.post(entry_url, data={"csrf_token": token, "title": "仓前科技园频繁停电", "owner_unit": "jxj",
                                    "root_cause": "线路老化", "status": "resolved"}, follow_redirects=False)
    assert r.status_code == 422 and "解决措施" in r.text
    r = admin.post(entry_url, data={"csrf_token": token, "title": "仓前科技园频繁停电", "owner_unit": "jxj",
                                    "root_cause": "线路老化", "resolution": "完成线路改造",
                                    "public_answer": "园区线路已改造完成。", "status": "resolved"},
                   follow_redirects=False)
    assert r.status_code == 303
    # now owned by jxj: the jxj department user may edit it
    token = csrf_of(dept, entry_url)
    r = dept.post(entry_url, data={"csrf_token": token, "title": "仓前科技园停电问题", "owner_unit": "jxj",
                                   "root_cause": "线路老化", "resolution": "完成线路改造",
                                   "public_answer": "园区线路已改造完成。", "status": "resolved"},
                  follow_redirects=False)
    assert r.status_code == 303
    with session_factory() as s:
        entry = s.scalar(select(ProblemLibraryEntry))
        assert (entry.title, entry.owner_unit, entry.status, entry.updated_by) == \
               ("仓前科技园停电问题", "jxj", "resolved", "dept")
    assert auditor.get(entry_url).status_code == 200
    assert 'data-testid="entry-form"' not in auditor.get(entry_url).text
    assert admin.get("/appeals/library/entries/999999").status_code == 404
    assert re.search(r"已形成解决方案", admin.get("/appeals/library?status=resolved").text)
