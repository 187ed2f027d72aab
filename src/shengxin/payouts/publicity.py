"""Publicity (公示): the public list of a round's payees, and objections to it.

Rules:

* the list is public (no login) while the round is in publicity, and shows only the item reference,
  the enterprise name, the masked USCC (``9133****12345``), the town and the amount — never a bank
  account; excluded items are not listed;
* anyone may lodge an objection while the round is in publicity (5–2000 characters, optionally naming
  an item by its reference); a round cannot be approved while an objection is unanswered;
* a manager of the policy's department answers each objection; the answer is recorded in the chain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shengxin.accounts.service import Principal
from shengxin.db import utcnow
from shengxin.errors import Conflict, InvalidInput, NotFound
from shengxin.payouts import ledger as L
from shengxin.payouts import states
from shengxin.payouts.models import PayoutItem, PayoutObjection, PayoutRound
from shengxin.payouts.permissions import require_manage, require_read
from shengxin.payouts.views import ObjectionPublic, item_ref as make_ref, mask_uscc

PUBLIC_ROUND_STATES = ("publicity",)
LISTED_ITEM_STATES = ("proposed",)


@dataclass(frozen=True)
class PublicRound:
    id: int
    policy_id: str
    policy_title: str
    department_code: str
    publicity_start: dt.datetime | None
    publicity_end: dt.datetime | None
    payees: int
    total_fen: int

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class PublicRow:
    ref: str
    name: str
    uscc_masked: str
    town: str | None
    amount_fen: int


def _public_round(session: Session, r: PayoutRound) -> PublicRound:
    n, total = session.execute(select(func.count(), func.coalesce(func.sum(PayoutItem.amount_fen), 0)).where(
        PayoutItem.round_id == r.id, PayoutItem.status.in_(LISTED_ITEM_STATES))).one()
    return PublicRound(r.id, r.policy_id, r.policy_title, r.department_code, r.publicity_start, r.publicity_end,
                       int(n), int(total))


def public_rounds(session: Session) -> list[PublicRound]:
    """Rounds on public display now."""
    rounds = session.scalars(select(PayoutRound).where(PayoutRound.status.in_(PUBLIC_ROUND_STATES))
                             .order_by(PayoutRound.id.desc()))
    return [_public_round(session, r) for r in rounds]


def _public(session: Session, round_id: int) -> PayoutRound:
    r = session.get(PayoutRound, round_id)
    if r is None or r.status not in PUBLIC_ROUND_STATES:
        raise NotFound(f"没有正在公示的编号为 {round_id} 的兑现名单", where="round_id")
    return r


def public_list(session: Session, round_id: int, *, page: int = 1,
                page_size: int = 100) -> tuple[PublicRound, list[PublicRow], int]:
    """The masked public list of a round in publicity, paged."""
    r = _public(session, round_id)
    head = _public_round(session, r)
    rows = session.execute(select(PayoutItem.id, PayoutItem.name, PayoutItem.uscc, PayoutItem.town,
                                  PayoutItem.amount_fen)
                           .where(PayoutItem.round_id == r.id, PayoutItem.status.in_(LISTED_ITEM_STATES))
                           .order_by(PayoutItem.id).offset((max(page, 1) - 1) * page_size).limit(page_size)).all()
    return head, [PublicRow(make_ref(i), name, mask_uscc(u), town, a) for i, name, u, town, a in rows], head.payees


def lodge_objection(session: Session, round_id: int, text: str, *, item_ref: str | None = None,
                    contact: str = "", client: str | None = None) -> ObjectionPublic:
    """Anyone lodges an objection to a round in publicity (optionally naming an item reference)."""
    r = _public(session, round_id)
    text = (text or "").strip()
    if len(text) < 5 or len(text) > 2000:
        raise InvalidInput("异议内容应为 5–2000 字", where="text")
    contact = (contact or "").strip()[:200]
    item_id = None
    ref = (item_ref or "").strip().upper()
    if ref:
        try:
            item_id = int(ref.lstrip("P"))
        except ValueError:
            raise InvalidInput(f"名单编号 {ref!r} 无效，应形如 P000123", where="item_ref") from None
        found = session.scalar(select(PayoutItem.id).where(PayoutItem.id == item_id, PayoutItem.round_id == r.id,
                                                           PayoutItem.status.in_(LISTED_ITEM_STATES)))
        if found is None:
            raise InvalidInput(f"本名单中没有编号 {ref}", where="item_ref")
    if client:
        _limit(session, client)
    o = PayoutObjection(round_id=r.id, item_id=item_id, text=text, contact=contact, client=client)
    session.add(o)
    session.flush()
    with L.chain(session) as w:
        w.event("objection", o.id, "lodge", "public", to_status="open", detail=f"round={r.id} item={item_id or ''}")
    session.flush()
    return ObjectionPublic.of(o)


def _limit(session: Session, client: str) -> None:
    """At most ``payout_objections_per_window`` objections per client address per login window."""
    from shengxin.config import get_settings

    settings = get_settings()
    since = utcnow() - dt.timedelta(seconds=settings.login_window_seconds)
    recent = session.scalar(select(func.count()).select_from(PayoutObjection).where(
        PayoutObjection.client == client, PayoutObjection.lodged_at >= since)) or 0
    if recent >= settings.payout_objections_per_window:
        raise Conflict("提交过于频繁，请稍后再试", where="client")


def answer_objection(session: Session, objection_id: int, principal: Principal, answer: str) -> ObjectionPublic:
    """A manager answers an objection (once)."""
    o = session.get(PayoutObjection, objection_id)
    if o is None:
        raise NotFound(f"没有编号为 {objection_id} 的异议", where="objection_id")
    r = session.get(PayoutRound, o.round_id)
    require_manage(principal, r.department_code)
    states.check_round(r.status, "answer_objection")
    if o.answered_at is not None:
        raise Conflict("该异议已经答复", where="objection_id")
    answer = (answer or "").strip()
    if len(answer) < 2 or len(answer) > 2000:
        raise InvalidInput("答复内容应为 2–2000 字", where="answer")
    o.answer, o.answered_by, o.answered_at = answer, principal.username, utcnow()
    with L.chain(session) as w:
        w.event("objection", o.id, "answer", principal.username, from_status="open", to_status="answered",
                detail=answer[:500])
    session.flush()
    return ObjectionPublic.of(o)


def list_objections(session: Session, round_id: int, principal: Principal) -> list[ObjectionPublic]:
    require_read(principal)
    return [ObjectionPublic.of(o) for o in session.scalars(
        select(PayoutObjection).where(PayoutObjection.round_id == round_id).order_by(PayoutObjection.id))]
