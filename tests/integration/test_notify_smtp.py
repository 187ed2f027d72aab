"""Notification delivery through a real SMTP server (aiosmtpd on loopback) and the outbox rules."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals import service as svc
from shengxin.appeals.service import AppealCreate
from shengxin.appeals.sweep import sweep
from shengxin.audit.service import Actor
from shengxin.config import Settings
from shengxin.enterprises.uscc import make_code
from shengxin.notify.models import Notification
from shengxin.notify.senders import MemorySender, NullSender, SmtpSender, sender_from_settings
from shengxin.notify.service import deliver_pending, enqueue
from shengxin.reference.district import load_district
from shengxin.workdays.calendar import TZ
from tests.conftest import TEST_SECRET, free_port

@pytest.fixture
def settings(tmp_path, smtp_server):
    units = tmp_path / "units.yaml"
    units.write_text("jxj: [jxj-desk@example.gov.cn]\n'330110005': wuchang@example.gov.cn\n", encoding="utf-8")
    controller, _ = smtp_server
    return Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET, notify_email_backend="smtp",
                    smtp_host="127.0.0.1", smtp_port=controller.port, notify_from="shengxin@example.gov.cn",
                    notify_unit_emails_file=units, notify_district_emails="desk@example.gov.cn, lead@example.gov.cn")


def subject_of(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def test_smtp_sender_delivers_utf8_mail(db_session, settings, smtp_server):
    _, handler = smtp_server
    enqueue(db_session, settings, kind="test", unit_code="jxj", subject="【新交办诉求】SQ2025000001 用电问题",
            body="请在 1 个工作日内签收。", dedupe_key="t:1")
    assert enqueue(db_session, settings, kind="test", unit_code="jxj", subject="again", body="x",
                   dedupe_key="t:1") is None  # written once
    sender = sender_from_settings(settings)
    assert isinstance(sender, SmtpSender)
    report = deliver_pending(db_session, sender)
    assert report.as_dict() == {"sent": 1, "failed": 0, "skipped": 0}
    (rcpts, msg), = handler.messages
    assert rcpts == ["jxj-desk@example.gov.cn"]
    assert subject_of(msg) == "【新交办诉求】SQ2025000001 用电问题"
    assert msg.get_payload(decode=True).decode("utf-8").strip() == "请在 1 个工作日内签收。"
    row = db_session.scalar(select(Notification).where(Notification.dedupe_key == "t:1"))
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert deliver_pending(db_session, sender).sent == 0  # nothing left


def test_failed_delivery_is_kept_and_retried(db_session, settings, smtp_server):
    _, handler = smtp_server
    enqueue(db_session, settings, kind="test", unit_code="330110005", subject="s", body="b", dedupe_key="t:2")
    dead = SmtpSender("127.0.0.1", free_port(), "shengxin@example.gov.cn", timeout=2)
    report = deliver_pending(db_session, dead)
    assert report.failed == 1
    row = db_session.scalar(select(Notification).where(Notification.dedupe_key == "t:2"))
    assert row.status == "failed" and row.attempts == 1 and "ConnectionRefusedError" in row.last_error
    assert deliver_pending(db_session, sender_from_settings(settings)).sent == 1
    assert row.status == "sent" and handler.messages[0][0] == ["wuchang@example.gov.cn"]


def test_null_and_memory_senders(db_session, settings):
    enqueue(db_session, settings, kind="test", unit_code="sw", subject="no address", body="b", dedupe_key="t:3")
    enqueue(db_session, settings, kind="test", unit_code="jxj", subject="has address", body="b", dedupe_key="t:4")
    memory = MemorySender()
    report = deliver_pending(db_session, memory)
    assert report.as_dict() == {"sent": 1, "failed": 0, "skipped": 1}
    assert [e.subject for e in memory.sent] == ["has address"]
    enqueue(db_session, settings, kind="test", unit_code="jxj", subject="off", body="b", dedupe_key="t:5")
    assert deliver_pending(db_session, NullSender()).skipped == 1


def test_overdue_appeal_is_escalated_by_mail(db_session, settings, smtp_server):
    _, handler = smtp_server
    district = load_district(settings.district_file)
    start = dt.datetime(2025, 3, 10, 9, tzinfo=TZ)
    env = svc.make_env(db_session, settings, district, start)
    appeal = svc.submit_appeal(db_session, env, AppealCreate(
        description="企业新建厂房需要增容用电，申请已提交两个月仍无答复。", enterprise_name="杭州庚机械有限公司",
        uscc=make_code("9", "1", "330110", "MA6N3B5C7"), town_code="330110005"), Actor("t"), channel="portal")
    admin = Principal(1, "t_admin", "管理员", Role.ADMIN)
    for action, kw in (("accept", {"subcategory_code": "utilities.power"}), ("assign", {"lead_unit": "jxj"})):
        svc.perform(db_session, env, appeal.id, action, admin, svc.ActionInput(**kw))
    # Sign within 1 working day (Tue 11th); on Wed 12th the unit's clock is overdue.
    report = sweep(db_session, svc.make_env(db_session, settings, district, start + dt.timedelta(days=2)), Actor("t"))
    assert (report.overdue, report.escalated) == (1, 1)
    deliver_pending(db_session, sender_from_settings(settings))
    subjects = {subject_of(m): r for r, m in handler.messages}
    overdue = next(s for s in subjects if s.startswith("【已超期】"))
    escalation = next(s for s in subjects if s.startswith("【超期督办】"))
    assert appeal.code in escalation and "区经济和信息化局" in escalation
    assert subjects[overdue] == ["jxj-desk@example.gov.cn"]
    assert subjects[escalation] == ["desk@example.gov.cn", "lead@example.gov.cn"]
