"""Payouts API: rounds, their items and batches, statistics and the ledger check for staff; an
enterprise's own payouts and applications.

Scope: every staff role reads rounds and statistics (town staff only their own town's items); the
ledger check is district-wide (admin, department staff, auditor); an enterprise reads only its own
items and applications. Full bank account numbers never leave through this API (the masked form
does); the bank payment file is the one place they appear, and only managers download it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from shengxin.accounts.roles import DISTRICT_WIDE_ROLES, STAFF_ROLES, Role
from shengxin.accounts.service import Principal
from shengxin.errors import InvalidInput
from shengxin.payouts import accounts, applications, ledger, rounds, stats
from shengxin.web.deps import get_db
from shengxin.web.security import access

router = APIRouter(prefix="/api/payouts", tags=["payouts"])
STATS_DIMENSIONS = ("policy", "town", "mode", "month")


def _masked(d: dict) -> dict:
    """An item's dict without the full bank account number (the masked one stays)."""
    if d.get("account"):
        d["account"] = {k: v for k, v in d["account"].items() if k != "account_no"}
    return d


@router.get("/rounds")
def list_rounds(policy_id: str | None = None, status: str | None = None, db: Session = Depends(get_db),
                principal: Principal = Depends(access(STAFF_ROLES))):
    """Rounds, newest first, with counts and amounts (fen) per item status."""
    return [r.to_dict() for r in rounds.list_rounds(db, principal, policy_id=policy_id, status=status)]


@router.get("/rounds/{round_id}")
def get_round(round_id: int, db: Session = Depends(get_db), principal: Principal = Depends(access(STAFF_ROLES))):
    """One round with its batches."""
    out = rounds.get_round(db, round_id, principal).to_dict()
    out["batches"] = [b.to_dict() for b in rounds.list_batches(db, round_id, principal)]
    return out


@router.get("/rounds/{round_id}/items")
def list_items(round_id: int, status: str | None = None, town: str | None = None, q: str | None = None,
               page: int = Query(1, ge=1), page_size: int = Query(50, ge=1, le=500), db: Session = Depends(get_db),
               principal: Principal = Depends(access(STAFF_ROLES))):
    """A round's items, paged (town staff: their town's only)."""
    items, total = rounds.list_items(db, round_id, principal, status=status, town=town, q=q, page=page,
                                     page_size=page_size)
    return {"total": total, "page": page, "page_size": page_size, "items": [_masked(i.to_dict()) for i in items]}


@router.get("/stats")
def payout_stats(by: list[str] = Query(default=["policy"]), db: Session = Depends(get_db),
                 principal: Principal = Depends(access(STAFF_ROLES))):
    """Paid payouts grouped by any of policy, town, mode, month: payees, amount_fen, days from
    eligibility to payment (median, average). Town staff: their own town."""
    bad = [d for d in by if d not in STATS_DIMENSIONS]
    if bad or not by:
        raise InvalidInput(f"by 只能是 {', '.join(STATS_DIMENSIONS)}；收到 {', '.join(bad) or '空'}", where="by")
    return stats.payout_stats(db, principal, by=tuple(d for d in STATS_DIMENSIONS if d in by))


@router.get("/ledger")
def ledger_status(db: Session = Depends(get_db), _: Principal = Depends(access(DISTRICT_WIDE_ROLES))):
    """Budget balances derived from the ledger, and the hash-chain check (first broken link, if any)."""
    return {"balances": [b.to_dict() for b in ledger.balances(db)],
            "verify": ledger.verify(db).to_dict()}


@router.get("/mine")
def mine(db: Session = Depends(get_db), principal: Principal = Depends(access(Role.ENTERPRISE))):
    """The enterprise's own payouts in every round and its instant applications."""
    return {"items": [_masked(i.to_dict()) for i in accounts.items_for_enterprise(db, principal)],
            "applications": [a.to_dict() for a in applications.list_applications(db, principal)]}
