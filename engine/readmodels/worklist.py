"""The list of occurrences people work from («Мои задачи», a school's page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, can_reach, scope_clause
from engine.app import App
from engine.errors import NotFoundError, ValidationError
from engine.lifecycle.definition import Phase
from engine.models import (
    Activity,
    Occurrence,
    Organization,
    OrganizationKind,
    Roadmap,
    Section,
)
from engine.readmodels.common import MAX_PAGE_SIZE, Page, in_phase, overdue_clause


@dataclass(frozen=True)
class TaskRow:
    """One line of a school's task list."""

    id: int
    number: str
    title: str
    section: str | None
    roadmap: str
    school: str
    due_on: date | None
    state: str
    escalation_level: int
    overdue: bool


@dataclass(frozen=True)
class WorkFilter:
    """What a list or the dashboard is narrowed to: a roadmap, due dates, a municipality,
    a phase, only what is not cancelled."""

    roadmap_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    municipality_id: int | None = None
    phase: Phase | None = None
    active_only: bool = False


def work_clauses(app: App, narrow: WorkFilter) -> list[Any]:
    """The WHERE clauses of `narrow`, on Occurrence joined with Activity."""
    where = place_and_time(narrow)
    if narrow.phase is not None:
        where.append(in_phase(app, narrow.phase))
    if narrow.active_only:
        where.append(~in_phase(app, Phase.CANCELLED))
    return where


def place_and_time(narrow: WorkFilter) -> list[Any]:
    """The roadmap, due dates and municipality of `narrow`, on Occurrence joined with Activity.
    A municipality's work is its own and its schools' (as the tally counts it)."""
    where: list[Any] = []
    if narrow.roadmap_id is not None:
        where.append(Activity.roadmap_id == narrow.roadmap_id)
    if narrow.due_from is not None:
        where.append(Occurrence.due_on >= narrow.due_from)
    if narrow.due_to is not None:
        where.append(Occurrence.due_on <= narrow.due_to)
    if narrow.municipality_id is not None:
        schools = select(Organization.id).where(
            Organization.parent_id == narrow.municipality_id,
            Organization.kind == OrganizationKind.SCHOOL,
        )
        where.append(
            or_(
                Occurrence.assignee_id == narrow.municipality_id,
                Occurrence.assignee_id.in_(schools),
            )
        )
    return where


def task_list(
    app: App,
    session: Session,
    actor: Actor,
    today: date,
    *,
    school_id: int | None = None,
    state: str | None = None,
    section_id: int | None = None,
    overdue_only: bool = False,
    narrow: WorkFilter | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[Page, int]:
    """Occurrences visible to `actor` by due date, and how many of them are overdue."""
    if not 0 < per_page <= MAX_PAGE_SIZE:
        raise ValidationError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    school = aliased(Organization)
    where = [
        scope_clause(actor, Occurrence.assignee_id),
        *work_clauses(app, narrow or WorkFilter()),
    ]
    if school_id is not None:
        where.append(Occurrence.assignee_id == school_id)
    if state:
        where.append(Occurrence.state == state)
    if section_id is not None:
        where.append(Activity.section_id == section_id)
    if overdue_only:
        where.append(overdue_clause(app, today))
    base = select(Occurrence.id).join(Activity, Activity.id == Occurrence.activity_id).where(*where)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    overdue = session.execute(
        select(func.count()).select_from(base.where(overdue_clause(app, today)).subquery())
    ).scalar_one()
    rows = session.execute(
        select(
            Occurrence.id,
            Activity.number,
            Activity.title,
            Section.title,
            Roadmap.title,
            school.name,
            Occurrence.due_on,
            Occurrence.state,
            Occurrence.escalation_level,
            overdue_clause(app, today),
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(Roadmap, Roadmap.id == Activity.roadmap_id)
        .outerjoin(Section, Section.id == Activity.section_id)
        .join(school, school.id == Occurrence.assignee_id)
        .where(*where)
        .order_by(Occurrence.due_on.is_(None), Occurrence.due_on, Occurrence.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page([TaskRow(*row) for row in rows], total, page, per_page), overdue


def sections_for(session: Session, actor: Actor) -> list[tuple[int, str | None, str]]:
    """Sections of the roadmaps the actor takes part in or oversees, for the task filter."""
    from engine.models import RoadmapParticipant

    mine = select(RoadmapParticipant.roadmap_id).where(
        scope_clause(actor, RoadmapParticipant.school_id)
    )
    owned = select(Roadmap.id).where(scope_clause(actor, Roadmap.owner_id))
    return [
        tuple(r)
        for r in session.execute(
            select(Section.id, Section.number, Section.title)
            .where(or_(Section.roadmap_id.in_(mine), Section.roadmap_id.in_(owned)))
            .order_by(Section.roadmap_id, Section.position)
            .limit(300)
        )
    ]


def school_for(session: Session, actor: Actor, school_id: int) -> Organization:
    """A school the actor reaches; any other id is NotFoundError, as if it did not exist."""
    school = session.get(Organization, school_id)
    if (
        school is None
        or school.kind != OrganizationKind.SCHOOL
        or not can_reach(session, actor, school_id)
    ):
        raise NotFoundError(f"school {school_id} does not exist")
    return school
