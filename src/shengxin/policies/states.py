"""The policy workflow: an explicit table of actions, the states they leave and enter.

::

    draft ─submit→ in_review ─publish→ published ─suspend→ suspended ─resume→ published
      ▲  └─edit─┘     │  ├─reject→ draft            │  └─expire→ expired ←─expire─┘
      │               └──withdraw→ draft            └─edit→ draft (a revision: the published
      └──────────────────────────────────────────────────────── version stays in force)

Rules:

* every saved change is a new version; ``edit`` is allowed in ``draft`` and ``published`` (a
  revision), never while the version is in review;
* ``submit`` and ``publish`` require the version's own test cases to pass (checked by the service);
* a policy is *live* — matched, pushed, paid — when it has a published version and is neither
  suspended nor expired; while a revision is drafted or reviewed, the published version stays live;
* an action outside its source states raises :class:`~shengxin.errors.Conflict` naming the current
  state and the actions allowed in it.
"""

from __future__ import annotations

from shengxin.workflow import Transition, Workflow

STATUS_LABELS = {"draft": "草稿", "in_review": "审核中", "published": "已发布", "suspended": "已暂停", "expired": "已失效"}
LIVE_STATUSES = frozenset({"draft", "in_review", "published"})  # … when a published version exists


WORKFLOW = Workflow("政策", STATUS_LABELS, (
    Transition("edit", frozenset({"draft", "published"}), "draft", "保存新版本"),
    Transition("submit", frozenset({"draft"}), "in_review", "提交审核", needs_tests=True),
    Transition("withdraw", frozenset({"in_review"}), "draft", "撤回"),
    Transition("reject", frozenset({"in_review"}), "draft", "退回修改", needs_reason=True),
    Transition("publish", frozenset({"in_review"}), "published", "发布", needs_tests=True),
    Transition("suspend", frozenset({"published"}), "suspended", "暂停", needs_reason=True),
    Transition("resume", frozenset({"suspended"}), "published", "恢复"),
    Transition("expire", frozenset({"published", "suspended"}), "expired", "设为失效"),
))
TRANSITIONS = WORKFLOW.transitions
allowed_actions = WORKFLOW.allowed
check_transition = WORKFLOW.check


def is_live(status: str, published_version: int | None) -> bool:
    """Whether the policy's published version is in force (matched, pushed, paid)."""
    return published_version is not None and status in LIVE_STATUSES
