"""A roadmap as coordinators arrange it: participants, curators, undated work."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel import Session

from engine.accounts.access import Actor, require_reach, scope_clause
from engine.app import App
from engine.errors import NotFoundError
from engine.models import (
    Activity,
    ImportJob,
    Indicator,
    Occurrence,
    Organization,
    OrganizationKind,
    Roadmap,
    Section,
    User,
)
from engine.readmodels.common import open_clause


def roadmaps_of(session: Session, actor: Actor) -> list[Roadmap]:
    """Roadmaps owned inside the actor's territory."""
    return list(
        session.execute(
            select(Roadmap)
            .where(or_(scope_clause(actor, Roadmap.owner_id)))
            .order_by(Roadmap.id.desc())
        ).scalars()
    )


@dataclass(frozen=True)
class RoadmapAdmin:
    """What a coordinator arranges on a roadmap's page."""

    roadmap: Roadmap
    participants: list[tuple[int, str, list[tuple[int, str]]]]  # school, name, curators
    other_schools: list[tuple[int, str]]
    curators: list[tuple[int, str]]
    undated: list[tuple[int, str, str, str]]  # occurrence, number, title, assignee


def roadmap_admin(app: App, session: Session, actor: Actor, roadmap_id: int) -> RoadmapAdmin:
    """The roadmap's participants with their curators, and its undated (on-demand) work."""
    from engine.models import CuratorAssignment, RoadmapParticipant, Role

    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    require_reach(session, actor, roadmap.owner_id, f"roadmap {roadmap_id}")
    schools = session.execute(
        select(Organization.id, Organization.name)
        .join(RoadmapParticipant, RoadmapParticipant.school_id == Organization.id)
        .where(RoadmapParticipant.roadmap_id == roadmap_id)
        .order_by(Organization.name)
    ).all()
    curated: dict[int, list[tuple[int, str]]] = {}
    for school_id, curator_id, name in session.execute(
        select(CuratorAssignment.school_id, User.id, User.full_name)
        .join(User, User.id == CuratorAssignment.curator_id)
        .where(CuratorAssignment.school_id.in_([s.id for s in schools]))
    ):
        curated.setdefault(school_id, []).append((curator_id, name))
    taking_part = {s.id for s in schools}
    others = [
        (r.id, r.name)
        for r in session.execute(
            select(Organization.id, Organization.name)
            .where(
                Organization.kind == OrganizationKind.SCHOOL, scope_clause(actor, Organization.id)
            )
            .order_by(Organization.name)
        )
        if r.id not in taking_part
    ]
    curators = [
        tuple(r)
        for r in session.execute(
            select(User.id, User.full_name)
            .where(User.role == Role.CURATOR, User.is_active.is_(True))
            .order_by(User.full_name)
        )
    ]
    undated = [
        tuple(r)
        for r in session.execute(
            select(Occurrence.id, Activity.number, Activity.title, Organization.name)
            .join(Activity, Activity.id == Occurrence.activity_id)
            .join(Organization, Organization.id == Occurrence.assignee_id)
            .where(
                Activity.roadmap_id == roadmap_id,
                Occurrence.due_on.is_(None),
                open_clause(app),
                scope_clause(actor, Occurrence.assignee_id),
            )
            .order_by(Activity.position, Organization.name)
            .limit(500)
        )
    ]
    return RoadmapAdmin(
        roadmap, [(s.id, s.name, curated.get(s.id, [])) for s in schools], others, curators, undated
    )


def assignment_targets(
    session: Session, actor: Actor, assignees: Iterable[int]
) -> dict[int, list[tuple[int, str]]]:
    """For each of `assignees`, whom its work may be handed to: its municipality and that
    municipality's schools still in the directory, within the actor's territory."""
    wanted = set(assignees)
    if not wanted:
        return {}
    own = {
        row.id: row.id if row.kind == OrganizationKind.MUNICIPALITY else row.parent_id
        for row in session.execute(
            select(Organization.id, Organization.kind, Organization.parent_id).where(
                Organization.id.in_(wanted)
            )
        )
    }
    municipalities = {m for m in own.values() if m is not None}
    rows = session.execute(
        select(Organization.id, Organization.name, Organization.kind, Organization.parent_id)
        .where(
            or_(
                Organization.id.in_(municipalities),
                (Organization.parent_id.in_(municipalities))
                & (Organization.kind == OrganizationKind.SCHOOL),
            ),
            Organization.archived_at.is_(None),
            scope_clause(actor, Organization.id),
        )
        .order_by(Organization.kind, Organization.name)
    ).all()
    by_municipality: dict[int, list[tuple[int, str]]] = {m: [] for m in municipalities}
    for row in rows:
        key = row.id if row.kind == OrganizationKind.MUNICIPALITY else row.parent_id
        by_municipality[key].append((row.id, row.name))
    return {a: by_municipality.get(m, []) for a, m in own.items() if m is not None}


def recent_imports(session: Session, actor: Actor, limit: int = 5) -> list[ImportJob]:
    """The last imports into the actor's municipality, newest first."""
    if actor.organization_id is None:
        return []
    rows = session.execute(
        select(ImportJob)
        .where(ImportJob.owner_id == actor.organization_id)
        .order_by(ImportJob.id.desc())
        .limit(limit)
    ).scalars()
    jobs = list(rows)
    for job in jobs:
        session.expunge(job)
    return jobs


@dataclass(frozen=True)
class ActivityRow:
    """One activity as the roadmap page lists it."""

    id: int
    part: str | None
    section: str | None
    number: str
    title: str
    deadline_text: str
    responsible_text: str | None
    kind: str | None


def roadmap_activities(session: Session, roadmap_id: int) -> list[ActivityRow]:
    """The activities of a roadmap in document order (the caller checked reach)."""
    rows = session.execute(
        select(Activity, Section.number, Section.title)
        .outerjoin(Section, Section.id == Activity.section_id)
        .where(Activity.roadmap_id == roadmap_id)
        .order_by(Activity.position, Activity.id)
        .limit(2_000)
    ).all()
    return [
        ActivityRow(
            a.id,
            a.part,
            f"{number}. {title}" if number and title else title,
            a.number,
            a.title,
            a.deadline_text,
            a.responsible_text,
            (a.schedule or {}).get("kind"),
        )
        for a, number, title in rows
    ]


def roadmap_sections(session: Session, roadmap_id: int) -> list[tuple[int, str]]:
    """The sections of a roadmap, as (id, "part: number. title"), for moving an activity."""
    return [
        (s.id, f"{s.part + ': ' if s.part else ''}{s.number + '. ' if s.number else ''}{s.title}")
        for s in session.execute(
            select(Section).where(Section.roadmap_id == roadmap_id).order_by(Section.position)
        ).scalars()
    ]


def roadmap_indicators(session: Session, roadmap_id: int) -> list[Indicator]:
    """The indicators of a roadmap in their order (the caller checked reach)."""
    rows = list(
        session.execute(
            select(Indicator)
            .where(Indicator.roadmap_id == roadmap_id)
            .order_by(Indicator.position, Indicator.id)
            .limit(1_000)
        ).scalars()
    )
    for row in rows:
        session.expunge(row)
    return rows
