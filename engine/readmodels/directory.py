"""Looking organizations up by what people type, and the list of people."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, require_reach, scope_clause
from engine.accounts.audit import changes_of
from engine.errors import NotFoundError, ValidationError
from engine.models import (
    AdminLog,
    CuratorAssignment,
    Document,
    Organization,
    OrganizationKind,
    Roadmap,
    RoadmapParticipant,
    Role,
    User,
)
from engine.readmodels.common import Page


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


@dataclass(frozen=True)
class PersonRow:
    id: int
    login: str
    full_name: str
    email: str | None
    role: str
    organization: str | None
    is_active: bool


#: The columns of a PersonRow, in its order.
_PERSON_COLUMNS = (
    User.id,
    User.login,
    User.full_name,
    User.email,
    User.role,
    Organization.name,
    User.is_active,
)


def _people_scope(actor: Actor | None) -> ColumnElement[bool]:
    """People the actor may see: those of organizations in scope, and the curators of
    schools in scope (everyone for the CLI and the admin)."""
    if actor is None or actor.role == Role.ADMIN:
        return true()
    curators = select(CuratorAssignment.curator_id).where(
        scope_clause(actor, CuratorAssignment.school_id)
    )
    return or_(scope_clause(actor, User.organization_id), User.id.in_(curators))


def people_page(
    session: Session,
    role: str | None,
    search: str | None,
    limit: int,
    offset: int,
    actor: Actor | None = None,
    organization_id: int | None = None,
) -> tuple[int, list[PersonRow]]:
    """People by name, filtered by role, organization and a search text, one page."""
    query = (
        select(User.id)
        .outerjoin(Organization, Organization.id == User.organization_id)
        .where(_people_scope(actor))
    )
    if role:
        query = query.where(User.role == role)
    if organization_id:
        query = query.where(
            or_(
                User.organization_id == organization_id,
                Organization.parent_id == organization_id,
            )
        )
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(User.full_name).like(pattern),
                func.lower(User.login).like(pattern),
                func.lower(User.email).like(pattern),
            )
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.with_only_columns(*_PERSON_COLUMNS)
        .order_by(User.full_name, User.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return total, [PersonRow(*row) for row in rows]


@dataclass(frozen=True)
class SchoolRow:
    id: int
    name: str
    short_name: str | None
    inn: str | None
    municipality: str | None
    programme: str | None
    programme_year: int | None
    archived: bool


def schools_page(
    session: Session,
    actor: Actor,
    *,
    search: str | None = None,
    municipality_id: int | None = None,
    programme: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """The schools in the actor's scope, by municipality and name, one page."""
    municipality = aliased(Organization)
    query = (
        select(Organization.id)
        .outerjoin(municipality, municipality.id == Organization.parent_id)
        .where(Organization.kind == OrganizationKind.SCHOOL, scope_clause(actor, Organization.id))
    )
    if municipality_id:
        query = query.where(Organization.parent_id == municipality_id)
    if programme:
        query = query.where(Organization.programme == programme)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Organization.name).like(pattern),
                func.lower(Organization.short_name).like(pattern),
                Organization.inn == search.strip(),
            )
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.with_only_columns(
            Organization.id,
            Organization.name,
            Organization.short_name,
            Organization.inn,
            municipality.name,
            Organization.programme,
            Organization.programme_year,
            Organization.archived_at.is_not(None),
        )
        .order_by(municipality.name, Organization.name)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page([SchoolRow(*row) for row in rows], total, page, per_page)


def municipalities_in_scope(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the municipalities the actor sees, for a filter."""
    rows = session.execute(
        select(Organization.id, Organization.name)
        .where(
            Organization.kind == OrganizationKind.MUNICIPALITY,
            or_(
                scope_clause(actor, Organization.id),
                Organization.id.in_(
                    select(Organization.parent_id).where(scope_clause(actor, Organization.id))
                ),
            ),
        )
        .order_by(Organization.name)
    ).all()
    return [(row.id, row.name) for row in rows]


@dataclass
class SchoolCard:
    school: Organization
    municipality: str | None
    people: list[PersonRow]
    curators: list[PersonRow]
    roadmaps: list[tuple[int, str]]
    documents: int
    changes: list[AdminLog]


def school_card(session: Session, actor: Actor, school_id: int) -> SchoolCard:
    """A school's page in the directory: its people, curators, roadmaps and changes."""
    require_reach(session, actor, school_id, f"school {school_id}")
    school = session.get(Organization, school_id)
    if school is None or school.kind != OrganizationKind.SCHOOL:
        raise NotFoundError(f"school {school_id}")
    parent = session.get(Organization, school.parent_id) if school.parent_id else None
    person = (User.id, User.login, User.full_name, User.email, User.role)
    people = [
        PersonRow(r.id, r.login, r.full_name, r.email, r.role, school.name, r.is_active)
        for r in session.execute(
            select(*person, User.is_active)
            .where(User.organization_id == school_id)
            .order_by(User.full_name)
        ).all()
    ]
    curators = [
        PersonRow(r.id, r.login, r.full_name, r.email, r.role, None, r.is_active)
        for r in session.execute(
            select(*person, User.is_active)
            .join(CuratorAssignment, CuratorAssignment.curator_id == User.id)
            .where(CuratorAssignment.school_id == school_id)
            .order_by(User.full_name)
        ).all()
    ]
    roadmaps = [
        (row.id, row.title)
        for row in session.execute(
            select(Roadmap.id, Roadmap.title)
            .join(RoadmapParticipant, RoadmapParticipant.roadmap_id == Roadmap.id)
            .where(RoadmapParticipant.school_id == school_id)
            .order_by(Roadmap.id)
        )
    ]
    documents = session.execute(
        select(func.count()).where(Document.school_id == school_id)
    ).scalar_one()
    session.expunge(school)
    return SchoolCard(
        school,
        parent.name if parent else None,
        people,
        curators,
        roadmaps,
        documents,
        changes_of(session, "organization", school_id),
    )


@dataclass
class PersonCard:
    person: PersonRow
    schools: list[tuple[int, str]]
    changes: list[AdminLog]
    #: For each of the person's schools, who may take it over: the curators the viewer sees
    #: and the municipal coordinators of the school's municipality.
    successors: dict[int, list[PersonRow]]

    @property
    def common_successors(self) -> list[PersonRow]:
        """Those who may take every one of the person's schools."""
        lists = list(self.successors.values())
        if not lists:
            return []
        ids = set.intersection(*({p.id for p in found} for found in lists))
        return [p for p in lists[0] if p.id in ids]


def person_card(session: Session, actor: Actor, user_id: int) -> PersonCard:
    """A person's page: who they are, the schools they curate, and the changes."""
    row = session.execute(
        select(*_PERSON_COLUMNS)
        .outerjoin(Organization, Organization.id == User.organization_id)
        .where(User.id == user_id, _people_scope(actor))
    ).first()
    if row is None:
        raise NotFoundError(f"person {user_id}")
    held = session.execute(
        select(Organization.id, Organization.name, Organization.parent_id)
        .join(CuratorAssignment, CuratorAssignment.school_id == Organization.id)
        .where(CuratorAssignment.curator_id == user_id)
        .order_by(Organization.name)
    ).all()
    successors: dict[int, list[PersonRow]] = {}
    if held:
        _, curators = people_page(session, Role.CURATOR, None, 500, 0, actor)
        coordinators = _coordinators_of(session, {s.parent_id for s in held})
        for school in held:
            successors[school.id] = [
                c
                for c in (*coordinators.get(school.parent_id, []), *curators)
                if c.id != user_id and c.is_active
            ]
    schools = [(s.id, s.name) for s in held]
    return PersonCard(PersonRow(*row), schools, changes_of(session, "user", user_id), successors)


def _coordinators_of(session: Session, municipality_ids: set[int]) -> dict[int, list[PersonRow]]:
    """The active municipal coordinators of each municipality."""
    found: dict[int, list[PersonRow]] = {}
    for row in session.execute(
        select(*_PERSON_COLUMNS, User.organization_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            User.role == Role.MUNICIPAL_COORDINATOR,
            User.is_active.is_(True),
            User.organization_id.in_(municipality_ids),
        )
        .order_by(User.full_name)
    ):
        found.setdefault(row.organization_id, []).append(PersonRow(*row[:7]))
    return found


def curated_schools(session: Session, curator_id: int) -> list[tuple[int, str]]:
    """(id, name) of a curator's schools, by name."""
    return [
        (row.id, row.short_name or row.name)
        for row in session.execute(
            select(Organization.id, Organization.name, Organization.short_name)
            .join(CuratorAssignment, CuratorAssignment.school_id == Organization.id)
            .where(CuratorAssignment.curator_id == curator_id)
            .order_by(Organization.name)
        )
    ]
