"""The escalation board as people read it: occurrences and documents, open or dealt with,
filtered, sorted and paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, literal, not_, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.escalation.policy import PolicyBook
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.kinds import SUBJECTS
from engine.models import (
    CuratorAssignment,
    Escalation,
    EscalationKind,
    Organization,
    User,
)
from engine.readmodels.common import Page
from engine.readmodels.worklist import WorkFilter, place_and_time

#: The board's views: what needs someone now, and what was dealt with or is over.
VIEWS = ("open", "done")
#: The board's orders, by the name its page sends.
SORTS = ("due", "level", "school", "newest")


@dataclass(frozen=True)
class BoardFilter:
    """What the coordinator narrowed the board to."""

    view: str = "open"
    level: int | None = None
    kind: str | None = None  # EscalationKind.OVERDUE or .REVIEW
    subject: SubjectKind | None = None
    sort: str = "due"
    #: The roadmap, due dates and municipality, as on the lists and the dashboard. A school's
    #: documents belong to no roadmap and have no due date: a roadmap or dates leave them out.
    work: WorkFilter = field(default_factory=WorkFilter)

    @property
    def occurrences_only(self) -> bool:
        """Whether the roadmap or dates narrow the board to occurrences."""
        w = self.work
        return w.roadmap_id is not None or w.due_from is not None or w.due_to is not None


@dataclass(frozen=True)
class BoardRow:
    """One escalation on the board."""

    id: int
    subject_kind: str
    subject_id: int
    kind: str
    level: int
    due_on: date | None
    created_at: datetime
    acknowledged_at: datetime | None
    ack_comment: str | None
    acknowledged_by: str | None
    school_id: int
    school: str
    curator: str | None
    number: str | None
    title: str
    state: str
    current: bool

    def days_overdue(self, today: date) -> int:
        """Calendar days since it was due (overdue) or since it was raised (review)."""
        since = self.due_on if self.kind == EscalationKind.OVERDUE and self.due_on else None
        since = since or self.created_at.date()
        return max(0, (today - since).days)


def board_page(
    session: Session,
    policies: PolicyBook,
    *,
    municipality_id: int | None = None,
    narrow: BoardFilter | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """One page of the board in the actor's territory (`municipality_id`, or all of it)."""
    narrow = narrow or BoardFilter()
    parts = [
        _part(session, policies, kind, narrow, municipality_id)
        for kind in SubjectKind
        if narrow.subject in (None, kind)
        and (kind is SubjectKind.OCCURRENCE or not narrow.occurrences_only)
    ]
    if not parts:  # documents asked for, of a roadmap: there are none
        return Page([], 0, page, per_page)
    union = parts[0].union_all(*parts[1:]).subquery() if len(parts) > 1 else parts[0].subquery()
    total = session.execute(select(func.count()).select_from(union)).scalar_one()
    columns = union.c
    order = {
        "level": [columns.level.desc(), columns.due_on, columns.id],
        "school": [columns.school, columns.due_on, columns.id],
        "newest": [columns.created_at.desc(), columns.id.desc()],
    }.get(narrow.sort, [columns.due_on, columns.id])
    if narrow.view == "done" and narrow.sort == "due":  # the latest first, by its index
        order = [columns.created_at.desc(), columns.id.desc()]
    rows = session.execute(
        select(union).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page([BoardRow(*row) for row in rows], total, page, per_page)


def _part(
    session: Session,
    policies: PolicyBook,
    kind: SubjectKind,
    narrow: BoardFilter,
    municipality_id: int | None,
) -> Any:
    """The SELECT of one subject kind's escalations, in the board's columns."""
    owner = aliased(Organization)
    policy = policies.for_subject(kind)
    acknowledger = aliased(User)
    curator = (
        select(func.min(User.full_name))
        .join(CuratorAssignment, CuratorAssignment.curator_id == User.id)
        .where(CuratorAssignment.school_id == owner.id)
        .scalar_subquery()
    )
    spec = SUBJECTS[kind]
    subject, link, owner_id = spec.table, spec.linked(Escalation), spec.owner
    current: Any = and_(
        Escalation.kind == EscalationKind.REVIEW,
        Escalation.cycle == subject.version,
        subject.state.in_(policy.review_states),
    )
    if spec.ladder:
        overdue = and_(
            Escalation.kind == EscalationKind.OVERDUE,
            Escalation.level == subject.escalation_level,
            Escalation.cycle == subject.due_revision,
            subject.state.in_(policy.open_states),
        )
        current = or_(overdue, current)
    query = select(
        Escalation.id,
        literal(kind.value).label("subject_kind"),
        subject.id.label("subject_id"),
        Escalation.kind,
        Escalation.level,
        Escalation.due_on,
        Escalation.created_at,
        Escalation.acknowledged_at,
        Escalation.ack_comment,
        acknowledger.full_name.label("acknowledged_by"),
        owner.id.label("school_id"),
        owner.name.label("school"),
        curator.label("curator"),
        spec.number.label("number"),
        spec.title.label("title"),
        subject.state.label("state"),
        current.label("current"),
    ).join(subject, subject.id == link)
    query = (
        spec.join(query)
        .join(owner, owner.id == owner_id)
        .outerjoin(acknowledger, acknowledger.id == Escalation.acknowledged_by)
    )
    shown = Escalation.kind != EscalationKind.REMINDER
    if narrow.view == "done":
        query = query.where(shown, or_(Escalation.acknowledged_at.is_not(None), not_(current)))
    else:
        query = query.where(shown, Escalation.acknowledged_at.is_(None), current)
    if narrow.level is not None:
        query = query.where(
            Escalation.level == narrow.level, Escalation.kind == EscalationKind.OVERDUE
        )
    if narrow.kind:
        query = query.where(Escalation.kind == narrow.kind)
    for place in (municipality_id, narrow.work.municipality_id):
        if place is not None:
            query = query.where(or_(owner.id == place, owner.parent_id == place))
    if kind is SubjectKind.OCCURRENCE:
        query = query.where(*place_and_time(replace(narrow.work, municipality_id=None)))
    return query
