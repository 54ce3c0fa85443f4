"""Who may see and act on what: roles and tenant scopes, as SQL so lists stay set-based."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlmodel import Session

from engine.errors import NotFoundError, PermissionDeniedError
from engine.lifecycle import Party
from engine.models import CuratorAssignment, Organization, OrganizationKind, Role, User


@dataclass(frozen=True)
class Actor:
    """The signed-in user as the engine sees them."""

    id: int
    login: str
    role: str
    organization_id: int | None


def load_actor(session: Session, login: str) -> Actor:
    """The active user with `login`, or NotFoundError."""
    row = session.execute(
        select(User.id, User.login, User.role, User.organization_id).where(
            User.login == login, User.is_active.is_(True)
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"user '{login}' does not exist or is disabled")
    return Actor(id=row.id, login=row.login, role=row.role, organization_id=row.organization_id)


def _children(parent_ids: object) -> object:
    return select(Organization.id).where(Organization.parent_id.in_(parent_ids))  # type: ignore[arg-type]


def scope_clause(actor: Actor, org_column: ColumnElement[int]) -> ColumnElement[bool]:
    """A WHERE clause true for rows whose organization `actor` may see.

    School staff see their school; curators their assigned schools; a municipal coordinator
    the municipality and its schools; a regional coordinator everything in the region.
    """
    org = actor.organization_id
    if actor.role == Role.ADMIN:
        return true()
    if actor.role == Role.SCHOOL and org is not None:
        return org_column == org
    if actor.role == Role.CURATOR:
        assigned = select(CuratorAssignment.school_id).where(
            CuratorAssignment.curator_id == actor.id
        )
        return org_column.in_(assigned)
    if actor.role == Role.MUNICIPAL_COORDINATOR and org is not None:
        return or_(org_column == org, org_column.in_(_children([org])))
    if actor.role == Role.REGIONAL_COORDINATOR and org is not None:
        municipalities = _children([org])
        return or_(
            org_column == org,
            org_column.in_(municipalities),
            org_column.in_(_children(municipalities)),
        )
    return false()


def can_reach(session: Session, actor: Actor, organization_id: int) -> bool:
    """Whether `organization_id` lies inside `actor`'s tenant."""
    found = session.execute(
        select(Organization.id).where(
            Organization.id == organization_id, scope_clause(actor, Organization.id)
        )
    ).first()
    return found is not None


def stands_as(session: Session, actor: Actor, party: str, organization_id: int) -> bool:
    """Whether `actor` is the assignee, reviewer or supervisor of `organization_id`'s work."""
    if party == Party.ASSIGNEE:
        return actor.organization_id == organization_id
    if party == Party.REVIEWER:
        if actor.role == Role.CURATOR:
            query = select(CuratorAssignment.school_id).where(
                CuratorAssignment.curator_id == actor.id,
                CuratorAssignment.school_id == organization_id,
            )
        elif actor.role == Role.REGIONAL_COORDINATOR:
            query = select(Organization.id).where(
                Organization.id == organization_id,
                Organization.kind == OrganizationKind.MUNICIPALITY,
                Organization.parent_id == actor.organization_id,
            )
        else:
            return False
        return session.execute(query).first() is not None
    return can_reach(session, actor, organization_id)


def require_reach(session: Session, actor: Actor, organization_id: int, what: str) -> None:
    """Raise PermissionDeniedError unless `organization_id` is inside `actor`'s tenant."""
    if not can_reach(session, actor, organization_id):
        raise PermissionDeniedError(f"{actor.login} may not act on {what}: outside their schools")


#: Roles that arrange work: acknowledge, extend, date, reassign, assign curators.
COORDINATORS = frozenset({Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR, Role.ADMIN})


def require_coordinator(session: Session, actor: Actor, organization_id: int, what: str) -> None:
    """Raise unless `actor` coordinates the territory that holds `organization_id`."""
    require_reach(session, actor, organization_id, what)
    if actor.role not in COORDINATORS:
        raise PermissionDeniedError(f"only coordinators may do this to {what}")
