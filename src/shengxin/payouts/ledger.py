"""The payout ledger and the event chain: append-only, hash-chained, balances derived by summing.

Rules:

* a ledger entry is one money movement of one item: ``commit`` (budget reserved for an approved item),
  ``pay`` (the bank confirmed), ``release`` (a failed or approved item was cancelled), ``clawback``
  (a paid item is reclaimed); amounts are positive integer fen, the kind gives the sign;
* committed = Σcommit − Σrelease − Σclawback and paid = Σpay − Σclawback, per policy; nothing else is
  the truth (``payout_budgets`` mirrors them for locking and ``verify`` checks the mirror);
* every entry has a UNIQUE ``idempotency_key`` (``pay:<item>`` …), so one item is paid at most once
  whatever the application does; the database refuses UPDATE and DELETE (triggers);
* each entry and each state change (``payout_events``) is chained: ``hash = sha256(prev_hash ␞
  canonical)`` where canonical joins the entry's fields with U+001F; a change anywhere breaks every
  later link, and ``verify`` names the first broken one;
* appends serialise on the single ``payout_chain_heads`` row: a writer first UPDATEs it (a row lock on
  PostgreSQL, the write lock on SQLite), so two writers can never both extend the same head. Lock order
  everywhere: round row → budget row → chain head (no deadlocks).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from sqlalchemy import case, func, insert, select, text, true, update
from sqlalchemy.orm import Session

from shengxin.payouts.models import PayoutBudget, PayoutChainHead, PayoutEvent, PayoutLedgerEntry

GENESIS = "0" * 64
HEAD = "payouts"
SEP = "\x1f"


def now_naive() -> dt.datetime:
    """The current UTC time without a zone (how chained rows store it, identically on both databases)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _ts(at: dt.datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _s(v) -> str:
    return "" if v is None else str(v)


def entry_canonical(seq, at, kind, policy_id, round_id, item_id, uscc, amount_fen, committed_after_fen, budget_fen,
                    idempotency_key, actor) -> str:
    """The canonical text of a ledger entry (what its hash covers)."""
    return SEP.join((str(seq), _ts(at), kind, policy_id, str(round_id), str(item_id), uscc, str(amount_fen),
                     str(committed_after_fen), _s(budget_fen), idempotency_key, actor))


def event_canonical(seq, at, object_type, object_id, action, from_status, to_status, actor, detail) -> str:
    return SEP.join((str(seq), _ts(at), object_type, str(object_id), action, _s(from_status), _s(to_status), actor,
                     detail or ""))


def link(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{prev_hash}\x1e{canonical}".encode()).hexdigest()


# ----------------------------------------------------------------------------- writing


@dataclass
class ChainWriter:
    """Collects the entries and events of one step; :func:`write` links and inserts them.

    The chain head is locked only in :func:`write`, after every other row the step changes has been
    written — so the head is always the last lock taken and held only until the commit."""

    at: dt.datetime = field(default_factory=lambda: now_naive())
    entries: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)

    def entry(self, kind: str, *, policy_id: str, round_id: int, item_id: int, uscc: str, amount_fen: int,
              committed_after_fen: int, budget_fen: int | None, key: str, actor: str) -> None:
        self.entries.append(dict(at=self.at, kind=kind, policy_id=policy_id, round_id=round_id, item_id=item_id,
                                 uscc=uscc, amount_fen=int(amount_fen), committed_after_fen=int(committed_after_fen),
                                 budget_fen=budget_fen, idempotency_key=key, actor=actor))

    def event(self, object_type: str, object_id, action: str, actor: str, *, from_status: str | None = None,
              to_status: str | None = None, detail: str = "") -> None:
        self.events.append(dict(at=self.at, object_type=object_type, object_id=str(object_id), action=action,
                                from_status=from_status, to_status=to_status, actor=actor, detail=(detail or "")[:2000]))


def _link_rows(entries: list[dict], events: list[dict], head) -> tuple[int, str, int, str]:
    seq, prev = int(head[0]), head[1]
    for row in entries:
        seq += 1
        row["seq"], row["prev_hash"] = seq, prev
        row["hash"] = prev = link(prev, entry_canonical(
            seq, row["at"], row["kind"], row["policy_id"], row["round_id"], row["item_id"], row["uscc"],
            row["amount_fen"], row["committed_after_fen"], row["budget_fen"], row["idempotency_key"], row["actor"]))
    eseq, eprev = int(head[2]), head[3]
    for row in events:
        eseq += 1
        row["seq"], row["prev_hash"] = eseq, eprev
        row["hash"] = eprev = link(eprev, event_canonical(
            eseq, row["at"], row["object_type"], row["object_id"], row["action"], row["from_status"],
            row["to_status"], row["actor"], row["detail"]))
    return seq, prev, eseq, eprev


def write(session: Session, w: ChainWriter) -> None:
    """Lock the head (blocks while another writer holds it), link the rows to it, insert them
    (executemany) and move the head."""
    if not w.entries and not w.events:
        return
    session.execute(update(PayoutChainHead).where(PayoutChainHead.name == HEAD)
                    .values(ledger_seq=PayoutChainHead.ledger_seq))
    head = session.execute(select(PayoutChainHead.ledger_seq, PayoutChainHead.ledger_hash, PayoutChainHead.events_seq,
                                  PayoutChainHead.events_hash).where(PayoutChainHead.name == HEAD)).one()
    seq, prev, eseq, eprev = _link_rows(w.entries, w.events, head)
    for start in range(0, len(w.entries), 10_000):
        session.execute(insert(PayoutLedgerEntry), w.entries[start:start + 10_000])
    for start in range(0, len(w.events), 10_000):
        session.execute(insert(PayoutEvent), w.events[start:start + 10_000])
    session.execute(update(PayoutChainHead).where(PayoutChainHead.name == HEAD).values(
        ledger_seq=seq, ledger_hash=prev, events_seq=eseq, events_hash=eprev))
    w.entries, w.events = [], []


@contextmanager
def chain(session: Session):
    """``with chain(session) as w: w.entry(...); w.event(...)`` — linked and written on exit."""
    w = ChainWriter()
    yield w
    write(session, w)


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Balance:
    policy_id: str
    budget_fen: int | None
    committed_fen: int
    paid_fen: int

    @property
    def left_fen(self) -> int | None:
        return None if self.budget_fen is None else self.budget_fen - self.committed_fen

    def to_dict(self) -> dict:
        return {**asdict(self), "left_fen": self.left_fen}


def _signed():
    k = PayoutLedgerEntry.kind
    a = PayoutLedgerEntry.amount_fen
    committed = func.coalesce(func.sum(case((k == "commit", a), (k.in_(("release", "clawback")), -a), else_=0)), 0)
    paid = func.coalesce(func.sum(case((k == "pay", a), (k == "clawback", -a), else_=0)), 0)
    return committed, paid


def balances(session: Session, policy_id: str | None = None) -> list[Balance]:
    """Committed and paid per policy, summed from the ledger; the budget from the budget row."""
    committed, paid = _signed()
    q = select(PayoutLedgerEntry.policy_id, committed, paid).group_by(PayoutLedgerEntry.policy_id)
    if policy_id:
        q = q.where(PayoutLedgerEntry.policy_id == policy_id)
    sums = {p: (int(c), int(d)) for p, c, d in session.execute(q)}
    budgets = dict(session.execute(select(PayoutBudget.policy_id, PayoutBudget.budget_fen)).all())
    ids = sorted(set(sums) | ({policy_id} if policy_id and policy_id in budgets else set(budgets) if not policy_id else set()))
    return [Balance(p, budgets.get(p), *sums.get(p, (0, 0))) for p in ids]


def committed_by_payee(session: Session, policy_id: str) -> dict[str, tuple[int, int]]:
    """Per enterprise of one policy: (committed total, committed this calendar year) — for caps."""
    committed, _ = _signed()
    year = dt.date.today().year
    start = dt.datetime(year, 1, 1)
    k, a = PayoutLedgerEntry.kind, PayoutLedgerEntry.amount_fen
    this_year = func.coalesce(func.sum(case(
        (PayoutLedgerEntry.at < start, 0), (k == "commit", a), (k.in_(("release", "clawback")), -a), else_=0)), 0)
    rows = session.execute(select(PayoutLedgerEntry.uscc, committed, this_year)
                           .where(PayoutLedgerEntry.policy_id == policy_id).group_by(PayoutLedgerEntry.uscc))
    return {u: (int(c), int(y)) for u, c, y in rows}


def paid_table(session: Session, year: int | None = None, uscc: str | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """``{(policy_id, uscc): (paid_total_fen, paid_year_fen)}`` from the ledger — the ``paid`` input of
    :func:`shengxin.policies.matching.run_match` and ``rematch`` (policy caps take what was already
    paid into account); ``uscc`` limits it to one enterprise."""
    year = year or dt.date.today().year
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    k, a, at = PayoutLedgerEntry.kind, PayoutLedgerEntry.amount_fen, PayoutLedgerEntry.at
    total = func.coalesce(func.sum(case((k == "pay", a), (k == "clawback", -a), else_=0)), 0)
    in_year = func.coalesce(func.sum(case(((at >= start) & (at < end) & (k == "pay"), a),
                                          ((at >= start) & (at < end) & (k == "clawback"), -a), else_=0)), 0)
    rows = session.execute(select(PayoutLedgerEntry.policy_id, PayoutLedgerEntry.uscc, total, in_year)
                           .where(k.in_(("pay", "clawback")),
                                  PayoutLedgerEntry.uscc == uscc if uscc is not None else true())
                           .group_by(PayoutLedgerEntry.policy_id, PayoutLedgerEntry.uscc))
    return {(p, u): (int(t), int(y)) for p, u, t, y in rows if t or y}


# ----------------------------------------------------------------------------- verify


@dataclass
class VerifyReport:
    ok: bool
    ledger_entries: int
    events: int
    first_broken: dict | None
    budget_mismatches: list[dict]
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _naive(at) -> dt.datetime:
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    return at


def verify(session: Session, *, progress=None, chunk: int = 50_000) -> VerifyReport:
    """Walk both chains from the genesis: every ``prev_hash`` must be the previous ``hash``, every hash
    must match the row's content, seqs must be consecutive, each entry's running committed total must
    follow from the earlier entries, and the heads and budget rows must agree with the ledger."""
    import time

    started = time.perf_counter()
    conn = session.connection()
    broken: dict | None = None
    prev, expect, n = GENESIS, 1, 0
    running: dict[str, int] = defaultdict(int)
    paid: dict[str, int] = defaultdict(int)
    cols = ("seq, at, kind, policy_id, round_id, item_id, uscc, amount_fen, committed_after_fen, budget_fen, "
            "idempotency_key, actor, prev_hash, hash")
    result = conn.exec_driver_sql(f"SELECT {cols} FROM payout_ledger ORDER BY seq",
                                  execution_options={"stream_results": True, "yield_per": chunk})
    sha = hashlib.sha256
    for part in result.partitions(chunk):
        if broken is None:
            for (seq, at, kind, pol, rnd, item, uscc, amount, after, budget, key, actor, prev_hash, h) in part:
                if seq != expect:
                    broken = {"chain": "ledger", "seq": seq, "reason": f"序号不连续：应为 {expect}"}
                    break
                if prev_hash != prev:
                    broken = {"chain": "ledger", "seq": seq, "reason": "prev_hash 与上一条的 hash 不一致"}
                    break
                canon = SEP.join((str(seq), _ts(_naive(at)), kind, pol, str(rnd), str(item), uscc, str(amount),
                                  str(after), "" if budget is None else str(budget), key, actor))
                if sha(f"{prev}\x1e{canon}".encode()).hexdigest() != h:
                    broken = {"chain": "ledger", "seq": seq, "reason": "内容与 hash 不符（条目被改动）"}
                    break
                if kind == "commit":
                    running[pol] += amount
                elif kind == "release":
                    running[pol] -= amount
                elif kind == "clawback":
                    running[pol] -= amount
                    paid[pol] -= amount
                elif kind == "pay":
                    paid[pol] += amount
                if running[pol] != after:
                    broken = {"chain": "ledger", "seq": seq,
                              "reason": f"累计承诺额 {after} 与此前条目之和 {running[pol]} 不符"}
                    break
                prev = h
                expect += 1
                n += 1
        if progress is not None:
            progress(len(part))
    result.close()
    head = session.execute(select(PayoutChainHead).where(PayoutChainHead.name == HEAD)).scalar_one()
    if broken is None and (head.ledger_seq != n or head.ledger_hash != prev):
        broken = {"chain": "ledger", "seq": n + 1 if head.ledger_seq > n else n,
                  "reason": f"链头（{head.ledger_seq}）与最后一条（{n}）不一致：条目缺失或被删除"}
    ev_broken, events = _verify_events(conn, head, chunk, progress)
    broken = broken or ev_broken
    mismatches = []
    if broken is None:
        for b in session.execute(select(PayoutBudget)).scalars():
            if b.committed_fen != running.get(b.policy_id, 0) or b.paid_fen != paid.get(b.policy_id, 0):
                mismatches.append({"policy_id": b.policy_id, "committed_fen": b.committed_fen,
                                   "ledger_committed_fen": running.get(b.policy_id, 0), "paid_fen": b.paid_fen,
                                   "ledger_paid_fen": paid.get(b.policy_id, 0)})
    return VerifyReport(broken is None and not mismatches, n, events, broken, mismatches,
                        round(time.perf_counter() - started, 3))


def _verify_events(conn, head, chunk: int, progress) -> tuple[dict | None, int]:
    prev, expect, n = GENESIS, 1, 0
    result = conn.exec_driver_sql(
        "SELECT seq, at, object_type, object_id, action, from_status, to_status, actor, detail, prev_hash, hash "
        "FROM payout_events ORDER BY seq", execution_options={"stream_results": True, "yield_per": chunk})
    broken = None
    for part in result.partitions(chunk):
        if broken is None:
            for seq, at, ot, oid, action, fs, ts, actor, detail, prev_hash, h in part:
                if seq != expect or prev_hash != prev:
                    broken = {"chain": "events", "seq": seq, "reason": "序号或 prev_hash 不连续"}
                    break
                if link(prev, event_canonical(seq, _naive(at), ot, oid, action, fs, ts, actor, detail)) != h:
                    broken = {"chain": "events", "seq": seq, "reason": "内容与 hash 不符（状态记录被改动）"}
                    break
                prev, expect, n = h, expect + 1, n + 1
        if progress is not None:
            progress(len(part))
    result.close()
    if broken is None and (head.events_seq != n or head.events_hash != prev):
        broken = {"chain": "events", "seq": n, "reason": f"链头（{head.events_seq}）与最后一条（{n}）不一致"}
    return broken, n


def count_entries(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM payout_ledger")).scalar_one())
