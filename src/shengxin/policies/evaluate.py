"""One enterprise against a policy: its status, the amount and every condition's pass / fail / unknown
with the actual value and the threshold — the single-enterprise side of "one rule, three outputs".

Status (the same rules as the SQL of :mod:`shengxin.policies.sql`):

* ``eligible`` — every top-level condition holds (the amount is computed, exactly);
* ``near_miss`` — exactly one top-level condition fails, no other is unknown, and the failing
  one is nearly met (see :mod:`shengxin.policies.conditions`);
* ``missing_data`` — no condition fails but at least one is unknown (data missing, or an input the
  enterprise states only when it applies);
* ``not_eligible`` — anything else; also every enterprise not active (存续) at the as-of date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from shengxin.engine import ir
from shengxin.engine import render
from shengxin.engine import types as T
from shengxin.engine import vocabulary as V
from shengxin.engine.evaluate import evaluate as engine_evaluate
from shengxin.policies import amounts as A
from shengxin.policies import text as X
from shengxin.policies.compile import CompiledPolicy
from shengxin.policies.conditions import Atomic, Group

STATUSES = {"eligible": "符合", "near_miss": "接近符合", "missing_data": "待补充信息", "not_eligible": "不符合"}
STATUS = ir.EntField("status", "status", T.string_enum(V.STATUS_VALUES))
ESTABLISHED = ir.EntField("established_on", "established_on", T.DATE)
#: The population of every policy: registered on or before the as-of date (or date unknown) and
#: active (存续) at it — the same population the engine's matrix holds.
ACTIVE = ir.And((ir.Compare("=", STATUS, ir.Const("active", T.STRING)),
                 ir.Or((ir.IsNull(ESTABLISHED, False), ir.Compare("<=", ESTABLISHED, ir.AsOf())))))


def _and(values) -> bool | None:
    """Three-valued AND (as SQL): false wins, then unknown."""
    values = list(values)
    return False if any(v is False for v in values) else None if any(v is None for v in values) else True


def _or(values) -> bool | None:
    values = list(values)
    return True if any(v is True for v in values) else None if any(v is None for v in values) else False


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


_MISSING = object()
#: id of a node object → (the object, the canonical object equal to it). Hashing a node hashes its
#: whole tree; compiled policies live in process-wide caches and ask for the same node objects in
#: every evaluation, so each object is hashed once per process and shared conditions of different
#: policies resolve to one object. The entry holds the object, so its id is never reused.
_CANONICAL: dict[int, tuple[ir.Node, ir.Node]] = {}
_BY_VALUE: dict[ir.Node, ir.Node] = {}
_CANONICAL_MAX = 500_000


def canonical(node: ir.Node) -> ir.Node:
    """The process-wide representative of the nodes equal to ``node`` (found by identity first)."""
    hit = _CANONICAL.get(id(node))
    if hit is not None:
        return hit[1]
    if len(_CANONICAL) >= _CANONICAL_MAX:
        _CANONICAL.clear()
        _BY_VALUE.clear()
    rep = _BY_VALUE.setdefault(node, node)
    _CANONICAL[id(node)] = (node, rep)
    return rep


class CachedEnv:
    """An engine environment that computes each atom and each condition once (many policies share them)."""

    def __init__(self, inner):
        self.inner = inner
        self.as_of = inner.as_of
        self.atoms: dict[ir.Node, Any] = {}
        self.conditions: dict[ir.Node, Any] = {}
        self._by_id: dict[int, Any] = {}  # by id of a canonical node (they live as long as the process)

    def atom(self, node: ir.Node):
        try:
            return self.atoms[node]
        except KeyError:
            value = self.atoms[node] = self.inner.atom(node)
            return value

    def condition(self, node: ir.Node):
        node = canonical(node)
        hit = self._by_id.get(id(node), _MISSING)
        if hit is not _MISSING:
            return hit
        try:
            value = self.conditions[node]
        except KeyError:
            value = self.conditions[node] = engine_evaluate(node, self)
        self._by_id[id(node)] = value
        return value


def _cond(node: ir.Node, env) -> bool | None:
    return env.condition(node) if isinstance(env, CachedEnv) else engine_evaluate(node, env)


def item_value(item: Group | Atomic, env) -> bool | None:
    if isinstance(item, Atomic):
        return _cond(item.node, env)
    values = [item_value(i, env) for i in item.items]
    if item.kind == "not":
        return _not(values[0])
    return _and(values) if item.kind == "all" else _or(values)


def item_near(item: Group | Atomic, env) -> bool:
    return isinstance(item, Atomic) and item.near is not None and _cond(item.near, env) is True


def is_active(env) -> bool:
    return _cond(ACTIVE, env) is True


@dataclass
class Outcome:
    """The status of one (enterprise, policy) without explanations (fast path)."""

    status: str
    amount_fen: int | None
    false_mask: int
    unknown_mask: int
    raw_amount: Fraction | None = None


def outcome(policy: CompiledPolicy, env, paid_total: int = 0, paid_year: int = 0) -> Outcome:
    """Status, amount and the top-level masks (bit i: item i failed / is unknown)."""
    if not is_active(env):
        return Outcome("not_eligible", None, 0, 0)
    false_mask = unknown_mask = 0
    near_ok = False
    for i, item in enumerate(policy.items):
        v = item_value(item, env)
        if v is False:
            false_mask |= 1 << i
            near_ok = item_near(item, env)
        elif v is None:
            unknown_mask |= 1 << i
    if not false_mask and not unknown_mask:
        raw = A.evaluate(policy.amount, env) if policy.amount is not None else None
        amount = A.final_amount(raw, policy.caps, paid_total, paid_year) if policy.amount is not None else None
        return Outcome("eligible", amount, 0, 0, raw)
    if not false_mask:
        return Outcome("missing_data", None, 0, unknown_mask)
    if not unknown_mask and false_mask & (false_mask - 1) == 0 and near_ok:
        return Outcome("near_miss", None, false_mask, 0)
    return Outcome("not_eligible", None, false_mask, unknown_mask)


# ----------------------------------------------------------------------------- explanations


@dataclass
class ConditionResult:
    key: str
    path: str
    kind: str
    result: bool | None
    text: str
    ref: str | None = None
    subject: str = ""
    actual: str | None = None
    required: str | None = None
    values: list[dict] = field(default_factory=list)
    near: bool = False
    missing: list[str] = field(default_factory=list)
    items: list["ConditionResult"] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return {True: "pass", False: "fail", None: "unknown"}[self.result]

    def gap(self) -> str | None:
        """What is missing, e.g. ``研发费用占营业收入比例 2.8%，要求 ≥ 3%``."""
        if self.result is True:
            return None
        if self.result is None:
            return "缺少数据：" + "、".join(self.missing) if self.missing else "数据不足，无法判断"
        if self.actual is not None and self.required:
            return f"{self.subject}{'：' if self.subject else ''}实际 {self.actual}，要求 {self.required}"
        return f"不满足：{self.text}"

    def to_dict(self) -> dict:
        d = {"key": self.key, "path": self.path, "kind": self.kind, "result": self.outcome, "text": self.text,
             "ref": self.ref, "actual": self.actual, "required": self.required, "gap": self.gap()}
        if self.values:
            d["values"] = self.values
        if self.near:
            d["nearly"] = True
        if self.missing:
            d["missing"] = self.missing
        if self.items:
            d["items"] = [i.to_dict() for i in self.items]
        return d


def _missing(node: ir.Node, env, policy: CompiledPolicy) -> list[str]:
    """Labels of the values a condition needs that are unknown for this enterprise."""
    from shengxin.engine.evaluate import atoms

    out = []
    for a in atoms(node):
        if env.atom(a) is None:
            out.append(X.value_label(a, policy.context, env.as_of))
    return list(dict.fromkeys(out))


def explain_atomic(a: Atomic, env, policy: CompiledPolicy) -> ConditionResult:
    ctx = policy.context
    result = _cond(a.node, env)
    r = ConditionResult(a.key, a.path, a.kind, result, X.condition_text(a, ctx, env.as_of), a.ref,
                        X.subject_label(a, ctx, env.as_of))
    subjects = a.subjects or ((a.subject,) if a.subject is not None else ())
    if a.kind == "compare" and a.bands:
        by = engine_evaluate(a.band_by, env)
        band = next((b for b in a.bands if (b.lower is None or (by is not None and by >= b.lower))
                     and (b.upper is None or (by is not None and by < b.upper))), None) if by is not None else None
        r.actual = X.show(engine_evaluate(a.subject, env), a.subject.type, a.subject)
        if band is not None:
            r.required = f"{X.SYMBOLS[a.op]} {X.show(band.threshold.value, band.threshold.typ, a.subject)}（{X.band_text(band, a.band_by, ctx)}）"
        r.values.append({"label": X.value_label(a.band_by, ctx, env.as_of),
                         "display": X.show(by, a.band_by.type, a.band_by)})
    elif subjects:
        shown = []
        for s in subjects:
            value = engine_evaluate(s, env)
            display = X.show(value, s.type, s)
            if a.kind == "age" and value is not None:
                years = A_years(value, env.as_of)
                display = f"{display}（已满{years}年）"
            r.values.append({"label": X.value_label(s, ctx, env.as_of), "display": display,
                             "value": render.json_value(value)})
            shown.append(display)
        r.actual = "；".join(shown)
        r.required = X.threshold_text(a, ctx) or None
    elif a.kind == "tag":
        r.actual = "具有该标签" if engine_evaluate(a.node, env) != a.negated else "不具有该标签"
    if result is None:
        r.missing = _missing(a.node, env, policy)
    elif result is False and a.near is not None:
        r.near = _cond(a.near, env) is True
    return r


def A_years(d: dt.date, as_of: dt.date) -> int:
    from shengxin.engine.asof import whole_years

    return whole_years(d, as_of)


def explain_item(item: Group | Atomic, env, policy: CompiledPolicy) -> ConditionResult:
    if isinstance(item, Atomic):
        return explain_atomic(item, env, policy)
    head = {"all": "同时满足以下条件", "any": "满足以下条件之一", "not": "不得满足以下条件"}[item.kind]
    r = ConditionResult(item.key, item.path, item.kind, item_value(item, env), head)
    r.items = [explain_item(i, env, policy) for i in item.items]
    if r.result is None:
        r.missing = list(dict.fromkeys(m for i in r.items for m in i.missing))
    return r


@dataclass
class PolicyAnswer:
    """One enterprise's full answer for one policy."""

    policy_id: str
    title: str
    status: str
    amount_fen: int | None
    amount_text: str
    delivery: str
    conditions: list[ConditionResult]
    as_of: dt.date
    reason: str
    failed: list[str]
    unknown: list[str]

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    def to_dict(self) -> dict:
        return {"policy_id": self.policy_id, "title": self.title, "status": self.status,
                "status_label": self.status_label, "amount_fen": self.amount_fen, "amount": self.amount_text,
                "delivery": self.delivery, "as_of": self.as_of.isoformat(), "reason": self.reason,
                "failed": self.failed, "unknown": self.unknown,
                "conditions": [c.to_dict() for c in self.conditions]}


def answer(policy: CompiledPolicy, env, paid_total: int = 0, paid_year: int = 0) -> PolicyAnswer:
    """The status with every condition explained (the ``explain`` command and the pages)."""
    o = outcome(policy, env, paid_total, paid_year)
    results = [explain_item(i, env, policy) for i in policy.items]
    failed = [r.key for r in results if r.result is False]
    unknown = [r.key for r in results if r.result is None]
    d = policy.definition
    if not is_active(env):
        status = engine_evaluate(STATUS, env)
        if status == "active":
            reason = f"企业成立日期晚于统计日 {env.as_of}，不在政策适用范围内"
        else:
            reason = f"企业登记状态为{V.STATUS_VALUES.get(status, status or '未知')}，不在政策适用范围内"
    elif o.status == "eligible":
        reason = "满足全部条件"
    elif o.status == "near_miss":
        gap = next(r for r in results if r.result is False).gap()
        reason = f"仅差一项：{gap}"
    elif o.status == "missing_data":
        missing = list(dict.fromkeys(m for r in results if r.result is None for m in r.missing))
        reason = "需补充：" + "、".join(missing) if missing else "部分条件数据不足，无法判断"
    else:
        reason = "；".join(r.gap() for r in results if r.result is False) or "部分条件数据不足"
    if o.status == "eligible" and policy.amount is not None:
        amount = X.money(o.amount_fen) if o.amount_fen is not None else "金额待申报后核定"
    elif policy.amount is None:
        amount = "不涉及资金"
    else:
        amount = f"按规定计算：{X.amount_text(policy.amount, policy.context)}"
    return PolicyAnswer(d.id, d.title, o.status, o.amount_fen, amount, d.delivery_label, results, env.as_of,
                        reason, failed, unknown)

