"""Coordinators arrange the work: who takes part, who curates, who does what, and when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session

from engine.accounts.access import (
    Actor,
    Power,
    may,
    may_curate,
    require_coordinator,
    require_reach,
)
from engine.accounts.audit import log_change
from engine.deadlines.parser import Schedule
from engine.errors import ConflictError, NotFoundError, ValidationError, required_remark
from engine.importing.apply import due_dates
from engine.importing.parties import School, resolve_assignees
from engine.importing.structure import split_parties
from engine.lifecycle.definition import Event, Phase, SubjectKind, WorkflowRegistry
from engine.lifecycle.fire import log_event
from engine.models import (
    Activity,
    CuratorAssignment,
    Occurrence,
    Organization,
    OrganizationKind,
    Roadmap,
    RoadmapParticipant,
    User,
    utcnow,
)
from engine.work.roadmaps import add_occurrences


def _school(session: Session, school_id: int) -> Organization:
    school = session.get(Organization, school_id)
    if school is None or school.kind != OrganizationKind.SCHOOL:
        raise NotFoundError(f"school {school_id} does not exist")
    return school


def _may_assign(session: Session, actor: Actor, school_id: int) -> None:
    """The school's coordinators arrange its curators; the admin administers everyone's."""
    if not may(actor, Power.ADMINISTER):
        require_coordinator(session, actor, school_id, f"school {school_id}")


def assign_curator(session: Session, actor: Actor, curator_id: int, school_id: int) -> None:
    """Make a curator responsible for a school (as the order names them); logged. A
    municipal coordinator may curate schools of their own municipality."""
    school = _school(session, school_id)
    _may_assign(session, actor, school_id)
    curator = session.get(User, curator_id)
    if (
        curator is None
        or not curator.is_active
        or not may_curate(curator.role, curator.organization_id, school.parent_id)
    ):
        raise NotFoundError(f"curator {curator_id} of school {school_id} does not exist")
    if session.get(CuratorAssignment, (curator_id, school_id)) is None:
        session.add(CuratorAssignment(curator_id=curator_id, school_id=school_id))
        log_change(session, actor.login, curator, "assigned", None, {"schools": [school_id]})
        session.flush()


def unassign_curator(session: Session, actor: Actor, curator_id: int, school_id: int) -> None:
    """Take a school away from a curator; logged."""
    _may_assign(session, actor, school_id)
    gone = session.execute(
        delete(CuratorAssignment).where(
            CuratorAssignment.curator_id == curator_id, CuratorAssignment.school_id == school_id
        )
    ).rowcount
    curator = session.get(User, curator_id)
    if gone and curator is not None:
        log_change(session, actor.login, curator, "unassigned", {"schools": [school_id]}, None)


def add_participant(
    session: Session, registry: WorkflowRegistry, actor: Actor, roadmap_id: int, school_id: int
) -> int:
    """A school joins a roadmap: it gets the school-level occurrences; return how many."""
    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    school = _school(session, school_id)
    require_coordinator(session, actor, roadmap.owner_id, f"roadmap {roadmap_id}")
    require_reach(session, actor, school_id, f"school {school_id}")
    if session.get(RoadmapParticipant, (roadmap_id, school_id)) is not None:
        raise ValidationError(
            f"{school.name} already takes part in this roadmap", reason="already_participant"
        )
    session.add(RoadmapParticipant(roadmap_id=roadmap_id, school_id=school_id))
    lifecycle = registry.for_subject(SubjectKind.OCCURRENCE)
    added = 0
    for activity in session.execute(
        select(Activity).where(Activity.roadmap_id == roadmap_id)
    ).scalars():
        assignees, _ = resolve_assignees(
            split_parties(activity.responsible_text),
            [School(school.id, school.name)],
            roadmap.owner_id,
        )
        if school.id not in assignees or activity.schedule is None:
            continue
        dates, scheduled = due_dates(Schedule.from_dict(activity.schedule))
        added += add_occurrences(
            session,
            lifecycle,
            activity.id,
            [school.id],
            dates if scheduled else [None],
            scheduled=scheduled,
        )
    return added


def _guarded_update(session: Session, occurrence: Occurrence, **values: object) -> None:
    changed = session.execute(
        update(Occurrence)
        .where(Occurrence.id == occurrence.id, Occurrence.version == occurrence.version)
        .values(version=Occurrence.version + 1, updated_at=utcnow(), **values)
    )
    if changed.rowcount != 1:
        raise ConflictError(f"occurrence {occurrence.id} was changed by someone else")


def _slot_free(
    session: Session, occurrence: Occurrence, assignee_id: int, due_on: date | None
) -> None:
    if due_on is None:
        return
    taken = session.execute(
        select(Occurrence.id).where(
            Occurrence.activity_id == occurrence.activity_id,
            Occurrence.assignee_id == assignee_id,
            Occurrence.due_on == due_on,
            Occurrence.id != occurrence.id,
        )
    ).first()
    if taken is not None:
        raise ValidationError(
            f"occurrence {taken.id} of the same activity is already due {due_on:%d.%m.%Y}",
            reason="date_taken",
        )


def date_occurrence(
    session: Session, actor: Actor, occurrence_id: int, due_on: date, now: datetime | None = None
) -> None:
    """Give an on-demand occurrence its due date; logged; a re-import leaves it alone."""
    occurrence = session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise NotFoundError(f"occurrence {occurrence_id} does not exist")
    require_coordinator(session, actor, occurrence.assignee_id, f"occurrence {occurrence_id}")
    if occurrence.scheduled:
        raise ValidationError(
            "this occurrence follows the roadmap's schedule; extend it instead",
            reason="scheduled_work",
        )
    _slot_free(session, occurrence, occurrence.assignee_id, due_on)
    was = f"{occurrence.due_on:%d.%m.%Y}" if occurrence.due_on else "без срока"
    _guarded_update(
        session,
        occurrence,
        due_on=due_on,
        due_revision=Occurrence.due_revision + 1,
        escalation_level=0,
        escalation_held=False,
    )
    log_event(
        session, occurrence, Event.DATE, actor, f"срок {was} → {due_on:%d.%m.%Y}", now or utcnow()
    )


def _municipality_of(organization: Organization | None) -> int | None:
    if organization is None:
        return None
    if organization.kind == OrganizationKind.MUNICIPALITY:
        return organization.id
    return organization.parent_id


def reassign(
    session: Session,
    registry: WorkflowRegistry,
    actor: Actor,
    occurrence_id: int,
    assignee_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Hand an occurrence to another school or the municipality, with a reason; logged."""
    reason = required_remark(
        reason, "reassigning requires a reason", name="reason", reason="reason_required"
    )
    occurrence = session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise NotFoundError(f"occurrence {occurrence_id} does not exist")
    require_coordinator(session, actor, occurrence.assignee_id, f"occurrence {occurrence_id}")
    target = session.get(Organization, assignee_id)
    if target is None or target.kind == OrganizationKind.REGION:
        raise NotFoundError(f"organization {assignee_id} cannot take work")
    require_reach(session, actor, assignee_id, target.name)
    if assignee_id == occurrence.assignee_id:
        raise ValidationError("the occurrence is assigned there already", reason="same_assignee")
    was = session.get(Organization, occurrence.assignee_id)
    if _municipality_of(target) != _municipality_of(was):
        raise ValidationError(
            f"{target.name} is not of the municipality whose roadmap this is",
            reason="other_municipality",
        )
    open_states = registry.states_in(SubjectKind.OCCURRENCE, Phase.OPEN)
    if occurrence.state not in open_states:
        raise ValidationError("only unfinished work can be reassigned", reason="finished_work")
    _slot_free(session, occurrence, assignee_id, occurrence.due_on)
    # a new assignee starts a new escalation cycle: they are reminded and escalated afresh
    _guarded_update(
        session,
        occurrence,
        assignee_id=assignee_id,
        escalation_level=0,
        escalation_held=False,
        due_revision=Occurrence.due_revision + 1,
    )
    log_event(
        session,
        occurrence,
        Event.REASSIGN,
        actor,
        f"{was.name if was else '?'} → {target.name}: {reason}",
        now or utcnow(),
    )
