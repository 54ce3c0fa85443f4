"""Notifications: who is told of what, written set-based in the transaction of their cause.

Reading them (the inbox, and the text of inbox and e-mail alike) is `engine/inbox.py`.

A notification row is both the user's inbox entry and the e-mail outbox: `outbox.py` sends
it after commit and marks it sent. Text is rendered from the rows when it is read or sent,
so inbox and e-mail always say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session

from engine.lifecycle.definition import Party
from engine.lifecycle.kinds import SUBJECTS
from engine.models import (
    CuratorAssignment,
    Escalation,
    EscalationKind,
    Notification,
    Organization,
    OrganizationKind,
    Role,
    User,
)

STAFF_ROLES = (Role.SCHOOL, Role.MUNICIPAL_COORDINATOR)
#: What the INSERT … SELECT statements here fill, in the order their SELECTs give it.
_COLUMNS = (
    "key",
    "user_id",
    "kind",
    "escalation_id",
    "transition_id",
    "created_at",
    "email_attempts",
)


def _insert(session: Session) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for this session's dialect."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Notification)


def _add(session: Session, rows: Any) -> int:
    """Insert the (key, user_id, kind, escalation_id, transition_id, created_at) rows of a
    SELECT, skipping keys already there; return how many were new."""
    statement = _insert(session).from_select(_COLUMNS, rows).on_conflict_do_nothing()
    preserved = statement.execution_options(preserve_rowcount=True)  # an INSERT's count
    return session.execute(preserved).rowcount


def _key(prefix: str, subject_id: Any, user_id: Any) -> Any:
    return (
        literal(prefix).concat(cast(subject_id, String)).concat(":").concat(cast(user_id, String))
    )


def notify_escalations(session: Session, escalation_ids: Sequence[int], now: datetime) -> int:
    """Tell the right people of each new escalation; return the number of notifications.

    Reminders go to the assignee's staff; level 1 also to the school's curators; level 2 and
    review escalations to the municipal coordinator; level 3 to the regional coordinator.
    """
    if not escalation_ids:
        return 0
    owner = aliased(Organization)
    municipality_id = case((owner.kind == OrganizationKind.SCHOOL, owner.parent_id), else_=owner.id)
    municipality = aliased(Organization)
    joined = select(
        Escalation.id.label("escalation_id"),
        Escalation.kind,
        Escalation.level,
        owner.id.label("owner_id"),
        municipality.id.label("municipality_id"),
        municipality.parent_id.label("region_id"),
    ).select_from(Escalation)
    for spec in SUBJECTS.values():
        joined = joined.outerjoin(spec.table, spec.table.id == spec.linked(Escalation))
    base = (
        joined.join(owner, owner.id == func.coalesce(*(s.owner for s in SUBJECTS.values())))
        .join(municipality, municipality.id == municipality_id)
        .where(Escalation.id.in_(escalation_ids))
        .subquery()
    )
    kind = base.c.kind
    staff_wanted = or_(
        kind == EscalationKind.REMINDER, and_(kind == EscalationKind.OVERDUE, base.c.level == 1)
    )
    municipal_wanted = or_(
        kind == EscalationKind.REVIEW, and_(kind == EscalationKind.OVERDUE, base.c.level == 2)
    )
    regional_wanted = and_(kind == EscalationKind.OVERDUE, base.c.level == 3)
    curator_wanted = and_(kind == EscalationKind.OVERDUE, base.c.level == 1)

    def rows(user_id: Any, join_condition: Any, wanted: Any) -> Any:
        return (
            select(
                _key("esc:", base.c.escalation_id, user_id),
                user_id,
                base.c.kind,
                base.c.escalation_id,
                literal(None, Integer),
                literal(now, Notification.created_at.type),
                literal(0),
            )
            .select_from(base)
            .join(User, join_condition)
            .where(wanted, User.is_active.is_(True))
        )

    staff = rows(
        User.id,
        and_(User.organization_id == base.c.owner_id, User.role.in_(STAFF_ROLES)),
        staff_wanted,
    )
    municipal = rows(
        User.id,
        and_(
            User.organization_id == base.c.municipality_id,
            User.role == Role.MUNICIPAL_COORDINATOR,
        ),
        municipal_wanted,
    )
    regional = rows(
        User.id,
        and_(User.organization_id == base.c.region_id, User.role == Role.REGIONAL_COORDINATOR),
        regional_wanted,
    )
    curator = (
        select(
            _key("esc:", base.c.escalation_id, CuratorAssignment.curator_id),
            CuratorAssignment.curator_id,
            base.c.kind,
            base.c.escalation_id,
            literal(None, Integer),
            literal(now, Notification.created_at.type),
            literal(0),
        )
        .select_from(base)
        .join(CuratorAssignment, CuratorAssignment.school_id == base.c.owner_id)
        .join(User, and_(User.id == CuratorAssignment.curator_id, User.is_active.is_(True)))
        .where(curator_wanted)
    )
    return _add(session, union_all(staff, municipal, regional, curator))  # one statement


def transition_notices(dialect: str, party: str, log_id: Any) -> Insert:
    """An INSERT … SELECT of the notifications of the transition logged as `log_id`.

    `log_id` is a bind parameter or the column of a statement the INSERT is part of; the
    subject's organization and the time stay the binds `owner_id` and `created`.
    """
    owner_id = bindparam("owner_id", type_=Integer)
    created = bindparam("created", type_=Notification.created_at.type)

    def rows(user_id: Any) -> Any:
        key = _key("tr:", log_id, user_id)
        none = literal(None, Integer)
        return select(key, user_id, literal("transition"), none, log_id, created, literal(0)).where(
            log_id.is_not(None)
        )  # no log row (a lost race): nothing to tell

    if party == Party.ASSIGNEE:
        staff = or_(*(User.role == role for role in STAFF_ROLES))  # no IN list: see Prepared
        source = rows(User.id).where(
            User.organization_id == owner_id, staff, User.is_active.is_(True)
        )
    else:
        curators = (
            rows(CuratorAssignment.curator_id)
            .join_from(
                CuratorAssignment,
                User,
                and_(User.id == CuratorAssignment.curator_id, User.is_active.is_(True)),
            )
            .where(CuratorAssignment.school_id == owner_id)
        )
        regional = (
            rows(User.id)
            .join_from(
                User,
                Organization,
                and_(
                    Organization.id == owner_id,
                    Organization.kind == OrganizationKind.MUNICIPALITY,
                ),
            )
            .where(
                User.organization_id == Organization.parent_id,
                User.role == Role.REGIONAL_COORDINATOR,
                User.is_active.is_(True),
            )
        )
        source = union_all(curators, regional)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Notification).from_select(_COLUMNS, source).on_conflict_do_nothing()
