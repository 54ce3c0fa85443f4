"""E-mail over SMTP, configured from the environment; the message key is its Message-ID."""

from __future__ import annotations

import smtplib
import ssl
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr

from engine.notices.inbox import Message
from engine.settings import Settings


def message_id(key: str) -> str:
    """The Message-ID that carries a notification's idempotency key."""
    return f"<{key.replace(':', '.')}@roadmap-engine>"


class SmtpSender:
    """Sends rendered notifications through the configured SMTP server."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SMTP_HOST is not set")
        self.settings = settings

    def __call__(self, message: Message) -> None:
        """Send one message; raise on any failure so the outbox retries it."""
        settings = self.settings
        # The legacy MIMEText/Header path: the modern EmailMessage folding drops the space
        # between two RFC 2047 encoded words in a long Cyrillic subject (CPython email bug).
        mail = MIMEText(message.body, "plain", "utf-8")
        name, address = parseaddr(settings.mail_from)
        mail["From"] = formataddr((str(Header(name, "utf-8")), address))
        mail["To"] = formataddr((str(Header(message.full_name, "utf-8")), message.email or ""))
        mail["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]  # typeshed types headers as str; email accepts Header
        mail["Message-ID"] = message_id(message.key)
        mail["X-Roadmap-Key"] = message.key
        timeout = settings.smtp_timeout
        host = settings.smtp_host or ""  # checked in __init__
        if settings.smtp_security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password or "")
            client.send_message(mail)
