"""The daily digest: each curator and coordinator gets one summary a day, if there is news."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.escalation.policy import PolicyBook
from engine.lifecycle.definition import SubjectKind
from engine.models import (
    CuratorAssignment,
    Document,
    Notification,
    Occurrence,
    Organization,
    OrganizationKind,
    Role,
    User,
)


def write_digests(session: Session, policies: PolicyBook, day: date, now: datetime) -> int:
    """Write today's digest notifications (once per user and day); return how many are new.

    Counts are grouped in SQL by curator, municipality and region; Python only loops over
    the people who get a digest.
    """
    activity = policies.for_subject(SubjectKind.OCCURRENCE)
    review = policies.for_subject(SubjectKind.DOCUMENT)
    waiting: Counter[int] = Counter()
    for table, states in ((Occurrence, activity.review_states), (Document, review.review_states)):
        owner = table.assignee_id if table is Occurrence else table.school_id
        waiting.update(
            dict(
                session.execute(
                    select(CuratorAssignment.curator_id, func.count())
                    .join(table, owner == CuratorAssignment.school_id)
                    .where(table.state.in_(states))
                    .group_by(CuratorAssignment.curator_id)
                ).all()
            )
        )
    owner = aliased(Organization)
    municipality = case((owner.kind == OrganizationKind.SCHOOL, owner.parent_id), else_=owner.id)
    overdue_by_municipality: dict[int, int] = dict(
        session.execute(
            select(municipality, func.count())
            .select_from(Occurrence)
            .join(owner, owner.id == Occurrence.assignee_id)
            .where(Occurrence.state.in_(activity.open_states), Occurrence.escalation_level >= 1)
            .group_by(municipality)
        ).all()
    )
    region_of: dict[int, int | None] = dict(
        session.execute(
            select(Organization.id, Organization.parent_id).where(
                Organization.kind == OrganizationKind.MUNICIPALITY
            )
        ).all()
    )
    overdue_by_region: Counter[int] = Counter()
    for municipality_id, count in overdue_by_municipality.items():
        region = region_of.get(municipality_id)
        if region is not None:
            overdue_by_region[region] += count

    people = session.execute(
        select(User.id, User.role, User.organization_id).where(
            User.is_active.is_(True),
            User.role.in_([Role.CURATOR, Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR]),
        )
    ).all()
    rows = []
    for user_id, role, org in people:
        if role == Role.CURATOR:
            lines = [f"Ждут вашей проверки: {waiting[user_id]}."] if waiting[user_id] else []
        elif role == Role.MUNICIPAL_COORDINATOR:
            count = overdue_by_municipality.get(org, 0)
            lines = [f"Просроченных мероприятий в муниципалитете: {count}."] if count else []
        else:
            count = overdue_by_region.get(org, 0)
            lines = [f"Просроченных мероприятий в регионе: {count}."] if count else []
        if lines:
            rows.append(
                {
                    "key": f"digest:{user_id}:{day.isoformat()}",
                    "user_id": user_id,
                    "kind": "digest",
                    "payload": {"subject": f"Сводка на {day:%d.%m.%Y}", "lines": lines},
                    "created_at": now,
                    "email_attempts": 0,
                }
            )
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Notification)
    new = session.execute(
        insert.values(rows).on_conflict_do_nothing().returning(Notification.id)
    ).all()
    return len(new)
