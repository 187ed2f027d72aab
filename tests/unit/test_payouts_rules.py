"""Pure payout rules: exact yuan ↔ fen, masking, transition tables, the chain's canonical form."""

from __future__ import annotations

import datetime as dt

import pytest

from shengxin.errors import Conflict, InvalidInput
from shengxin.payouts import ledger, states
from shengxin.payouts.bankfile import parse_yuan, yuan
from shengxin.payouts.views import mask_account, mask_uscc


@pytest.mark.parametrize("fen, text", [(0, "0.00"), (5, "0.05"), (12345, "123.45"), (100_000_000_01, "100000000.01")])
def test_yuan_round_trips_exactly(fen, text):
    assert yuan(fen) == text and parse_yuan(text, "x") == fen


@pytest.mark.parametrize("text, fen", [("10,000.00", 1_000_000), ("¥1.5", 150), ("3元", 300), (12.34, 1234)])
def test_parse_yuan_accepts_common_spellings(text, fen):
    assert parse_yuan(text, "x") == fen


@pytest.mark.parametrize("text", ["", "1万", "1.234", "abc", "nan", "inf"])
def test_parse_yuan_refuses_what_is_not_an_exact_amount(text):
    with pytest.raises(InvalidInput):
        parse_yuan(text, "file:2:金额（元）")


def test_masks_hide_the_middle_of_a_uscc_and_all_but_four_account_digits():
    assert mask_uscc("91330110MA2H8K9X1F") == "9133*********K9X1F"
    assert mask_account("6222000011112222") == "************2222"


def test_transitions_name_the_state_and_who():
    assert states.check_round("confirming", "approve").who == "approver"
    with pytest.raises(Conflict, match="公示中"):
        states.check_round("publicity", "approve")
    assert states.check_item("failed", "retry").target == "approved"
    with pytest.raises(Conflict):
        states.check_item("proposed", "clawback")
    assert states.round_actions("review") == ["exclude", "publicise"]
    assert {t.who for t in states.APPLICATION_TRANSITIONS.values()} == {"rule", "manager"}


def test_the_hash_covers_every_field():
    at = dt.datetime(2026, 11, 28, 1, 2, 3, 456)
    base = dict(seq=1, at=at, kind="pay", policy_id="P", round_id=1, item_id=2, uscc="U", amount_fen=100,
                committed_after_fen=100, budget_fen=None, idempotency_key="pay:2", actor="a")
    h = ledger.link(ledger.GENESIS, ledger.entry_canonical(**base))
    for key, other in (("amount_fen", 101), ("uscc", "V"), ("actor", "b"), ("at", at + dt.timedelta(microseconds=1))):
        assert ledger.link(ledger.GENESIS, ledger.entry_canonical(**{**base, key: other})) != h
    aware = at.replace(tzinfo=dt.UTC)
    assert ledger.entry_canonical(**{**base, "at": aware}) == ledger.entry_canonical(**base)
