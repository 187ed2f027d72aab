"""Appeal rules without I/O: the state machine table, the taxonomy file, attachments, QR tokens."""

from __future__ import annotations

import copy

import pytest
import yaml

from shengxin.appeals.attachments import Upload, check_upload, check_uploads, display_name
from shengxin.appeals.categories import CATEGORIES_FILE, check_units, load_taxonomy, parse_taxonomy
from shengxin.appeals.states import STATUS_LABELS, TERMINAL, TRANSITIONS, allowed_actions, check_transition
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.errors import Conflict, InvalidInput
from shengxin.reference.district import load_district


def test_every_state_is_reachable_and_only_terminal_states_are_dead_ends():
    reachable, frontier = {"submitted"}, ["submitted"]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(state):
            target = TRANSITIONS[action].target
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(STATUS_LABELS)
    assert {s for s in STATUS_LABELS if not allowed_actions(s)} == set(TERMINAL)


@pytest.mark.parametrize("state, action", [
    ("submitted", "sign"), ("accepted", "reply"), ("assigned", "reply"), ("paused", "reply"),
    ("replied", "close"), ("closed", "reopen"), ("rejected", "accept"), ("bounced", "sign"),
])
def test_illegal_transitions_raise_conflict_naming_the_state(state, action):
    with pytest.raises(Conflict) as info:
        check_transition(state, action)
    assert f"（{state}）" in str(info.value) and f"（{action}）" in str(info.value)


def test_the_documented_path_is_allowed():
    path = [("submitted", "accept"), ("accepted", "assign"), ("assigned", "sign"), ("signed", "start"),
            ("in_progress", "pause"), ("paused", "resume"), ("in_progress", "reply"), ("replied", "visit"),
            ("return_visit", "reopen"), ("reopened", "assign"), ("in_progress", "bounce"),
            ("bounced", "arbitrate"), ("return_visit", "close"), ("paused", "merge")]
    for state, action in path:
        assert check_transition(state, action).action == action


def test_packaged_taxonomy_is_valid_and_units_exist():
    tax = load_taxonomy()
    assert len(tax.categories) >= 11 and len(tax.all_subcategories()) >= 40
    assert check_units(tax, load_district(DEFAULT_DISTRICT_FILE)) == []
    assert tax.limit("land.plant", "handle", "complex") == 15
    assert tax.limit("tax.refund", "handle", "simple") == 3
    assert tax.limit(None, "accept") == 1 and tax.limit("policy.payout", "arbitrate") == 1
    assert tax.subcategory("policy.payout").unit == "czj"  # subcategory override
    assert tax.subcategory("policy.consult").unit == "jxj"  # category default


def _raw():
    with open(CATEGORIES_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["categories"][0]["subcategories"][0].update(code="tax.refund"), "must be 'policy."),
    (lambda d: d["categories"][1].update(code="policy"), "duplicate"),
    (lambda d: d["categories"][0].update(tier="province"), "tier"),
    (lambda d: d["categories"][0].update(deadlines={"handle": {"simple": 0}}), "1-120"),
    (lambda d: d["categories"][0].update(deadlines={"approve": 2}), "unknown stages"),
    (lambda d: d["default_deadlines"].pop("sign"), "missing stage"),
    (lambda d: d["categories"][0].update(subcategories=[]), "at least one"),
])
def test_taxonomy_errors_name_the_entry(mutate, message):
    data = copy.deepcopy(_raw())
    mutate(data)
    with pytest.raises(InvalidInput, match=message) as info:
        parse_taxonomy(data, "categories.yaml")
    assert "categories.yaml" in str(info.value)


def test_attachment_rules():
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\a\\报告.pdf") == "报告.pdf"
    assert display_name("a\x00b\n.png") == "ab.png"
    assert check_upload(Upload("x.PDF", b"%PDF-1.7"), 100).content_type == "application/pdf"
    assert check_upload(Upload("x.docx", b"PK\x03\x04..."), 100).extension == "docx"
    for upload, message in [(Upload("x.exe", b"MZ"), "不支持"), (Upload("x.pdf", b""), "空文件"),
                            (Upload("x.pdf", b"%PDF-" + b"0" * 200), "超过上限"), (Upload("x.png", b"%PDF-"), "不符"),
                            (Upload("noext", b"%PDF-"), "无扩展名")]:
        with pytest.raises(InvalidInput, match=message):
            check_upload(upload, 100)
    with pytest.raises(InvalidInput, match="最多"):
        check_uploads([Upload(f"{i}.pdf", b"%PDF-") for i in range(3)], 100, 2)
