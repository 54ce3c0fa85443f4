"""The administrative log: who created, changed, deactivated, assigned, handed over or
invited whom, with the values before and after. Append-only, like the transition log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session

from engine.models import AdminLog, Organization, User, utcnow


def log_change(
    session: Session,
    actor_login: str,
    subject: Organization | User,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Add one log row about `subject` (flushed, so it has an id) in the caller's transaction."""
    kind = "user" if isinstance(subject, User) else "organization"
    session.add(
        AdminLog(
            at=utcnow(),
            actor_login=actor_login,
            subject=kind,
            subject_id=subject.id,
            action=action,
            before=before,
            after=after,
        )
    )


def log_changes(
    session: Session, actor_login: str, subject: str, rows: list[tuple[int, str, Any, Any]]
) -> None:
    """Many log rows at once, (subject_id, action, before, after) each: one executemany."""
    if rows:
        now = utcnow()
        session.execute(
            insert(AdminLog),
            [
                {
                    "at": now,
                    "actor_login": actor_login,
                    "subject": subject,
                    "subject_id": i,
                    "action": action,
                    "before": before,
                    "after": after,
                }  # fmt: skip
                for i, action, before, after in rows
            ],
        )


def changes_of(session: Session, subject: str, subject_id: int, limit: int = 100) -> list[AdminLog]:
    """The newest log rows about one person or organization."""
    return list(
        session.execute(
            select(AdminLog)
            .where(AdminLog.subject == subject, AdminLog.subject_id == subject_id)
            .order_by(AdminLog.id.desc())
            .limit(limit)
        ).scalars()
    )
