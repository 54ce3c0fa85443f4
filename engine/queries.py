"""Read models: paginated, tenant-scoped lists and histories, each served by an index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from engine.access import Actor, require_reach, scope_clause
from engine.errors import NotFoundError, ValidationError
from engine.models import Activity, Occurrence, Organization, TransitionLog, User
from engine.workflow import LINK_COLUMN, SubjectKind, load_subject

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class OccurrenceRow:
    """One line of an occurrence list."""

    id: int
    activity_number: str
    activity_title: str
    assignee: str
    due_on: date | None
    state: str
    escalation_level: int


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


def list_occurrences(
    session: Session,
    actor: Actor,
    *,
    school_id: int | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[OccurrenceRow]:
    """Occurrences visible to `actor`, by due date (undated last), one page at a time."""
    if not 0 < limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    query = (
        select(
            Occurrence.id,
            Activity.number,
            Activity.title,
            Organization.name,
            Occurrence.due_on,
            Occurrence.state,
            Occurrence.escalation_level,
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(Organization, Organization.id == Occurrence.assignee_id)
        .where(scope_clause(actor, Occurrence.assignee_id))
        .order_by(Occurrence.due_on.is_(None), Occurrence.due_on, Occurrence.id)
        .limit(limit)
        .offset(offset)
    )
    if school_id is not None:
        query = query.where(Occurrence.assignee_id == school_id)
    if state is not None:
        query = query.where(Occurrence.state == state)
    return [OccurrenceRow(*row) for row in session.execute(query)]


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
