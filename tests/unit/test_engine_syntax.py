"""The definition language: parsing, checking, units and the errors a definition writer sees."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from shengxin.engine import ir
from shengxin.engine import types as T
from shengxin.engine.check import Context, check
from shengxin.engine.errors import DefinitionError
from shengxin.engine.render import dsl
from shengxin.engine.syntax import parse
from shengxin.engine.vocabulary import Vocabulary


def err(text: str, context: Context | None = None) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        check(text, context)
    return info.value


def test_money_literals_are_exact_fen():
    node = check("registered_capital >= 2000万元")
    assert node.right.value == Fraction(2_000_000_000) and node.right.type.unit == T.MONEY
    assert check("registered_capital >= 1.5元").right.value == 150
    assert check("registered_capital >= 3亿元").right.value == 30_000_000_000


def test_percent_and_units():
    node = check("growth(revenue, months=12) >= 20%")
    assert node.right.value == Fraction(1, 5)
    assert isinstance(node.left, ir.Growth)
    assert check("sum(electricity, months=12) >= 100万千瓦时").right.value == 1_000_000
    assert check("years_since(established_on) >= 3年").right.type.unit == T.YEARS


def test_bare_numbers_take_the_unit_of_people_but_not_of_money():
    node = check("annual.employees >= 20")
    assert node.right.type.unit == T.PEOPLE
    e = err("annual.revenue >= 2000")
    assert "unit mismatch" in e.detail and "万元" in e.allowed
    assert (e.position.line, e.position.column) == (1, 19)


def test_unit_mismatch_names_both_units_and_the_position():
    e = err("annual.revenue > annual.employees")
    assert "money" in e.detail and "people" in e.detail
    assert e.position.column == 18
    e = err("annual.revenue + 3人 > 0元")
    assert "unit mismatch" in e.detail


def test_money_divided_by_money_is_a_ratio():
    node = check("annual.rd_expense / annual.revenue >= 3%")
    assert node.left.type.unit == T.NONE


def test_unknown_field_suggests_the_close_name():
    e = err("annual.revenu > 0元")
    assert "unknown field 'annual.revenu'" in e.detail and "annual.revenue" in e.detail
    assert "annual.employees" in e.allowed
    e = err("sum(revenu, months=12) > 0元")
    assert "revenue" in e.detail and e.position.column == 5


def test_series_need_an_aggregate_and_a_window():
    assert "needs an aggregate" in err("revenue > 0元").detail
    e = err("sum(revenue) > 0元")
    assert "needs a window" in e.detail and "months=12" in e.allowed
    assert "whole number of months" in err("sum(revenue, months=1.5) > 0元").detail
    assert "out of range" in err("sum(revenue, months=0) > 0元").detail


def test_unsupported_constructs_are_refused_with_what_is_allowed():
    e = err("median(revenue, months=12) > 0元")
    assert "unknown function median()" in e.detail and "sum()" in e.allowed
    e = err("[1, 2] = 1")
    assert "a list is only allowed after in" in e.detail
    e = err("1 < annual.employees < 3")
    assert "do not chain" in e.detail and "between" in e.allowed
    e = err("status < 'active'")
    assert "'<' does not apply to string" in e.detail
    e = err("count(penalties, colour='red') > 0")
    assert "no argument 'colour'" in e.detail and "fine" in e.allowed
    e = err("has(penalties, active=true)")
    assert "no end date" in e.detail


def test_definitions_must_be_conditions():
    e = err("annual.revenue")
    assert "must be a condition" in e.detail


def test_enum_values_are_checked():
    e = err("has(certifications, kind='hightech')")
    assert "'hightech' is not a value of kind" in e.detail and "'high_tech'" in e.allowed
    e = err("status = 'activ'")
    assert "'active'" in e.allowed


def test_town_literals_are_checked_against_the_district():
    context = Context(Vocabulary(towns={"330110005": "五常街道"}))
    check("town = '330110005'", context)
    e = err("town = '330110999'", context)
    assert "330110005" in e.allowed


def test_industry_codes_are_checked():
    node = check("industry under ['C', '65', '6511']")
    assert node.codes == ("65", "6511", "C")
    e = err("industry under 'Z'")
    assert "GB/T 4754-2017" in e.allowed
    e = err("industry = '39'")
    assert "industry under '39'" in e.allowed
    assert "applies to the enterprise's industry only" in err("town under 'C'").detail


def test_syntax_errors_point_at_the_character():
    e = err("annual.revenue >= 2000万元 and")
    assert e.position.column == 29 and "expected a value" in e.detail
    e = err("has(ip_rights")
    assert "to close the call" in e.detail
    e = err("name = 'abc")
    assert "unterminated string" in e.detail
    e = err("")
    assert "empty" in e.detail


def test_multiline_positions():
    e = err("annual.revenue >= 2000万元\nand annual.revenu > 0元")
    assert (e.position.line, e.position.column) == (2, 5)
    assert e.excerpt() == "and annual.revenu > 0元\n    ^"


def test_date_functions():
    node = check("established_on < date('2020-01-01')")
    assert node.right.value == dt.date(2020, 1, 1)
    assert "is not a date" in err("established_on < date('2020-13-01')").detail
    assert "needs a date" in err("years_since(annual.revenue) > 1").detail


def test_tag_references_resolve_through_the_context():
    body = check("status = 'active'")
    context = Context(tag_body=lambda t: body if t == "basic.active" else None, tag_ids=frozenset({"basic.active"}))
    node = check("tag('basic.active') and annual.employees > 10", context)
    assert isinstance(node.items[0], ir.TagRef) and node.items[0].body == body
    e = err("tag('basic.activ')", context)
    assert "unknown tag" in e.detail and "basic.active" in e.detail


def test_code_lists():
    context = Context(lists={"chain": ("65", "6432")})
    node = check("industry under codes('chain')", context)
    assert node.codes == ("6432", "65")
    assert "unknown code list" in err("industry under codes('chan')", context).detail


@pytest.mark.parametrize("text", [
    "sum(revenue, months=12) >= 2000万元",
    "growth(revenue, months=12) >= 20% and growth(revenue, months=12) < 50%",
    "has(certifications, kind='high_tech', active=true)",
    "count(ip_rights, kind=['invention_patent', 'utility_model'], months=12) >= 5",
    "not has(survey_list, scope='industry') and sum(revenue, months=12) >= 0.8 * scope_threshold",
    "years_since(established_on) >= 1 and years_since(established_on) < 3",
    "industry under ['C', '65'] or size_class in ['small', 'micro']",
    "rank(sum(tax, months=12), by=town) <= 10",
    "max(penalties.fine, months=24) >= 10万元",
    "count(revenue, months=6, where=revenue = 0元) = count(revenue, months=6)",
    "coalesce(sum(revenue, months=12, offset=12), 0元) = 0元",
    "contains(legal_form, '股份有限公司') or town is null",
    "growth(headcount, months=1, shift=1) <= -20%",
    "avg(headcount, months=12) >= 100",
    "has(certifications, kind='high_tech', active=true, where=months_until(valid_until) < 12)",
])
def test_printing_a_checked_definition_gives_the_same_definition(text):
    node = check(text)
    assert check(dsl(node)) == node


def test_parse_keeps_positions():
    tree = parse("a and b")
    assert tree.op == "and" and tree.right.at == 6
