"""Payout statistics for the cockpit: per policy, town, mode and month of payment.

Rule: only items the bank confirmed count (``paid``; a later clawback removes the item from the
figures); ``days`` is the number of calendar days from the day the enterprise became eligible (the
round's as-of date, or the application date) to the day the bank confirmed payment.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.service import Principal
from shengxin.payouts.models import PayoutItem, PayoutRound
from shengxin.payouts.permissions import require_read, town_filter

KEYS = ("policy", "town", "mode", "month")


def payout_stats(session: Session, principal: Principal, *, by: tuple[str, ...] = KEYS) -> list[dict]:
    """Rows ``{<keys>…, payees, amount_fen, days_median, days_avg}``, sorted by the keys."""
    require_read(principal)
    bad = [k for k in by if k not in KEYS]
    if bad:
        from shengxin.errors import InvalidInput

        raise InvalidInput(f"未知的分组 {', '.join(bad)}；可用：{', '.join(KEYS)}", where="by")
    q = (select(PayoutItem.policy_id, PayoutItem.town, PayoutRound.mode, PayoutItem.paid_on, PayoutItem.eligible_on,
                PayoutItem.uscc, PayoutItem.amount_fen)
         .join(PayoutRound, PayoutRound.id == PayoutItem.round_id).where(PayoutItem.status == "paid"))
    limited = town_filter(principal)
    if limited:
        q = q.where(PayoutItem.town == limited)
    groups: dict[tuple, dict] = defaultdict(lambda: {"payees": set(), "amount_fen": 0, "days": []})
    for policy_id, town, mode, paid_on, eligible_on, uscc, amount in session.execute(q):
        values = {"policy": policy_id, "town": town or "", "mode": mode, "month": paid_on.strftime("%Y-%m")}
        g = groups[tuple(values[k] for k in by)]
        g["payees"].add(uscc)
        g["amount_fen"] += int(amount)
        g["days"].append((paid_on - eligible_on).days)
    rows = []
    for key in sorted(groups):
        g = groups[key]
        rows.append({**dict(zip(by, key)), "payees": len(g["payees"]), "amount_fen": g["amount_fen"],
                     "days_median": statistics.median(g["days"]),
                     "days_avg": round(sum(g["days"]) / len(g["days"]), 1)})
    return rows
