"""Read models for people's pages: task lists, queues, details, dashboards, reports.

Every function takes the actor and filters by their tenant in SQL; lists are paginated and
served by the indexes on (assignee, state, due_on) and (state, state_changed_at).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.accounts.access import Actor, can_reach, require_reach, scope_clause
from engine.app import App
from engine.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.lifecycle.definition import Phase, SubjectKind
from engine.lifecycle.fire import load_subject
from engine.models import (
    Activity,
    Comment,
    CommentKind,
    Document,
    Evidence,
    Occurrence,
    Organization,
    OrganizationKind,
    Roadmap,
    Section,
    TransitionLog,
    User,
)
from engine.readmodels.queries import HistoryEntry, history

MAX_PAGE_SIZE = 500


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
class Page:
    """One page of a list, with the numbers a pager needs."""

    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _open(app: App) -> ColumnElement[bool]:
    return Occurrence.state.in_(app.states(SubjectKind.OCCURRENCE, Phase.OPEN))


def _overdue(app: App, today: date) -> ColumnElement[bool]:
    return and_(_open(app), Occurrence.due_on < today)


def _in_phase(app: App, phase: Phase) -> ColumnElement[bool]:
    return Occurrence.state.in_(app.states(SubjectKind.OCCURRENCE, phase))


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
    page: int = 1,
    per_page: int = 50,
) -> tuple[Page, int]:
    """Occurrences visible to `actor` by due date, and how many of them are overdue."""
    if not 0 < per_page <= MAX_PAGE_SIZE:
        raise ValidationError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    school = aliased(Organization)
    where = [scope_clause(actor, Occurrence.assignee_id)]
    if school_id is not None:
        where.append(Occurrence.assignee_id == school_id)
    if state:
        where.append(Occurrence.state == state)
    if section_id is not None:
        where.append(Activity.section_id == section_id)
    if overdue_only:
        where.append(_overdue(app, today))
    base = select(Occurrence.id).join(Activity, Activity.id == Occurrence.activity_id).where(*where)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    overdue = session.execute(
        select(func.count()).select_from(base.where(_overdue(app, today)).subquery())
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
            _overdue(app, today),
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


@dataclass(frozen=True)
class EvidenceItem:
    """An evidence file as listed on a page."""

    id: int
    name: str
    size_bytes: int
    content_type: str
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


@dataclass(frozen=True)
class CommentItem:
    """A written report or remark."""

    author: str
    kind: str
    body: str
    created_at: datetime

    @property
    def is_report(self) -> bool:
        """A written report, not a remark."""
        return self.kind == CommentKind.REPORT


@dataclass
class OccurrenceDetail:
    """Everything the occurrence page shows."""

    id: int
    version: int
    state: str
    workflow_name: str
    workflow_version: int
    due_on: date | None
    escalation_level: int
    assignee_id: int
    assignee: str
    roadmap: str
    roadmap_id: int
    section: str | None
    number: str
    title: str
    description: str | None
    deadline_text: str
    responsible_text: str | None
    planned_result: str | None
    report_form: str | None
    evidence: list[EvidenceItem] = field(default_factory=list)
    comments: list[CommentItem] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)


def occurrence_detail(session: Session, actor: Actor, occurrence_id: int) -> OccurrenceDetail:
    """One occurrence with its activity, evidence, reports and history, for its tenant only."""
    ref = load_subject(session, SubjectKind.OCCURRENCE, occurrence_id)
    require_reach(session, actor, ref.owner_id, f"occurrence {occurrence_id}")
    row = session.execute(
        select(Occurrence, Activity, Roadmap.title, Section.title, Organization.name)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(Roadmap, Roadmap.id == Activity.roadmap_id)
        .outerjoin(Section, Section.id == Activity.section_id)
        .join(Organization, Organization.id == Occurrence.assignee_id)
        .where(Occurrence.id == occurrence_id)
    ).one()
    occ, activity = row[0], row[1]
    detail = OccurrenceDetail(
        id=occ.id,
        version=occ.version,
        state=occ.state,
        workflow_name=occ.workflow_name,
        workflow_version=occ.workflow_version,
        due_on=occ.due_on,
        escalation_level=occ.escalation_level,
        assignee_id=occ.assignee_id,
        assignee=row[4],
        roadmap=row[2],
        roadmap_id=activity.roadmap_id,
        section=row[3],
        number=activity.number,
        title=activity.title,
        description=activity.description,
        deadline_text=activity.deadline_text,
        responsible_text=activity.responsible_text,
        planned_result=activity.planned_result,
        report_form=activity.report_form,
    )
    detail.evidence = evidence_list(session, SubjectKind.OCCURRENCE, occurrence_id)
    detail.comments = [
        CommentItem(*r)
        for r in session.execute(
            select(User.full_name, Comment.kind, Comment.body, Comment.created_at)
            .join(User, User.id == Comment.author_id)
            .where(Comment.occurrence_id == occurrence_id)
            .order_by(Comment.id)
        )
    ]
    detail.history = history(session, actor, SubjectKind.OCCURRENCE, occurrence_id)
    return detail


def evidence_list(session: Session, kind: SubjectKind, subject_id: int) -> list[EvidenceItem]:
    """The files of one subject, oldest first (the caller has checked the tenant)."""
    link = Evidence.occurrence_id if kind == SubjectKind.OCCURRENCE else Evidence.document_id
    return [
        EvidenceItem(*r)
        for r in session.execute(
            select(
                Evidence.id,
                Evidence.original_name,
                Evidence.size_bytes,
                Evidence.content_type,
                Evidence.sha256,
                Evidence.uploaded_at,
                User.full_name,
            )
            .join(User, User.id == Evidence.uploaded_by)
            .where(link == subject_id)
            .order_by(Evidence.id)
        )
    ]


def evidence_for_download(session: Session, actor: Actor, evidence_id: int) -> Evidence:
    """An evidence row the actor may download: its subject lies inside their tenant.

    Outsiders get NotFoundError, the same answer as for an id that does not exist.
    """
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFoundError(f"file {evidence_id} does not exist")
    kind = SubjectKind.OCCURRENCE if evidence.occurrence_id else SubjectKind.DOCUMENT
    ref = load_subject(session, kind, evidence.occurrence_id or evidence.document_id)
    try:
        require_reach(session, actor, ref.owner_id, f"file {evidence_id}")
    except PermissionDeniedError:
        raise NotFoundError(f"file {evidence_id} does not exist") from None
    return evidence


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
            scope_clause(actor, Occurrence.assignee_id),
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
            scope_clause(actor, Document.school_id),
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


@dataclass(frozen=True)
class SchoolProgress:
    """One school's work on the dashboard."""

    school_id: int
    school: str
    total: int
    approved: int
    reported: int
    overdue: int
    escalated: int

    @property
    def percent(self) -> int:
        return round(100 * self.approved / self.total) if self.total else 0


@dataclass(frozen=True)
class SectionProgress:
    """One section's work across the schools."""

    section: str
    total: int
    approved: int

    @property
    def percent(self) -> int:
        return round(100 * self.approved / self.total) if self.total else 0


def dashboard(
    app: App, session: Session, actor: Actor, today: date
) -> tuple[list[SchoolProgress], list[SectionProgress]]:
    """Completion per school and per section within the actor's territory, grouped in SQL."""
    scope = scope_clause(actor, Occurrence.assignee_id)
    counted = ~_in_phase(app, Phase.CANCELLED)
    done, under_review = _in_phase(app, Phase.DONE), _in_phase(app, Phase.UNDER_REVIEW)
    schools = session.execute(
        select(
            Organization.id,
            Organization.name,
            func.count(),
            func.sum(case((done, 1), else_=0)),
            func.sum(case((under_review, 1), else_=0)),
            func.sum(case((_overdue(app, today), 1), else_=0)),
            func.sum(case((Occurrence.escalation_level >= 2, 1), else_=0)),
        )
        .join(Organization, Organization.id == Occurrence.assignee_id)
        .where(scope, counted, Organization.kind == OrganizationKind.SCHOOL)
        .group_by(Organization.id, Organization.name)
        .order_by(Organization.name)
    ).all()
    sections = session.execute(
        select(
            func.coalesce(Section.number.concat(". ").concat(Section.title), "Без раздела"),
            func.count(),
            func.sum(case((done, 1), else_=0)),
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .outerjoin(Section, Section.id == Activity.section_id)
        .where(scope, counted)
        .group_by(Section.id, Section.number, Section.title)
        .order_by(Section.id)
    ).all()
    return (
        [
            SchoolProgress(r[0], r[1], r[2], r[3] or 0, r[4] or 0, r[5] or 0, r[6] or 0)
            for r in schools
        ],
        [SectionProgress(r[0], r[1], r[2] or 0) for r in sections],
    )


@dataclass(frozen=True)
class ReportLine:
    """One activity for one school in the execution report."""

    part: str | None
    section: str | None
    number: str
    title: str
    deadline_text: str
    responsible_text: str | None
    school: str
    due_on: date | None
    state: str
    completed_at: datetime | None
    evidence: str


def execution_report(
    app: App, session: Session, actor: Actor, roadmap_id: int
) -> tuple[Roadmap, list[ReportLine]]:
    """The roadmap's own table with each school's status, completion date and evidence."""
    roadmap = session.get(Roadmap, roadmap_id)
    if roadmap is None:
        raise NotFoundError(f"roadmap {roadmap_id} does not exist")
    require_reach(session, actor, roadmap.owner_id, f"roadmap {roadmap_id}")
    approved_at = (
        select(TransitionLog.occurrence_id, func.max(TransitionLog.at).label("at"))
        .where(
            TransitionLog.to_state.in_(app.states(SubjectKind.OCCURRENCE, Phase.DONE)),
            TransitionLog.from_state != TransitionLog.to_state,
        )
        .group_by(TransitionLog.occurrence_id)
        .subquery()
    )
    school = aliased(Organization)
    rows = session.execute(
        select(
            Occurrence.id,
            Activity.part,
            Section.title,
            Activity.number,
            Activity.title,
            Activity.deadline_text,
            Activity.responsible_text,
            school.name,
            Occurrence.due_on,
            Occurrence.state,
            approved_at.c.at,
        )
        .join(Occurrence, Occurrence.activity_id == Activity.id)
        .join(school, school.id == Occurrence.assignee_id)
        .outerjoin(Section, Section.id == Activity.section_id)
        .outerjoin(approved_at, approved_at.c.occurrence_id == Occurrence.id)
        .where(Activity.roadmap_id == roadmap_id, scope_clause(actor, Occurrence.assignee_id))
        .order_by(Activity.position, school.name, Occurrence.due_on)
    ).all()
    names = _evidence_names(session, roadmap_id)
    # a Row's length is unknown to mypy
    lines = [ReportLine(*r[1:], names.get(r[0], "")) for r in rows]  # type: ignore[call-arg]
    return roadmap, lines


def _evidence_names(session: Session, roadmap_id: int) -> dict[int, str]:
    """Evidence file names, and "письменный отчёт" for written reports, per occurrence."""
    out: dict[int, list[str]] = {}
    in_roadmap = Occurrence.activity_id.in_(
        select(Activity.id).where(Activity.roadmap_id == roadmap_id)
    )
    for occurrence_id, name in session.execute(
        select(Evidence.occurrence_id, Evidence.original_name)
        .join(Occurrence, Occurrence.id == Evidence.occurrence_id)
        .where(in_roadmap)
        .order_by(Evidence.id)
    ):
        out.setdefault(occurrence_id, []).append(name)
    for (occurrence_id,) in session.execute(
        select(Comment.occurrence_id)
        .join(Occurrence, Occurrence.id == Comment.occurrence_id)
        .where(in_roadmap, Comment.kind == CommentKind.REPORT)
    ):
        out.setdefault(occurrence_id, []).append("письменный отчёт")
    return {key: "; ".join(dict.fromkeys(values)) for key, values in out.items()}


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
class DocumentRow:
    """One school document in a list."""

    id: int
    school: str
    kind: str
    title: str
    state: str
    updated_at: datetime


def documents(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> Page:
    """The documents visible to `actor`, most recently changed first."""
    where = scope_clause(actor, Document.school_id)
    total = session.execute(select(func.count()).select_from(Document).where(where)).scalar_one()
    rows = session.execute(
        select(
            Document.id,
            Organization.name,
            Document.kind,
            Document.title,
            Document.state,
            Document.updated_at,
        )
        .join(Organization, Organization.id == Document.school_id)
        .where(where)
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page([DocumentRow(*r) for r in rows], total, page, per_page)


@dataclass
class DocumentDetail:
    """Everything the document page shows."""

    id: int
    school_id: int
    school: str
    kind: str
    title: str
    state: str
    workflow_name: str
    workflow_version: int
    evidence: list[EvidenceItem]
    history: list[HistoryEntry]


def document_detail(session: Session, actor: Actor, document_id: int) -> DocumentDetail:
    """One document with its files and history, for its tenant only."""
    ref = load_subject(session, SubjectKind.DOCUMENT, document_id)
    require_reach(session, actor, ref.owner_id, f"document {document_id}")
    doc, school = session.execute(
        select(Document, Organization.name)
        .join(Organization, Organization.id == Document.school_id)
        .where(Document.id == document_id)
    ).one()
    return DocumentDetail(
        doc.id,
        doc.school_id,
        school,
        doc.kind,
        doc.title,
        doc.state,
        doc.workflow_name,
        doc.workflow_version,
        evidence_list(session, SubjectKind.DOCUMENT, document_id),
        history(session, actor, SubjectKind.DOCUMENT, document_id),
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
                _open(app),
                scope_clause(actor, Occurrence.assignee_id),
            )
            .order_by(Activity.position, Organization.name)
            .limit(500)
        )
    ]
    return RoadmapAdmin(
        roadmap, [(s.id, s.name, curated.get(s.id, [])) for s in schools], others, curators, undated
    )


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


def weekly_approvals(
    app: App, session: Session, actor: Actor, today: date, zone: ZoneInfo
) -> list[tuple[date, int]]:
    """Subjects done per week over the last twelve weeks, in the actor's territory."""
    done = app.states(SubjectKind.OCCURRENCE, Phase.DONE)
    rows = (
        session.execute(
            select(TransitionLog.at)
            .join(Occurrence, Occurrence.id == TransitionLog.occurrence_id)
            .where(
                TransitionLog.to_state.in_(done),
                TransitionLog.from_state != TransitionLog.to_state,
                scope_clause(actor, Occurrence.assignee_id),
            )
            .order_by(TransitionLog.id.desc())
            .limit(5000)
        )
        .scalars()
        .all()
    )
    this_week = today - timedelta(days=today.weekday())
    weeks = [this_week - timedelta(weeks=n) for n in range(11, -1, -1)]
    counts = dict.fromkeys(weeks, 0)
    for moment in rows:
        day = moment.astimezone(zone).date()
        monday = day - timedelta(days=day.weekday())
        if monday in counts:
            counts[monday] += 1
    return list(counts.items())


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


def assignment_targets(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The schools and municipalities in the actor's territory that may take work."""
    return [
        (row.id, row.name)
        for row in session.execute(
            select(Organization.id, Organization.name)
            .where(
                Organization.kind != OrganizationKind.REGION, scope_clause(actor, Organization.id)
            )
            .order_by(Organization.kind, Organization.name)
        )
    ]
