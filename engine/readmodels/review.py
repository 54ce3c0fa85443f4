"""The curator's queue: reports and documents waiting for a verdict, filtered and sorted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, review_clause
from engine.app import App
from engine.deadlines.calendar import WorkCalendar
from engine.lifecycle.definition import Phase, SubjectKind
from engine.lifecycle.kinds import SUBJECTS
from engine.models import Evidence, Organization, ReviewView
from engine.readmodels.common import Page

#: The queue's orders, by the name its page sends.
SORTS = ("oldest", "newest", "school", "title")
#: Characters of a search that are kept.
SEARCH_LIMIT = 100


@dataclass(frozen=True)
class QueueFilter:
    """What the curator narrowed the queue to."""

    school_id: int | None = None
    kind: SubjectKind | None = None
    late_only: bool = False
    text: str = ""
    sort: str = "oldest"

    @property
    def narrowed(self) -> bool:
        return bool(self.school_id or self.kind or self.late_only or self.text)


@dataclass(frozen=True)
class QueueItem:
    """A report or document waiting for the curator's verdict."""

    kind: str
    id: int
    school_id: int
    school: str
    title: str
    number: str | None
    due_on: date | None
    waiting_since: datetime
    municipality_id: int | None
    #: The reviewer opened it since it was last sent.
    opened: bool
    files: int
    #: Working days the verdict may take: the municipality's own policy, else the default.
    review_days: int = 0
    since: date | None = None
    deadline: date | None = None
    #: Working days to the deadline; negative when it is past.
    days_left: int = 0


class _Columns:
    """The union's columns, by name."""

    NAMES = (
        "kind",
        "id",
        "school_id",
        "school",
        "title",
        "number",
        "due_on",
        "waiting_since",
        "municipality_id",
        "opened",
        "files",
    )


def review_queue(
    app: App,
    session: Session,
    actor: Actor,
    *,
    today: date | None = None,
    zone: tzinfo | None = None,
    narrow: QueueFilter | None = None,
    only: dict[SubjectKind, list[int]] | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Reports and documents of the actor's schools waiting for a verdict, oldest first unless
    `narrow` orders otherwise; each with its review deadline in working days."""
    narrow = narrow or QueueFilter()
    zone = zone or ZoneInfo(app.settings.timezone)
    calendar = WorkCalendar.load(session)
    today = today or app.clock().astimezone(zone).date()
    days = {
        kind: app.policies.review_days_by_municipality(
            session, app.policies.for_subject(kind.value).workflow
        )
        for kind in SubjectKind
    }
    parts = []
    for kind in SubjectKind:
        if narrow.kind and narrow.kind is not kind:
            continue
        part = _waiting(app, actor, kind, narrow)
        if only is not None:
            part = part.where(part.selected_columns.id.in_(only.get(kind, [])))
        if narrow.late_only:
            part = part.where(_late(part, days[kind], calendar, today, zone))
        parts.append(part)
    union = parts[0].union_all(*parts[1:]).subquery() if len(parts) > 1 else parts[0].subquery()
    total = session.execute(select(func.count()).select_from(union)).scalar_one()
    rows = session.execute(
        select(union)
        .order_by(*_order(union, narrow.sort))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    dated = []
    for row in rows:
        default, own = days[SubjectKind(row.kind)]
        review_days = own.get(row.municipality_id, default)
        since = row.waiting_since.astimezone(zone).date()
        dated.append((row, review_days, since, calendar.add_working_days(since, review_days)))
    left = calendar.working_days_left_many(today, {deadline for *_, deadline in dated})
    items = [
        QueueItem(  # type: ignore[misc]  # the union's columns, then what is computed
            *(getattr(row, name) for name in _Columns.NAMES),
            review_days=review_days,
            since=since,
            deadline=deadline,
            days_left=left[deadline],
        )
        for row, review_days, since, deadline in dated
    ]
    return Page(items, total, page, per_page)


def next_in_queue(
    app: App,
    session: Session,
    actor: Actor,
    narrow: QueueFilter,
    *,
    after: tuple[str, int],
    zone: tzinfo | None = None,
) -> QueueItem | None:
    """The first item of the narrowed queue other than `after` (the one just decided)."""
    page = review_queue(app, session, actor, zone=zone, narrow=narrow, per_page=2)
    return next((item for item in page.rows if (item.kind, item.id) != after), None)


def _waiting(app: App, actor: Actor, kind: SubjectKind, narrow: QueueFilter) -> Any:
    """The SELECT of one kind's items under review, in the union's columns."""
    school = aliased(Organization)
    spec = SUBJECTS[kind]
    subject, owner, title = spec.table, spec.owner, spec.title
    opened = (
        select(literal(1))
        .where(
            ReviewView.user_id == actor.id,
            ReviewView.subject_kind == kind.value,
            ReviewView.subject_id == subject.id,
            ReviewView.opened_at >= subject.state_changed_at,
        )
        .exists()
    )
    files = select(func.count()).where(spec.linked(Evidence) == subject.id).scalar_subquery()
    query = select(
        literal(kind.value).label("kind"),
        subject.id.label("id"),
        school.id.label("school_id"),
        school.name.label("school"),
        title.label("title"),
        spec.number.label("number"),
        spec.due.label("due_on"),
        subject.state_changed_at.label("waiting_since"),
        school.parent_id.label("municipality_id"),
        opened.label("opened"),
        files.label("files"),
    )
    query = spec.join(query.select_from(subject))
    query = query.join(school, school.id == owner).where(
        subject.state.in_(app.states(kind, Phase.UNDER_REVIEW)),
        review_clause(actor, owner),
    )
    if narrow.school_id:
        query = query.where(owner == narrow.school_id)
    if text := narrow.text.strip()[:SEARCH_LIMIT]:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(title.ilike(pattern, escape="\\"), school.name.ilike(pattern, escape="\\"))
        )
    return query


def _late(
    query: Any, days: tuple[int, dict[int, int]], calendar: WorkCalendar, today: date, zone: tzinfo
) -> Any:
    """Whether an item's review deadline has passed: it has waited since on or before the
    latest day whose deadline (that many working days on) is before today."""
    waiting = query.selected_columns.waiting_since
    municipality = query.selected_columns.municipality_id

    def sent_before(review_days: int) -> datetime:
        last = calendar.latest_due_escalated(today, review_days)
        return datetime.combine(last + timedelta(days=1), time(), zone)

    default, own = days
    clauses = [
        and_(municipality == town, waiting < sent_before(count)) for town, count in own.items()
    ]
    others = municipality.is_(None) | municipality.notin_(own) if own else literal(True)
    clauses.append(and_(others, waiting < sent_before(default)))
    return or_(false(), *clauses)


def _order(union: Any, sort: str) -> list[Any]:
    columns = union.c
    return {
        "newest": [columns.waiting_since.desc(), columns.id.desc()],
        "school": [columns.school, columns.waiting_since, columns.id],
        "title": [columns.title, columns.waiting_since, columns.id],
    }.get(sort, [columns.waiting_since, columns.id])
