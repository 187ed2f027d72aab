"""The shared state-machine kernel and the workflows built on it."""

from __future__ import annotations

import pytest

from shengxin.appeals import states as appeals
from shengxin.errors import Conflict
from shengxin.payouts import states as payouts
from shengxin.policies import states as policies
from shengxin.workflow import Transition, Workflow

DOOR = Workflow("门", {"open": "开着", "shut": "关着", "locked": "锁着"}, (
    Transition("close", frozenset({"open"}), "shut", "关门"),
    Transition("lock", frozenset({"shut"}), "locked", "上锁", needs_reason=True),
    Transition("knock", frozenset({"shut", "locked"}), "", "敲门"),
))


def test_allowed_actions_are_in_table_order():
    assert DOOR.allowed("shut") == ["lock", "knock"]
    assert DOOR.allowed("open") == ["close"]
    assert DOOR.allowed("gone") == []


def test_check_returns_the_transition_or_explains_the_refusal_in_chinese():
    assert DOOR.check("shut", "lock").target == "locked"
    with pytest.raises(Conflict, match="未知的操作 'fly'；可用：close, lock, knock") as unknown:
        DOOR.check("open", "fly")
    assert unknown.value.where == "action"
    with pytest.raises(Conflict) as refused:
        DOOR.check("open", "lock")
    message = str(refused.value)
    assert "门当前状态为“开着”（open），不能“上锁”（lock）" in message
    assert "该操作只适用于 shut" in message and "当前允许：close" in message
    with pytest.raises(Conflict, match="当前允许：无"):
        DOOR.check("gone", "close")


def test_every_workflow_uses_the_kernel():
    assert policies.check_transition("draft", "submit").needs_tests
    assert appeals.allowed_actions("submitted") == ["accept", "reject", "merge"]
    assert payouts.check_item("paid", "clawback").target == "clawed_back"
    assert payouts.round_actions("review") == ["exclude", "publicise"]
    with pytest.raises(Conflict, match="诉求当前状态为“已办结”"):
        appeals.check_transition("closed", "accept")
    with pytest.raises(Conflict, match="未知的操作"):  # was English in the appeal workflow
        appeals.check_transition("submitted", "teleport")
    with pytest.raises(Conflict, match="该申请当前状态为“待人工审核”"):
        payouts.check_application("review", "queue")
