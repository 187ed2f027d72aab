"""Payouts over the synthetic district: a round from the real match snapshot, instant applications
(queued / refused / review with a working-day deadline), the demo builder, and the ``paid`` input
that policy matching takes from the ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shengxin.accounts.demo import ensure_demo_accounts
from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals.attachments import Upload
from shengxin.audit.service import Actor
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.errors import Conflict, Forbidden, InvalidInput
from shengxin.payouts import applications, demo, ledger, rounds, stats
from shengxin.payouts.models import PayoutApplicationFile, PayoutRound
from shengxin.policies import matching, service
from shengxin.policies.library import real_policy_files
from shengxin.reference.district import load_district

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)
ADMIN = Principal(1, "admin", "管理员", Role.ADMIN)
PDF = Upload("材料.pdf", b"%PDF-1.4\n% test\n")


def instant_text() -> str:
    from tests.integration.test_policies_store import text

    return (text().replace("id: TEST-REV", "id: TEST-INST").replace("delivery: no_application",
                                                                    "delivery: instant_application\nmaterials: [营业收入证明]"))


@pytest.fixture
def world(district_data, db_session, tmp_path):
    _, data_dir = district_data
    analytic = tmp_path / "analytic"
    analytic.mkdir()
    (analytic / "hub").symlink_to(data_dir / "analytic" / "hub", target_is_directory=True)
    for t in [t for _, t in real_policy_files()] + [instant_text()]:
        service.import_published(db_session, t, Actor("test"), DISTRICT)
    ensure_demo_accounts(db_session, DISTRICT, demo_mode=True)
    snap = matching.run_match(db_session, DISTRICT, analytic)
    return {"analytic": analytic, "data": tmp_path / "data", "snap": snap}


def _results(analytic, sql, params=()):
    con, _ = matching.open_results(analytic)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_demo_builds_completed_rounds_and_applications(db_session, world):
    s = db_session
    with pytest.raises(Forbidden):
        demo.build_demo(s, DISTRICT, world["analytic"], world["data"], demo_mode=False)
    out = demo.build_demo(s, DISTRICT, world["analytic"], world["data"], demo_mode=True)
    assert out["created"] and out["rounds"], out
    closed = s.scalars(select(PayoutRound).where(PayoutRound.status == "closed")).all()
    assert len(closed) == len(out["rounds"])
    first = rounds.get_round(s, out["rounds"][0]["round"], ADMIN)
    assert first.counts.get("paid") and first.counts.get("clawed_back") == 1
    assert first.match_snapshot == world["snap"].id and first.data_snapshot == world["snap"].manifest["data_snapshot"]
    assert first.created_by == "dept" and first.approved_by == "admin"
    assert out["applications"], out
    assert demo.build_demo(s, DISTRICT, world["analytic"], world["data"], demo_mode=True)["created"] is False
    report = ledger.verify(s)
    assert report.ok, report.to_dict()
    assert stats.payout_stats(s, ADMIN, by=("mode",))[0]["payees"] > 0
    # the ledger feeds the caps of the next match
    paid = ledger.paid_table(s)
    assert paid and all(total > 0 for total, _ in paid.values())
    snap = matching.run_match(s, DISTRICT, world["analytic"], paid=paid)
    assert snap.manifest["rows"] > 0
    # … and of one enterprise's re-match
    (_, uscc) = next(iter(paid))
    one = ledger.paid_table(s, uscc=uscc)
    assert one == {k: v for k, v in paid.items() if k[1] == uscc}
    assert matching.rematch(s, DISTRICT, world["analytic"], uscc, paid=one).uscc == uscc


def test_instant_applications_answer_at_once(db_session, world):
    s = db_session
    assert "TEST-INST" in {p.id for p in applications.instant_policies(s)}
    rows = _results(world["analytic"], "SELECT uscc, policy_id, status FROM policy_results WHERE policy_id = "
                    "'TEST-INST' ORDER BY uscc")
    eligible = next(((u, p) for u, p, st in rows if st == "eligible"), None)
    assert eligible, "the synthetic district has an enterprise eligible for an instant policy"
    uscc, policy_id = eligible
    ent = Principal(50, "ent-x", "企业", Role.ENTERPRISE, uscc=uscc)
    form = applications.application_form(s, DISTRICT, world["analytic"], policy_id, ent)
    assert form.status == "eligible" and form.answer["conditions"] and form.uscc == uscc
    with pytest.raises(Forbidden):
        applications.apply(s, DISTRICT, world["analytic"], world["data"], policy_id, ADMIN)
    if form.materials:
        with pytest.raises(InvalidInput, match="材料"):
            applications.apply(s, DISTRICT, world["analytic"], world["data"], policy_id, ent)
    with pytest.raises(InvalidInput):
        applications.apply(s, DISTRICT, world["analytic"], world["data"], policy_id, ent,
                           uploads=[Upload("../../etc/passwd.pdf", b"MZ\x90\x00 not a pdf")])
    a = applications.apply(s, DISTRICT, world["analytic"], world["data"], policy_id, ent, uploads=[PDF])
    assert a.status == "queued" and a.item_status == "approved" and a.amount_fen > 0
    stored = s.scalars(select(PayoutApplicationFile).where(PayoutApplicationFile.application_id == a.id)).one()
    assert stored.display_name == "材料.pdf" and ".." not in stored.stored_name and "passwd" not in stored.stored_name
    item = rounds.get_item(s, a.item_id, ent)
    assert item.approved_by.startswith("rule:") and item.created_by == "ent-x"
    r = rounds.get_round(s, item.round_id, ADMIN)
    assert r.mode == "instant_application" and r.period and r.status == "approved"
    with pytest.raises(Conflict, match="每月一次"):
        applications.apply(s, DISTRICT, world["analytic"], world["data"], policy_id, ent, uploads=[PDF])
    # not eligible → refused with reasons
    listed = {u for u, _, _ in rows}
    refused = next(u for (u,) in _results(world["analytic"], "SELECT DISTINCT uscc FROM policy_results ORDER BY uscc")
                   if u not in listed)
    if refused:
        other = Principal(51, "ent-y", "企业", Role.ENTERPRISE, uscc=refused)
        b = applications.apply(s, DISTRICT, world["analytic"], world["data"], policy_id, other, uploads=[PDF])
        assert b.status == "refused" and b.reason
    # an unknown condition → review with a working-day deadline, decided by someone else
    unknown = next(((u, p) for u, p, st in rows if st == "missing_data"), None)
    if unknown:
        u, p = unknown
        third = Principal(52, "ent-z", "企业", Role.ENTERPRISE, uscc=u)
        c = applications.apply(s, DISTRICT, world["analytic"], world["data"], p, third, uploads=[PDF])
        assert c.status == "review" and c.due_at is not None
        with pytest.raises(Forbidden):
            applications.review_application(s, c.id, third, "approve", amount_fen=100)
        done = applications.review_application(s, c.id, ADMIN, "reject", reason="材料不足")
        assert done.status == "rejected" and done.reviewed_by == "admin"
    assert [x.id for x in applications.list_applications(s, ent)] == [a.id]
    assert ledger.verify(s).ok
