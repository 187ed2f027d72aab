"""Workflows as explicit transition tables — the one state-machine kernel the policy, appeal and
payout workflows (rounds, items, applications) share.

A :class:`Workflow` is a named table of :class:`Transition` rows: an action, the states it may
leave, the state it enters (``""``: stays where it is), a Chinese label, and what the action needs
(a reason, passing policy tests, a kind of actor). The workflow modules keep their own tables and
diagrams; this module only answers two questions the same way everywhere:

* which actions a state allows, in table order (:meth:`Workflow.allowed`; pages show these buttons);
* whether an action may run from a state (:meth:`Workflow.check`): an unknown action or one outside
  its source states raises :class:`~shengxin.errors.Conflict`, in Chinese, naming the current
  state, the states the action applies to and the actions allowed now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shengxin.errors import Conflict


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str  # "" when the action leaves the state as it is
    label: str
    needs_reason: bool = False
    needs_tests: bool = False
    who: str = ""  # payouts: manager, approver, enterprise, rule, bank


class Workflow:
    """One transition table; ``subject`` (e.g. ``诉求``) and ``labels`` (state → Chinese name)
    word the refusals."""

    def __init__(self, subject: str, labels: Mapping[str, str], transitions: Iterable[Transition]):
        self.subject = subject
        self.labels = labels
        self.transitions: dict[str, Transition] = {t.action: t for t in transitions}

    def allowed(self, status: str) -> list[str]:
        """The actions whose source states include ``status``, in table order."""
        return [a for a, t in self.transitions.items() if status in t.sources]

    def check(self, status: str, action: str) -> Transition:
        """The transition for ``action`` from ``status``, or :class:`Conflict` explaining why not."""
        transition = self.transitions.get(action)
        if transition is None:
            raise Conflict(f"未知的操作 {action!r}；可用：{', '.join(self.transitions)}", where="action")
        if status not in transition.sources:
            allowed = self.allowed(status)
            raise Conflict(
                f"{self.subject}当前状态为“{self.labels.get(status, status)}”（{status}），不能“{transition.label}”"
                f"（{action}）；该操作只适用于 {', '.join(sorted(transition.sources))}；"
                f"当前允许：{', '.join(allowed) or '无'}", where="status")
        return transition
