"""Escalations are work for people: list them, acknowledge them, extend the deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, require_coordinator
from engine.errors import ConflictError, NotFoundError, ValidationError, required_remark
from engine.escalation.policy import PolicyBook
from engine.lifecycle.definition import Event, SubjectKind
from engine.lifecycle.fire import load_subject, log_event
from engine.lifecycle.kinds import SUBJECTS, kind_of, subject_id_of
from engine.models import (
    Activity,
    Escalation,
    EscalationKind,
    Occurrence,
    Organization,
    OrganizationKind,
    utcnow,
)

#: What an escalation is about, as the history says it.
ESCALATION_NAMES = {
    EscalationKind.REMINDER: "напоминание",
    EscalationKind.OVERDUE: "просрочка",
    EscalationKind.REVIEW: "срок проверки",
}


@dataclass(frozen=True)
class OpenEscalation:
    """An escalation nobody has acknowledged, whose occurrence is still not done."""

    id: int
    occurrence_id: int
    kind: str
    level: int
    due_on: date | None
    created_at: datetime
    school: str
    activity_number: str
    activity_title: str
    state: str


def open_escalations(
    session: Session,
    policies: PolicyBook,
    *,
    municipality_id: int | None = None,
    level: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[OpenEscalation]:
    """The current escalations of unfinished occurrences, oldest due first, one page."""
    policy = policies.for_subject(SubjectKind.OCCURRENCE)
    owner = aliased(Organization)
    is_current_overdue = and_(
        Escalation.kind == EscalationKind.OVERDUE,
        Escalation.level == Occurrence.escalation_level,
        Escalation.cycle == Occurrence.due_revision,
        Occurrence.state.in_(policy.open_states),
    )
    is_current_review = and_(
        Escalation.kind == EscalationKind.REVIEW,
        Escalation.cycle == Occurrence.version,
        Occurrence.state.in_(policy.review_states),
    )
    query = (
        select(
            Escalation.id,
            Occurrence.id,
            Escalation.kind,
            Escalation.level,
            Escalation.due_on,
            Escalation.created_at,
            owner.name,
            Activity.number,
            Activity.title,
            Occurrence.state,
        )
        .join(Occurrence, Occurrence.id == Escalation.occurrence_id)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(owner, owner.id == Occurrence.assignee_id)
        .where(Escalation.acknowledged_at.is_(None), or_(is_current_overdue, is_current_review))
        .order_by(Escalation.due_on, Escalation.id)
        .limit(limit)
        .offset(offset)
    )
    if level is not None:
        query = query.where(Escalation.level == level, Escalation.kind == EscalationKind.OVERDUE)
    if municipality_id is not None:
        query = query.where(or_(owner.id == municipality_id, owner.parent_id == municipality_id))
    return [OpenEscalation(*row) for row in session.execute(query)]


def acknowledge(
    session: Session, actor: Actor, escalation_id: int, comment: str, now: datetime | None = None
) -> None:
    """A coordinator takes an escalation in hand: logged, and no further level follows."""
    now = now or utcnow()
    comment = required_remark(
        comment,
        "acknowledging an escalation requires a comment",
        name="comment",
        reason="comment_required",
    )
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFoundError(f"escalation {escalation_id} does not exist")
    kind = kind_of(escalation)
    ref = load_subject(session, kind, subject_id_of(escalation))
    owner = ref.owner_id
    require_coordinator(session, actor, owner, f"{kind.value} {ref.id}")
    done = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=actor.id, ack_comment=comment)
    )
    if done.rowcount != 1:
        raise ConflictError(
            f"escalation {escalation_id} was acknowledged already", reason="already_acknowledged"
        )
    spec = SUBJECTS[kind]
    if escalation.kind == EscalationKind.OVERDUE and spec.ladder:
        session.execute(
            update(spec.table).where(spec.table.id == ref.id).values(escalation_held=True)
        )
    what = ESCALATION_NAMES.get(escalation.kind, escalation.kind)
    log_event(
        session,
        ref,
        Event.ACKNOWLEDGE,
        actor,
        f"{what}, уровень {escalation.level}: {comment}",
        now,
        kind=kind,
    )


def extend_deadline(
    session: Session,
    actor: Actor,
    occurrence_id: int,
    new_due_on: date,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Move an occurrence's due date, with a reason: logged, and escalation starts over."""
    now = now or utcnow()
    reason = required_remark(
        reason, "extending a deadline requires a reason", name="reason", reason="reason_required"
    )
    occurrence = session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise NotFoundError(f"occurrence {occurrence_id} does not exist")
    require_coordinator(session, actor, occurrence.assignee_id, f"occurrence {occurrence.id}")
    old = occurrence.due_on
    if old is not None and new_due_on <= old:
        raise ValidationError(
            f"the new date must be after the current one ({old:%d.%m.%Y})", reason="date_not_later"
        )
    taken = session.execute(
        select(Occurrence.id).where(
            Occurrence.activity_id == occurrence.activity_id,
            Occurrence.assignee_id == occurrence.assignee_id,
            Occurrence.due_on == new_due_on,
        )
    ).first()
    if taken is not None:
        raise ValidationError(
            f"occurrence {taken.id} of the same activity is already due {new_due_on:%d.%m.%Y}",
            reason="date_taken",
        )
    changed = session.execute(
        update(Occurrence)
        .where(Occurrence.id == occurrence_id, Occurrence.version == occurrence.version)
        .values(
            due_on=new_due_on,
            due_revision=Occurrence.due_revision + 1,
            escalation_level=0,
            escalation_held=False,
            version=Occurrence.version + 1,
            updated_at=now,
        )
    )
    if changed.rowcount != 1:
        raise ConflictError(f"occurrence {occurrence_id} was changed by someone else")
    was = f"{old:%d.%m.%Y}" if old else "без срока"
    log_event(
        session,
        occurrence,
        Event.EXTEND,
        actor,
        f"срок {was} → {new_due_on:%d.%m.%Y}: {reason}",
        now,
    )


def municipality_of(session: Session, name: str) -> int:
    """A municipality's id by part of its name."""
    found = (
        session.execute(
            select(Organization.id).where(
                Organization.kind == OrganizationKind.MUNICIPALITY,
                func.lower(Organization.name).contains(name.lower()),
            )
        )
        .scalars()
        .all()
    )
    if len(found) != 1:
        raise NotFoundError(f"no single municipality matches '{name}'")
    return found[0]
