"""Transactional outbox: side effects are rows written with their cause, sent after commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlmodel import Session

from engine.db import unit_of_work
from engine.models import OutboxMessage, utcnow

Sender = Callable[[OutboxMessage], None]


def record(session: Session, *, key: str, topic: str, payload: dict[str, Any]) -> None:
    """Write a message in the caller's transaction; it exists only if that transaction commits."""
    session.execute(
        insert(OutboxMessage).values(key=key, topic=topic, payload=payload, created_at=utcnow())
    )


def deliver_pending(
    engine: Engine, send: Sender, *, limit: int = 100, now: datetime | None = None
) -> int:
    """Send up to `limit` unsent messages, oldest first, marking each sent; return the count.

    Rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent senders share
    the work; a crash before the sent mark commits means a later retry, and each message
    carries its unique key so the receiver can drop the duplicate.
    """
    sent = 0
    with unit_of_work(engine) as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
            .order_by(OutboxMessage.id)  # type: ignore[arg-type]
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for message in session.execute(query).scalars():
            send(message)
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(sent_at=now or utcnow(), attempts=OutboxMessage.attempts + 1)
            )
            sent += 1
    return sent
