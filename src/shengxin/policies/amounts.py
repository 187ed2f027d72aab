"""Amount formulas: parsing, exact evaluation (fractions) and SQL (exact decimals), which agree.

An amount is a tree of parts, each a mapping with one kind key and optional modifiers::

    fixed: 20万元                                    a fixed sum (a bare ``20万元`` means the same)
    rate: 10%          base: sum(tax, months=12)     rate × a money value
    per_unit: 1500元   units: input.hires            an amount per unit (hires, kWh, …)
                       per: 1000万元                 … optionally per whole ``per`` of ``units``
    tiers: {by: …, mode: band, bands: [{below: …, amount: …}, …, {amount: …}]}
    tiers: {by: …, mode: progressive, bands: [{below: …, rate: …}, …, {rate: …}]}
    sum: [part, part, …]                             the sum of parts
    choose: [{when: …, amount: part}, …, {otherwise: part}]
    expr: "…"                                        a money expression of the definition language
  modifiers on any part:
    when: "…"          the part counts only when the condition holds (else 0)
    min: 1万元 / max: 100万元                        floor and cap
    round: {unit: 100元, mode: floor | half_up | ceil}

Rules:

* every value is exact: fractions in Python, ``DECIMAL(38,10)`` in SQL (a formula whose
  intermediate values could need more than 10 decimals is refused), and the final amount is
  rounded down to whole fen;
* a part whose input is unknown is unknown, and so is the whole amount (it is never guessed as 0);
  a ``when``/``choose`` condition that is unknown makes the amount unknown;
* band tiers: ``below`` is exclusive; progressive tiers pay each band's rate on the part of ``by``
  inside the band;
* numbers inside amounts come from fields, aggregates and arithmetic (``+ - *``); ratios and
  reference lookups are allowed only inside conditions (``when``, ``tiers.by`` in band mode).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from math import floor

from sqlglot import exp

from shengxin.engine import ir
from shengxin.engine import types as T
from shengxin.engine.evaluate import evaluate as engine_evaluate
from shengxin.policies.errors import Collector
from shengxin.policies.values import const_for, number_const, parse_number, type_name, unit_name

DEC = exp.DataType.build("DECIMAL(38, 10)")
MAX_SCALE = 10
KINDS = ("fixed", "rate", "per_unit", "tiers", "sum", "choose", "expr")
MODIFIERS = ("when", "min", "max", "round", "label")
ROUND_MODES = ("floor", "half_up", "ceil")
EXACT_NODES = (ir.Const, ir.EntField, ir.AnnualField, ir.SeriesAgg, ir.EventAgg, ir.Neg, ir.Coalesce, ir.YearsSince)


@dataclass(frozen=True)
class Amount:
    """Base of amount parts; ``at`` is the path in the file (for messages), not compared."""

    path: str = dataclasses.field(default="amount", compare=False, kw_only=True)
    label: str | None = dataclasses.field(default=None, compare=False, kw_only=True)

    def children(self) -> tuple["Amount", ...]:
        return ()


@dataclass(frozen=True)
class Fixed(Amount):
    fen: Fraction


@dataclass(frozen=True)
class Rate(Amount):
    rate: Fraction
    base: ir.Node


@dataclass(frozen=True)
class PerUnit(Amount):
    unit_fen: Fraction
    units: ir.Node
    per: Fraction | None = None


@dataclass(frozen=True)
class BandTiers(Amount):
    by: ir.Node
    conditions: tuple[ir.Node, ...]  # band i applies when conditions[i] holds
    bounds: tuple[tuple[Fraction | None, Fraction | None], ...]
    parts: tuple[Amount, ...]

    def children(self):
        return self.parts


@dataclass(frozen=True)
class ProgressiveTiers(Amount):
    by: ir.Node
    bounds: tuple[tuple[Fraction, Fraction | None], ...]
    rates: tuple[Fraction, ...]


@dataclass(frozen=True)
class Sum(Amount):
    parts: tuple[Amount, ...]

    def children(self):
        return self.parts


@dataclass(frozen=True)
class Choose(Amount):
    cases: tuple[tuple[ir.Node, Amount], ...]
    otherwise: Amount | None

    def children(self):
        return tuple(a for _, a in self.cases) + ((self.otherwise,) if self.otherwise else ())


@dataclass(frozen=True)
class When(Amount):
    condition: ir.Node
    inner: Amount

    def children(self):
        return (self.inner,)


@dataclass(frozen=True)
class Clamp(Amount):
    inner: Amount
    low: Fraction | None
    high: Fraction | None

    def children(self):
        return (self.inner,)


@dataclass(frozen=True)
class Round(Amount):
    inner: Amount
    unit: Fraction
    mode: str

    def children(self):
        return (self.inner,)


@dataclass(frozen=True)
class Expr(Amount):
    node: ir.Node


@dataclass(frozen=True)
class Caps:
    """Per enterprise (all payments under the policy) and per year (payments in one calendar year)."""

    per_enterprise: int | None = None
    per_year: int | None = None

    @property
    def any(self) -> bool:
        return self.per_enterprise is not None or self.per_year is not None


def conditions_of(amount: Amount | None) -> list[ir.Node]:
    """The boolean nodes an amount tests (they become columns of the condition matrix)."""
    out: list[ir.Node] = []

    def visit(a: Amount) -> None:
        if isinstance(a, BandTiers):
            out.extend(a.conditions)
        elif isinstance(a, Choose):
            out.extend(c for c, _ in a.cases)
        elif isinstance(a, When):
            out.append(a.condition)
        for ch in a.children():
            visit(ch)

    if amount is not None:
        visit(amount)
    return list(dict.fromkeys(out))


def values_of(amount: Amount | None) -> list[ir.Node]:
    """The numeric nodes an amount computes with (their atoms must be in the matrix)."""
    out: list[ir.Node] = []

    def visit(a: Amount) -> None:
        if isinstance(a, Rate):
            out.append(a.base)
        elif isinstance(a, PerUnit):
            out.append(a.units)
        elif isinstance(a, ProgressiveTiers):
            out.append(a.by)
        elif isinstance(a, Expr):
            out.append(a.node)
        for ch in a.children():
            visit(ch)

    if amount is not None:
        visit(amount)
    return list(dict.fromkeys(out))


# ----------------------------------------------------------------------------- parsing


class AmountParser:
    def __init__(self, compiler, c: Collector):
        self.compiler = compiler  # ConditionCompiler: expressions with the policy's context
        self.c = c

    def parse(self, spec, path: str = "amount") -> Amount | None:
        if not isinstance(spec, dict):
            fen = self.money(spec, path, "金额")
            return None if fen is None else Fixed(fen, path=path)
        kinds = [k for k in KINDS if k in spec]
        allowed = set(KINDS) | set(MODIFIERS) | {"base", "units", "per"}
        for k in sorted(set(spec) - allowed):
            self.c.add(path, f"金额公式中未知的键 {k!r}", f"可用：{', '.join(KINDS)}；修饰：{', '.join(MODIFIERS)}")
            return None
        if len(kinds) != 1:
            self.c.add(path, "每个金额部分只能有一种写法" if kinds else "金额部分缺少写法",
                       "fixed、rate + base、per_unit + units、tiers、sum、choose 或 expr 中选一个")
            return None
        kind = kinds[0]
        node = getattr(self, f"kind_{kind}")(spec, path)
        if node is None:
            return None
        for k in ("base", "units", "per"):
            if k in spec and not ((kind == "rate" and k == "base") or (kind == "per_unit" and k in ("units", "per"))):
                self.c.add(path, f"{k} 只用于 {'rate' if k == 'base' else 'per_unit'}", f"删掉 {k}")
                return None
        if "min" in spec or "max" in spec:
            low = self.money(spec["min"], f"{path}.min", "保底金额") if "min" in spec else None
            high = self.money(spec["max"], f"{path}.max", "封顶金额") if "max" in spec else None
            if ("min" in spec and low is None) or ("max" in spec and high is None):
                return None
            if low is not None and high is not None and low > high:
                self.c.add(path, f"保底 {spec['min']} 高于封顶 {spec['max']}，自相矛盾", "把 min 改为不高于 max")
                return None
            node = Clamp(node, low, high, path=path)
        if "round" in spec:
            r = spec["round"]
            if not isinstance(r, dict) or "unit" not in r or r.get("mode", "floor") not in ROUND_MODES or set(r) - {"unit", "mode"}:
                self.c.add(f"{path}.round", "取整写成 {unit: 100元, mode: floor}",
                           "mode 可选 floor（舍去）、half_up（四舍五入）、ceil（进一）")
                return None
            unit = self.money(r["unit"], f"{path}.round.unit", "取整单位")
            if unit is None:
                return None
            if unit <= 0 or unit.denominator != 1:
                self.c.add(f"{path}.round.unit", "取整单位应是正的整数分", "例如 unit: 100元")
                return None
            node = Round(node, unit, r.get("mode", "floor"), path=path)
        if "when" in spec:
            cond = self.condition(spec["when"], f"{path}.when")
            if cond is None:
                return None
            node = When(cond, node, path=path)
        if "label" in spec:
            if not isinstance(spec["label"], str) or not spec["label"].strip():
                self.c.add(f"{path}.label", "label 应是一段文字", "例如 label: 每新增1人奖励2000元")
                return None
            node = dataclasses.replace(node, label=spec["label"].strip())
        return node

    # values ------------------------------------------------------------------
    def money(self, value, path: str, what: str) -> Fraction | None:
        const = number_const(value, T.number(T.MONEY), path, self.c, what)
        return None if const is None else const.value

    def rate_value(self, value, path: str) -> Fraction | None:
        parsed = parse_number(value, path, self.c, "比例")
        if parsed is None:
            return None
        rate, unit = parsed
        if unit not in (None, T.NONE):
            self.c.add(path, f"比例 {value!r} 应是百分数或小数，而不是{unit_name(unit)}", "例如 rate: 10% 或 rate: 0.1")
            return None
        if rate < 0:
            self.c.add(path, "比例不能为负", "例如 rate: 10%")
            return None
        return rate

    def value(self, text, path: str, what: str, *, money: bool) -> ir.Node | None:
        if not isinstance(text, str):
            self.c.add(path, f"{what} 应是字段或表达式", "例如 base: sum(tax, months=12)")
            return None
        node = self.compiler.expression(text, path, what)
        if node is None:
            self.c.problems[-1:] = [dataclasses.replace(
                self.c.problems[-1], fix=self.c.problems[-1].fix + "；金额公式用到的申报信息要先在 inputs: 中声明")]
            return None
        if node.type.kind != "number":
            self.c.add(path, f"{what} 应是数值，而它是{type_name(node.type)}", "例如 sum(tax, months=12)")
            return None
        if money and node.type.unit != T.MONEY:
            self.c.add(path, f"单位不一致：{what}应是金额，而它是{unit_name(node.type.unit)}", "例如 annual.revenue 或 sum(tax, months=12)")
            return None
        bad = next((n for n in _outer_nodes(node) if not isinstance(n, EXACT_NODES + (ir.Arith,))
                    or (isinstance(n, ir.Arith) and n.op == "/")), None)
        if bad is not None:
            self.c.add(path, f"金额公式的{what}中不能用除法、比率或参照查询（{type(bad).__name__}）",
                       "比率请放在条件（when、tiers.by）中；按份计算请用 per_unit 的 per")
            return None
        return node

    def condition(self, text, path: str) -> ir.Node | None:
        if not isinstance(text, str):
            self.c.add(path, "条件应是条件表达式（文字）", "例如 when: \"has(certifications, kind='high_tech', active=true)\"")
            return None
        return self.compiler.expression(text, path, "金额条件", expect="bool")

    # kinds -------------------------------------------------------------------
    def kind_fixed(self, spec, path):
        fen = self.money(spec["fixed"], f"{path}.fixed", "固定金额")
        return None if fen is None else Fixed(fen, path=path)

    def kind_rate(self, spec, path):
        rate = self.rate_value(spec["rate"], f"{path}.rate")
        if "base" not in spec:
            self.c.add(path, "rate 需要 base（计算基数）", "例如 base: sum(tax, months=12)")
            return None
        base = self.value(spec["base"], f"{path}.base", "计算基数", money=True)
        if rate is None or base is None:
            return None
        return Rate(rate, base, path=path)

    def kind_per_unit(self, spec, path):
        unit_fen = self.money(spec["per_unit"], f"{path}.per_unit", "单价")
        if "units" not in spec:
            self.c.add(path, "per_unit 需要 units（份数）", "例如 units: input.hires")
            return None
        units = self.value(spec["units"], f"{path}.units", "份数", money=False) if isinstance(spec["units"], str) else None
        if units is None and not isinstance(spec["units"], str):
            self.c.add(f"{path}.units", "units 应是字段或表达式", "例如 units: input.hires")
        if unit_fen is None or units is None:
            return None
        per = None
        if "per" in spec:
            const = const_for(spec["per"], units.type, f"{path}.per", self.c, "每份数量")
            if const is None:
                return None
            per = const.value
            if per <= 0 or per.denominator != 1 or not units.type.integral:
                self.c.add(f"{path}.per", "按份计算需要整数的份数依据和正整数的每份数量",
                           "例如 units: annual.revenue, per: 1000万元")
                return None
        elif units.type.unit == T.MONEY:
            self.c.add(f"{path}.units", "份数是金额时要写 per（每多少金额算一份）", "例如 per: 1000万元")
            return None
        return PerUnit(unit_fen, units, per, path=path)

    def kind_expr(self, spec, path):
        node = self.value(spec["expr"], f"{path}.expr", "金额表达式", money=True)
        return None if node is None else Expr(node, path=path)

    def kind_sum(self, spec, path):
        parts = spec["sum"]
        if not isinstance(parts, list) or not parts:
            self.c.add(f"{path}.sum", "sum 应是非空的列表", "sum:\n  - fixed: 20万元\n  - {fixed: 10万元, when: \"…\"}")
            return None
        out = [self.parse(p, f"{path}.sum[{i}]") for i, p in enumerate(parts)]
        return None if any(o is None for o in out) else Sum(tuple(out), path=path)

    def kind_choose(self, spec, path):
        cases_spec = spec["choose"]
        if not isinstance(cases_spec, list) or not cases_spec:
            self.c.add(f"{path}.choose", "choose 应是非空的列表", "choose:\n  - {when: \"…\", amount: 100万元}\n  - {otherwise: 20万元}")
            return None
        cases, otherwise = [], None
        for i, case in enumerate(cases_spec):
            cpath = f"{path}.choose[{i}]"
            if isinstance(case, dict) and set(case) == {"otherwise"} and i == len(cases_spec) - 1:
                otherwise = self.parse(case["otherwise"], f"{cpath}.otherwise")
                if otherwise is None:
                    return None
                continue
            if not isinstance(case, dict) or set(case) != {"when", "amount"}:
                self.c.add(cpath, "每项写 when（条件）和 amount（金额）；最后一项可以是 otherwise", "{when: \"…\", amount: 100万元}")
                return None
            cond = self.condition(case["when"], f"{cpath}.when")
            part = self.parse(case["amount"], f"{cpath}.amount")
            if cond is None or part is None:
                return None
            cases.append((cond, part))
        if not cases:
            self.c.add(f"{path}.choose", "choose 至少要有一项 when", "{when: \"…\", amount: 100万元}")
            return None
        return Choose(tuple(cases), otherwise, path=path)

    def kind_tiers(self, spec, path):
        t = spec["tiers"]
        tpath = f"{path}.tiers"
        if not isinstance(t, dict) or "by" not in t or not isinstance(t.get("bands"), list) or not t["bands"] \
                or set(t) - {"by", "mode", "bands"} or t.get("mode", "band") not in ("band", "progressive"):
            self.c.add(tpath, "分档写 by（分档依据）、mode（band 或 progressive）和 bands",
                       "tiers:\n  by: annual.revenue\n  bands:\n    - {below: 5000万元, amount: 10万元}\n    - {amount: 30万元}")
            return None
        mode = t.get("mode", "band")
        if mode == "band":
            by = self.compiler.expression(str(t["by"]), f"{tpath}.by", "分档依据") if isinstance(t["by"], str) else None
        else:
            by = self.value(t["by"], f"{tpath}.by", "分档依据", money=True)
        if by is None:
            if not isinstance(t["by"], str):
                self.c.add(f"{tpath}.by", "by 应是字段或表达式", "例如 by: annual.revenue")
            return None
        if by.type.kind != "number":
            self.c.add(f"{tpath}.by", f"分档依据应是数值，而它是{type_name(by.type)}", "例如 by: annual.revenue")
            return None
        key = "amount" if mode == "band" else "rate"
        bounds, parts, lower = [], [], None
        for i, band in enumerate(t["bands"]):
            bpath = f"{tpath}.bands[{i}]"
            last = i == len(t["bands"]) - 1
            if not isinstance(band, dict) or key not in band or set(band) - {"below", key} or ("below" not in band and not last):
                self.c.add(bpath, f"每档写 below（不含的上限，只有最后一档可省略）和 {key}", f"{{below: 5000万元, {key}: …}}")
                return None
            upper = None
            if "below" in band:
                bconst = const_for(band["below"], by.type, f"{bpath}.below", self.c, "分档上限")
                if bconst is None:
                    return None
                upper = bconst.value
                if lower is not None and upper <= lower:
                    self.c.add(bpath, "各档上限应从小到大排列", "按 below 从小到大写各档")
                    return None
            if mode == "band":
                part = self.parse(band["amount"], f"{bpath}.amount")
            else:
                part = self.rate_value(band["rate"], f"{bpath}.rate")
            if part is None:
                return None
            bounds.append((lower, upper))
            parts.append(part)
            lower = upper
        if mode == "progressive":
            return ProgressiveTiers(by, tuple((lo if lo is not None else Fraction(0), hi) for lo, hi in bounds),
                                    tuple(parts), path=path)
        typ = T.number(by.type.unit or T.NONE)
        conds = []
        for lo, hi in bounds:
            parts_c: list[ir.Node] = []
            if lo is not None:
                parts_c.append(ir.Compare(">=", by, ir.Const(lo, typ)))
            if hi is not None:
                parts_c.append(ir.Compare("<", by, ir.Const(hi, typ)))
            if not parts_c:
                parts_c.append(ir.IsNull(by, True))
            conds.append(parts_c[0] if len(parts_c) == 1 else ir.And(tuple(parts_c)))
        return BandTiers(by, tuple(conds), tuple(bounds), tuple(parts), path=path)


def _outer_nodes(node: ir.Node):
    """The nodes of a value expression, not descending into an aggregate's row filter."""
    yield node
    if isinstance(node, (ir.SeriesAgg, ir.EventAgg)):
        return
    for child in node.children():
        yield from _outer_nodes(child)


def parse_caps(caps: dict, c: Collector) -> Caps:
    out = {}
    for key in ("per_enterprise", "per_year"):
        if caps.get(key) is not None:
            const = number_const(caps[key], T.number(T.MONEY), f"caps.{key}", c, "封顶金额")
            if const is not None:
                if const.value <= 0:
                    c.add(f"caps.{key}", "封顶金额应大于 0", "例如 300万元")
                else:
                    out[key] = int(const.value)
    return Caps(**out)


# ----------------------------------------------------------------------------- exactness


def _scale(q: Fraction) -> int:
    """Decimal places of an exact terminating fraction."""
    d = 0
    while (q * 10**d).denominator != 1:
        d += 1
        if d > 40:
            return 99
    return d


def _value_scale(node: ir.Node) -> int:
    if isinstance(node, ir.Const):
        return _scale(Fraction(node.value)) if node.typ.kind == "number" else 0
    if isinstance(node, ir.Arith):
        a, b = _value_scale(node.left), _value_scale(node.right)
        return a + b if node.op == "*" else max(a, b)
    if isinstance(node, (ir.Neg, ir.Coalesce)):
        return max((_value_scale(c) for c in node.children()), default=0)
    if node.type.kind == "number" and not node.type.integral:
        return 2  # decimal(18,2) columns (electricity)
    return 0


def scale_of(a: Amount) -> int:
    """Most decimal places any intermediate value of the formula can have."""
    if isinstance(a, Fixed):
        return _scale(a.fen)
    if isinstance(a, Rate):
        return _scale(a.rate) + _value_scale(a.base)
    if isinstance(a, PerUnit):
        return _scale(a.unit_fen) + (0 if a.per is not None else _value_scale(a.units))
    if isinstance(a, ProgressiveTiers):
        return max(_scale(r) for r in a.rates) + _value_scale(a.by)
    if isinstance(a, Expr):
        return _value_scale(a.node)
    if isinstance(a, Clamp):
        return max(scale_of(a.inner), *(_scale(x) for x in (a.low, a.high) if x is not None))
    if isinstance(a, Round):
        return max(scale_of(a.inner), 0)
    return max((scale_of(ch) for ch in a.children()), default=0)


# ----------------------------------------------------------------------------- evaluation (Python)


def _floor_div(a: Fraction, b: Fraction) -> int:
    return floor(a / b)


def evaluate(a: Amount, env) -> Fraction | None:
    """The exact amount (fen) for the enterprise of ``env``; ``None`` when unknown."""
    if isinstance(a, Fixed):
        return Fraction(a.fen)
    if isinstance(a, Rate):
        base = engine_evaluate(a.base, env)
        return None if base is None else Fraction(base) * a.rate
    if isinstance(a, PerUnit):
        units = engine_evaluate(a.units, env)
        if units is None:
            return None
        units = Fraction(units)
        if a.per is not None:
            units = Fraction(_floor_div(units, a.per))
        return units * a.unit_fen
    if isinstance(a, BandTiers):
        for cond, part in zip(a.conditions, a.parts):
            value = engine_evaluate(cond, env)
            if value is None:
                return None
            if value:
                return evaluate(part, env)
        return Fraction(0)
    if isinstance(a, ProgressiveTiers):
        by = engine_evaluate(a.by, env)
        if by is None:
            return None
        by = Fraction(by)
        total = Fraction(0)
        for (lo, hi), rate in zip(a.bounds, a.rates):
            top = by if hi is None else min(by, hi)
            total += max(top - lo, Fraction(0)) * rate
        return total
    if isinstance(a, Sum):
        values = [evaluate(p, env) for p in a.parts]
        return None if any(v is None for v in values) else sum(values, Fraction(0))
    if isinstance(a, Choose):
        for cond, part in a.cases:
            value = engine_evaluate(cond, env)
            if value is None:
                return None
            if value:
                return evaluate(part, env)
        return evaluate(a.otherwise, env) if a.otherwise is not None else Fraction(0)
    if isinstance(a, When):
        value = engine_evaluate(a.condition, env)
        if value is None:
            return None
        return evaluate(a.inner, env) if value else Fraction(0)
    if isinstance(a, Clamp):
        v = evaluate(a.inner, env)
        if v is None:
            return None
        if a.low is not None and v < a.low:
            v = Fraction(a.low)
        if a.high is not None and v > a.high:
            v = Fraction(a.high)
        return v
    if isinstance(a, Round):
        v = evaluate(a.inner, env)
        if v is None:
            return None
        if a.mode == "floor":
            return Fraction(floor(v / a.unit)) * a.unit
        if a.mode == "ceil":
            return Fraction(-floor(-v / a.unit)) * a.unit
        return Fraction(floor((2 * v + a.unit) / (2 * a.unit))) * a.unit
    if isinstance(a, Expr):
        v = engine_evaluate(a.node, env)
        return None if v is None else Fraction(v)
    raise TypeError(type(a).__name__)


def final_amount(raw: Fraction | None, caps: Caps, paid_total: int = 0, paid_year: int = 0) -> int | None:
    """Whole fen (rounded down, never negative), within the caps left after earlier payments."""
    if raw is None:
        return None
    fen = max(floor(raw), 0)
    if caps.per_enterprise is not None:
        fen = min(fen, max(caps.per_enterprise - paid_total, 0))
    if caps.per_year is not None:
        fen = min(fen, max(caps.per_year - paid_year, 0))
    return fen


# ----------------------------------------------------------------------------- SQL


def _lit(q: Fraction) -> exp.Expression:
    from shengxin.engine.sqlgen import lit

    return exp.Cast(this=lit(q), to=DEC.copy())


def _dec(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=DEC.copy())


def _case(*whens, default=None) -> exp.Case:
    """A CASE built without copying its parts (SQLGlot's builders deep-copy by default)."""
    ifs = [exp.If(this=cond, true=then) for cond, then in whens]
    return exp.Case(ifs=ifs, default=default)


def _null() -> exp.Expression:
    return exp.Cast(this=exp.null(), to=DEC.copy())


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=exp.Paren(this=e), expression=exp.null())


def _mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return _dec(exp.Mul(this=exp.Paren(this=a), expression=exp.Paren(this=b)))


def _bigint(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("BIGINT"))


def floor_div_sql(v: exp.Expression, d: int) -> exp.Expression:
    """``floor(v / d)`` for a BIGINT ``v`` and a positive integer ``d`` — integer operations only."""
    dl = exp.Literal.number(d)
    pos = exp.IntDiv(this=exp.Paren(this=v), expression=dl)
    neg = exp.Neg(this=exp.Paren(this=exp.IntDiv(
        this=exp.Paren(this=exp.Add(this=exp.Neg(this=exp.Paren(this=v)), expression=exp.Literal.number(d - 1))),
        expression=dl)))
    return _case((exp.GTE(this=exp.Paren(this=v), expression=exp.Literal.number(0)), pos), default=neg)


def round_sql(x: exp.Expression, unit: Fraction, mode: str) -> exp.Expression:
    """Round an exact decimal ``x`` to a multiple of the whole-fen ``unit`` without division of
    decimals: ``floor(x / u) = floor(floor(x) / u)`` for a positive integer ``u``."""
    u = int(unit)
    if mode == "floor":
        q = floor_div_sql(_bigint(exp.Floor(this=x)), u)
    elif mode == "ceil":
        q = exp.Neg(this=exp.Paren(this=floor_div_sql(_bigint(exp.Floor(this=exp.Neg(this=exp.Paren(this=x)))), u)))
    else:  # half up: floor((2x + u) / 2u)
        twice = exp.Add(this=exp.Mul(this=exp.Literal.number(2), expression=exp.Paren(this=x)), expression=exp.Literal.number(u))
        q = floor_div_sql(_bigint(exp.Floor(this=twice)), 2 * u)
    return _dec(exp.Mul(this=exp.Paren(this=q), expression=exp.Literal.number(u)))


class AmountSql:
    """Compiles amounts over the condition matrix: booleans are columns, values use the engine."""

    def __init__(self, value_sql, condition_sql):
        self.value_sql = value_sql  # ir.Node -> exp (numeric, over atom columns)
        self.condition_sql = condition_sql  # ir.Node -> exp (boolean column)

    def sql(self, a: Amount) -> exp.Expression:
        if isinstance(a, Fixed):
            return _lit(a.fen)
        if isinstance(a, Rate):
            return _mul(_dec(self.value_sql(a.base)), _lit(a.rate))
        if isinstance(a, PerUnit):
            units = self.value_sql(a.units)
            if a.per is not None:
                units = floor_div_sql(_bigint(units), int(a.per))
            return _mul(_dec(units), _lit(a.unit_fen))
        if isinstance(a, BandTiers):
            whens = []
            for cond, part in zip(a.conditions, a.parts):
                c = self.condition_sql(cond)
                whens.append((_is_null(c), _null()))
                whens.append((c, self.sql(part)))
            return _case(*whens, default=_lit(Fraction(0)))
        if isinstance(a, ProgressiveTiers):
            by = _dec(self.value_sql(a.by))
            total = None
            for (lo, hi), rate in zip(a.bounds, a.rates):
                top = by if hi is None else _case((exp.LT(this=by, expression=_lit(hi)), by), default=_lit(hi))
                inside = exp.Sub(this=exp.Paren(this=top), expression=_lit(lo))
                part = _mul(_case((exp.GT(this=exp.Paren(this=inside), expression=_lit(Fraction(0))), _dec(inside)),
                                  default=_lit(Fraction(0))), _lit(rate))
                total = part if total is None else _dec(exp.Add(this=exp.Paren(this=total), expression=exp.Paren(this=part)))
            return _case((_is_null(by), _null()), default=total)
        if isinstance(a, Sum):
            total = self.sql(a.parts[0])
            for p in a.parts[1:]:
                total = _dec(exp.Add(this=exp.Paren(this=total), expression=exp.Paren(this=self.sql(p))))
            return total
        if isinstance(a, Choose):
            whens = []
            for cond, part in a.cases:
                c = self.condition_sql(cond)
                whens.append((_is_null(c), _null()))
                whens.append((c, self.sql(part)))
            return _case(*whens, default=self.sql(a.otherwise) if a.otherwise is not None else _lit(Fraction(0)))
        if isinstance(a, When):
            c = self.condition_sql(a.condition)
            return _case((_is_null(c), _null()), (c, self.sql(a.inner)), default=_lit(Fraction(0)))
        if isinstance(a, Clamp):
            x = self.sql(a.inner)
            value = x.copy()
            if a.high is not None:
                value = _dec(exp.Least(this=value, expressions=[_lit(a.high)]))
            if a.low is not None:
                value = _dec(exp.Greatest(this=value, expressions=[_lit(a.low)]))
            return _case((_is_null(x), _null()), default=value)
        if isinstance(a, Round):
            return round_sql(self.sql(a.inner), a.unit, a.mode)
        if isinstance(a, Expr):
            return _dec(self.value_sql(a.node))
        raise TypeError(type(a).__name__)


def final_sql(raw: exp.Expression, caps: Caps, paid_total: exp.Expression | None = None,
              paid_year: exp.Expression | None = None) -> exp.Expression:
    """The SQL of :func:`final_amount`: whole fen, not negative, within the caps (``LEAST`` and
    ``GREATEST`` skip nulls, so the unknown case is decided first)."""
    zero = exp.Literal.number(0)
    fen = _bigint(exp.Floor(this=raw.copy()))
    limits = []
    for cap, paid in ((caps.per_enterprise, paid_total), (caps.per_year, paid_year)):
        if cap is None:
            continue
        limits.append(exp.Literal.number(cap) if paid is None else exp.Sub(
            this=exp.Literal.number(cap), expression=exp.Paren(this=exp.Coalesce(this=paid, expressions=[zero.copy()]))))
    if limits:
        fen = exp.Least(this=fen, expressions=limits)
    value = exp.Greatest(this=fen, expressions=[zero.copy()])
    return _case((_is_null(raw), exp.Cast(this=exp.null(), to=exp.DataType.build("BIGINT"))), default=value)


# ----------------------------------------------------------------------------- vectorised (bulk matching)


def scaled_int(value: Fraction, scale: int) -> int:
    """``value × 10^scale`` — exact by construction (``scale`` covers the value's decimals)."""
    v = Fraction(value) * 10**scale
    if v.denominator != 1:
        raise ValueError(f"{value} has more than {scale} decimals")
    return v.numerator


class VectorAmount:
    """Evaluates an amount over many enterprises at once with exact integers.

    Every intermediate value is an integer scaled by ``10^scale`` where ``scale`` is
    :func:`scale_of` the formula, so no value is ever rounded before the final floor to whole fen.
    The integers are NumPy ``int64`` when a bound computed from the batch's actual values
    (:meth:`bound`) shows that no intermediate value can exceed 2^62, and Python integers (object
    arrays) otherwise — the same exact result, the first without a Python-level step per row.
    ``values(node)`` gives ``(ints scaled by 10^s, unknown flags, s)`` of a numeric engine node;
    ``condition(node)`` gives 0/1/2 codes (false, unknown, true) of a boolean node.
    """

    LIMIT = 2**62

    def __init__(self, amount: Amount, values, condition):
        import numpy as np

        self.np = np
        self.amount = amount
        self.scale = scale_of(amount)
        self.values = values
        self.condition = condition

    def run(self, n: int):
        """``(scaled ints, unknown flags)`` of the whole formula for ``n`` rows."""
        self.dtype = self.np.int64 if n and self.bound(self.amount) < self.LIMIT else object
        return self._eval(self.amount, n)

    def _maxabs(self, node: ir.Node) -> tuple[int, int]:
        ints, _, s = self.values(node)
        return (max(abs(int(ints.max())), abs(int(ints.min()))) if len(ints) else 0), s

    def bound(self, a: Amount) -> int:
        """An upper bound of the absolute value of every intermediate integer of ``a``."""
        S = self.scale
        if isinstance(a, Fixed):
            return abs(scaled_int(a.fen, S))
        if isinstance(a, Rate):
            m, s = self._maxabs(a.base)
            vs = _value_scale(a.base)
            factor = abs(int(Fraction(a.rate) * 10**S / 10**vs))
            return max(m * 10 ** (vs - s), m * 10 ** (vs - s) * factor, factor)
        if isinstance(a, PerUnit):
            m, s = self._maxabs(a.units)
            factor = abs(int(Fraction(a.unit_fen) * 10**S / 10 ** (0 if a.per is not None else s)))
            return max(m, int(a.per or 0) * 10**s) * max(factor, 1)
        if isinstance(a, (BandTiers, Choose)):
            parts = list(a.parts) if isinstance(a, BandTiers) else [p for _, p in a.cases]
            if isinstance(a, Choose) and a.otherwise is not None:
                parts.append(a.otherwise)
            return max([self.bound(p) for p in parts] + [0])
        if isinstance(a, ProgressiveTiers):
            m, s = self._maxabs(a.by)
            total = 0
            for (lo, hi), rate in zip(a.bounds, a.rates):
                edge = max(abs(scaled_int(lo, s)), abs(scaled_int(hi, s)) if hi is not None else 0)
                total += (m + edge) * max(abs(int(Fraction(rate) * 10**S / 10**s)), 1)
            return max(total, m + sum(abs(scaled_int(lo, s)) for lo, _ in a.bounds))
        if isinstance(a, Sum):
            return sum(self.bound(p) for p in a.parts)
        if isinstance(a, When):
            return self.bound(a.inner)
        if isinstance(a, Clamp):
            return max(self.bound(a.inner), *(abs(scaled_int(x, S)) for x in (a.high, a.low) if x is not None))
        if isinstance(a, Round):
            u = abs(scaled_int(a.unit, S))
            return 2 * self.bound(a.inner) + 2 * u
        if isinstance(a, Expr):
            m, s = self._maxabs(a.node)
            return m * 10 ** (S - s)
        raise TypeError(type(a).__name__)

    def _ints(self, ints):
        return ints.astype(self.dtype, copy=False)

    def _const(self, q: Fraction, n: int):
        np = self.np
        out = np.empty(n, dtype=self.dtype)
        out[:] = scaled_int(q, self.scale)
        return out, np.zeros(n, dtype=bool)

    def _value(self, node: ir.Node, target_scale: int):
        """A value column rescaled to ``10^target_scale`` (``target_scale`` ≥ its own scale)."""
        ints, unknown, s = self.values(node)
        return self._ints(ints) * (10 ** (target_scale - s)), unknown

    def _eval(self, a: Amount, n: int):
        np = self.np
        S = self.scale
        if isinstance(a, Fixed):
            return self._const(a.fen, n)
        if isinstance(a, Rate):
            base, unknown = self._value(a.base, _value_scale(a.base))
            factor = Fraction(a.rate) * 10**S / 10 ** _value_scale(a.base)
            return base * int(factor), unknown
        if isinstance(a, PerUnit):
            units, unknown, s = self.values(a.units)
            units = self._ints(units)
            if a.per is not None:
                units = units // (int(a.per) * 10**s)
                s = 0
            factor = Fraction(a.unit_fen) * 10**S / 10**s
            return units * int(factor), unknown
        if isinstance(a, (BandTiers, Choose)):
            cases = list(zip(a.conditions, a.parts)) if isinstance(a, BandTiers) else list(a.cases)
            out, unknown = self._const(Fraction(0), n)
            if isinstance(a, Choose) and a.otherwise is not None:
                out, unknown = self._eval(a.otherwise, n)
            decided = np.zeros(n, dtype=bool)
            for cond, part in cases:
                code = self.condition(cond)
                value, part_unknown = self._eval(part, n)
                take = ~decided & (code == 2)
                out = np.where(take, value, out)
                unknown = np.where(take, part_unknown, unknown)
                unknown = unknown | (~decided & (code == 1))
                decided = decided | (code != 0)
            return out, unknown
        if isinstance(a, ProgressiveTiers):
            by, unknown, s = self.values(a.by)
            by = self._ints(by)
            total = np.zeros(n, dtype=self.dtype)
            for (lo, hi), rate in zip(a.bounds, a.rates):
                top = by if hi is None else np.minimum(by, scaled_int(hi, s))
                inside = np.maximum(top - scaled_int(lo, s), 0)
                total = total + inside * int(Fraction(rate) * 10**S / 10**s)
            return total, unknown
        if isinstance(a, Sum):
            out, unknown = self._eval(a.parts[0], n)
            for p in a.parts[1:]:
                v, u = self._eval(p, n)
                out, unknown = out + v, unknown | u
            return out, unknown
        if isinstance(a, When):
            code = self.condition(a.condition)
            value, unknown = self._eval(a.inner, n)
            zero, _ = self._const(Fraction(0), n)
            return np.where(code == 2, value, zero), np.where(code == 2, unknown, code == 1)
        if isinstance(a, Clamp):
            value, unknown = self._eval(a.inner, n)
            if a.high is not None:
                value = np.minimum(value, scaled_int(a.high, S))
            if a.low is not None:
                value = np.maximum(value, scaled_int(a.low, S))
            return value, unknown
        if isinstance(a, Round):
            value, unknown = self._eval(a.inner, n)
            u = scaled_int(a.unit, S)
            if a.mode == "floor":
                q = value // u
            elif a.mode == "ceil":
                q = -((-value) // u)
            else:
                q = (2 * value + u) // (2 * u)
            return q * u, unknown
        if isinstance(a, Expr):
            return self._value(a.node, S)
        raise TypeError(type(a).__name__)


def final_vector(scaled, unknown, scale: int, caps: Caps, paid_total=None, paid_year=None):
    """Whole fen (floor), never negative, within the caps; ``None`` where unknown (an object array)."""
    out = final_fen(scaled, scale, caps, paid_total, paid_year).astype(object)
    out[unknown] = None
    return out


def final_fen(scaled, scale: int, caps: Caps, paid_total=None, paid_year=None):
    """Whole fen (floor), never negative, within the caps (rows with unknown amounts included)."""
    import numpy as np

    fen = scaled // (10**scale)
    fen = np.maximum(fen, 0)
    if caps.per_enterprise is not None:
        left = caps.per_enterprise - (paid_total if paid_total is not None else 0)
        fen = np.minimum(fen, np.maximum(left, 0))
    if caps.per_year is not None:
        left = caps.per_year - (paid_year if paid_year is not None else 0)
        fen = np.minimum(fen, np.maximum(left, 0))
    return fen
