"""Policy files: parsing, validation errors (each names the policy, the condition and a fix),
the single-enterprise evaluator and its explanations, exact amounts, text, the workflow table."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.engine.evaluate import Facts, FactsEnv
from shengxin.errors import Conflict
from shengxin.policies import amounts as A
from shengxin.policies import states
from shengxin.policies import text as X
from shengxin.policies.compile import compile_policy, compile_text
from shengxin.policies.context import Tags
from shengxin.policies.definition import parse_policy, parse_text
from shengxin.policies.errors import PolicyInvalid
from shengxin.policies.evaluate import CachedEnv, answer, outcome
from shengxin.reference.district import load_district

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)
AS_OF = dt.date(2026, 10, 31)


def policy(eligibility, **extra) -> dict:
    return {"id": "T-1", "title": "测试政策", "issuer": "测试", "level": "district", "department": "jxj",
            "legal_basis": {"document": "测试文件", "article": "第一条"}, "valid_from": "2025-01-01",
            "delivery": "ordinary", "eligibility": {"all": eligibility}, **extra}


def compile_(data: dict):
    return compile_policy(parse_policy(data), DISTRICT, Tags())


def problems(data: dict) -> list:
    with pytest.raises(PolicyInvalid) as info:
        compile_(data)
    return info.value.problems


def env(enterprise: dict | None = None, **tables) -> CachedEnv:
    e = {"uscc": "91330110T000000010", "status": "active", "established_on": dt.date(2015, 1, 1)}
    e.update(enterprise or {})
    return CachedEnv(FactsEnv(Facts(e, tables), AS_OF))


def annual(**figures) -> list[dict]:
    row = {"uscc": "91330110T000000010", "year": 2025, "employees": None, "revenue_fen": None, "assets_fen": None,
           "rd_expense_fen": None}
    row.update(figures)
    return [row]


# ----------------------------------------------------------------------------- validation errors


def test_unknown_field_names_the_policy_condition_and_suggests_a_fix():
    [p] = problems(policy([{"field": "annual.revenu", "op": ">=", "value": "2000万元"}]))
    assert p.policy == "T-1" and "eligibility.all[0]" in p.where and "c1" in p.where
    assert "annual.revenu" in p.message and "annual.revenue" in p.message  # did you mean …
    assert p.fix


def test_unit_mismatch_and_missing_money_unit():
    a, b = problems(policy([{"field": "annual.revenue", "op": ">=", "value": "20人"},
                            {"field": "annual.revenue", "op": ">=", "value": 2000}]))
    assert "单位不一致" in a.message and "金额" in a.message and "万元" in a.fix
    assert "没有写单位" in b.message and "c2" in b.where


def test_type_mismatch():
    [p] = problems(policy([{"field": "annual.revenue", "op": "in", "value": ["'a'"]}]))
    assert "不是数字" in p.message or "数字" in p.message
    [q] = problems(policy([{"field": "established_on", "op": "at_least_ago", "value": "3人"}]))
    assert "整数年" in q.message


def test_text_compared_with_less_than_is_refused():
    [p] = problems(policy([{"field": "town", "op": ">", "value": "330110005"}]))
    assert "只能用 = 或 !=" in p.message


def test_contradictory_conditions_are_refused():
    [p] = problems(policy([{"id": "big", "field": "annual.revenue", "op": ">=", "value": "1亿元"},
                           {"id": "small", "field": "annual.revenue", "op": "<", "value": "5000万元"}]))
    assert "自相矛盾" in p.message and "big" in p.where and "small" in p.where
    [q] = problems(policy([{"field": "size_class", "op": "=", "value": "small"},
                           {"field": "size_class", "op": "in", "value": ["large", "medium"]}]))
    assert "自相矛盾" in q.message
    [r] = problems(policy([{"field": "industry", "op": "under", "value": "C"},
                           {"field": "industry", "op": "under", "value": "65"}]))
    assert "没有交集" in r.message
    [s] = problems(policy([{"field": "annual.employees", "op": "between", "value": ["100人", "10人"]}]))
    assert "下限" in s.message
    # the same pair inside an any group is fine
    compile_(policy([{"any": [{"field": "annual.revenue", "op": ">=", "value": "1亿元"},
                              {"field": "annual.revenue", "op": "<", "value": "5000万元"}]}]))


def test_amount_using_a_missing_field():
    [p] = problems(policy([{"field": "annual.revenue", "op": ">", "value": "0元"}],
                          amount={"per_unit": "1500元", "units": "input.hires"}))
    assert "amount.units" in p.where and "input.hires" in p.message and "inputs:" in p.fix


def test_no_application_policy_cannot_depend_on_application_inputs():
    [p] = problems(policy([{"field": "input.hires", "op": ">=", "value": "1人"}], delivery="no_application",
                          inputs={"hires": {"type": "number", "unit": "人", "label": "招用人数"}}))
    assert "免申即享" in p.message and "instant_application" in p.fix


def test_structural_problems_are_all_reported_at_once():
    data = policy([{"field": "annual.revenue", "op": "≈", "value": "1元", "vaule": 2}], level="town", delivery="x")
    data.pop("issuer")
    with pytest.raises(PolicyInvalid) as info:
        parse_policy(data)
    messages = " | ".join(p.message for p in info.value.problems)
    for fragment in ("issuer", "层级", "兑现方式", "vaule", "运算符"):
        assert fragment in messages


def test_yaml_errors_give_the_line():
    with pytest.raises(PolicyInvalid) as info:
        parse_text("id: X\ntitle: [unclosed\n")
    assert "第 " in info.value.problems[0].where and "行" in info.value.problems[0].where


def test_money_must_be_whole_fen_and_unknown_department():
    [p, q] = problems(policy([{"field": "annual.revenue", "op": ">=", "value": "1.234元"}], department="nope"))
    assert "部门" in p.message or "部门" in q.message
    assert any("整数分" in x.message for x in (p, q))


# ----------------------------------------------------------------------------- evaluation and explanations


RD_POLICY = policy([
    {"id": "industry", "field": "industry", "op": "under", "value": "C", "ref": "第二条"},
    {"id": "rd_ratio", "field": "annual.rd_expense / annual.revenue", "label": "研发费用占营业收入比例", "op": ">=",
     "value_by": {"field": "annual.revenue", "bands": [{"below": "5000万元", "value": "5%"},
                                                       {"below": "2亿元", "value": "4%"}, {"value": "3%"}]}},
    {"id": "age", "field": "established_on", "op": "at_least_ago", "value": "1年", "label": "成立时间"},
], amount={"rate": "10%", "base": "annual.rd_expense", "max": "50万元", "round": {"unit": "100元"}})


def test_pass_fail_unknown_with_actual_value_and_threshold():
    p = compile_(RD_POLICY)
    yi3 = 30_000_000_000  # 3亿元 in fen
    ok = answer(p, env({"industry_code": "3911"}, annual_finance=annual(revenue_fen=yi3, rd_expense_fen=1_000_000_000)))
    assert ok.status == "eligible" and ok.amount_fen == 50_000_000  # 10% of 1000万元, capped at 50万元
    small = answer(p, env({"industry_code": "3911"}, annual_finance=annual(revenue_fen=3_000_000_000, rd_expense_fen=120_000_000)))
    assert small.status == "near_miss"  # 4% < 5% below 5000万元 of revenue
    near = answer(p, env({"industry_code": "3911"}, annual_finance=annual(revenue_fen=yi3, rd_expense_fen=840_000_000)))
    assert near.status == "near_miss" and near.failed == ["rd_ratio"]
    rd = next(c for c in near.conditions if c.key == "rd_ratio")
    assert rd.actual == "2.8%" and rd.required.startswith("≥ 3%") and "2亿元及以上" in rd.required
    assert "研发费用占营业收入比例：实际 2.8%，要求 ≥ 3%" in near.reason
    unknown = answer(p, env({"industry_code": "3911"}))
    assert unknown.status == "missing_data" and unknown.unknown == ["rd_ratio"]
    assert "年报研发费用" in unknown.reason
    no = answer(p, env({"industry_code": "6511"}, annual_finance=annual(revenue_fen=1, rd_expense_fen=0)))
    assert no.status == "not_eligible" and no.failed == ["industry", "rd_ratio"]


def test_registered_at_least_one_year_counts_whole_years_to_the_as_of_date():
    p = compile_(policy([{"id": "age", "field": "established_on", "op": "at_least_ago", "value": "1年"}]))
    assert outcome(p, env({"established_on": dt.date(2025, 10, 31)})).status == "eligible"
    assert outcome(p, env({"established_on": dt.date(2025, 11, 1)})).status == "not_eligible"
    assert outcome(p, env({"established_on": dt.date(2026, 11, 1)})).status == "not_eligible"  # not yet founded


def test_each_year_requires_every_year():
    p = compile_(policy([{"id": "g", "field": "growth(revenue, months=12)", "op": ">", "value": "15%", "each_year": 2}]))

    def months(first, values):
        out, d = [], first
        for v in values:
            out.append({"uscc": "91330110T000000010", "month": d, "revenue_fen": v, "tax_fen": 0})
            d = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
        return out

    both = months(dt.date(2023, 11, 1), [100] * 12 + [120] * 12 + [144] * 12)
    one = months(dt.date(2023, 11, 1), [100] * 12 + [100] * 12 + [144] * 12)
    assert outcome(p, env(monthly_tax=both)).status == "eligible"
    assert outcome(p, env(monthly_tax=one)).status in ("near_miss", "not_eligible")


def test_inactive_enterprises_are_never_eligible():
    p = compile_(policy([{"field": "annual.revenue", "op": ">=", "value": "0元"}]))
    a = answer(p, env({"status": "deregistered", "status_changed_on": dt.date(2026, 1, 1)}, annual_finance=annual(revenue_fen=5)))
    assert a.status == "not_eligible" and "注销" in a.reason


# ----------------------------------------------------------------------------- amounts


@pytest.mark.parametrize("spec,base,expected", [
    ({"fixed": "20万元"}, 0, 20_000000),
    ({"rate": "12.34%", "base": "annual.revenue"}, 101, 12),  # 12.4634 fen → 12
    ({"rate": "5%", "base": "annual.revenue", "min": "1万元"}, 100, 1_000000),
    ({"rate": "5%", "base": "annual.revenue", "max": "1万元"}, 10**12, 1_000000),
    ({"rate": "5%", "base": "annual.revenue", "round": {"unit": "100元", "mode": "half_up"}}, 10_000_000, 500_000),
    ({"rate": "5%", "base": "annual.revenue", "round": {"unit": "100元", "mode": "half_up"}}, 999_000, 50_000),
    ({"rate": "5%", "base": "annual.revenue", "round": {"unit": "100元", "mode": "floor"}}, 999_000, 40_000),
    ({"rate": "5%", "base": "annual.revenue", "round": {"unit": "100元", "mode": "ceil"}}, 1_000, 10_000),
    ({"per_unit": "10万元", "units": "annual.revenue", "per": "1000万元"}, 2_500_000_000, 20_000000),
    ({"tiers": {"by": "annual.revenue", "bands": [{"below": "1000万元", "amount": "1万元"}, {"amount": "5万元"}]}},
     10_000_000_00, 5_000000),
    ({"tiers": {"by": "annual.revenue", "mode": "progressive",
                "bands": [{"below": "100万元", "rate": "10%"}, {"rate": "1%"}]}}, 200_000000, 11_000000),
    ({"sum": [{"fixed": "0.1元"}, {"fixed": "0.2元"}]}, 0, 30),
])
def test_amount_formulas_are_exact(spec, base, expected):
    p = compile_(policy([{"field": "annual.revenue", "op": ">=", "value": "0元"}], amount=spec))
    o = outcome(p, env(annual_finance=annual(revenue_fen=base)))
    assert o.status == "eligible" and o.amount_fen == expected


def test_caps_per_enterprise_and_per_year_count_earlier_payments():
    p = compile_(policy([{"field": "annual.revenue", "op": ">=", "value": "0元"}], amount="100万元",
                        caps={"per_enterprise": "150万元", "per_year": "80万元"}))
    e = env(annual_finance=annual(revenue_fen=1))
    assert outcome(p, e).amount_fen == 80_000000
    assert outcome(p, e, paid_total=100_000000).amount_fen == 50_000000
    assert outcome(p, e, paid_total=100_000000, paid_year=60_000000).amount_fen == 20_000000
    assert outcome(p, e, paid_total=200_000000).amount_fen == 0


def test_amount_unknown_when_its_input_is_unknown():
    p = compile_(policy([{"field": "annual.revenue", "op": ">=", "value": "0元"}],
                        amount={"rate": "10%", "base": "annual.rd_expense"}))
    o = outcome(p, env(annual_finance=annual(revenue_fen=1)))
    assert o.status == "eligible" and o.amount_fen is None


def test_final_amount_floors_fractions_of_fen():
    assert A.final_amount(Fraction(299, 10), A.Caps()) == 29
    assert A.final_amount(Fraction(-5), A.Caps()) == 0


# ----------------------------------------------------------------------------- text and workflow


def test_plain_chinese_text_of_conditions_and_amount():
    p = compile_(RD_POLICY)
    lines = [t for _, _, t in X.tree_lines(p.root, p.context)]
    assert lines[0].startswith("所属行业属于 C 制造业")
    assert "研发费用占营业收入比例 ≥ 5%（年报营业收入低于5,000万元）" in lines[1]
    assert "距统计日已满1年" in lines[2]
    assert X.amount_text(p.amount, p.context) == "年报研发费用 × 10%，最高50万元（按100元舍去取整）"


def test_workflow_transitions():
    assert states.check_transition("draft", "submit").target == "in_review"
    assert states.check_transition("in_review", "publish").needs_tests
    with pytest.raises(Conflict, match="当前允许"):
        states.check_transition("draft", "publish")
    with pytest.raises(Conflict):
        states.check_transition("expired", "resume")
    assert states.is_live("draft", 2) and not states.is_live("suspended", 2) and not states.is_live("published", None)


def test_library_policies_compile():
    from shengxin.policies.library import real_policy_files

    files = real_policy_files()
    assert len(files) == 10
    for name, text in files:
        assert compile_text(text, DISTRICT, Tags()).id == name.removesuffix(".yaml")
