"""Payout workflows as explicit transition tables: rounds, items and instant applications.

Round (no-application, 免申即享)::

    review ─publicise→ publicity ─confirm_accounts→ confirming ─approve→ approved ─batch→ paying ─close→ closed
                                   (after the publicity end)     (second person)        (also approved → closed
                                                                                         when nothing is left to pay)

Item::

    proposed ─exclude→ excluded ─include→ proposed
    proposed ─approve→ approved | over_budget          approved ─batch→ in_batch ─bank→ paid | failed
    failed ─retry→ approved      failed|approved ─cancel→ cancelled      paid ─clawback→ clawed_back

Application (即申即享)::

    (new) ─rule→ queued | refused | review        review ─approve→ approved   review ─reject→ rejected

Each transition names who may do it: ``manager`` (district admin or staff of the policy's department),
``approver`` (a manager other than the round's creator), ``enterprise`` (the payee itself), ``rule``
(the published policy rule, no person), ``bank`` (a reconciliation import run by a manager).
An action outside its source states raises :class:`~shengxin.errors.Conflict` naming the current state.
"""

from __future__ import annotations

from shengxin.workflow import Transition, Workflow

ROUND_LABELS = {"review": "待复核", "publicity": "公示中", "confirming": "确认账户", "approved": "已审批",
                "paying": "支付中", "closed": "已结束"}
ITEM_LABELS = {"proposed": "待复核", "excluded": "已排除", "approved": "待支付", "over_budget": "超出预算",
               "in_batch": "支付中", "paid": "已支付", "failed": "支付失败", "cancelled": "已取消",
               "clawed_back": "已追回"}
APPLICATION_LABELS = {"queued": "已进入支付队列", "refused": "不符合条件", "review": "待人工审核",
                      "approved": "审核通过", "rejected": "审核未通过"}
MODE_LABELS = {"no_application": "免申即享", "instant_application": "即申即享"}
#: item states that still hold budget (committed in the ledger)
COMMITTED_ITEM_STATES = frozenset({"approved", "in_batch", "paid", "failed"})
#: item states that block closing a round
OPEN_ITEM_STATES = frozenset({"approved", "in_batch", "failed"})


def _table(*rows: tuple[str, tuple[str, ...], str, str, str]) -> list[Transition]:
    return [Transition(a, frozenset(s), t, label, who=who) for a, s, t, label, who in rows]


ROUNDS = Workflow("本轮兑现", ROUND_LABELS, _table(
    ("exclude", ("review",), "review", "排除企业", "manager"),
    ("publicise", ("review",), "publicity", "开始公示", "manager"),
    ("answer_objection", ("publicity", "confirming"), "", "答复异议", "manager"),
    ("confirm_accounts", ("publicity",), "confirming", "确认收款账户", "manager"),
    ("approve", ("confirming",), "approved", "审批（第二人）", "approver"),
    ("batch", ("approved", "paying"), "paying", "生成支付批次", "manager"),
    ("reconcile", ("paying",), "paying", "导入银行回单", "manager"),
    ("retry", ("paying", "approved"), "", "重新支付失败项", "manager"),
    ("cancel", ("paying", "approved"), "", "取消失败项", "manager"),
    ("close", ("approved", "paying"), "closed", "结束本轮", "manager"),
))

ITEMS = Workflow("该笔兑现", ITEM_LABELS, _table(
    ("exclude", ("proposed",), "excluded", "排除", "manager"),
    ("include", ("excluded",), "proposed", "恢复", "manager"),
    ("approve", ("proposed",), "approved", "审批通过", "approver"),
    ("no_budget", ("proposed",), "over_budget", "预算不足", "approver"),
    ("batch", ("approved",), "in_batch", "进入支付批次", "manager"),
    ("paid", ("in_batch",), "paid", "银行支付成功", "bank"),
    ("failed", ("in_batch",), "failed", "银行支付失败", "bank"),
    ("retry", ("failed",), "approved", "重新支付", "manager"),
    ("cancel", ("failed", "approved"), "cancelled", "取消", "manager"),
    ("clawback", ("paid",), "clawed_back", "追回", "manager"),
))

APPLICATIONS = Workflow("该申请", APPLICATION_LABELS, _table(
    ("queue", ("new",), "queued", "规则判定符合，进入支付队列", "rule"),
    ("refuse", ("new",), "refused", "规则判定不符合", "rule"),
    ("to_review", ("new",), "review", "转人工审核", "rule"),
    ("approve", ("review",), "approved", "审核通过", "manager"),
    ("reject", ("review",), "rejected", "审核未通过", "manager"),
))


ROUND_TRANSITIONS = ROUNDS.transitions
ITEM_TRANSITIONS = ITEMS.transitions
APPLICATION_TRANSITIONS = APPLICATIONS.transitions
check_round = ROUNDS.check
check_item = ITEMS.check
check_application = APPLICATIONS.check
#: the round actions allowed in a state (the pages show these buttons)
round_actions = ROUNDS.allowed
