"""Values written in policy files (``2000万元``, ``3%``, ``1年``, ``'3311'``, ``2025-01-01``) as typed,
exact engine constants.

Rules:

* numbers are read as exact decimals (a YAML ``0.15`` is the decimal 0.15, never a binary float);
* a number's unit is written after it, as in the definition language; a bare number takes the unit
  of the field it is compared with, except money, whose unit must always be written (``2000`` could
  be fen, 元 or 万元);
* money is whole fen;
* text compared with an enumerated field must be one of its values.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from shengxin.engine import ir
from shengxin.engine import syntax as S
from shengxin.engine import types as T
from shengxin.engine.errors import DefinitionError
from shengxin.policies.errors import Collector

UNIT_NAMES = {(): "数值（比例或个数）", (("money", 1),): "金额", (("people", 1),): "人数", (("energy", 1),): "电量",
              (("year", 1),): "年数", (("month", 1),): "月数"}
UNIT_EXAMPLES = {(): "3%、0.5、12", (("money", 1),): "2000万元、50元", (("people", 1),): "20人",
                 (("energy", 1),): "100万千瓦时", (("year", 1),): "1年", (("month", 1),): "6个月"}


def unit_name(unit: T.Unit | None) -> str:
    unit = unit or T.NONE
    return UNIT_NAMES.get(unit.dims, unit.label())


def unit_example(unit: T.Unit | None) -> str:
    unit = unit or T.NONE
    return UNIT_EXAMPLES.get(unit.dims, "带单位的数字")


def type_name(typ: T.Type) -> str:
    if typ.kind == "number":
        return unit_name(typ.unit)
    return {"string": "文字", "date": "日期", "bool": "是/否", "null": "空值"}.get(typ.kind, typ.kind)


def number_text(value) -> str | None:
    """The decimal text of a YAML number or a string (``None`` if it is not one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        try:
            Decimal(text)
        except InvalidOperation:
            return None
        return text if "e" not in text.lower() else format(Decimal(text), "f")
    if isinstance(value, Fraction):
        return T.format_fraction(value) if T.is_terminating(value) else None
    return None


def parse_number(value, where: str, c: Collector, what: str) -> tuple[Fraction, T.Unit | None] | None:
    """A number with its unit as written (``None`` unit: bare). Money must be whole fen."""
    text = number_text(value)
    if text is not None:
        return Fraction(Decimal(text)), None
    if not isinstance(value, str) or not value.strip():
        c.add(where, f"{what} {value!r} 不是数字", "写成带单位的数字，例如 2000万元、3%、20人、1年")
        return None
    raw = value.strip().replace(",", "").replace("，", "")
    negative = raw.startswith("-")
    try:
        syntax = S.parse(raw[1:] if negative else raw)
    except DefinitionError as exc:
        c.add(where, f"{what} {value!r} 不是数字：{exc.detail}", "写成带单位的数字，例如 2000万元、3%、20人、1年")
        return None
    if not isinstance(syntax, S.Number):
        c.add(where, f"{what} {value!r} 不是一个数字", "写成带单位的数字，例如 2000万元、3%、20人、1年")
        return None
    number = Fraction(Decimal(syntax.text))
    unit = None
    if syntax.unit is not None:
        lu = T.LITERAL_UNITS[syntax.unit]
        number *= lu.factor
        unit = lu.unit
        if unit == T.MONEY and number.denominator != 1:
            c.add(where, f"{what} {value!r} 不是整数分", "金额最多精确到分（元后两位小数）")
            return None
    return (-number if negative else number), unit


def number_const(value, target: T.Type, where: str, c: Collector, what: str) -> ir.Const | None:
    """A number literal for a field of type ``target`` (its unit checked or adopted)."""
    parsed = parse_number(value, where, c, what)
    if parsed is None:
        return None
    number, unit = parsed
    want = target.unit or T.NONE
    if unit is None:
        if want.needs_literal_unit:
            c.add(where, f"{what} {value!r} 没有写单位，而比较对象是{unit_name(want)}",
                  f"写上单位，例如 {unit_example(want)}")
            return None
        unit = want
    elif unit != want:
        c.add(where, f"单位不一致：{what} {value!r} 是{unit_name(unit)}，而比较对象是{unit_name(want)}",
              f"改用{unit_name(want)}的写法，例如 {unit_example(want)}")
        return None
    return ir.Const(number, T.number(unit, integral=number.denominator == 1))


def money_fen(value, where: str, c: Collector) -> int | None:
    const = number_const(value, T.number(T.MONEY), where, c, "金额")
    return None if const is None else int(const.value)


def const_for(value, target: T.Type, where: str, c: Collector, what: str = "取值") -> ir.Const | None:
    """A constant of the type of ``target``: number (with units), text (enum checked), date, bool."""
    if target.kind == "number":
        return number_const(value, target, where, c, what)
    if target.kind == "string":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            c.add(where, f"{what} {value!r} 应是文字", "加引号，例如 '3311' 或 '高新技术企业'")
            return None
        text = str(value).strip()
        if target.enum and text not in target.enum:
            c.add(where, f"{what} {text!r} 不是该字段的取值", f"可选：{', '.join(sorted(target.enum))}")
            return None
        return ir.Const(text, T.STRING)
    if target.kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return ir.Const(value, T.DATE)
        try:
            return ir.Const(dt.date.fromisoformat(str(value)), T.DATE)
        except ValueError:
            c.add(where, f"{what} {value!r} 不是日期", "写成 YYYY-MM-DD，例如 2024-01-01")
            return None
    if target.kind == "bool":
        if not isinstance(value, bool):
            c.add(where, f"{what} {value!r} 应是 true 或 false", "写成 value: true")
            return None
        return ir.Const(value, T.BOOL)
    c.add(where, f"无法与{type_name(target)}比较", "换一个字段")
    return None
