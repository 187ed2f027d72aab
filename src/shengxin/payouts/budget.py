"""Policy budgets: never over-committed, also when rounds of one policy are approved concurrently.

Rules:

* each policy has one ``payout_budgets`` row; committing money first locks it (``SELECT … FOR UPDATE``
  on PostgreSQL; SQLite has a single writer), so concurrent approvals of the same policy queue up;
* an item is committed only when ``committed + amount ≤ budget``; the running total is written on the
  ledger entry and on the budget row, and both carry a CHECK ``committed ≤ budget`` — should the
  application ever get it wrong, the database refuses the transaction;
* a policy without a budget (``budget_fen`` NULL) has no limit; the budget follows the policy's
  current budget, but may not drop below what is already committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shengxin.errors import Conflict, NotFound
from shengxin.payouts.models import PayoutBudget
from shengxin.policies.models import Policy


@dataclass
class LockedBudget:
    """A budget row held for this transaction: commit/release move ``committed_fen`` in memory, then
    :meth:`save` writes it (the ledger entries carry the same running totals)."""

    row: PayoutBudget

    @property
    def policy_id(self) -> str:
        return self.row.policy_id

    @property
    def budget_fen(self) -> int | None:
        return self.row.budget_fen

    @property
    def committed_fen(self) -> int:
        return self.row.committed_fen

    def fits(self, amount_fen: int) -> bool:
        """Whether ``amount_fen`` more can be committed without exceeding the budget."""
        return self.row.budget_fen is None or self.row.committed_fen + amount_fen <= self.row.budget_fen

    def commit(self, amount_fen: int) -> int:
        if not self.fits(amount_fen):
            raise Conflict(f"政策 {self.policy_id} 预算不足：剩余 {self.left_fen} 分，需要 {amount_fen} 分", where="budget")
        self.row.committed_fen += amount_fen
        return self.row.committed_fen

    def release(self, amount_fen: int) -> int:
        self.row.committed_fen -= amount_fen
        return self.row.committed_fen

    def pay(self, amount_fen: int) -> None:
        self.row.paid_fen += amount_fen

    def unpay(self, amount_fen: int) -> None:
        self.row.paid_fen -= amount_fen

    @property
    def left_fen(self) -> int | None:
        return None if self.row.budget_fen is None else self.row.budget_fen - self.row.committed_fen


def _insert(session: Session):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(PayoutBudget)


def lock(session: Session, policy_id: str) -> LockedBudget:
    """Create the policy's budget row if missing, then lock it for this transaction."""
    policy = session.get(Policy, policy_id)
    if policy is None:
        raise NotFound(f"没有编号为 {policy_id} 的政策", where="policy_id")
    session.execute(_insert(session).values(policy_id=policy_id, budget_fen=policy.budget_fen, committed_fen=0,
                                            paid_fen=0).on_conflict_do_nothing())
    row = session.execute(select(PayoutBudget).where(PayoutBudget.policy_id == policy_id).with_for_update()
                          .execution_options(populate_existing=True)).scalar_one()
    if row.budget_fen != policy.budget_fen:
        if policy.budget_fen is not None and policy.budget_fen < row.committed_fen:
            raise Conflict(f"政策 {policy_id} 的预算 {policy.budget_fen} 分已低于已承诺的 {row.committed_fen} 分，"
                           "请先调整政策预算", where="budget")
        row.budget_fen = policy.budget_fen
    return LockedBudget(row)


def save(session: Session, locked: LockedBudget) -> None:
    session.flush()
