"""Plain Simplified-Chinese text of a policy's conditions and amount, for enterprises and officers.

Every sentence is generated from the compiled condition (never written twice by hand), so the text
always says what the rule computes: ``研发费用占营业收入比例 ≥ 3%（营业收入 2亿元及以上）``.
"""

from __future__ import annotations

from fractions import Fraction

from shengxin.engine import ir
from shengxin.engine import render
from shengxin.engine import types as T
from shengxin.policies import amounts as A
from shengxin.policies.conditions import Atomic, Band, Group
from shengxin.policies.context import PolicyContext
from shengxin.reference import industries

OPS = {"=": "为", "!=": "不为", "<": "低于", "<=": "不超过", ">": "高于", ">=": "不低于"}
SYMBOLS = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def value_label(node: ir.Node, ctx: PolicyContext, as_of=None) -> str:
    """A value's Chinese name; declared inputs by their label."""
    spec = ctx.vocabulary.input_of(node)
    if spec is not None:
        return f"{spec.label}（申报）"
    if any(ctx.vocabulary.input_of(n) is not None for n in ir.walk(node)):
        return render.dsl(node)
    try:
        return render.label(node, as_of)
    except (KeyError, TypeError):
        return render.dsl(node)


def field_key(node: ir.Node | None) -> str | None:
    if isinstance(node, (ir.EntField, ir.AnnualField)):
        return node.name
    if isinstance(node, ir.SizeClass):
        return "size_class"
    return None


def grouped(value: Fraction, decimals: int = 2) -> str:
    """A number with thousands separators and at most ``decimals`` decimals (trailing zeros cut)."""
    q = round(Fraction(value), decimals)
    if q.denominator == 1:
        return f"{int(q):,}"
    return f"{float(q):,.{decimals}f}".rstrip("0").rstrip(".")


def money_display(fen) -> str:
    """Money as officers write it: ``2亿元``, ``5,000万元``, ``1,500元``, ``0.35元``."""
    v = Fraction(fen)
    for factor, unit in ((10_000_000_000, "亿元"), (1_000_000, "万元")):
        if abs(v) >= factor and (v * 100 / factor).denominator == 1:
            return f"{grouped(v / factor)}{unit}"
    return f"{grouped(v / 100)}元" if v else "0元"


def show(value, typ: T.Type | None, node: ir.Node | None = None) -> str:
    """A value with its unit (``2,000万元``, ``3%``), enumerations by their Chinese label."""
    if typ is not None and typ.kind == "number" and typ.unit == T.MONEY and value is not None \
            and not isinstance(value, (bool, str)):
        return money_display(value)
    if isinstance(value, str) and isinstance(node, ir.EntField) and node.name == "industry":
        try:
            return f"{value} {industries.get(value).name}"
        except Exception:  # not a valid code: show it as it is
            return value
    return render.display(value, typ, field_key(node))


def subject_label(a: Atomic, ctx: PolicyContext, as_of=None) -> str:
    if a.label:
        return a.label
    if a.subject is None:
        return ""
    return value_label(a.subject, ctx, as_of)


def band_text(band: Band, by: ir.Node, ctx: PolicyContext) -> str:
    typ = by.type
    name = value_label(by, ctx)
    if band.lower is None and band.upper is None:
        return ""
    if band.lower is None:
        return f"{name}低于{show(band.upper, typ)}"
    if band.upper is None:
        return f"{name}{show(band.lower, typ)}及以上"
    return f"{name}{show(band.lower, typ)}至{show(band.upper, typ)}（不含）"


def threshold_text(a: Atomic, ctx: PolicyContext) -> str:
    """The requirement without the subject, e.g. ``≥ 3%`` or ``属于：高新技术企业、…``."""
    if a.kind == "compare":
        if a.bands:
            parts = [f"{SYMBOLS[a.op]} {show(b.threshold.value, b.threshold.typ, a.subject)}（{band_text(b, a.band_by, ctx)}）"
                     for b in a.bands]
            return "；".join(parts)
        t = a.threshold
        if isinstance(t, ir.Const):
            return f"{SYMBOLS[a.op]} {show(t.value, t.typ, a.subject)}"
        return f"{SYMBOLS[a.op]} {value_label(t, ctx)}"
    if a.kind == "in":
        values = "、".join(show(k.value, k.typ, a.subject) for k in a.threshold)
        return f"{'不' if a.negated else ''}属于：{values}"
    if a.kind == "between":
        low, high = a.threshold
        return f"{'不' if a.negated else ''}在 {show(low.value, low.typ, a.subject)} 至 {show(high.value, high.typ, a.subject)} 之间（含）"
    if a.kind == "under":
        names = "、".join(f"{code} {industries.get(code).name}" for code in a.threshold)
        return f"{'不' if a.negated else ''}属于 {names}"
    if a.kind == "age":
        n = show(a.threshold.value, a.threshold.typ)
        return f"距统计日已满{n}" if a.op == "at_least_ago" else f"在统计日前{n}以内"
    if a.kind == "bool":
        return "应为“否”" if a.negated else "应为“是”"
    return ""


def condition_text(a: Atomic, ctx: PolicyContext, as_of=None) -> str:
    """One condition as a sentence."""
    if a.kind == "tag":
        name = ctx.tags.names.get(a.threshold, a.threshold)
        text = f"{'不' if a.negated else ''}具有“{name}”标签"
    elif a.kind == "expr":
        try:
            text = a.label or render.condition_label(a.node, as_of)
        except (KeyError, TypeError):
            text = a.label or a.threshold
    elif a.kind == "under":
        text = f"所属行业{threshold_text(a, ctx)}"
    elif a.kind == "age":
        text = f"{subject_label(a, ctx, as_of)}{threshold_text(a, ctx)}"
    else:
        text = f"{subject_label(a, ctx, as_of)} {threshold_text(a, ctx)}"
    if a.years > 1:
        text += f"（近{a.years}年每年均须满足）"
    return text


def tree_lines(item: Group | Atomic, ctx: PolicyContext, depth: int = 0, as_of=None) -> list[tuple[int, str, str]]:
    """``(depth, key, text)`` lines of the eligibility tree, for display."""
    if isinstance(item, Atomic):
        ref = f"〔{item.ref}〕" if item.ref else ""
        return [(depth, item.key, condition_text(item, ctx, as_of) + ref)]
    head = {"all": "同时满足以下条件", "any": "满足以下条件之一", "not": "不得满足以下条件"}[item.kind]
    lines = [] if depth == 0 and item.kind == "all" else [(depth, item.key, head)]
    inner = depth if depth == 0 and item.kind == "all" else depth + 1
    for sub in item.items:
        lines.extend(tree_lines(sub, ctx, inner, as_of))
    return lines


def money(fen) -> str:
    return money_display(fen)


def rate_text(rate: Fraction) -> str:
    return render.display(rate, T.number(T.NONE))


def amount_text(a: A.Amount | None, ctx: PolicyContext) -> str:
    """The amount formula in words, e.g. ``近12个月实缴税额合计 × 10%，最低1万元，最高100万元``."""
    if a is None:
        return "不涉及资金"
    if a.label:
        return a.label
    if isinstance(a, A.Fixed):
        return money(a.fen)
    if isinstance(a, A.Rate):
        return f"{value_label(a.base, ctx)} × {rate_text(a.rate)}"
    if isinstance(a, A.PerUnit):
        units = value_label(a.units, ctx)
        if a.per is not None:
            return f"{units}每满{show(a.per, a.units.type)}给予{money(a.unit_fen)}"
        return f"每{'人' if a.units.type.unit == T.PEOPLE else '份'}{money(a.unit_fen)} × {units}"
    if isinstance(a, A.BandTiers):
        parts = []
        for (lo, hi), part in zip(a.bounds, a.parts):
            band = band_text(Band(lo, hi, ir.Const(Fraction(0), T.number(T.NONE))), a.by, ctx) or "所有情况"
            parts.append(f"{band}：{amount_text(part, ctx)}")
        return "按档：" + "；".join(parts)
    if isinstance(a, A.ProgressiveTiers):
        parts = []
        for (lo, hi), rate in zip(a.bounds, a.rates):
            rng = f"{money(lo)}以上部分" if hi is None else f"{money(lo)}至{money(hi)}部分"
            parts.append(f"{rng}按{rate_text(rate)}")
        return f"{value_label(a.by, ctx)}超额累进：" + "；".join(parts)
    if isinstance(a, A.Sum):
        return " + ".join(f"（{amount_text(p, ctx)}）" if isinstance(p, (A.Sum, A.When)) else amount_text(p, ctx)
                          for p in a.parts)
    if isinstance(a, A.Choose):
        parts = [f"{_cond_label(c, ctx)}时 {amount_text(p, ctx)}" for c, p in a.cases]
        if a.otherwise is not None:
            parts.append(f"其他情况 {amount_text(a.otherwise, ctx)}")
        return "；".join(parts)
    if isinstance(a, A.When):
        return f"{amount_text(a.inner, ctx)}（{_cond_label(a.condition, ctx)}时）"
    if isinstance(a, A.Clamp):
        extra = []
        if a.low is not None:
            extra.append(f"最低{money(a.low)}")
        if a.high is not None:
            extra.append(f"最高{money(a.high)}")
        return f"{amount_text(a.inner, ctx)}，{'，'.join(extra)}"
    if isinstance(a, A.Round):
        mode = {"floor": "舍去", "half_up": "四舍五入", "ceil": "进位"}[a.mode]
        return f"{amount_text(a.inner, ctx)}（按{money(a.unit)}{mode}取整）"
    if isinstance(a, A.Expr):
        return value_label(a.node, ctx)
    return ""


def caps_text(caps: A.Caps) -> str:
    parts = []
    if caps.per_enterprise is not None:
        parts.append(f"每家企业累计不超过{money(caps.per_enterprise)}")
    if caps.per_year is not None:
        parts.append(f"每家企业每年不超过{money(caps.per_year)}")
    return "，".join(parts)


def _cond_label(node: ir.Node, ctx: PolicyContext) -> str:
    if any(ctx.vocabulary.input_of(n) is not None for n in ir.walk(node)):
        return render.dsl(node)
    try:
        return render.condition_label(node)
    except (KeyError, TypeError):
        return render.dsl(node)
