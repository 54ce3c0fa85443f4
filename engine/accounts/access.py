"""Who may see and act on what: roles and tenant scopes, as SQL so lists stay set-based."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, bindparam, exists, false, or_, select, true
from sqlmodel import Session

from engine.errors import NotFoundError, PermissionDeniedError
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
    return select(Organization.id).where(Organization.parent_id.in_(parent_ids))


def scope_clause(actor: Actor, org_column: ColumnElement[int]) -> ColumnElement[bool]:
    """A WHERE clause true for rows whose organization `actor` may see.

    School staff see their school; curators their assigned schools; a municipal coordinator
    the municipality and its schools; a regional coordinator everything in the region.
    """
    return _scope(actor.role, org_column, actor.id, actor.organization_id)


def municipalities_clause(actor: Actor, column: ColumnElement[int]) -> Any:
    """`scope_clause` for rows counted per municipality (`column`: a municipality, or the
    region for its own work), for the roles whose territory is whole municipalities; None
    for the others (schools, curators), whose territory is not."""
    org = actor.organization_id
    if actor.role == Role.ADMIN:
        return true()
    if actor.role == Role.MUNICIPAL_COORDINATOR:
        return false() if org is None else column == org
    if actor.role == Role.REGIONAL_COORDINATOR:
        region = or_(Organization.id == org, Organization.parent_id == org)
        return false() if org is None else column.in_(select(Organization.id).where(region))
    return None


def _scope(role: str, org_column: ColumnElement[int], actor_id: Any, org: Any) -> Any:
    """`scope_clause` for a role, with the actor's id and organization as values or binds."""
    if role == Role.ADMIN:
        return true()
    if role == Role.SCHOOL and org is not None:
        return org_column == org
    if role == Role.CURATOR:
        assigned = select(CuratorAssignment.school_id).where(
            CuratorAssignment.curator_id == actor_id
        )
        return org_column.in_(assigned)
    if role == Role.MUNICIPAL_COORDINATOR and org is not None:
        return or_(org_column == org, org_column.in_(_children([org])))
    if role == Role.REGIONAL_COORDINATOR and org is not None:
        municipalities = _children([org])
        return or_(
            org_column == org,
            org_column.in_(municipalities),
            org_column.in_(_children(municipalities)),
        )
    return false()


def _reviews(role: str, org_column: ColumnElement[int], actor_id: Any, org: Any) -> Any:
    """True where an actor of `role` reviews `org_column`'s work: a school's curator (a
    municipal coordinator may curate schools of their municipality), or the regional
    coordinator above a municipality."""
    curates = exists().where(
        CuratorAssignment.curator_id == actor_id, CuratorAssignment.school_id == org_column
    )
    if role == Role.CURATOR:
        return curates
    if role == Role.MUNICIPAL_COORDINATOR and org is not None:
        return and_(curates, org_column.in_(_children([org])))
    if role == Role.REGIONAL_COORDINATOR and org is not None:
        return exists().where(
            Organization.id == org_column,
            Organization.kind == OrganizationKind.MUNICIPALITY,
            Organization.parent_id == org,
        )
    return false()


def review_clause(actor: Actor, org_column: ColumnElement[int]) -> ColumnElement[bool]:
    """A WHERE clause true for rows whose work waits for `actor`'s verdict."""
    return _reviews(actor.role, org_column, actor.id, actor.organization_id)


#: Bind parameters that `standing_columns` leaves for the actor; `actor_params` fills them.
ACTOR_ID = "actor_id"
ACTOR_ORG = "actor_org"


def standing_columns(
    role: str, has_organization: bool, org_column: ColumnElement[int]
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(reaches, reviews) of any actor with `role`, as columns to select beside a subject.

    The actor's id and organization stay bind parameters, so a statement built from these
    once is compiled once and serves every actor of the role; see `actor_params`.
    """
    actor_id = bindparam(ACTOR_ID, type_=Integer)
    org = bindparam(ACTOR_ORG, type_=Integer) if has_organization else None
    return _scope(role, org_column, actor_id, org), _reviews(role, org_column, actor_id, org)


def actor_params(actor: Actor) -> dict[str, int | None]:
    """Values for the bind parameters of `standing_columns`."""
    return {ACTOR_ID: actor.id, ACTOR_ORG: actor.organization_id}


def can_reach(session: Session, actor: Actor, organization_id: int) -> bool:
    """Whether `organization_id` lies inside `actor`'s tenant."""
    found = session.execute(
        select(Organization.id).where(
            Organization.id == organization_id, scope_clause(actor, Organization.id)
        )
    ).first()
    return found is not None


def require_reach(session: Session, actor: Actor, organization_id: int, what: str) -> None:
    """Raise PermissionDeniedError unless `organization_id` is inside `actor`'s tenant."""
    if not can_reach(session, actor, organization_id):
        raise PermissionDeniedError(f"{actor.login} may not act on {what}: outside their schools")


class Power(StrEnum):
    """What a role may do beyond the lifecycle's own triggers (those are in each rule)."""

    #: Read the lists, pages, dashboards and reports of one's territory.
    SEE = "see"
    #: Arrange the work: acknowledge escalations, extend and set deadlines, reassign, assign
    #: curators, add participating schools, change escalation offsets.
    ARRANGE = "arrange"
    #: Import a roadmap document into one's municipality.
    IMPORT = "import"
    #: Send a person of one's territory a new invitation or a password reset link.
    INVITE = "invite"
    #: Change, move and deactivate the accounts of one's territory that rank below one's
    #: own role, handing a curator's schools over.
    MANAGE = "manage"
    #: Load the directory and people files, add accounts.
    ADMINISTER = "administer"
    #: Review the work of the schools one is assigned to: curators, and a municipal
    #: coordinator for schools of their own municipality (one person, one account).
    CURATE = "curate"


#: The one table of the roles' powers; the README shows it. The admin runs the directory and
#: the accounts, and takes no part in the work.
POWERS: dict[str, frozenset[Power]] = {
    Role.SCHOOL: frozenset({Power.SEE}),
    Role.CURATOR: frozenset({Power.SEE, Power.CURATE}),
    Role.MUNICIPAL_COORDINATOR: frozenset(
        {Power.SEE, Power.ARRANGE, Power.IMPORT, Power.INVITE, Power.MANAGE, Power.CURATE}
    ),
    Role.REGIONAL_COORDINATOR: frozenset({Power.SEE, Power.ARRANGE, Power.INVITE, Power.MANAGE}),
    Role.ADMIN: frozenset({Power.SEE, Power.INVITE, Power.MANAGE, Power.ADMINISTER}),
}

#: Roles whose territory spans municipalities: their dashboards and plans go by municipality.
REGION_WIDE = frozenset({Role.REGIONAL_COORDINATOR, Role.ADMIN})

#: Roles that curate schools.
CURATING = frozenset(role for role, powers in POWERS.items() if Power.CURATE in powers)

#: How roles rank for MANAGE: one manages only the people below one's own role.
RANK: dict[str, int] = {
    Role.SCHOOL: 0,
    Role.CURATOR: 0,
    Role.MUNICIPAL_COORDINATOR: 1,
    Role.REGIONAL_COORDINATOR: 2,
    Role.ADMIN: 3,
}


def may(actor: Actor, power: Power) -> bool:
    """Whether `actor`'s role has `power`."""
    return power in POWERS.get(actor.role, frozenset())


def require_power(actor: Actor, power: Power, what: str) -> None:
    """PermissionDeniedError unless `actor`'s role has `power`."""
    if not may(actor, power):
        reason = "coordinators_only" if power is Power.ARRANGE else None
        raise PermissionDeniedError(
            f"role '{actor.role}' may not {power.value} {what}", reason=reason
        )


def may_curate(role: str, organization_id: int | None, municipality_id: int | None) -> bool:
    """Whether a person of `role` and organization may curate a school of `municipality_id`:
    a curator any school, a municipal coordinator those of their own municipality."""
    if role == Role.MUNICIPAL_COORDINATOR:
        return organization_id is not None and organization_id == municipality_id
    return role in CURATING


def require_manage(actor: Actor, role: str, what: str) -> None:
    """PermissionDeniedError unless `actor` may change the account of a person of `role`."""
    require_power(actor, Power.MANAGE, what)
    if actor.role != Role.ADMIN and RANK[role] >= RANK[actor.role]:
        raise PermissionDeniedError(f"a {actor.role} may not change the account of a {role}")


def require_coordinator(session: Session, actor: Actor, organization_id: int, what: str) -> None:
    """Raise unless `actor` arranges the work of the territory that holds `organization_id`."""
    require_reach(session, actor, organization_id, what)
    if not may(actor, Power.ARRANGE):
        raise PermissionDeniedError(
            f"only coordinators may do this to {what}", reason="coordinators_only"
        )
