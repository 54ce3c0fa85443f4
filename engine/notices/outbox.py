"""The e-mail outbox: unsent notifications are sent after commit, each marked once sent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlmodel import Session

from engine.db import unit_of_work
from engine.lifecycle.definition import WorkflowRegistry
from engine.models import Notification, User, utcnow
from engine.notices.inbox import Message, render

log = logging.getLogger(__name__)

Send = Callable[[Message], None]
MAX_ATTEMPTS = 5


def _pending() -> Any:
    return (
        select(Notification.id)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.emailed_at.is_(None),
            Notification.email_attempts < MAX_ATTEMPTS,
            User.email.is_not(None),
            User.email != "",
        )
    )


def pending_count(session: Session) -> int:
    """How many e-mails wait in the outbox."""
    return session.execute(select(func.count()).select_from(_pending().subquery())).scalar_one()


def deliver_pending(
    engine: Engine,
    registry: WorkflowRegistry,
    send: Send,
    *,
    base_url: str,
    limit: int = 500,
    now: Callable[[], datetime] = utcnow,
) -> int:
    """Send up to `limit` waiting e-mails, one transaction each; return how many were sent.

    Each message is claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL), so senders running
    at once never take the same one; it is marked sent in the transaction that sent it. A
    crash after the SMTP server accepted it and before the mark commits sends it again,
    with the same Message-ID, so the receiver can drop the repeat. A failed send counts an
    attempt and stays for the next run, up to MAX_ATTEMPTS.
    """
    sent = 0
    failed: list[int] = []  # tried once in this run already: left for the next run
    for _ in range(limit):
        with unit_of_work(engine) as session:
            query = _pending().order_by(Notification.id).limit(1)
            if failed:
                query = query.where(Notification.id.not_in(failed))
            claimed = session.execute(
                query.with_for_update(skip_locked=True, of=Notification)
            ).scalar()
            if claimed is None:
                break
            message = render(session, registry, [claimed], base_url)[0]
            try:
                send(message)
            except Exception as error:  # noqa: BLE001 - any transport failure is retried
                log.warning("e-mail %s to %s failed: %s", message.key, message.email, error)
                session.execute(
                    update(Notification)
                    .where(Notification.id == claimed)
                    .values(
                        email_attempts=Notification.email_attempts + 1,
                        email_error=str(error)[:500],
                    )
                )
                failed.append(claimed)
                continue
            session.execute(
                update(Notification)
                .where(Notification.id == claimed)
                .values(
                    emailed_at=now(),
                    email_attempts=Notification.email_attempts + 1,
                    email_error=None,
                )
            )
            sent += 1
    return sent
