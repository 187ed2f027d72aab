"""Clawback: a paid item is reclaimed when the payee is later found ineligible.

Rule: only a paid item can be clawed back, by a manager of the policy's department, with a reason; it
appends a ``clawback`` ledger entry (UNIQUE key ``clawback:<item>``), which lowers both the paid and the
committed totals of the policy, and the item becomes ``clawed_back`` — in any round state, also closed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from shengxin.accounts.service import Principal
from shengxin.errors import InvalidInput
from shengxin.payouts import budget as B
from shengxin.payouts import ledger as L
from shengxin.payouts.models import PayoutRound
from shengxin.payouts.permissions import require_manage
from shengxin.payouts.rounds import _item, _round, _set_item, item_views
from shengxin.payouts.views import ItemPublic


def clawback(session: Session, item_id: int, principal: Principal, reason: str) -> ItemPublic:
    """Reclaim a paid item (ledger ``clawback``; item → clawed_back)."""
    r: PayoutRound = _round(session, _item(session, item_id).round_id, lock=True)
    require_manage(principal, r.department_code)
    item = _item(session, item_id, lock=True)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("追回需要填写原因（例如：经核查不符合条件）", where="reason")
    from shengxin.payouts import states

    states.check_item(item.status, "clawback")
    locked = B.lock(session, r.policy_id)
    with L.chain(session) as w:
        after = locked.release(item.amount_fen)
        locked.unpay(item.amount_fen)
        w.entry("clawback", policy_id=r.policy_id, round_id=r.id, item_id=item.id, uscc=item.uscc,
                amount_fen=item.amount_fen, committed_after_fen=after, budget_fen=locked.budget_fen,
                key=f"clawback:{item.id}", actor=principal.username)
        _set_item(session, item, "clawback", principal, reason, w)
        B.save(session, locked)
    session.flush()
    return item_views(session, [item])[0]
