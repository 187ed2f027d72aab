"""Text of expressions: canonical definition syntax and Simplified-Chinese labels, values with units.

* :func:`dsl` prints an IR node back in the definition language (canonical spelling: money in the
  largest unit that keeps it whole, ratios in %); ``check(dsl(node)) == node`` for checked nodes.
* :func:`label` names a value in Chinese for explanations (``近12个月营业收入合计``); with an
  as-of date, windows are printed as concrete months (``2025年11月至2026年10月营业收入合计``).
* :func:`display` formats a value with its unit (``2,000万元``, ``23.5%``, ``120人``).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from shengxin.engine import asof as A
from shengxin.engine import ir
from shengxin.engine import types as T
from shengxin.engine import vocabulary as V

OPS_ZH = {"=": "等于", "!=": "不等于", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
FUNC_ZH = {"sum": "合计", "min": "月最低值", "max": "月最高值", "count": "有数据的月数", "latest": "最近一个月"}
EVENT_FUNC_ZH = {"sum": "合计", "min": "最小值", "max": "最大值"}


# ----------------------------------------------------------------------------- values


def _money(fen: Fraction) -> str:
    if fen == 0:
        return "0元"
    if abs(fen) >= 1_000_000:
        return f"{_grouped(fen / 1_000_000)}万元"
    return f"{_grouped(fen / 100)}元"


def _grouped(value: Fraction, decimals: int = 2) -> str:
    q = round(value, decimals)
    text = f"{float(q):,.{decimals}f}" if q.denominator != 1 else f"{int(q):,}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def display(value, typ: T.Type | None = None, field: str | None = None) -> str:
    """A value as Chinese text with its unit; ``None`` is 无数据."""
    if value is None:
        return "无数据"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        label = V.enum_label(field, value) if field else value
        return label if label == value else f"{label}（{value}）"
    v = ir.fraction(value)
    unit = typ.unit if typ is not None and typ.unit is not None else T.NONE
    if unit == T.MONEY:
        return _money(v)
    if unit == T.PEOPLE:
        return f"{_grouped(v)}人"
    if unit == T.ENERGY:
        return f"{_grouped(v / 10_000)}万千瓦时" if abs(v) >= 100_000 else f"{_grouped(v)}千瓦时"
    if unit == T.YEARS:
        return f"{_grouped(v)}年"
    if unit == T.MONTHS:
        return f"{_grouped(v)}个月"
    if unit.dimensionless:
        if v.denominator == 1 and (typ is None or typ.integral):
            return f"{int(v):,}"
        return f"{_grouped(v * 100)}%"
    return f"{_grouped(v)} {unit.label()}"


def json_value(value):
    """A value for JSON output: integers stay integers, other numbers become floats."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    v = ir.fraction(value)
    return int(v) if v.denominator == 1 else round(float(v), 6)


# ----------------------------------------------------------------------------- canonical syntax


def _literal(c: ir.Const) -> str:
    v = c.value
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return "'" + v.replace("'", "\\'") + "'" if "'" in v else f"'{v}'"
    if isinstance(v, dt.date):
        return f"date('{v.isoformat()}')"
    unit = c.typ.unit
    if unit == T.MONEY:
        for factor, spelling in ((10_000_000_000, "亿元"), (1_000_000, "万元"), (100, "元")):
            if (v / factor).denominator == 1 and v != 0:
                return f"{T.format_fraction(v / factor)}{spelling}"
        return f"{T.format_fraction(v)}分"
    if unit == T.PEOPLE:
        return f"{T.format_fraction(v)}人"
    if unit == T.ENERGY:
        return f"{T.format_fraction(v)}kWh"
    if unit == T.YEARS:
        return f"{T.format_fraction(v)}年"
    if unit == T.MONTHS:
        return f"{T.format_fraction(v)}个月"
    if v.denominator != 1:
        return f"{T.format_fraction(v * 100)}%"
    return T.format_fraction(v)


def dsl(node: ir.Node) -> str:
    """The node in the definition language."""
    return _dsl(node, 0)


_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7, "atom": 8}


def _wrap(text: str, prec: int, ctx: int) -> str:
    return f"({text})" if prec < ctx else text


def _window_kw(node) -> list[str]:
    parts = []
    if getattr(node, "months", None) is not None:
        parts.append(f"months={node.months}")
    if getattr(node, "offset", 0):
        parts.append(f"offset={node.offset}")
    return parts


def _dsl(node: ir.Node, ctx: int) -> str:
    if isinstance(node, ir.Const):
        return _literal(node)
    if isinstance(node, ir.AsOf):
        return "as_of"
    if isinstance(node, (ir.EntField, ir.AnnualField)):
        return node.name
    if isinstance(node, ir.RowField):
        return node.name
    if isinstance(node, ir.SeriesAgg):
        parts = [node.series, *_window_kw(node)]
        if node.where is not None:
            parts.append(f"where={_dsl(node.where, 0)}")
        return f"{node.func}({', '.join(parts)})"
    if isinstance(node, ir.EventAgg):
        first = node.table + (f".{node.field_name}" if node.field_name else "")
        parts = [first, *_window_kw(node)]
        if node.active:
            parts.append("active=true")
        if node.where is not None:
            parts.append(f"where={_dsl(node.where, 0)}")
        return f"{node.func}({', '.join(parts)})"
    if isinstance(node, ir.Avg):
        t = node.total
        parts = [t.series, *_window_kw(t)] + ([f"where={_dsl(t.where, 0)}"] if t.where is not None else [])
        return f"avg({', '.join(parts)})"
    if isinstance(node, ir.Growth):
        n, b = node.now, node.before
        parts = [n.series, *_window_kw(n)]
        shift = b.offset - n.offset
        if shift != 12:
            parts.append(f"shift={shift}")
        if n.where is not None:
            parts.append(f"where={_dsl(n.where, 0)}")
        return f"growth({', '.join(parts)})"
    if isinstance(node, ir.IndustryLevel):
        return f"industry_{node.level}"
    if isinstance(node, ir.SizeClass):
        return "size_class"
    if isinstance(node, ir.ScopeName):
        return "scope_name"
    if isinstance(node, ir.ScopeThreshold):
        return "scope_threshold"
    if isinstance(node, ir.ScopeRule):
        return "scope_rule"
    if isinstance(node, ir.TextMatch):
        return f"{node.mode}({_dsl(node.operand, 0)}, {_literal(ir.Const(node.pattern, T.STRING))})"
    if isinstance(node, ir.Under):
        codes = node.codes[0] if len(node.codes) == 1 else None
        target = f"'{codes}'" if codes else "[" + ", ".join(f"'{c}'" for c in node.codes) + "]"
        return _wrap(f"industry {'not under' if node.negated else 'under'} {target}", 4, ctx)
    if isinstance(node, ir.Arith):
        p = _PREC[node.op]
        right_ctx = p + 1  # left-associative
        return _wrap(f"{_dsl(node.left, p)} {node.op} {_dsl(node.right, right_ctx)}", p, ctx)
    if isinstance(node, ir.Neg):
        return _wrap(f"-{_dsl(node.operand, 7)}", 7, ctx)
    if isinstance(node, ir.Compare):
        if _is_has(node):
            agg = node.left
            inner = _dsl(agg, 0)
            return "has" + inner[len("count"):]
        return _wrap(f"{_dsl(node.left, 5)} {node.op} {_dsl(node.right, 5)}", 4, ctx)
    if isinstance(node, ir.InValues):
        values = ", ".join(_literal(v) for v in node.values)
        return _wrap(f"{_dsl(node.operand, 5)} {'not in' if node.negated else 'in'} [{values}]", 4, ctx)
    if isinstance(node, ir.IsNull):
        return _wrap(f"{_dsl(node.operand, 5)} is {'not ' if node.negated else ''}null", 4, ctx)
    if isinstance(node, ir.And):
        return _wrap(" and ".join(_dsl(i, 3) for i in node.items), 2, ctx)
    if isinstance(node, ir.Or):
        return _wrap(" or ".join(_dsl(i, 2) for i in node.items), 1, ctx)
    if isinstance(node, ir.Not):
        return _wrap(f"not {_dsl(node.operand, 3)}", 3, ctx)
    if isinstance(node, ir.Coalesce):
        return f"coalesce({', '.join(_dsl(i, 0) for i in node.items)})"
    if isinstance(node, ir.YearsSince):
        name = "months_until" if node.until else f"{'years' if node.unit_name == 'year' else 'months'}_since"
        return f"{name}({_dsl(node.operand, 0)})"
    if isinstance(node, ir.Rank):
        parts = [_dsl(node.operand, 0)]
        if node.by:
            by = [_dsl(b, 0) for b in node.by]
            parts.append(f"by={by[0]}" if len(by) == 1 else f"by=[{', '.join(by)}]")
        if node.ascending:
            parts.append("order='asc'")
        return f"rank({', '.join(parts)})"
    if isinstance(node, ir.TagRef):
        return f"tag('{node.tag_id}')"
    raise TypeError(f"cannot print {type(node).__name__}")


def _is_has(node: ir.Node) -> bool:
    return (isinstance(node, ir.Compare) and node.op == ">" and isinstance(node.left, ir.EventAgg)
            and node.left.func == "count" and isinstance(node.right, ir.Const) and node.right.value == 0)


# ----------------------------------------------------------------------------- Chinese labels


def _ym(d: dt.date) -> str:
    return f"{d.year}年{d.month}月"


def series_window_text(months: int, offset: int, as_of: dt.date | None) -> str:
    if as_of is not None:
        first, last = A.series_window(as_of, months, offset)
        return _ym(first) if first == last else f"{_ym(first)}至{_ym(last)}"
    if offset == 0:
        return f"近{months}个月"
    if offset == 12 and months <= 12:
        return f"上年同期{months}个月"
    return f"{offset}个月前的{months}个月"


def event_window_text(node: ir.EventAgg, as_of: dt.date | None) -> str:
    parts = []
    if node.months is not None:
        if as_of is not None:
            start = A.event_window_start(as_of, node.months)
            parts.append(f"{start.isoformat()}（不含）至{as_of.isoformat()}")
        else:
            parts.append(f"近{node.months}个月")
    if node.active:
        parts.append("现行有效的" if node.table == "certifications" else "尚未移出的")
    return "".join(parts)


def condition_label(node: ir.Node, as_of: dt.date | None = None) -> str:
    """A condition as a short Chinese sentence."""
    if isinstance(node, ir.Compare):
        if _is_has(node):
            return f"有{label(node.left, as_of)[:-2] if label(node.left, as_of).endswith('数量') else label(node.left, as_of)}"
        right = _const_text(node.right) if isinstance(node.right, ir.Const) else label(node.right, as_of)
        if node.op in ("=", "!=") and isinstance(node.right, ir.Const) and isinstance(node.right.value, str):
            right = display(node.right.value, node.right.type, _field_key(node.left))
        return f"{label(node.left, as_of)} {OPS_ZH[node.op]} {right}"
    if isinstance(node, ir.InValues):
        values = "、".join(display(v.value, v.type, _field_key(node.operand)) for v in node.values)
        return f"{label(node.operand, as_of)}{'不' if node.negated else ''}属于：{values}"
    if isinstance(node, ir.Under):
        from shengxin.reference import industries

        names = "、".join(f"{c} {industries.get(c).name}" for c in node.codes)
        return f"所属行业{'不' if node.negated else ''}在 {names} 之下"
    if isinstance(node, ir.IsNull):
        return f"{label(node.operand, as_of)}{'有数据' if node.negated else '无数据'}"
    if isinstance(node, ir.And):
        return "同时满足以下条件"
    if isinstance(node, ir.Or):
        return "满足以下条件之一"
    if isinstance(node, ir.Not):
        return f"不满足：{condition_label(node.operand, as_of)}"
    if isinstance(node, ir.TagRef):
        return f"具有标签 {node.tag_id}"
    if isinstance(node, ir.TextMatch):
        return f"{label(node.operand, as_of)}{'包含' if node.mode == 'contains' else '以'}“{node.pattern}”{'' if node.mode == 'contains' else '开头'}"
    return label(node, as_of)


def _const_text(c: ir.Const) -> str:
    if isinstance(c.value, str):
        return c.value
    return display(c.value, c.typ)


def _field_key(node: ir.Node) -> str | None:
    if isinstance(node, (ir.EntField, ir.AnnualField, ir.RowField)):
        return node.name
    if isinstance(node, ir.SizeClass):
        return "size_class"
    return None


def _filter_text(where: ir.Node | None) -> str:
    if where is None:
        return ""
    parts = where.items if isinstance(where, ir.And) else (where,)
    texts = []
    for p in parts:
        if isinstance(p, ir.Compare) and isinstance(p.left, ir.RowField) and isinstance(p.right, ir.Const) and p.op == "=":
            texts.append(display(p.right.value, p.right.type, p.left.name).split("（")[0])
        elif isinstance(p, ir.InValues) and isinstance(p.operand, ir.RowField) and not p.negated:
            texts.append("或".join(display(v.value, v.type, p.operand.name).split("（")[0] for v in p.values))
        else:
            texts.append(condition_label(p))
    return "，".join(texts)


def label(node: ir.Node, as_of: dt.date | None = None) -> str:
    """A value as a Chinese noun phrase."""
    if isinstance(node, ir.Const):
        return _const_text(node)
    if isinstance(node, ir.AsOf):
        return "统计日期"
    if isinstance(node, ir.EntField):
        return V.ENTERPRISE_FIELDS[node.name].label
    if isinstance(node, ir.AnnualField):
        return V.ANNUAL_FIELDS[node.name].label
    if isinstance(node, ir.RowField):
        return node.name
    if isinstance(node, ir.SeriesAgg):
        where = f"（{_filter_text(node.where)}）" if node.where is not None else ""
        return f"{series_window_text(node.months, node.offset, as_of)}{V.SERIES[node.series].label}{where}{FUNC_ZH[node.func]}"
    if isinstance(node, ir.EventAgg):
        spec = V.COLLECTIONS[node.table]
        filt = _filter_text(node.where)
        window = event_window_text(node, as_of)
        if node.func == "count":
            return f"{window}{filt or ''}{spec.label}数量" if filt else f"{window}{spec.label}数量"
        field = spec.fields[node.field_name].label
        return f"{window}{filt}{spec.label}{field}{EVENT_FUNC_ZH[node.func]}"
    if isinstance(node, ir.Avg):
        t = node.total
        return f"{series_window_text(t.months, t.offset, as_of)}{V.SERIES[t.series].label}月均值"
    if isinstance(node, ir.Growth):
        n, b = node.now, node.before
        shift = b.offset - n.offset
        base = "同比" if shift == 12 else f"较前{shift}个月"
        return f"{series_window_text(n.months, n.offset, as_of)}{V.SERIES[n.series].label}{base}增长率"
    if isinstance(node, ir.IndustryLevel):
        return {"section": "行业门类", "division": "行业大类", "group": "行业中类"}[node.level]
    if isinstance(node, ir.SizeClass):
        return "企业规模（2017年标准）"
    if isinstance(node, ir.ScopeName):
        return "年营业收入达到的统计范围"
    if isinstance(node, ir.ScopeThreshold):
        return "所属行业的统计范围收入门槛"
    if isinstance(node, ir.ScopeRule):
        return "所属行业适用的统计范围"
    if isinstance(node, ir.Arith):
        op = {"+": "＋", "-": "－", "*": "×", "/": "÷"}[node.op]
        return f"{label(node.left, as_of)}{op}{label(node.right, as_of)}"
    if isinstance(node, ir.Neg):
        return f"－{label(node.operand, as_of)}"
    if isinstance(node, ir.Coalesce):
        return f"{label(node.items[0], as_of)}（缺失时取{label(node.items[-1], as_of)}）"
    if isinstance(node, ir.YearsSince) and node.until:
        return f"距{label(node.operand, as_of)}的整月数"
    if isinstance(node, ir.YearsSince):
        what = "成立" if isinstance(node.operand, ir.EntField) and node.operand.name == "established_on" else label(node.operand, as_of)
        return f"{what}{'年限（整年）' if node.unit_name == 'year' else '月数（整月）'}"
    if isinstance(node, ir.Rank):
        scope = "按" + "、".join(label(b) for b in node.by) + "分组" if node.by else "全区"
        return f"{label(node.operand, as_of)}{scope}排名"
    if isinstance(node, ir.TagRef):
        return f"标签 {node.tag_id}"
    return condition_label(node, as_of)
