"""Read models shared by the CLI and the pages: histories and looking schools up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from engine.accounts.access import Actor, require_reach
from engine.errors import NotFoundError, ValidationError
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import load_subject
from engine.lifecycle.statements import LINK_COLUMN
from engine.models import Organization, TransitionLog, User


@dataclass(frozen=True)
class HistoryEntry:
    """One transition of a subject, as people read it."""

    at: datetime
    actor_login: str
    actor_name: str
    trigger: str
    from_state: str
    to_state: str
    comment: str | None


def history(
    session: Session, actor: Actor, kind: SubjectKind, subject_id: int
) -> list[HistoryEntry]:
    """Every transition of one subject visible to `actor`, oldest first."""
    ref = load_subject(session, kind, subject_id)
    require_reach(session, actor, ref.owner_id, f"{kind} {subject_id}")
    link = getattr(TransitionLog, LINK_COLUMN[kind])
    rows = session.execute(
        select(
            TransitionLog.at,
            User.login,
            User.full_name,
            TransitionLog.trigger,
            TransitionLog.from_state,
            TransitionLog.to_state,
            TransitionLog.comment,
        )
        .join(User, User.id == TransitionLog.actor_id)
        .where(link == subject_id)
        .order_by(TransitionLog.id)
    )
    return [HistoryEntry(*row) for row in rows]


def find_school(session: Session, text: str) -> int:
    """The id of the school named by id or by a unique fragment of its name."""
    base = select(Organization.id, Organization.name).where(Organization.kind == "school")
    if text.isdigit():
        found = session.execute(base.where(Organization.id == int(text))).all()
    else:
        found = session.execute(base.where(Organization.name.ilike(f"%{text}%"))).all()
    if not found:
        raise NotFoundError(f"no school matches '{text}'")
    if len(found) > 1:
        names = "; ".join(row.name for row in found[:5])
        raise ValidationError(f"'{text}' matches {len(found)} schools ({names}); be more precise")
    return found[0].id
