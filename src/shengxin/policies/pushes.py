"""Pushes: an enterprise is told once per (enterprise, policy version) that it qualifies.

Channels: the in-app inbox (the push row itself), e-mail (SMTP, through the notify module's
senders) and a webhook (an HTTP POST of JSON signed with HMAC-SHA256 in ``X-Shengxin-Signature``).

Rules:

* "once" is enforced by the database: a unique key on (uscc, policy, version) for pushes and on
  (push, channel) for deliveries; writing the same push twice inserts nothing the second time;
* pushes and their deliveries are written in the transaction that records the match (a
  transactional outbox); sending happens afterwards (``shengxin policies deliver``);
* a delivery is *claimed* (pending → sending) by one conditional update, so two senders never send
  the same row; a failure is retried with exponential backoff (1, 2, 4 … minutes, at most
  :data:`MAX_ATTEMPTS` attempts, then ``dead``); a claim older than :data:`LEASE` (a crashed
  sender) is retried too — delivery is at least once per attempt window, recorded per attempt;
* an enterprise that unsubscribed gets no e-mail or webhook (its inbox still shows the notice);
  unsubscribing marks its pending deliveries ``skipped``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

import httpx
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from shengxin.audit.service import Actor, record
from shengxin.config import Settings
from shengxin.db import utcnow
from shengxin.errors import InvalidInput, NotFound
from shengxin.notify.senders import DeliveryError, Email, sender_from_settings
from shengxin.policies.models import Policy, PolicyPush, PolicyPushDelivery, PolicyPushSubscription
from shengxin.policies.text import money

MAX_ATTEMPTS = 6
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
LEASE = dt.timedelta(minutes=10)
CHUNK = 2000
DELIVERY_LABELS = {"no_application": "免申即享，无需申请，核定后直接拨付",
                   "instant_application": "即申即享，在线提交申请后即时核验",
                   "ordinary": "需按要求提交申请材料"}




def push_text(title: str, delivery: str, amount_fen: int | None) -> tuple[str, str]:
    subject = f"政策推送：您的企业符合《{title}》"
    amount = f"预计可获得 {money(amount_fen)}。" if amount_fen is not None else ""
    body = (f"您的企业符合《{title}》的全部条件。{amount}兑现方式：{DELIVERY_LABELS.get(delivery, delivery)}。\n"
            f"登录平台“我的政策”可查看每一项条件的核验依据；如不希望再收到邮件或网络推送，可在“我的政策 → 推送设置”中退订。")
    return subject, body


def _insert_ignore(session: Session, table, rows: list[dict]) -> None:
    """Insert rows, skipping those that clash with a unique key (the database decides)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    for start in range(0, len(rows), CHUNK):
        session.execute(dialect_insert(table).on_conflict_do_nothing(), rows[start:start + CHUNK])


def enqueue(session: Session, match_run: str, rows: list[dict]) -> int:
    """Write pushes for eligible rows (``uscc, policy_id, version, amount_fen``) and the deliveries
    of subscribed enterprises; returns how many pushes are new."""
    if not rows:
        return 0
    policies = {p.id: p for p in session.scalars(select(Policy).where(
        Policy.id.in_({r["policy_id"] for r in rows})))}
    before = session.scalar(select(func.count()).select_from(PolicyPush)) or 0
    now = utcnow()
    payload = []
    for r in rows:
        p = policies.get(r["policy_id"])
        if p is None:
            continue
        subject, body = push_text(p.title, p.delivery, r.get("amount_fen"))
        payload.append({"uscc": r["uscc"], "policy_id": r["policy_id"], "version": r["version"], "status": "eligible",
                        "amount_fen": r.get("amount_fen"), "title": subject, "body": body, "match_run": match_run,
                        "created_at": now})
    _insert_ignore(session, PolicyPush.__table__, payload)
    session.flush()
    created = (session.scalar(select(func.count()).select_from(PolicyPush)) or 0) - before
    _enqueue_deliveries(session, match_run, now)
    return created


def _enqueue_deliveries(session: Session, match_run: str, now: dt.datetime) -> None:
    """One e-mail and/or webhook delivery per new push of a subscribed enterprise."""
    subs = {s.uscc: s for s in session.scalars(select(PolicyPushSubscription).where(
        PolicyPushSubscription.unsubscribed_at.is_(None)))}
    if not subs:
        return
    pushes = session.execute(select(PolicyPush.id, PolicyPush.uscc).where(
        PolicyPush.match_run == match_run, PolicyPush.uscc.in_(list(subs)))).all()
    rows = []
    for push_id, uscc in pushes:
        s = subs[uscc]
        for channel, target in (("email", s.email), ("webhook", s.webhook_url)):
            if target:
                rows.append({"push_id": push_id, "channel": channel, "target": target, "status": "pending",
                             "attempts": 0, "next_attempt_at": now})
    _insert_ignore(session, PolicyPushDelivery.__table__, rows)


def enqueue_from_snapshot(session: Session, analytic_dir, snap, policy_id: str | None = None) -> int:
    """Pushes for every eligible pair of a match snapshot (or of one policy in it); pairs already
    pushed stay untouched."""
    from shengxin.policies.matching import results_relation

    import duckdb

    con = duckdb.connect(":memory:")
    try:
        results_relation(con, snap)
        query = "SELECT uscc, policy_id, version, amount_fen FROM policy_results WHERE status = 'eligible'"
        if policy_id:
            table = con.execute(query + " AND policy_id = ?", [policy_id]).to_arrow_table()
        else:
            table = con.sql(query).to_arrow_table()
    finally:
        con.close()
    created = enqueue(session, snap.id, table.to_pylist())
    record(session, Actor("system:match"), "policy.push.enqueue", "match", snap.id, {"new_pushes": created})
    return created


# ----------------------------------------------------------------------------- delivering


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0

    def as_dict(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "dead": self.dead, "skipped": self.skipped}


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4 … minutes, at most :data:`BACKOFF_MAX`."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _claim(session: Session, delivery_id: int, now: dt.datetime) -> bool:
    """Pending/failed (or a stale claim) → sending, by one conditional update; True if we got it."""
    stale = now - LEASE
    result = session.execute(
        update(PolicyPushDelivery)
        .where(PolicyPushDelivery.id == delivery_id,
               or_(PolicyPushDelivery.status.in_(("pending", "failed")),
                   and_(PolicyPushDelivery.status == "sending", PolicyPushDelivery.claimed_at < stale)))
        .values(status="sending", claimed_at=now, attempts=PolicyPushDelivery.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def deliver_due(session: Session, settings: Settings, *, now: dt.datetime | None = None, limit: int = 200,
                email_sender=None, http: httpx.Client | None = None) -> DeliveryReport:
    """Send the deliveries that are due; each is committed separately (claim, then outcome)."""
    now = now or utcnow()
    sender = email_sender or sender_from_settings(settings)
    client = http or httpx.Client(timeout=10.0)
    report = DeliveryReport()
    stale = now - LEASE
    due = session.scalars(select(PolicyPushDelivery.id).where(
        or_(and_(PolicyPushDelivery.status.in_(("pending", "failed")), PolicyPushDelivery.next_attempt_at <= now),
            and_(PolicyPushDelivery.status == "sending", PolicyPushDelivery.claimed_at < stale)))
        .order_by(PolicyPushDelivery.id).limit(limit)).all()
    try:
        for delivery_id in due:
            if not _claim(session, delivery_id, now):
                session.rollback()
                continue
            session.commit()
            d = session.get(PolicyPushDelivery, delivery_id)
            session.refresh(d)
            push = session.get(PolicyPush, d.push_id)
            sub = session.get(PolicyPushSubscription, push.uscc)
            if sub is None or sub.unsubscribed_at is not None:
                d.status, d.last_error = "skipped", "enterprise unsubscribed"
                report.skipped += 1
                session.commit()
                continue
            try:
                if d.channel == "email":
                    if not getattr(sender, "delivers", True):
                        raise DeliveryError("e-mail delivery is off (SHENGXIN_NOTIFY_EMAIL_BACKEND=none)")
                    sender.send(Email((d.target,), push.title, push.body))
                else:
                    _post_webhook(client, d.target, sub.webhook_secret, push)
            except DeliveryError as exc:
                d.last_error = str(exc)[:2000]
                if d.attempts >= MAX_ATTEMPTS:
                    d.status = "dead"
                    report.dead += 1
                else:
                    d.status = "failed"
                    d.next_attempt_at = now + backoff(d.attempts)
                    report.failed += 1
            else:
                d.status, d.sent_at, d.last_error = "sent", now, None
                report.sent += 1
            session.commit()
    finally:
        if http is None:
            client.close()
    return report


def _post_webhook(client: httpx.Client, url: str, secret: str, push: PolicyPush) -> None:
    body = json.dumps({"event": "policy.eligible", "push_id": push.id, "uscc": push.uscc,
                       "policy_id": push.policy_id, "version": push.version, "amount_fen": push.amount_fen,
                       "title": push.title, "body": push.body}, ensure_ascii=False).encode("utf-8")
    try:
        response = client.post(url, content=body, headers={"Content-Type": "application/json; charset=utf-8",
                                                            "X-Shengxin-Signature": sign(secret, body),
                                                            "X-Shengxin-Delivery": str(push.id)})
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")


# ----------------------------------------------------------------------------- subscriptions and inbox


@dataclass(frozen=True)
class SubscriptionPublic:
    uscc: str
    email: str
    webhook_url: str
    webhook_secret: str
    subscribed: bool


def _public(s: PolicyPushSubscription | None, uscc: str) -> SubscriptionPublic:
    if s is None:
        return SubscriptionPublic(uscc, "", "", "", False)
    return SubscriptionPublic(s.uscc, s.email, s.webhook_url, s.webhook_secret, s.unsubscribed_at is None)


def subscription(session: Session, uscc: str) -> SubscriptionPublic:
    return _public(session.get(PolicyPushSubscription, uscc), uscc)


def _valid_email(email: str) -> bool:
    local, _, domain = email.partition("@")
    return bool(local) and "." in domain and " " not in email and len(email) <= 254


def subscribe(session: Session, uscc: str, email: str, webhook_url: str, actor: Actor) -> SubscriptionPublic:
    """Set where pushes go (an empty address turns that channel off) and (re)subscribe."""
    email, webhook_url = (email or "").strip(), (webhook_url or "").strip()
    if email and not _valid_email(email):
        raise InvalidInput(f"{email!r} 不是有效的电子邮件地址", where="email")
    if webhook_url and not webhook_url.startswith(("http://", "https://")):
        raise InvalidInput("网络推送地址应以 http:// 或 https:// 开头", where="webhook_url")
    if not email and not webhook_url:
        raise InvalidInput("请至少填写电子邮件或网络推送地址之一；不需要推送请点“退订”", where="email")
    s = session.get(PolicyPushSubscription, uscc)
    if s is None:
        s = PolicyPushSubscription(uscc=uscc, webhook_secret=secrets.token_hex(16))
        session.add(s)
    s.email, s.webhook_url, s.unsubscribed_at, s.updated_at = email, webhook_url, None, utcnow()
    record(session, actor, "policy.push.subscribe", "enterprise", uscc,
           {"email": bool(email), "webhook": bool(webhook_url)})
    session.flush()
    return _public(s, uscc)


def unsubscribe(session: Session, uscc: str, actor: Actor) -> SubscriptionPublic:
    s = session.get(PolicyPushSubscription, uscc)
    if s is None:
        raise NotFound("尚未设置推送，无需退订", where="uscc")
    s.unsubscribed_at = s.updated_at = utcnow()
    pending = select(PolicyPush.id).where(PolicyPush.uscc == uscc).scalar_subquery()
    session.execute(update(PolicyPushDelivery).where(PolicyPushDelivery.push_id.in_(pending),
                                                     PolicyPushDelivery.status.in_(("pending", "failed")))
                    .values(status="skipped", last_error="enterprise unsubscribed")
                    .execution_options(synchronize_session=False))
    record(session, actor, "policy.push.unsubscribe", "enterprise", uscc, None)
    session.flush()
    return _public(s, uscc)


@dataclass(frozen=True)
class InboxItem:
    id: int
    policy_id: str
    version: int
    title: str
    body: str
    amount_fen: int | None
    created_at: dt.datetime
    read: bool


def inbox(session: Session, uscc: str, limit: int = 50) -> tuple[list[InboxItem], int]:
    """The enterprise's pushes, newest first, and how many are unread."""
    rows = session.scalars(select(PolicyPush).where(PolicyPush.uscc == uscc)
                           .order_by(PolicyPush.id.desc()).limit(limit)).all()
    unread = session.scalar(select(func.count()).select_from(PolicyPush).where(
        PolicyPush.uscc == uscc, PolicyPush.read_at.is_(None))) or 0
    return [InboxItem(r.id, r.policy_id, r.version, r.title, r.body, r.amount_fen, r.created_at, r.read_at is not None)
            for r in rows], unread


def mark_read(session: Session, uscc: str, push_id: int) -> None:
    push = session.get(PolicyPush, push_id)
    if push is None or push.uscc != uscc:
        raise NotFound("没有这条推送", where="push_id")
    if push.read_at is None:
        push.read_at = utcnow()
    session.flush()


def delivery_counts(session: Session) -> dict[str, dict[str, int]]:
    rows = session.execute(select(PolicyPushDelivery.channel, PolicyPushDelivery.status, func.count())
                           .group_by(PolicyPushDelivery.channel, PolicyPushDelivery.status)).all()
    out: dict[str, dict[str, int]] = {}
    for channel, status, n in rows:
        out.setdefault(channel, {})[status] = n
    out["inbox"] = {"sent": session.scalar(select(func.count()).select_from(PolicyPush)) or 0}
    return out
