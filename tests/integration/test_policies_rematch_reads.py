"""A single-enterprise re-match reads only that enterprise: its facts from the data snapshot's
sorted segments, its earlier answers from its newest delta or its row group of the match results,
and the live policies' texts only once per process — and every read agrees with the views."""

from __future__ import annotations

from shengxin.audit.service import Actor
from shengxin.engine.evaluate import FactsEnv
from shengxin.enterprises.store import current_snapshot, open_current
from shengxin.policies import matching, service
from shengxin.policies.evaluate import CachedEnv, outcome
from shengxin.policies.facts import CONTACT_FIELDS, load_facts, snapshot_facts
from tests.integration.test_policies_store import DISTRICT, _publish_library, analytic, text  # noqa: F401


def _view_rows(analytic_dir, uscc):
    con, _ = matching.open_results(analytic_dir)
    try:
        return sorted(con.execute("SELECT policy_id, version, status, amount_fen, false_mask, unknown_mask "
                                  "FROM policy_results WHERE uscc = ?", [uscc]).fetchall())
    finally:
        con.close()


def _direct_rows(snap, uscc):
    t = matching.enterprise_results(snap, uscc)
    cols = ["policy_id", "version", "status", "amount_fen", "false_mask", "unknown_mask"]
    return sorted(zip(*[t.column(c).to_pylist() for c in cols]))


def test_snapshot_facts_are_the_views_facts(analytic):
    data = current_snapshot(analytic)
    con = open_current(analytic)
    sample = [r[0] for r in con.execute("SELECT uscc FROM enterprises ORDER BY hash(uscc) LIMIT 40").fetchall()]
    for uscc in sample:
        via_views = load_facts(con, uscc)
        direct = snapshot_facts(data, uscc)
        assert direct.enterprise == {k: v for k, v in via_views.enterprise.items() if k not in CONTACT_FIELDS}
        assert set(direct.tables) == set(via_views.tables)
        for name, rows in via_views.tables.items():
            assert sorted(direct.tables[name], key=repr) == sorted(rows, key=repr), (uscc, name)
    assert snapshot_facts(data, "91330110MA0000000X") is None
    con.close()


def test_rematch_reads_agree_with_the_views(db_session, analytic):
    _publish_library(db_session, count=20)
    snap = matching.run_match(db_session, DISTRICT, analytic)
    con, _ = matching.open_results(analytic)
    sample = [r[0] for r in con.execute("SELECT DISTINCT uscc FROM policy_results ORDER BY hash(uscc) LIMIT 12").fetchall()]
    con.close()
    for uscc in sample:
        assert _direct_rows(snap, uscc) == _view_rows(analytic, uscc) != []
    live = service.live_policies(db_session, DISTRICT, snap.as_of)
    data = current_snapshot(analytic)
    for uscc in sample[:4]:
        result = matching.rematch(db_session, DISTRICT, analytic, uscc)
        env = CachedEnv(FactsEnv(load_facts(open_current(analytic), uscc), snap.as_of))
        expected = sorted((lp.policy.id, o.status, o.amount_fen) for lp in live
                          if (o := outcome(lp.policy, env)).status != "not_eligible")
        assert sorted((r["policy_id"], r["status"], r["amount_fen"]) for r in result.rows) == expected
        # the delta is what readers see now, directly and through the view
        assert _direct_rows(snap, uscc) == _view_rows(analytic, uscc)
        assert result.newly_eligible == []  # it was eligible for the same policies before
    assert snapshot_facts(data, sample[0]) is not None


def test_rematch_finds_newly_eligible_after_a_new_published_version(db_session, analytic):
    service.import_published(db_session, text("1200万元"), Actor("test"), DISTRICT)
    snap = matching.run_match(db_session, DISTRICT, analytic)
    con, _ = matching.open_results(analytic)
    near = [r[0] for r in con.execute("SELECT uscc FROM policy_results WHERE policy_id = 'TEST-REV' "
                                      "AND status = 'near_miss' ORDER BY uscc LIMIT 3").fetchall()]
    con.close()
    assert near, "the synthetic district has enterprises just below 1200万元 of revenue"
    # a lower threshold as version 2: the cached compiled version 1 must not be used
    service.import_published(db_session, text("16万元"), Actor("test"), DISTRICT)
    [live] = [lp for lp in service.live_policies(db_session, DISTRICT, snap.as_of) if lp.policy.id == "TEST-REV"]
    assert live.version == 2
    for uscc in near:
        result = matching.rematch(db_session, DISTRICT, analytic, uscc)
        assert result.newly_eligible == [("TEST-REV", 2)]
        again = matching.rematch(db_session, DISTRICT, analytic, uscc)
        assert again.newly_eligible == []  # its newest delta already says eligible


def test_tables_read_names_what_the_rules_use():
    from shengxin.policies.compile import compile_text

    revenue = compile_text(text(), DISTRICT)
    assert revenue.tables_read == {"enterprises", "monthly_tax"}
    grown = compile_text(text("1").replace('"sum(revenue, months=12)"', '"count(certifications)"'), DISTRICT)
    assert grown.tables_read == {"enterprises", "certifications"}


def test_facts_of_the_tables_the_policies_read_give_the_same_answers(db_session, analytic):
    """Re-matching reads only the tables the live policies read; every answer (status, amount,
    masks, per-condition values) is the one all tables give."""
    from shengxin.enterprises.hub.tables import load_tables
    from shengxin.policies.evaluate import answer

    _publish_library(db_session, count=40)
    live = service.live_policies(db_session, DISTRICT, matching.default_as_of(current_snapshot(analytic)))
    tables = matching.tables_read(live)
    assert "enterprises" in tables and tables < set(load_tables())
    data = current_snapshot(analytic)
    con = open_current(analytic)
    sample = [r[0] for r in con.execute("SELECT uscc FROM enterprises ORDER BY hash(uscc) LIMIT 30").fetchall()]
    con.close()
    as_of = matching.default_as_of(data)
    compared = 0
    for uscc in sample:
        whole, part = snapshot_facts(data, uscc), snapshot_facts(data, uscc, tables)
        assert set(part.tables) <= tables and part.enterprise == whole.enterprise
        env_whole, env_part = CachedEnv(FactsEnv(whole, as_of)), CachedEnv(FactsEnv(part, as_of))
        for lp in live:
            assert answer(lp.policy, env_part).to_dict() == answer(lp.policy, env_whole).to_dict(), (uscc, lp.policy.id)
            compared += 1
    assert compared == len(sample) * len(live) > 0
