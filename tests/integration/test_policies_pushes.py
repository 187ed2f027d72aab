"""Pushes: once per (enterprise, policy version), through a real SMTP server (aiosmtpd) and a real
HTTP receiver, with retries and backoff, and unsubscription (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from shengxin.audit.service import Actor
from shengxin.config import DEFAULT_DISTRICT_FILE, Settings
from shengxin.policies import pushes, service
from shengxin.policies.models import PolicyPush, PolicyPushDelivery
from shengxin.reference.district import load_district
from tests.conftest import TEST_SECRET, free_port
from tests.integration.test_policies_store import ADMIN, text

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)
A = "91330110T000000010"
B = "91330110T000000029"


class Receiver:
    """A real HTTP server on loopback that records webhook calls and answers with ``status``."""

    def __init__(self):
        self.calls: list[tuple[dict, bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def settings(tmp_path, smtp_server):
    controller, _ = smtp_server
    return Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET, notify_email_backend="smtp",
                    smtp_host="127.0.0.1", smtp_port=controller.port, notify_from="policy@example.gov.cn")


def _published(db_session):
    service.save(db_session, text(), ADMIN, DISTRICT)
    service.transition(db_session, "TEST-REV", "submit", ADMIN, DISTRICT)
    service.transition(db_session, "TEST-REV", "publish", ADMIN, DISTRICT)


def _rows(*usccs, version=2):
    return [{"uscc": u, "policy_id": "TEST-REV", "version": version, "amount_fen": 1_000_000} for u in usccs]


def test_once_per_enterprise_and_policy_version(db_session, settings, smtp_server, receiver):
    _published(db_session)
    pushes.subscribe(db_session, A, "boss@example.com", receiver.url, Actor("ent"))
    assert pushes.enqueue(db_session, "run-1", _rows(A, B)) == 2
    assert pushes.enqueue(db_session, "run-2", _rows(A, B)) == 0  # a later match: nothing new
    assert pushes.enqueue(db_session, "run-3", _rows(A, version=3)) == 1  # a new version is news again
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(PolicyPush)) == 3
    channels = db_session.execute(select(PolicyPushDelivery.channel, func.count())
                                  .group_by(PolicyPushDelivery.channel)).all()
    assert dict(channels) == {"email": 2, "webhook": 2}  # only the subscribed enterprise, per push
    report = pushes.deliver_due(db_session, settings)
    assert report.as_dict() == {"sent": 4, "failed": 0, "dead": 0, "skipped": 0}
    again = pushes.deliver_due(db_session, settings)
    assert again.sent == 0  # never twice
    _, box = smtp_server
    assert len(box.messages) == 2 and all(rcpt == ["boss@example.com"] for rcpt, _ in box.messages)
    subject = str(make_header(decode_header(box.messages[0][1]["Subject"])))
    assert "营业收入奖励" in subject
    assert len(receiver.calls) == 2
    headers, body = receiver.calls[0]
    secret = pushes.subscription(db_session, A).webhook_secret
    assert headers["X-Shengxin-Signature"] == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    payload = json.loads(body)
    assert payload["uscc"] == A and payload["policy_id"] == "TEST-REV" and payload["amount_fen"] == 1_000_000
    items, unread = pushes.inbox(db_session, A)
    assert unread == 2 and len(items) == 2
    pushes.mark_read(db_session, A, items[0].id)
    assert pushes.inbox(db_session, A)[1] == 1


def test_failures_are_retried_with_backoff_then_given_up(db_session, settings, receiver):
    _published(db_session)
    pushes.subscribe(db_session, A, "", receiver.url, Actor("ent"))
    pushes.enqueue(db_session, "run-1", _rows(A))
    db_session.commit()
    receiver.status = 503
    t0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert pushes.deliver_due(db_session, settings, now=t0).failed == 1
    d = db_session.scalars(select(PolicyPushDelivery)).one()
    assert d.attempts == 1 and "503" in d.last_error
    next_at = d.next_attempt_at if d.next_attempt_at.tzinfo else d.next_attempt_at.replace(tzinfo=dt.UTC)
    assert next_at == t0 + dt.timedelta(minutes=1)
    assert pushes.deliver_due(db_session, settings, now=t0 + dt.timedelta(seconds=30)).failed == 0  # not yet due
    now = t0
    for attempt in range(2, pushes.MAX_ATTEMPTS + 1):
        now = now + pushes.backoff(attempt - 1)
        report = pushes.deliver_due(db_session, settings, now=now)
        assert report.failed + report.dead == 1
    db_session.refresh(d)
    assert d.status == "dead" and d.attempts == pushes.MAX_ATTEMPTS
    assert len(receiver.calls) == pushes.MAX_ATTEMPTS
    receiver.status = 200
    assert pushes.deliver_due(db_session, settings, now=now + dt.timedelta(days=1)).sent == 0


def test_recovered_receiver_gets_the_retry(db_session, settings, receiver):
    _published(db_session)
    pushes.subscribe(db_session, A, "", receiver.url, Actor("ent"))
    pushes.enqueue(db_session, "run-1", _rows(A))
    db_session.commit()
    receiver.status = 500
    t0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    pushes.deliver_due(db_session, settings, now=t0)
    receiver.status = 200
    assert pushes.deliver_due(db_session, settings, now=t0 + dt.timedelta(minutes=1)).sent == 1
    assert len(receiver.calls) == 2


def test_a_claimed_delivery_is_not_sent_by_a_second_sender(db_session, settings, receiver):
    _published(db_session)
    pushes.subscribe(db_session, A, "", receiver.url, Actor("ent"))
    pushes.enqueue(db_session, "run-1", _rows(A))
    db_session.commit()
    d = db_session.scalars(select(PolicyPushDelivery)).one()
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert pushes._claim(db_session, d.id, now) is True
    assert pushes._claim(db_session, d.id, now) is False  # already sending
    db_session.commit()
    assert pushes.deliver_due(db_session, settings, now=now + dt.timedelta(minutes=1)).sent == 0
    # a claim older than the lease (a crashed sender) is taken over
    assert pushes.deliver_due(db_session, settings, now=now + pushes.LEASE + dt.timedelta(seconds=1)).sent == 1


def test_unsubscribe_stops_email_and_webhook(db_session, settings, smtp_server, receiver):
    _published(db_session)
    pushes.subscribe(db_session, A, "boss@example.com", receiver.url, Actor("ent"))
    pushes.enqueue(db_session, "run-1", _rows(A))
    pushes.unsubscribe(db_session, A, Actor("ent"))
    db_session.commit()
    assert pushes.deliver_due(db_session, settings).sent == 0
    assert smtp_server[1].messages == [] and receiver.calls == []
    assert {d.status for d in db_session.scalars(select(PolicyPushDelivery))} == {"skipped"}
    assert pushes.enqueue(db_session, "run-2", _rows(A, version=3)) == 1
    assert db_session.scalar(select(func.count()).select_from(PolicyPushDelivery)) == 2  # no new deliveries
    assert len(pushes.inbox(db_session, A)[0]) == 2  # the inbox still shows the notices
    pushes.subscribe(db_session, A, "boss@example.com", "", Actor("ent"))
    assert pushes.subscription(db_session, A).subscribed


def test_bad_subscription_input_is_refused(db_session):
    from shengxin.errors import InvalidInput

    with pytest.raises(InvalidInput, match="电子邮件"):
        pushes.subscribe(db_session, A, "not-an-address", "", Actor("ent"))
    with pytest.raises(InvalidInput, match="http"):
        pushes.subscribe(db_session, A, "", "ftp://x", Actor("ent"))
