"""E-mail senders: a real SMTP sender (smtplib), an in-memory one and a null one, chosen by settings.

Rule: ``notify_email_backend`` picks the sender — ``smtp`` delivers through the configured server,
``memory`` keeps messages in the process (tests, demos), ``none`` sends nothing (notifications stay
in the in-app outbox, marked skipped).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid

from shengxin.config import Settings


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    body: str


class DeliveryError(Exception):
    """A message could not be delivered (the reason is kept on the outbox row)."""


class NullSender:
    """Sends nothing; :attr:`delivers` is False so the outbox marks rows as skipped."""

    delivers = False

    def send(self, email: Email) -> None:
        return None


@dataclass
class MemorySender:
    """Keeps every message in :attr:`sent` (for tests and demos)."""

    sent: list[Email] = field(default_factory=list)
    delivers = True

    def send(self, email: Email) -> None:
        self.sent.append(email)


@dataclass
class SmtpSender:
    """Delivers through an SMTP server with smtplib (optional SMTPS, STARTTLS and login)."""

    host: str
    port: int
    from_addr: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 10.0
    delivers = True

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def send(self, email: Email) -> None:
        msg = MimeMessage()
        msg["From"] = self.from_addr
        msg["To"] = ", ".join(email.to)
        msg["Subject"] = email.subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=self.from_addr.rpartition("@")[2] or "localhost")
        msg.set_content(email.body, charset="utf-8")
        try:
            with self._connect() as smtp:
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            raise DeliveryError(f"recipients refused: {sorted(refused)}")


_MEMORY = MemorySender()


def sender_from_settings(settings: Settings):
    """The sender that the settings choose (the memory sender is one per process)."""
    backend = settings.notify_email_backend
    if backend == "smtp":
        return SmtpSender(settings.smtp_host, settings.smtp_port, settings.notify_from,
                          settings.smtp_username, settings.smtp_password, settings.smtp_starttls,
                          settings.smtp_ssl, settings.smtp_timeout_seconds)
    if backend == "memory":
        return _MEMORY
    return NullSender()
