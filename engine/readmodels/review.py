"""The curator's queue: reports and documents waiting for a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, review_clause
from engine.app import App
from engine.lifecycle.definition import Phase, SubjectKind
from engine.models import (
    Activity,
    Document,
    Occurrence,
    Organization,
)
from engine.readmodels.common import Page


@dataclass(frozen=True)
class QueueItem:
    """A report or document waiting for the curator's verdict."""

    kind: str
    id: int
    school: str
    title: str
    number: str | None
    due_on: date | None
    waiting_since: datetime
    municipality_id: int | None
    #: Working days the verdict may take: the municipality's own policy, else the default.
    review_days: int = 0


def review_queue(
    app: App, session: Session, actor: Actor, *, page: int = 1, per_page: int = 50
) -> Page:
    """Reports and documents of the curator's schools waiting for a verdict, oldest first."""
    school = aliased(Organization)
    under_review = Phase.UNDER_REVIEW
    occurrences = (
        select(
            literal_kind("occurrence"),
            Occurrence.id,
            school.name,
            Activity.title,
            Activity.number,
            Occurrence.due_on,
            Occurrence.state_changed_at,
            school.parent_id,
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(school, school.id == Occurrence.assignee_id)
        .where(
            Occurrence.state.in_(app.states(SubjectKind.OCCURRENCE, under_review)),
            review_clause(actor, Occurrence.assignee_id),
        )
    )
    documents = (
        select(
            literal_kind("document"),
            Document.id,
            school.name,
            Document.title,
            literal_none(),
            literal_none_date(),
            Document.state_changed_at,
            school.parent_id,
        )
        .join(school, school.id == Document.school_id)
        .where(
            Document.state.in_(app.states(SubjectKind.DOCUMENT, under_review)),
            review_clause(actor, Document.school_id),
        )
    )
    union = occurrences.union_all(documents).subquery()
    total = session.execute(select(func.count()).select_from(union)).scalar_one()
    rows = session.execute(
        select(union).order_by(union.c[6], union.c[1]).limit(per_page).offset((page - 1) * per_page)
    ).all()
    days = {
        kind: app.policies.review_days_by_municipality(
            session, app.policies.for_subject(kind.value).workflow
        )
        for kind in SubjectKind
    }
    items = []
    for row in rows:
        default, own = days[SubjectKind(row[0])]
        items.append(QueueItem(*row[:8], review_days=own.get(row[7], default)))  # type: ignore[misc]  # a Row's length is unknown to mypy
    return Page(items, total, page, per_page)


def literal_kind(kind: str) -> Any:
    from sqlalchemy import literal

    return literal(kind).label("kind")


def literal_none() -> Any:
    from sqlalchemy import String, literal

    return literal(None, String).label("number")


def literal_none_date() -> Any:
    from sqlalchemy import Date, literal

    return literal(None, Date).label("due_on")
