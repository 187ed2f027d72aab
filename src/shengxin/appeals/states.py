"""The appeal state machine: an explicit table of actions, the states they leave and enter.

::

    submitted ─accept→ accepted ─assign→ assigned ─sign→ signed ─start→ in_progress ─reply→ replied
        │                                   │  ▲           │            │   ▲
        └─reject→ rejected                  │  │           │          pause resume
                                            │  │           │            ▼   │
                    bounce (assigned/signed/in_progress) → bounced ─arbitrate┘   paused
    replied ─visit→ return_visit ─close→ closed (solved / explained / not_in_remit)
                         └─(unsatisfied)→ reopened ─assign→ assigned …   reopened ─close→ closed
    any open state before a reply ─merge→ closed (merged into a parent)

Rule: an action is allowed only from the states listed for it; anything else raises
:class:`~shengxin.errors.Conflict` naming the current state and the actions allowed in it.
"""

from __future__ import annotations

from shengxin.workflow import Transition, Workflow

STATUS_LABELS = {
    "submitted": "待受理", "accepted": "已受理", "rejected": "不予受理", "assigned": "已交办",
    "signed": "已签收", "in_progress": "办理中", "paused": "暂停（等待企业）", "replied": "已答复",
    "return_visit": "已回访", "reopened": "重新办理", "bounced": "退回待仲裁", "closed": "已办结",
}
OUTCOME_LABELS = {"solved": "已解决", "explained": "已解释说明", "not_in_remit": "非职能范围",
                  "merged": "已合并", "rejected": "不予受理"}
SATISFACTION_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
CLOSE_OUTCOMES = ("solved", "explained", "not_in_remit")
OPEN_BEFORE_REPLY = frozenset({"submitted", "accepted", "assigned", "signed", "in_progress", "paused",
                               "bounced", "reopened"})
TERMINAL = frozenset({"rejected", "closed"})


WORKFLOW = Workflow("诉求", STATUS_LABELS, (
    Transition("accept", frozenset({"submitted"}), "accepted", "受理"),
    Transition("reject", frozenset({"submitted"}), "rejected", "不予受理", needs_reason=True),
    Transition("assign", frozenset({"accepted", "reopened"}), "assigned", "交办"),
    Transition("sign", frozenset({"assigned"}), "signed", "签收"),
    Transition("start", frozenset({"signed"}), "in_progress", "开始办理"),
    Transition("pause", frozenset({"in_progress"}), "paused", "暂停计时（等待企业）", needs_reason=True),
    Transition("resume", frozenset({"paused"}), "in_progress", "恢复办理"),
    Transition("reply", frozenset({"in_progress"}), "replied", "答复企业"),
    Transition("bounce", frozenset({"assigned", "signed", "in_progress"}), "bounced", "退回", needs_reason=True),
    Transition("arbitrate", frozenset({"bounced"}), "assigned", "仲裁并重新交办"),
    Transition("visit", frozenset({"replied"}), "return_visit", "回访"),
    Transition("reopen", frozenset({"return_visit"}), "reopened", "重新办理", needs_reason=True),
    Transition("close", frozenset({"return_visit", "reopened"}), "closed", "办结"),
    Transition("merge", OPEN_BEFORE_REPLY, "closed", "合并到主诉求"),
))
TRANSITIONS = WORKFLOW.transitions
allowed_actions = WORKFLOW.allowed
check_transition = WORKFLOW.check
