"""Output schemas of the payouts domain (frozen dataclasses; the API never returns ORM rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from shengxin.payouts import states
from shengxin.payouts.models import (
    PayoutAccount,
    PayoutApplication,
    PayoutBatch,
    PayoutItem,
    PayoutObjection,
    PayoutRound,
)


def mask_account(no: str) -> str:
    """Only the last four digits of a bank account are shown."""
    return ("*" * max(len(no) - 4, 0)) + no[-4:]


def mask_uscc(uscc: str) -> str:
    """A USCC on the public list: first four and last five characters, the middle hidden."""
    return uscc[:4] + "*" * max(len(uscc) - 9, 0) + uscc[-5:] if len(uscc) > 9 else "*" * len(uscc)


class _Dict:
    def to_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class AccountPublic(_Dict):
    id: int
    uscc: str
    account_name: str
    account_no: str
    account_no_masked: str
    bank_name: str
    source: str
    created_at: dt.datetime

    @classmethod
    def of(cls, a: PayoutAccount | None) -> AccountPublic | None:
        if a is None:
            return None
        return cls(a.id, a.uscc, a.account_name, a.account_no, mask_account(a.account_no), a.bank_name, a.source,
                   a.created_at)


@dataclass(frozen=True)
class RoundPublic(_Dict):
    id: int
    policy_id: str
    policy_title: str
    policy_version: int
    department_code: str
    mode: str
    mode_label: str
    period: str | None
    status: str
    status_label: str
    as_of: dt.date
    match_snapshot: str | None
    data_snapshot: str | None
    publicity_days: int | None
    publicity_start: dt.datetime | None
    publicity_end: dt.datetime | None
    created_by: str
    approved_by: str | None
    created_at: dt.datetime
    approved_at: dt.datetime | None
    closed_at: dt.datetime | None
    counts: dict = field(default_factory=dict)
    amounts: dict = field(default_factory=dict)
    total_fen: int = 0
    objections_open: int = 0
    without_account: int = 0
    actions: list = field(default_factory=list)

    @classmethod
    def of(cls, r: PayoutRound, counts: dict, amounts: dict, objections_open: int, without_account: int) -> RoundPublic:
        live = {s: v for s, v in amounts.items() if s not in ("excluded", "over_budget", "cancelled")}
        return cls(r.id, r.policy_id, r.policy_title, r.policy_version, r.department_code, r.mode,
                   states.MODE_LABELS[r.mode], r.period, r.status, states.ROUND_LABELS[r.status], r.as_of,
                   r.match_snapshot, r.data_snapshot, r.publicity_days, r.publicity_start, r.publicity_end,
                   r.created_by, r.approved_by, r.created_at, r.approved_at, r.closed_at, counts, amounts,
                   sum(live.values()), objections_open, without_account, states.round_actions(r.status))


@dataclass(frozen=True)
class ItemPublic(_Dict):
    id: int
    round_id: int
    policy_id: str
    uscc: str
    name: str
    town: str | None
    amount_fen: int
    computed_fen: int
    status: str
    status_label: str
    reason: str
    eligible_on: dt.date
    account: AccountPublic | None
    account_confirmed_by: str | None
    batch_id: int | None
    bank_ref: str | None
    paid_on: dt.date | None
    application_id: int | None
    created_by: str
    approved_by: str | None

    @classmethod
    def of(cls, i: PayoutItem, account: PayoutAccount | None) -> ItemPublic:
        return cls(i.id, i.round_id, i.policy_id, i.uscc, i.name, i.town, i.amount_fen, i.computed_fen, i.status,
                   states.ITEM_LABELS[i.status], i.reason, i.eligible_on, AccountPublic.of(account),
                   i.account_confirmed_by, i.batch_id, i.bank_ref, i.paid_on, i.application_id, i.created_by,
                   i.approved_by)


@dataclass(frozen=True)
class BatchPublic(_Dict):
    id: int
    round_id: int
    item_count: int
    total_fen: int
    created_by: str
    created_at: dt.datetime
    lines_paid: int = 0
    lines_failed: int = 0
    lines_pending: int = 0

    @classmethod
    def of(cls, b: PayoutBatch, results: dict) -> BatchPublic:
        return cls(b.id, b.round_id, b.item_count, b.total_fen, b.created_by, b.created_at,
                   results.get("paid", 0), results.get("failed", 0), results.get("pending", 0))


@dataclass(frozen=True)
class EventPublic(_Dict):
    seq: int
    at: dt.datetime
    object_type: str
    object_id: str
    action: str
    from_status: str | None
    to_status: str | None
    actor: str
    detail: str


@dataclass(frozen=True)
class ObjectionPublic(_Dict):
    id: int
    round_id: int
    item_id: int | None
    item_ref: str | None
    text: str
    contact: str
    lodged_at: dt.datetime
    answer: str | None
    answered_by: str | None
    answered_at: dt.datetime | None

    @classmethod
    def of(cls, o: PayoutObjection) -> ObjectionPublic:
        return cls(o.id, o.round_id, o.item_id, item_ref(o.item_id) if o.item_id else None, o.text, o.contact,
                   o.lodged_at, o.answer, o.answered_by, o.answered_at)


def item_ref(item_id: int) -> str:
    """The public reference of an item on the publicity list (no USCC or account needed to name it)."""
    return f"P{item_id:06d}"


@dataclass(frozen=True)
class ApplicationPublic(_Dict):
    id: int
    policy_id: str
    policy_title: str
    uscc: str
    name: str
    status: str
    status_label: str
    amount_fen: int | None
    reason: str
    answer: dict | None
    inputs: dict | None
    due_at: dt.datetime | None
    due_provisional: bool
    item_id: int | None
    item_status: str | None
    created_by: str
    reviewed_by: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    files: list = field(default_factory=list)

    @classmethod
    def of(cls, a: PayoutApplication, title: str, item_status: str | None, files: list) -> ApplicationPublic:
        return cls(a.id, a.policy_id, title, a.uscc, a.name, a.status, states.APPLICATION_LABELS[a.status],
                   a.amount_fen, a.reason, a.answer, a.form, a.due_at, a.due_provisional, a.item_id, item_status,
                   a.created_by, a.reviewed_by, a.created_at, a.decided_at, files)
